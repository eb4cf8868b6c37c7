"""Observability tier: alert topics per tier, alarms on this region's ALB / Aurora / Redis / Route 53 health /
AWS Backup jobs, and the operational-health dashboard (`platform:observability`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.observability import ROUTE53_METRICS_REGION, AlarmThresholds, AlertTier, ObservabilityArgs
from components.observability import Observability as ObservabilityComponent
from components.secret_rotation import RotationFailureAlert, RotationFailureAlertArgs
from infra.config.observability import TIERS
from stacks.context import RegionContext


@dataclass
class Observability:
    """What later tiers read (see docs/stack-outputs.md): the tier topics (`critical`, `high`, `medium`, `low`)."""

    topic_arns: dict[str, pulumi.Output[str]]
    component: ObservabilityComponent


def build_observability(ctx: RegionContext, compute: Any, data: Any, traffic: Any) -> Observability:
    """Alarms on whatever the earlier tiers built (each input may be None); exports `alertTopicArns`."""
    cfg = ctx.cfg.observability
    redis_cfg = ctx.cfg.data.redis
    tiers = {
        tier: AlertTier(
            period_seconds=t.period_seconds,
            evaluation_periods=t.evaluation_periods,
            datapoints_to_alarm=t.datapoints_to_alarm,
            emails=list(t.emails),
            https_endpoints=list(t.https_endpoints),
        )
        for tier in TIERS
        for t in [cfg.tier(tier)]
    }
    component = ObservabilityComponent(
        "observability",
        ObservabilityArgs(
            region=ctx.region,
            name_prefix=ctx.base,
            tags=ctx.tags,
            account_id=ctx.account_id,
            tiers=tiers,
            thresholds=AlarmThresholds(**cfg.thresholds.model_dump()),
            rpo_seconds=ctx.cfg.data.aurora.rpo_budget_seconds,
            aurora_cluster_identifier=getattr(data, "aurora_cluster_identifier", None),
            aurora_global_database=True,
            redis_replication_group_id=getattr(data, "redis_replication_group_id", None),
            redis_shards=redis_cfg.shards,
            redis_nodes_per_shard=redis_cfg.replicas_per_shard + 1,
            redis_global_datastore=redis_cfg.global_datastore,
            alb_arn_suffix=getattr(compute, "alb_arn_suffix", None),
            target_group_arn_suffix=getattr(compute, "target_group_arn_suffix", None),
            health_check_id=getattr(traffic, "health_check_id", None),
            # Route 53 metrics live in us-east-1 only: by default only a us-east-1 stack alarms on them.
            route53_alarm=cfg.route53_health_alarm == "always"
            or (cfg.route53_health_alarm == "auto" and ctx.region == ROUTE53_METRICS_REGION),
            eks_cluster_name=getattr(compute, "cluster_name", None),
            eks_services=[(svc.ns, svc.max_replicas) for svc in ctx.cfg.workloads.services] if compute else [],
            eks_node_pool_limit_metric=getattr(compute, "node_pool_limit_metric", None),
            backup_alarms=cfg.backup_alarms,
            dashboard=cfg.dashboard,
        ),
        opts=ctx.opts(),
    )
    pulumi.export("alertTopicArns", component.topic_arns)
    # A failed rotation leaves the old credential in place and is otherwise silent: page the critical tier.
    RotationFailureAlert(
        "secret-rotation-alert",
        RotationFailureAlertArgs(
            region=ctx.region, name_prefix=ctx.base, tags=ctx.tags, topic_arn=component.topic_arns["critical"]
        ),
        opts=ctx.opts(),
    )
    if "route53-health" in component.alarms:
        # The one alarm on this region's Route 53 health check (created in us-east-1, where the metric lives).
        pulumi.export("healthCheckAlarmArn", component.alarms["route53-health"].arn)
    return Observability(topic_arns=component.topic_arns, component=component)
