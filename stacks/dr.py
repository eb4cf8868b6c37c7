"""DR tier: what the DR drill needs inside each region stack (the drill lock table)."""

from __future__ import annotations

import pulumi

from components.dr import DrSupport, DrSupportArgs
from stacks.context import RegionContext


def build_dr(ctx: RegionContext) -> DrSupport:
    """One lock table and active-region parameter per region; exports `drLockTableName`,
    `activeRegionParameterName` and `activeRegionSource` (docs/stack-outputs.md)."""
    dr = DrSupport(
        "dr",
        DrSupportArgs(
            region=ctx.region,
            name_prefix=ctx.base,
            tags=ctx.tags,
            account_id=ctx.account_id,
            active_region_parameter=ctx.active.parameter_name,
            active_region=ctx.writer_region,
        ),
        opts=ctx.opts(),
    )
    pulumi.export("drLockTableName", dr.lock_table_name)
    pulumi.export("activeRegionParameterName", dr.active_region_parameter_name)
    pulumi.export("activeRegionSource", ctx.active.source)
    return dr
