"""A region stack, tier by tier. Tiers run in dependency order and pass typed objects forward.

The order and each builder's contract are documented in docs/stack-outputs.md.
"""

from __future__ import annotations

import pulumi

from infra.config.stack import StackConfig
from stacks.backup import build_backup
from stacks.compute import build_compute
from stacks.context import RegionContext
from stacks.cost import build_cost
from stacks.data import build_data
from stacks.deploy import build_deploy
from stacks.dns import build_dns
from stacks.dr import build_dr
from stacks.edge import build_edge
from stacks.network import build_network
from stacks.observability import build_observability
from stacks.origin import build_origin_lock
from stacks.protection import register_protection
from stacks.region_switch import build_region_switch
from stacks.traffic import build_traffic
from stacks.workloads import build_workloads


def build_region_stack(cfg: StackConfig, stack: str) -> RegionContext:
    """Build every tier of one region stack and export what other stacks and the DR programs read."""
    register_protection(cfg.protection)  # before any resource: protect/retainOnDelete by type
    ctx = RegionContext.create(cfg, stack)
    pulumi.export("region", cfg.region)
    pulumi.export("role", cfg.role)
    pulumi.export("writerRegion", ctx.writer_region)
    pulumi.export("namePrefix", ctx.base)

    network = build_network(ctx)
    dns = build_dns(ctx)
    origin = build_origin_lock(ctx)
    compute = build_compute(ctx, network, dns, origin)
    build_deploy(ctx, network, compute)
    data = build_data(ctx, network, compute)
    build_workloads(ctx, compute, data)
    traffic = build_traffic(ctx, dns, compute)
    build_edge(ctx, dns, origin)
    build_backup(ctx, data)
    observability = build_observability(ctx, compute, data, traffic)
    build_cost(ctx, observability)
    build_dr(ctx)
    build_region_switch(ctx, compute, data, dns)
    return ctx
