"""Data tier: this region's Aurora cluster in the global database and its Redis group in the Global Datastore.

The primary stack owns the global resources (GlobalCluster, Global Datastore) and the master secret (replicated to
its partner under the same Region-neutral name); a secondary joins the global resources through the primary's
outputs and finds the master secret by that name in its own Region. The services get no credentials: each has
its own IAM-authenticated PostgreSQL role and ElastiCache user (docs/security.md). Global identifiers carry no
region code, so they stay meaningful after a failover moves the writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.aurora import AuroraArgs, AuroraRegionalCluster
from components.redis import RedisArgs, RedisCluster
from components.redis_rbac import RedisUser
from stacks.context import RegionContext


@dataclass
class Data:
    """What later tiers read from the data tier (see docs/stack-outputs.md)."""

    aurora: AuroraRegionalCluster
    redis: RedisCluster
    aurora_cluster_identifier: pulumi.Output[str]
    aurora_cluster_arn: pulumi.Output[str]
    aurora_cluster_resource_id: pulumi.Output[str]
    aurora_endpoint: pulumi.Output[str]
    aurora_reader_endpoint: pulumi.Output[str]
    aurora_master_secret_name: str
    aurora_global_writer_endpoint: pulumi.Output[str]  # the GlobalCluster's: follows the writer Region
    redis_replication_group_id: pulumi.Output[str]
    redis_replication_group_arn: pulumi.Output[str]
    redis_configuration_endpoint: pulumi.Output[str]
    redis_user_ids: dict[str, pulumi.Output[str]]
    redis_user_arns: dict[str, pulumi.Output[str]]


def global_names(ctx: RegionContext) -> tuple[str, str]:
    """(Aurora global cluster id, Redis Global Datastore suffix): the same from every stack."""
    stem = f"{ctx.cfg.naming.prefix}-{ctx.cfg.environment}"
    return f"{stem}-aurora-global", f"{stem}-redis"


def master_secret_name(ctx: RegionContext) -> str:
    """The master secret's name, the same in every Region (a Secrets Manager replica keeps its primary's name)."""
    return f"{ctx.cfg.naming.prefix}-{ctx.cfg.environment}/aurora/master"


def redis_users(ctx: RegionContext) -> list[RedisUser]:
    """One ElastiCache user per service that uses the cache: id `<base>-<service>`, keys `<prefix>:*`."""
    return [
        RedisUser(service=svc.name, user_id=f"{ctx.base}-{svc.name}", key_prefix=svc.cache_prefix,
                  access=svc.cache.access)  # type: ignore[arg-type]
        for svc in ctx.cfg.workloads.services
        if svc.cache.access != "none"
    ]  # fmt: skip


def build_data(ctx: RegionContext, network: Any, compute: Any) -> Data:
    """Build Aurora and Redis in this region; export their identifiers (and, on the primary, the global ones)."""
    cfg = ctx.cfg.data
    primary = ctx.cfg.is_primary
    role = "primary" if primary else "secondary"
    aurora_global, redis_suffix = global_names(ctx)
    a, r = cfg.aurora, cfg.redis
    aurora = AuroraRegionalCluster(
        "aurora",
        AuroraArgs(
            region=ctx.region,
            name_prefix=ctx.base,
            tags=ctx.tags,
            role=role,
            global_name=aurora_global,
            global_cluster_identifier=None if primary else ctx.from_primary("auroraGlobalClusterIdentifier"),
            engine_version=a.engine_version,
            writer_instance_class=a.writer_instance_class,
            reader_instance_class=a.reader_instance_class,
            readers=a.readers,
            subnet_ids=network.database_subnet_ids,
            vpc_id=network.vpc_id,
            client_security_group_id=compute.node_security_group_id,
            account_id=ctx.account_id,
            replica_regions=[r for r in ctx.fleet_regions if r != ctx.region] if primary else [],
            master_secret_name=master_secret_name(ctx),
            master_secret_rotation_days=a.master_secret_rotation_days,
            rotation_subnet_ids=network.private_subnet_ids if primary else None,
            vpc_cidr=ctx.cfg.network.cidr,
            pgaudit_log=list(a.pgaudit_log),
            log_retention_days=a.log_retention_days,
            backup_retention_days=a.backup_retention_days,
            backup_window=a.backup_window,
            maintenance_window=a.maintenance_window,
            storage_encrypted=a.storage_encrypted,
            deletion_protection=a.deletion_protection,
            skip_final_snapshot=a.skip_final_snapshot,
            monitoring_interval=a.monitoring_interval,
            slow_query_ms=a.slow_query_ms,
            min_readers=a.reader_scaling.min_readers,
            max_readers=a.reader_scaling.max_readers,
            target_cpu_percent=a.reader_scaling.target_cpu_percent,
            # A global secondary has no writer: AWS auto scaling needs one (docs/data-tier.md). Follows the knob.
            reader_auto_scaling=ctx.is_writer,
        ),
        opts=ctx.opts(),
    )
    redis = RedisCluster(
        "redis",
        RedisArgs(
            region=ctx.region,
            name_prefix=ctx.base,
            tags=ctx.tags,
            role=role,
            global_suffix=redis_suffix,
            global_datastore=r.global_datastore,
            global_replication_group_id=None
            if primary or not r.global_datastore
            else ctx.from_primary("redisGlobalReplicationGroupId"),
            users=redis_users(ctx),
            transit_encryption=r.transit_encryption,
            engine_version=r.engine_version,
            node_type=r.node_type,
            shards=r.shards,
            replicas_per_shard=r.replicas_per_shard,
            maxmemory_policy=r.maxmemory_policy,
            snapshot_retention_days=r.snapshot_retention_days,
            snapshot_window=r.snapshot_window,
            maintenance_window=r.maintenance_window,
            slow_log_retention_days=r.slow_log_retention_days,
            subnet_ids=network.private_subnet_ids,
            vpc_id=network.vpc_id,
            client_security_group_id=compute.node_security_group_id,
            account_id=ctx.account_id,
        ),
        opts=ctx.opts(),
    )
    data = Data(
        aurora=aurora,
        redis=redis,
        aurora_cluster_identifier=aurora.cluster_identifier,
        aurora_cluster_arn=aurora.cluster_arn,
        aurora_cluster_resource_id=aurora.cluster_resource_id,
        aurora_endpoint=aurora.endpoint,
        aurora_reader_endpoint=aurora.reader_endpoint,
        aurora_master_secret_name=master_secret_name(ctx),
        aurora_global_writer_endpoint=(
            aurora.global_writer_endpoint if primary else ctx.from_primary("auroraGlobalWriterEndpoint")
        ),
        redis_replication_group_id=redis.replication_group_id,
        redis_replication_group_arn=redis.replication_group_arn,
        redis_configuration_endpoint=redis.configuration_endpoint,
        redis_user_ids={svc: user.user_id for svc, user in redis.users.items()},
        redis_user_arns={svc: user.arn for svc, user in redis.users.items()},
    )
    _export(ctx, data)
    return data


def _export(ctx: RegionContext, data: Data) -> None:
    pulumi.export("auroraClusterIdentifier", data.aurora_cluster_identifier)
    pulumi.export("auroraClusterArn", data.aurora_cluster_arn)
    pulumi.export("auroraEndpoint", data.aurora_endpoint)
    pulumi.export("auroraReaderEndpoint", data.aurora_reader_endpoint)
    pulumi.export("auroraGlobalWriterEndpoint", data.aurora_global_writer_endpoint)
    pulumi.export("redisReplicationGroupId", data.redis_replication_group_id)
    pulumi.export("redisConfigurationEndpoint", data.redis_configuration_endpoint)
    pulumi.export("redisUserGroupId", data.redis.user_group_id)
    # The name only: every Region holds the secret (the primary's, or its replica) under it. No credential is
    # ever an output, so no StackReference can hand one out.
    pulumi.export("auroraMasterSecretName", data.aurora_master_secret_name)
    if ctx.cfg.is_primary:
        pulumi.export("auroraGlobalClusterIdentifier", data.aurora.global_cluster_identifier)
        pulumi.export("auroraMasterSecretArn", data.aurora.secret_arn)
        if data.redis.global_replication_group_id is not None:
            pulumi.export("redisGlobalReplicationGroupId", data.redis.global_replication_group_id)
