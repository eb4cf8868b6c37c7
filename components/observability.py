"""Alerting and operational health of one region: CMK-encrypted SNS topics per alert tier, the CloudWatch alarms of
`components.alarms` on their tier's topic, and one CloudWatch dashboard.

Route 53 publishes health-check metrics only in us-east-1, and an alarm can notify only topics of its own Region,
so a stack outside us-east-1 gets one more critical topic there (with its own us-east-1 key) for that alarm.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from components import alarms
from components.alarms import AlarmSpec
from components.base import ComponentArgs, Input, PlatformComponent
from components.kms import KmsKey, KmsKeyArgs
from components.sns import Publisher
from components.sns import topic_policy as sns_topic_policy

TIERS = ("critical", "high", "medium", "low")
ROUTE53_METRICS_REGION = "us-east-1"
# Services that publish to the topics (and so need the key): alarms, budgets, backup vault notifications.
PUBLISHERS = ("cloudwatch.amazonaws.com", "budgets.amazonaws.com", "backup.amazonaws.com", "events.amazonaws.com")


class AlertTier(BaseModel):
    """How one tier detects (the 'M out of N' window) and who its topic notifies."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    period_seconds: int = Field(60, ge=60, description="Alarm period (multiple of 60).")
    evaluation_periods: int = Field(3, ge=1, description="N of 'M out of N'.")
    datapoints_to_alarm: int = Field(2, ge=1, description="M of 'M out of N'.")
    emails: list[str] = Field(default_factory=list, description="Email subscribers.")
    https_endpoints: list[str] = Field(default_factory=list, description="HTTPS subscribers.")

    @model_validator(mode="after")
    def _m_of_n(self) -> AlertTier:
        if self.period_seconds % 60 or self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError("period must be a multiple of 60 s and datapoints_to_alarm <= evaluation_periods")
        return self


class AlarmThresholds(BaseModel):
    """Alarm thresholds; defaults are seed 001's SLAs and capacity guard-rails."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alb_error_rate_percent: float = Field(0.1, gt=0, le=100, description="5xx share of ALB requests (percent).")
    alb_p95_latency_ms: float = Field(100, gt=0, description="p95 target response time (ms).")
    aurora_cpu_percent: float = Field(80, gt=0, le=100, description="Aurora instance CPU.")
    aurora_freeable_memory_mib: int = Field(4096, ge=1, description="Aurora freeable memory floor (MiB).")
    aurora_max_connections: int = Field(4000, ge=1, description="Aurora connections per instance.")
    redis_engine_cpu_percent: float = Field(80, gt=0, le=100, description="Redis engine CPU.")
    redis_memory_percent: float = Field(80, gt=0, le=100, description="Redis memory use.")
    redis_evictions: int = Field(1000, ge=1, description="Evictions per period on a node.")
    redis_replication_lag_seconds: float = Field(60, gt=0, description="Redis replication lag (s).")
    capacity_cpu_percent: float = Field(60, gt=0, le=100, description="Capacity-planning CPU line (low tier).")


class ObservabilityArgs(ComponentArgs):
    """Args of `Observability`. Every signal is optional: pass the identifiers of what this region runs."""

    account_id: Input = Field(..., description="AWS account id (key and topic policies).")
    tiers: dict[str, AlertTier] = Field(
        default_factory=lambda: {t: AlertTier() for t in TIERS}, description="Settings of the four tiers."
    )
    thresholds: AlarmThresholds = Field(default_factory=AlarmThresholds, description="Alarm thresholds.")
    rpo_seconds: int = Field(60, ge=1, description="RPO budget: Aurora global replication-lag threshold.")
    aurora_cluster_identifier: Input = Field(None, description="This region's Aurora cluster (none: no alarms).")
    aurora_global_database: bool = Field(True, description="The cluster is in a global database (lag alarm).")
    redis_replication_group_id: Input = Field(None, description="This region's Redis group (none: no alarms).")
    redis_shards: int = Field(3, ge=1, le=500, description="Shards (node groups) of the Redis group.")
    redis_nodes_per_shard: int = Field(3, ge=1, le=6, description="Nodes per shard (primary + replicas).")
    redis_global_datastore: bool = Field(True, description="The group is in a Global Datastore (lag alarm).")
    alb_arn_suffix: Input = Field(None, description="ALB `arn_suffix` (none: no ALB alarms).")
    target_group_arn_suffix: Input = Field(None, description="API target group `arn_suffix`.")
    health_check_id: Input = Field(None, description="Route 53 health check of this region (none: no alarm).")
    route53_alarm: bool = Field(
        True, description="Alarm on the health check (in us-east-1, with a us-east-1 topic outside us-east-1)."
    )
    eks_cluster_name: Input = Field(None, description="This region's EKS cluster (none: no EKS alarms).")
    eks_services: list[tuple[str, int]] = Field(
        default_factory=list, description="(namespace, HPA maxReplicas) of each service (HPA-at-max alarms)."
    )
    eks_node_pool_limit_metric: tuple[str, str] | None = Field(
        None, description="(namespace, name) of the NodePool-limit-reached count (Auto Mode compute logs)."
    )
    backup_alarms: bool = Field(True, description="Alarm on failed AWS Backup backup and copy jobs.")
    backup_vault_name: Input = Field(None, description="Limit the backup alarms to this vault (default: all).")
    dashboard: bool = Field(True, description="Build the operational-health dashboard.")

    @field_validator("tiers")
    @classmethod
    def _all_tiers(cls, value: dict[str, AlertTier]) -> dict[str, AlertTier]:
        if sorted(value) != sorted(TIERS):
            raise ValueError(f"tiers must be exactly {list(TIERS)}, got {sorted(value)}")
        return value


class Observability(PlatformComponent):
    """Topics `critical` / `high` / `medium` / `low` (+ a us-east-1 critical topic for Route 53 when needed),
    alarms wired to them, and the dashboard. Outputs: `topic_arns` (tier -> ARN), `route53_topic_arn`,
    `alarm_names` (key -> name), `dashboard_name`."""

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:observability:Observability", name, opts)
        self._args = args
        base = args.name_prefix
        key = self._key("alerts", args.region)
        self.topics = {tier: self._topic(tier, args.region, key, f"{base}-alerts-{tier}", tier) for tier in TIERS}
        self.topic_arns: dict[str, pulumi.Output[str]] = {tier: t.arn for tier, t in self.topics.items()}
        # The Route 53 alarm's topic: the critical one here in us-east-1, otherwise a critical twin there.
        self.route53_topic: aws.sns.Topic | None = None
        if args.health_check_id is not None and args.route53_alarm:
            if args.region == ROUTE53_METRICS_REGION:
                self.route53_topic = self.topics["critical"]
            else:
                r53_key = self._key("alerts-r53", ROUTE53_METRICS_REGION)
                self.route53_topic = self._topic(
                    "critical-r53", ROUTE53_METRICS_REGION, r53_key, f"{base}-alerts-critical-r53", "critical"
                )
        self.specs = self._specs()
        self.alarms: dict[str, aws.cloudwatch.MetricAlarm] = {spec.key: self._alarm(spec) for spec in self.specs}
        self.alarm_names = {k: a.name for k, a in self.alarms.items()}
        self.dashboard_name: pulumi.Output[str] | None = None
        if args.dashboard:
            dashboard = aws.cloudwatch.Dashboard(
                self.cname("dashboard"),
                region=args.region,
                dashboard_name=f"{base}-operational-health",
                dashboard_body=self._dashboard_body(),
                opts=self.child(),
            )
            self.dashboard_name = dashboard.dashboard_name
        self.route53_topic_arn = self.route53_topic.arn if self.route53_topic is not None else None
        self.register_outputs(
            {
                "topicArns": self.topic_arns,
                "route53TopicArn": self.route53_topic_arn,
                "alarmNames": self.alarm_names,
                "dashboardName": self.dashboard_name,
            }
        )

    # -- topics -------------------------------------------------------------------------------------------------
    def _key(self, purpose: str, region: str) -> KmsKey:
        args = self._args
        return KmsKey(
            self.cname(f"{purpose}-key"),
            KmsKeyArgs(
                region=region,
                name_prefix=args.name_prefix,
                tags=args.tags,
                purpose=purpose,
                account_id=args.account_id,
                service_principals=list(PUBLISHERS),
            ),
            opts=self.child(),
        )

    def _topic(self, suffix: str, region: str, key: KmsKey, topic_name: str, tier: str) -> aws.sns.Topic:
        args = self._args
        topic = aws.sns.Topic(
            self.cname(suffix),
            region=region,
            name=topic_name,
            display_name=f"{tier} alerts"[:100],
            kms_master_key_id=key.arn,
            tags=self.tagged(args.tags, topic_name, **{"alert-tier": tier}),
            opts=self.child(),
        )
        aws.sns.TopicPolicy(
            self.cname(f"{suffix}-policy"),
            region=region,
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, args.account_id).apply(
                lambda values: json.dumps(topic_policy(values[0], values[1]))
            ),
            opts=self.child(),
        )
        settings = args.tiers[tier]
        for index, email in enumerate(settings.emails):
            aws.sns.TopicSubscription(
                self.cname(f"{suffix}-email-{index}"),
                region=region,
                topic=topic.arn,
                protocol="email",
                endpoint=email,
                opts=self.child(),
            )
        for index, url in enumerate(settings.https_endpoints):
            aws.sns.TopicSubscription(
                self.cname(f"{suffix}-https-{index}"),
                region=region,
                topic=topic.arn,
                protocol="https",
                endpoint=url,
                endpoint_auto_confirms=True,
                opts=self.child(),
            )
        return topic

    # -- alarms -------------------------------------------------------------------------------------------------
    def _specs(self) -> list[AlarmSpec]:
        args, th = self._args, self._args.thresholds
        specs: list[AlarmSpec] = []
        if args.aurora_cluster_identifier is not None:
            specs += alarms.aurora_alarms(
                args.aurora_cluster_identifier,
                global_database=args.aurora_global_database,
                rpo_seconds=args.rpo_seconds,
                cpu=th.aurora_cpu_percent,
                freeable_mib=th.aurora_freeable_memory_mib,
                connections=th.aurora_max_connections,
                capacity_cpu=th.capacity_cpu_percent,
            )
        if args.redis_replication_group_id is not None:
            specs += alarms.redis_alarms(
                args.redis_replication_group_id,
                shards=args.redis_shards,
                nodes_per_shard=args.redis_nodes_per_shard,
                global_datastore=args.redis_global_datastore,
                cpu=th.redis_engine_cpu_percent,
                memory=th.redis_memory_percent,
                evictions=th.redis_evictions,
                lag_seconds=th.redis_replication_lag_seconds,
                capacity_cpu=th.capacity_cpu_percent,
            )
        if args.alb_arn_suffix is not None:
            specs += alarms.alb_alarms(
                args.alb_arn_suffix,
                args.target_group_arn_suffix,
                error_rate_percent=th.alb_error_rate_percent,
                p95_latency_ms=th.alb_p95_latency_ms,
            )
        if args.eks_cluster_name is not None:
            specs += alarms.eks_alarms(args.eks_cluster_name, args.eks_services, args.eks_node_pool_limit_metric)
        if args.health_check_id is not None and args.route53_alarm:
            specs.append(alarms.route53_alarm(args.health_check_id, args.region, ROUTE53_METRICS_REGION))
        if args.backup_alarms:
            specs += alarms.backup_alarms(args.backup_vault_name)
        return specs

    def _alarm(self, spec: AlarmSpec) -> aws.cloudwatch.MetricAlarm:
        args = self._args
        tier = args.tiers[spec.tier]
        region = spec.region or args.region
        topic = self.route53_topic if spec.region == ROUTE53_METRICS_REGION and self.route53_topic else None
        topic = topic or self.topics[spec.tier]
        alarm_name = f"{args.name_prefix}-{spec.key}"
        metric_args: dict[str, Any] = {}
        if spec.query is not None:
            metric_args["metric_queries"] = [
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="q1", expression=spec.query.sql(), period=tier.period_seconds, label=spec.key, return_data=True
                )
            ]
        elif spec.is_math:
            queries = [
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id=f"m{i}",
                    return_data=False,
                    metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                        namespace=m.namespace,
                        metric_name=m.name,
                        stat=m.stat,
                        period=tier.period_seconds,
                        dimensions=m.dimensions,
                    ),
                )
                for i, m in enumerate(spec.metrics)
            ]
            queries.append(
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="e1", expression=spec.expression, label=spec.key, return_data=True
                )
            )
            metric_args["metric_queries"] = queries
        else:
            m = spec.metric
            assert m is not None
            metric_args.update(namespace=m.namespace, metric_name=m.name, dimensions=m.dimensions or None)
            metric_args["period"] = tier.period_seconds
            if m.stat.startswith("p"):
                metric_args["extended_statistic"] = m.stat
            else:
                metric_args["statistic"] = m.stat
        return aws.cloudwatch.MetricAlarm(
            self.cname(f"alarm-{spec.key}"),
            region=region,
            name=alarm_name,
            alarm_description=f"[{spec.tier}] {spec.summary}",
            comparison_operator=spec.comparison,
            threshold=spec.threshold,
            evaluation_periods=tier.evaluation_periods,
            datapoints_to_alarm=tier.datapoints_to_alarm,
            treat_missing_data=spec.treat_missing_data,
            actions_enabled=True,
            alarm_actions=[topic.arn],
            ok_actions=[topic.arn],
            tags=self.tagged(args.tags, alarm_name, **{"alert-tier": spec.tier}),
            opts=self.child(),
            **metric_args,
        )

    # -- dashboard ----------------------------------------------------------------------------------------------
    def _dashboard_body(self) -> pulumi.Output[str]:
        """Widgets for each signal this region has; every identifier resolved with one `Output.all`."""
        args = self._args
        inputs: dict[str, Any] = {
            "alb": args.alb_arn_suffix,
            "aurora": args.aurora_cluster_identifier,
            "redis": args.redis_replication_group_id,
            "health": args.health_check_id,
            "alarms": [a.arn for key, a in self.alarms.items() if not key.startswith("route53")],
        }
        present = {k: v for k, v in inputs.items() if v is not None}
        return pulumi.Output.all(**present).apply(lambda values: json.dumps(dashboard(args, values)))


def topic_policy(topic_arn: str, account: str) -> dict[str, Any]:
    """Alert topics: CloudWatch alarms, AWS Budgets and AWS Backup publish for this account only, over TLS."""
    return sns_topic_policy(
        topic_arn,
        account,
        [
            Publisher("CloudWatchAlarmsPublish", "cloudwatch.amazonaws.com", f"arn:aws:cloudwatch:*:{account}:alarm:*"),
            Publisher("BudgetsPublish", "budgets.amazonaws.com", f"arn:aws:budgets::{account}:*"),
            Publisher("BackupPublish", "backup.amazonaws.com"),
            # EventBridge rules of this account (e.g. Secrets Manager rotation failures, docs/security.md).
            Publisher("EventBridgePublish", "events.amazonaws.com", f"arn:aws:events:*:{account}:rule/*"),
        ],
    )


def dashboard(args: ObservabilityArgs, values: dict[str, Any]) -> dict[str, Any]:
    """CloudWatch dashboard body (plain data; values are the resolved identifiers)."""
    region, th = args.region, args.thresholds
    widgets: list[dict[str, Any]] = [
        {
            "type": "text",
            "x": 0,
            "y": 0,
            "width": 24,
            "height": 2,
            "properties": {
                "markdown": f"# {args.name_prefix} operational health ({region})\n"
                f"SLAs: p95 < {th.alb_p95_latency_ms:g} ms, 5xx < {th.alb_error_rate_percent:g}%, "
                f"Aurora replication lag < {args.rpo_seconds} s (RPO)."
            },
        },
    ]

    def graph(title: str, metrics: list[list[Any]], y: int, x: int = 0, width: int = 12, **extra: Any) -> None:
        props = {"title": title, "region": region, "view": "timeSeries", "stat": "Average", "period": 60}
        props.update(metrics=metrics, **extra)
        widgets.append({"type": "metric", "x": x, "y": y, "width": width, "height": 6, "properties": props})

    y = 2
    if "alb" in values:
        lb = values["alb"]
        graph(
            "ALB requests and 5xx",
            [
                ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", lb, {"stat": "Sum"}],
                ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", lb, {"stat": "Sum"}],
                ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb, {"stat": "Sum"}],
            ],
            y,
        )
        graph(
            "ALB target response time p95 (s)",
            [
                ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", lb, {"stat": "p95"}],
            ],
            y,
            x=12,
            annotations={"horizontal": [{"label": "SLA", "value": th.alb_p95_latency_ms / 1000}]},
        )
        y += 6
    if "aurora" in values:
        cluster = values["aurora"]
        graph(
            "Aurora CPU / connections",
            [
                ["AWS/RDS", "CPUUtilization", "DBClusterIdentifier", cluster, {"stat": "Maximum"}],
                [
                    "AWS/RDS",
                    "DatabaseConnections",
                    "DBClusterIdentifier",
                    cluster,
                    {"stat": "Maximum", "yAxis": "right"},
                ],
            ],
            y,
        )
        graph(
            "Aurora global replication lag (ms)",
            [
                [
                    {
                        "expression": 'SELECT MAX(AuroraGlobalDBReplicationLag) FROM "AWS/RDS" '
                        f"WHERE DBClusterIdentifier = '{cluster}'",
                        "label": "replication lag",
                        "id": "lag",
                    }
                ],
            ],
            y,
            x=12,
            annotations={"horizontal": [{"label": "RPO", "value": args.rpo_seconds * 1000}]},
        )
        y += 6
    if "redis" in values:
        group = values["redis"]
        nodes = [
            f"{group}-{s:04d}-{n:03d}"
            for s in range(1, args.redis_shards + 1)
            for n in range(1, args.redis_nodes_per_shard + 1)
        ]
        graph(
            "Redis engine CPU per node",
            [
                ["AWS/ElastiCache", "EngineCPUUtilization", "CacheClusterId", node, {"stat": "Maximum"}]
                for node in nodes
            ],
            y,
        )
        graph(
            "Redis memory use per node (%)",
            [
                ["AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "CacheClusterId", node, {"stat": "Maximum"}]
                for node in nodes
            ],
            y,
            x=12,
        )
        y += 6
    if "health" in values:
        graph(
            "Route 53 health check (1 = healthy)",
            [
                ["AWS/Route53", "HealthCheckStatus", "HealthCheckId", values["health"], {"stat": "Minimum"}],
            ],
            y,
            region=ROUTE53_METRICS_REGION,
        )
        y += 6
    if values.get("alarms"):
        widgets.append(
            {
                "type": "alarm",
                "x": 0,
                "y": y,
                "width": 24,
                "height": 6,
                "properties": {"title": "Alarms", "alarms": sorted(values["alarms"])},
            }
        )
    return {"widgets": widgets}
