"""Network tier: the regional VPC from `platform:network`."""

from __future__ import annotations

import pulumi

from components.network import Network, NetworkArgs
from stacks.context import RegionContext


def build_network(ctx: RegionContext) -> Network:
    """Build the VPC and export its ids."""
    net_cfg = ctx.cfg.network
    network = Network(
        "network",
        NetworkArgs(
            region=ctx.region,
            name_prefix=ctx.base,
            tags=ctx.tags,
            cidr=net_cfg.cidr,
            availability_zones=net_cfg.zone_names(ctx.region),
            public_prefix=net_cfg.subnet_sizes.public,
            private_prefix=net_cfg.subnet_sizes.private,
            database_prefix=net_cfg.subnet_sizes.database,
            nat_gateways=net_cfg.nat_gateways,
            flow_log_retention_days=net_cfg.flow_logs.retention_days,
            flow_log_traffic_type=net_cfg.flow_logs.traffic_type,
            interface_endpoints=net_cfg.interface_endpoints,
            gateway_endpoints=net_cfg.gateway_endpoints,
            account_id=ctx.account_id,
            cluster_tag=f"{ctx.base}-eks",
        ),
        opts=ctx.opts(),
    )
    pulumi.export("vpcId", network.vpc_id)
    pulumi.export("vpcCidr", network.vpc_cidr)
    pulumi.export("privateSubnetIds", network.private_subnet_ids)
    pulumi.export("publicSubnetIds", network.public_subnet_ids)
    pulumi.export("databaseSubnetIds", network.database_subnet_ids)
    return network
