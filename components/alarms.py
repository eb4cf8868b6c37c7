"""The platform's alarm catalogue: which CloudWatch metric, threshold and alert tier each signal gets.

Pure data (no resources): `Observability` turns each `AlarmSpec` into an `aws.cloudwatch.MetricAlarm` on its
tier's topic with the tier's detection window. Tier choice follows seed 001's alert hierarchy:

- critical (service disrupting, respond in 5 min): Aurora global replication lag above the RPO budget (data loss
  on failover beyond the seed's 1 minute), ALB 5xx rate above the 0.1% SLA, no healthy ALB target, the Route 53
  health check failing (the region is out of the routing).
- high (degradation / partial outage, 15 min): p95 latency above 100 ms, Redis replica and Global Datastore lag,
  failed backup and copy jobs (a recovery point is missing: the backup RPO is at risk, no outage yet).
- medium (potential issues, 1 h): Aurora CPU / freeable memory / connections, Redis CPU / memory / evictions.
- low (capacity planning, next business day): hourly average CPU above the capacity-planning line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.base import Input
from components.metrics_catalogue import require_documented

# ElastiCache names the nodes of a cluster-mode-enabled group `<group id>-<shard:04d>-<node:03d>`.
MAX_METRICS_PER_ALARM = 10  # CloudWatch metric math alarms take at most 10 metrics


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric with its statistic (`Maximum`, `Sum`, ... or a percentile such as `p95`)."""

    namespace: str
    name: str
    stat: str
    dimensions: dict[str, Input] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_documented(self.namespace, self.name, set(self.dimensions))  # a set AWS publishes, or no alarm


@dataclass(frozen=True)
class InsightsQuery:
    """A CloudWatch Metrics Insights query without SCHEMA: it matches the metric under every dimension set AWS
    publishes it with, filtered on `where` (used where the published set is not documented per metric, or varies
    with the writer Region, e.g. `SourceRegion`)."""

    namespace: str
    name: str
    function: str  # MAX, SUM, AVG, MIN, COUNT
    where: dict[str, Input] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_documented(self.namespace, self.name, set(self.where), exact=False)

    def sql(self) -> pulumi.Output[str]:
        keys = sorted(self.where)

        def render(values: list[str]) -> str:
            clause = " AND ".join(f"{k} = '{v}'" for k, v in zip(keys, values, strict=True))
            select = f'SELECT {self.function}({self.name}) FROM "{self.namespace}"'
            return f"{select} WHERE {clause}" if clause else select

        return pulumi.Output.all(*[self.where[k] for k in keys]).apply(render)


@dataclass(frozen=True)
class AlarmSpec:
    """What one alarm watches: a metric, or metric math (`expression` over `metrics` named m0, m1, ...)."""

    key: str
    tier: str
    summary: str
    threshold: float
    comparison: str
    treat_missing_data: str
    metric: Metric | None = None
    metrics: tuple[Metric, ...] = ()
    expression: str | None = None
    query: InsightsQuery | None = None
    region: str | None = None  # another Region than the stack's (Route 53 metrics live in us-east-1)

    @property
    def is_math(self) -> bool:
        return self.expression is not None


def aurora_alarms(
    cluster_id: Input,
    *,
    global_database: bool,
    rpo_seconds: int,
    cpu: float,
    freeable_mib: int,
    connections: int,
    capacity_cpu: float,
) -> list[AlarmSpec]:
    """Aurora cluster alarms. Cluster-level RDS metrics aggregate every instance (Maximum = the worst one)."""
    dims = {"DBClusterIdentifier": cluster_id}
    specs: list[AlarmSpec] = []
    if global_database:
        # Published by a SECONDARY cluster of the global database (ms behind the writer Region), reported with a
        # SourceRegion dimension (the writer's Region): a Metrics Insights query on DBClusterIdentifier matches it
        # whichever Region writes. The writer's cluster publishes nothing, hence notBreaching; every stack has the
        # alarms because the writer moves. RPO lag (Aurora PostgreSQL) is the data a failover would lose now.
        specs += [
            AlarmSpec(
                "aurora-rpo-lag",
                "critical",
                f"Aurora global RPO lag above the RPO budget ({rpo_seconds} s): a failover now loses more.",
                rpo_seconds * 1000,
                "GreaterThanThreshold",
                "notBreaching",
                query=InsightsQuery("AWS/RDS", "AuroraGlobalDBRPOLag", "MAX", dims),
            ),
            AlarmSpec(
                "aurora-replication-lag",
                "high",
                f"Aurora global replication lag above {rpo_seconds} s: a planned switchover would wait.",
                rpo_seconds * 1000,
                "GreaterThanThreshold",
                "notBreaching",
                query=InsightsQuery("AWS/RDS", "AuroraGlobalDBReplicationLag", "MAX", dims),
            ),
        ]
    specs += [
        AlarmSpec(
            "aurora-cpu",
            "medium",
            f"An Aurora instance is above {cpu:g}% CPU.",
            cpu,
            "GreaterThanThreshold",
            "missing",
            metric=Metric("AWS/RDS", "CPUUtilization", "Maximum", dims),
        ),
        AlarmSpec(
            "aurora-freeable-memory",
            "medium",
            f"An Aurora instance has less than {freeable_mib} MiB freeable memory.",
            freeable_mib * 1024 * 1024,
            "LessThanThreshold",
            "missing",
            metric=Metric("AWS/RDS", "FreeableMemory", "Minimum", dims),
        ),
        AlarmSpec(
            "aurora-connections",
            "medium",
            f"An Aurora instance has more than {connections} connections.",
            connections,
            "GreaterThanThreshold",
            "missing",
            metric=Metric("AWS/RDS", "DatabaseConnections", "Maximum", dims),
        ),
        AlarmSpec(
            "aurora-cpu-capacity",
            "low",
            f"Aurora average CPU above {capacity_cpu:g}%: plan capacity.",
            capacity_cpu,
            "GreaterThanThreshold",
            "missing",
            metric=Metric("AWS/RDS", "CPUUtilization", "Average", dims),
        ),
    ]
    return specs


def redis_node_ids(group_id: Input, shards: int, nodes_per_shard: int) -> list[list[pulumi.Output[str]]]:
    """Node (CacheClusterId) names per shard of a cluster-mode-enabled replication group."""
    group = pulumi.Output.from_input(group_id)
    return [
        [group.apply(lambda g, s=s, n=n: f"{g}-{s:04d}-{n:03d}") for n in range(1, nodes_per_shard + 1)]
        for s in range(1, shards + 1)
    ]


def redis_alarms(
    group_id: Input,
    *,
    shards: int,
    nodes_per_shard: int,
    global_datastore: bool,
    cpu: float,
    memory: float,
    evictions: int,
    lag_seconds: float,
    capacity_cpu: float,
) -> list[AlarmSpec]:
    """Per-shard Redis alarms: ElastiCache publishes per node (CacheClusterId), so each alarm is MAX over the
    shard's nodes (metric math, at most 10 metrics; a shard has at most 6 nodes)."""
    if nodes_per_shard > MAX_METRICS_PER_ALARM:
        raise ValueError(f"{nodes_per_shard} nodes per shard exceed the {MAX_METRICS_PER_ALARM} metrics of an alarm")
    specs: list[AlarmSpec] = []
    for shard, nodes in enumerate(redis_node_ids(group_id, shards, nodes_per_shard), start=1):

        def per_node(name: str, stat: str, nodes: list[pulumi.Output[str]] = nodes) -> tuple[Metric, ...]:
            return tuple(Metric("AWS/ElastiCache", name, stat, {"CacheClusterId": node}) for node in nodes)

        expr = "MAX([" + ", ".join(f"m{i}" for i in range(len(nodes))) + "])"
        s = f"s{shard}"
        specs += [
            AlarmSpec(
                f"redis-cpu-{s}",
                "medium",
                f"Redis shard {shard}: a node's engine CPU is above {cpu:g}%.",
                cpu,
                "GreaterThanThreshold",
                "missing",
                metrics=per_node("EngineCPUUtilization", "Maximum"),
                expression=expr,
            ),
            AlarmSpec(
                f"redis-memory-{s}",
                "medium",
                f"Redis shard {shard}: a node uses more than {memory:g}% memory.",
                memory,
                "GreaterThanThreshold",
                "missing",
                metrics=per_node("DatabaseMemoryUsagePercentage", "Maximum"),
                expression=expr,
            ),
            AlarmSpec(
                f"redis-evictions-{s}",
                "medium",
                f"Redis shard {shard}: a node evicted more than {evictions} keys in a period.",
                evictions,
                "GreaterThanThreshold",
                "notBreaching",
                metrics=per_node("Evictions", "Sum"),
                expression=expr,
            ),
            AlarmSpec(
                f"redis-replication-lag-{s}",
                "high",
                f"Redis shard {shard}: a replica is more than {lag_seconds:g} s behind its primary.",
                lag_seconds,
                "GreaterThanThreshold",
                "notBreaching",
                metrics=per_node("ReplicationLag", "Maximum"),
                expression=expr,
            ),
            AlarmSpec(
                f"redis-cpu-capacity-{s}",
                "low",
                f"Redis shard {shard}: average engine CPU above {capacity_cpu:g}%: plan capacity.",
                capacity_cpu,
                "GreaterThanThreshold",
                "missing",
                metrics=per_node("EngineCPUUtilization", "Average"),
                expression=expr,
            ),
        ]
        if global_datastore:
            # Published in a secondary member's Region only; notBreaching where this group is the primary.
            specs.append(
                AlarmSpec(
                    f"redis-global-lag-{s}",
                    "high",
                    f"Redis shard {shard}: Global Datastore replication lag above {lag_seconds:g} s.",
                    lag_seconds,
                    "GreaterThanThreshold",
                    "notBreaching",
                    metrics=per_node("GlobalDatastoreReplicationLag", "Maximum"),
                    expression=expr,
                )
            )
    return specs


def alb_alarms(
    lb_suffix: Input, target_group_suffix: Input | None, *, error_rate_percent: float, p95_latency_ms: float
) -> list[AlarmSpec]:
    """ALB SLA alarms: 5xx rate (target + load balancer 5xx over requests) and p95 target response time."""
    lb = {"LoadBalancer": lb_suffix}
    specs = [
        AlarmSpec(
            "alb-5xx-rate",
            "critical",
            f"More than {error_rate_percent:g}% of the ALB's requests end in 5xx (seed SLA error rate < 0.1%).",
            error_rate_percent,
            "GreaterThanThreshold",
            "notBreaching",
            metrics=(
                Metric("AWS/ApplicationELB", "RequestCount", "Sum", lb),
                Metric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", lb),
                Metric("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "Sum", lb),
            ),
            # No requests -> 0 % (no division by zero); missing 5xx counts mean none happened.
            expression="IF(m0 > 0, 100 * (FILL(m1, 0) + FILL(m2, 0)) / m0, 0)",
        ),
        AlarmSpec(
            "alb-p95-latency",
            "high",
            f"ALB p95 target response time above {p95_latency_ms:g} ms (seed SLA < 100 ms p95).",
            p95_latency_ms / 1000,
            "GreaterThanThreshold",
            "notBreaching",
            metric=Metric("AWS/ApplicationELB", "TargetResponseTime", "p95", lb),
        ),
    ]
    if target_group_suffix is not None:
        specs.append(
            AlarmSpec(
                "alb-no-healthy-targets",
                "critical",
                "The API target group has no healthy target in this region.",
                1,
                "LessThanThreshold",
                "breaching",
                metric=Metric(
                    "AWS/ApplicationELB",
                    "HealthyHostCount",
                    "Minimum",
                    {"LoadBalancer": lb_suffix, "TargetGroup": target_group_suffix},
                ),
            )
        )
    return specs


def route53_alarm(health_check_id: Input, region_name: str, metrics_region: str) -> AlarmSpec:
    """The region's Route 53 health check failing (metrics exist only in us-east-1; missing = failing)."""
    return AlarmSpec(
        "route53-health",
        "critical",
        f"Route 53 health check of the {region_name} API is failing: the region is leaving the routing.",
        1,
        "LessThanThreshold",
        "breaching",
        metric=Metric("AWS/Route53", "HealthCheckStatus", "Minimum", {"HealthCheckId": health_check_id}),
        region=metrics_region,
    )


def backup_alarms(vault_name: Input | None = None) -> list[AlarmSpec]:
    """Failed AWS Backup backup / copy jobs in this Region (all vaults, or one vault when named). AWS Backup
    publishes job counts per ResourceType / BackupVaultName, not as one account-wide series: a Metrics Insights SUM
    without SCHEMA adds up whichever sets exist (a double count across sets is harmless for "> 0 failures")."""
    where: dict[str, Any] = {} if vault_name is None else {"BackupVaultName": vault_name}
    return [
        AlarmSpec(
            "backup-jobs-failed",
            "high",
            "An AWS Backup backup job failed: a recovery point is missing.",
            0,
            "GreaterThanThreshold",
            "notBreaching",
            query=InsightsQuery("AWS/Backup", "NumberOfBackupJobsFailed", "SUM", where),
        ),
        AlarmSpec(
            "backup-copy-jobs-failed",
            "high",
            "An AWS Backup copy job to the partner Region failed: the cross-region copy is missing.",
            0,
            "GreaterThanThreshold",
            "notBreaching",
            query=InsightsQuery("AWS/Backup", "NumberOfCopyJobsFailed", "SUM", where),
        ),
    ]


def eks_alarms(
    cluster_name: Input,
    services: list[tuple[str, int]],
    node_pool_limit_metric: tuple[str, str] | None,
) -> list[AlarmSpec]:
    """Capacity alarms of the EKS tier (docs/compute.md, "Container-level observability"):

    - pods Pending (unschedulable) for the whole tier window: `AWS/EKS scheduler_pending_pods_UNSCHEDULABLE`
      (EKS-vended control-plane metric, clusters >= 1.28, statistic Sum, dimension ClusterName);
    - a NodePool at its limits: the count of Auto Mode compute log lines "exceed limits for nodepool";
    - an HPA pinned at maxReplicas: Container Insights `namespace_number_of_running_pods` (dimensions Namespace,
      ClusterName; one namespace per service) at or above the service's maxReplicas for the whole window.
    """
    cluster = {"ClusterName": cluster_name}
    specs = [
        AlarmSpec(
            "eks-pods-unschedulable",
            "high",
            "Pods stay Pending (unschedulable) for the whole window: the node autoscaler cannot place them.",
            0,
            "GreaterThanThreshold",
            "notBreaching",
            metric=Metric("AWS/EKS", "scheduler_pending_pods_UNSCHEDULABLE", "Sum", cluster),
        )
    ]
    if node_pool_limit_metric is not None:
        specs.append(
            AlarmSpec(
                "eks-nodepool-limit",
                "high",
                "A NodePool reached its cpu/memory limits: pending pods get no node (raise the limits, see the "
                "capacity model in docs/compute.md).",
                0,
                "GreaterThanThreshold",
                "notBreaching",
                metric=Metric(node_pool_limit_metric[0], node_pool_limit_metric[1], "Sum"),
            )
        )
    for namespace, max_replicas in services:
        specs.append(
            AlarmSpec(
                f"hpa-at-max-{namespace}",
                "high",
                f"{namespace} runs at its HPA maximum ({max_replicas} pods) for the whole window: it cannot scale out.",
                max_replicas,
                "GreaterThanOrEqualToThreshold",
                "notBreaching",
                metric=Metric(
                    "ContainerInsights",
                    "namespace_number_of_running_pods",
                    "Minimum",
                    {"Namespace": namespace, "ClusterName": cluster_name},
                ),
            )
        )
    return specs
