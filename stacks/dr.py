"""DR tier: what the DR drill needs inside each region stack (the drill lock table)."""

from __future__ import annotations

import pulumi

from components.dr import DrSupport, DrSupportArgs
from stacks.context import RegionContext


def build_dr(ctx: RegionContext) -> DrSupport:
    """One lock table per region; exports `drLockTableName` (docs/stack-outputs.md)."""
    dr = DrSupport(
        "dr",
        DrSupportArgs(region=ctx.region, name_prefix=ctx.base, tags=ctx.tags, account_id=ctx.account_id),
        opts=ctx.opts(),
    )
    pulumi.export("drLockTableName", dr.lock_table_name)
    return dr
