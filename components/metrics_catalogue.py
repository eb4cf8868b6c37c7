"""The CloudWatch metrics AWS documents, with the dimension sets it publishes them with (data + source).

CloudWatch treats every distinct dimension set as a separate metric: an alarm whose set AWS never publishes stays in
INSUFFICIENT_DATA (or, with `treat_missing_data: notBreaching`, silently OK) forever. Every alarm the platform builds
must match an entry here (`require_documented`, called by `components.alarms.Metric`); tests/test_alarm_metrics.py
iterates every `aws:cloudwatch/metricAlarm:MetricAlarm` of both plans against it.
"""

from __future__ import annotations

from dataclasses import dataclass

_RDS_METRICS = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.AuroraMonitoring.Metrics.html"
_RDS_DIMENSIONS = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/dimensions.html"
_GDB_REPORTS = (
    "AuroraGlobalDB* metrics are shown under the DBClusterIdentifier + SourceRegion dimension group "
    "(https://awsauroralabsmy.com/global/cw/; AWS Database Blog 'Monitor Amazon Aurora Global Database replication "
    "at scale using Amazon CloudWatch Metrics Insights'); the Aurora metrics table does not list dimensions per "
    "metric, so alarms query them with Metrics Insights filtered on DBClusterIdentifier, which matches either set"
)
_ELASTICACHE = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.HostLevel.html, CacheMetrics.Redis.html; dimensions: CacheMetrics.Dimensions.html"  # noqa: E501
_ALB = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html"
_ROUTE53 = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-health-check-status.html (us-east-1)"
_EKS = (
    "https://docs.aws.amazon.com/eks/latest/userguide/view-raw-metrics.html (EKS-vended control plane metrics in "
    "AWS/EKS, dimension ClusterName, Kubernetes 1.28+)"
)
_CONTAINER_INSIGHTS = (
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-EKS.html "
    "(namespace_number_of_running_pods: Namespace + ClusterName, and ClusterName)"
)
_OWN_FILTER = (
    "our own log metric filter (components/eks_logs.py): a metric filter without dimensions publishes exactly one "
    "dimensionless series (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/MonitoringPolicyExamples.html)"
)
_BACKUP = (
    "https://docs.aws.amazon.com/aws-backup/latest/devguide/cloudwatch.html: job metrics per ResourceType and "
    "BackupVaultName (not re-read here; alarms query with Metrics Insights without SCHEMA, which matches any set)"
)


@dataclass(frozen=True)
class Documented:
    """The dimension sets AWS publishes one metric with, and where that is documented."""

    dimension_sets: tuple[frozenset[str], ...]
    source: str


def _sets(*sets: tuple[str, ...]) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(s) for s in sets)


_AURORA_CLUSTER = _sets(("DBClusterIdentifier",), ("DBClusterIdentifier", "Role"), ("DBInstanceIdentifier",))
_AURORA_GLOBAL = _sets(("DBClusterIdentifier", "SourceRegion"), ("SourceRegion",))
_REDIS_NODE = _sets(("CacheClusterId",), ("CacheClusterId", "CacheNodeId"))
_ALB_LB = _sets(("LoadBalancer",), ("AvailabilityZone", "LoadBalancer"))
_ALB_TG = _sets(
    ("LoadBalancer",),
    ("AvailabilityZone", "LoadBalancer"),
    ("LoadBalancer", "TargetGroup"),
    ("AvailabilityZone", "LoadBalancer", "TargetGroup"),
)
_BACKUP_JOBS = _sets(("ResourceType", "BackupVaultName"), ("ResourceType",), ("BackupVaultName",))

CATALOGUE: dict[tuple[str, str], Documented] = {
    ("AWS/RDS", "CPUUtilization"): Documented(_AURORA_CLUSTER, f"{_RDS_METRICS}; {_RDS_DIMENSIONS}"),
    ("AWS/RDS", "FreeableMemory"): Documented(_AURORA_CLUSTER, f"{_RDS_METRICS}; {_RDS_DIMENSIONS}"),
    ("AWS/RDS", "DatabaseConnections"): Documented(_AURORA_CLUSTER, f"{_RDS_METRICS}; {_RDS_DIMENSIONS}"),
    ("AWS/RDS", "AuroraGlobalDBReplicationLag"): Documented(_AURORA_GLOBAL, f"{_RDS_METRICS}; {_GDB_REPORTS}"),
    ("AWS/RDS", "AuroraGlobalDBRPOLag"): Documented(_AURORA_GLOBAL, f"{_RDS_METRICS} (PostgreSQL); {_GDB_REPORTS}"),
    ("AWS/ElastiCache", "EngineCPUUtilization"): Documented(_REDIS_NODE, _ELASTICACHE),
    ("AWS/ElastiCache", "DatabaseMemoryUsagePercentage"): Documented(_REDIS_NODE, _ELASTICACHE),
    ("AWS/ElastiCache", "Evictions"): Documented(_REDIS_NODE, _ELASTICACHE),
    ("AWS/ElastiCache", "ReplicationLag"): Documented(_REDIS_NODE, _ELASTICACHE),
    ("AWS/ElastiCache", "GlobalDatastoreReplicationLag"): Documented(_REDIS_NODE, _ELASTICACHE),
    ("AWS/ApplicationELB", "RequestCount"): Documented(_ALB_TG, _ALB),
    ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"): Documented(_ALB_TG, _ALB),
    ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"): Documented(_ALB_LB, _ALB),
    ("AWS/ApplicationELB", "TargetResponseTime"): Documented(_ALB_TG, _ALB),
    ("AWS/ApplicationELB", "HealthyHostCount"): Documented(
        _sets(("LoadBalancer", "TargetGroup"), ("AvailabilityZone", "LoadBalancer", "TargetGroup")), _ALB
    ),
    ("AWS/Route53", "HealthCheckStatus"): Documented(_sets(("HealthCheckId",)), _ROUTE53),
    ("AWS/EKS", "scheduler_pending_pods_UNSCHEDULABLE"): Documented(_sets(("ClusterName",)), _EKS),
    ("ContainerInsights", "namespace_number_of_running_pods"): Documented(
        _sets(("Namespace", "ClusterName"), ("ClusterName",)), _CONTAINER_INSIGHTS
    ),
    ("Platform/EKS", "NodePoolLimitReached"): Documented(_sets(()), _OWN_FILTER),
    ("AWS/Backup", "NumberOfBackupJobsFailed"): Documented(_BACKUP_JOBS, _BACKUP),
    ("AWS/Backup", "NumberOfCopyJobsFailed"): Documented(_BACKUP_JOBS, _BACKUP),
}  # fmt: skip


class UndocumentedMetric(ValueError):
    """An alarm on a metric / dimension set AWS does not publish: it would never get a datapoint."""


def require_documented(namespace: str, metric: str, dimensions: set[str] | frozenset[str], exact: bool = True) -> None:
    """Raise unless AWS documents `metric` with exactly `dimensions` (or, `exact=False`, a set containing them:
    a Metrics Insights query without SCHEMA filtered on `dimensions`)."""
    documented = CATALOGUE.get((namespace, metric))
    if documented is None:
        raise UndocumentedMetric(f"{namespace} {metric} is not in components/metrics_catalogue.py (add it + source)")
    wanted = frozenset(dimensions)
    ok = any(s == wanted if exact else wanted <= s for s in documented.dimension_sets)
    if not ok:
        sets = " or ".join("{" + ", ".join(sorted(s)) + "}" for s in documented.dimension_sets)
        raise UndocumentedMetric(
            f"{namespace} {metric} is not published with dimensions {{{', '.join(sorted(wanted))}}}; AWS publishes "
            f"it with {sets} ({documented.source})"
        )
