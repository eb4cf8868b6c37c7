"""Observability component: topics (CMK, policy), alarms on the right tier's topic, Route 53 in us-east-1, dashboard."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from components.observability import AlertTier, Observability, ObservabilityArgs, topic_policy

TOPIC = "aws:sns/topic:Topic"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ACCOUNT = "111122223333"
# Which tier each alarm belongs to (the contract documented in docs/observability-and-cost.md).
EXPECTED_TIERS = {
    "aurora-rpo-lag": "critical",
    "aurora-replication-lag": "high",
    "alb-5xx-rate": "critical",
    "alb-no-healthy-targets": "critical",
    "route53-health": "critical",
    "alb-p95-latency": "high",
    "redis-replication-lag-s1": "high",
    "redis-global-lag-s1": "high",
    "backup-jobs-failed": "high",
    "backup-copy-jobs-failed": "high",
    "aurora-cpu": "medium",
    "aurora-freeable-memory": "medium",
    "aurora-connections": "medium",
    "redis-cpu-s1": "medium",
    "redis-memory-s1": "medium",
    "redis-evictions-s1": "medium",
    "aurora-cpu-capacity": "low",
    "redis-cpu-capacity-s1": "low",
}


def _args(region: str = "eu-west-1", **overrides) -> ObservabilityArgs:
    values = dict(
        region=region,
        name_prefix="t-prod-euw1",
        tags={"team": "t"},
        account_id=ACCOUNT,
        tiers={
            "critical": AlertTier(period_seconds=60, evaluation_periods=3, datapoints_to_alarm=2, emails=["a@x.io"]),
            "high": AlertTier(period_seconds=60, evaluation_periods=5, datapoints_to_alarm=3),
            "medium": AlertTier(period_seconds=300, evaluation_periods=3, datapoints_to_alarm=3),
            "low": AlertTier(period_seconds=3600, evaluation_periods=1, datapoints_to_alarm=1),
        },
        rpo_seconds=60,
        aurora_cluster_identifier="t-aurora",
        redis_replication_group_id="t-redis",
        redis_shards=2,
        redis_nodes_per_shard=3,
        alb_arn_suffix="app/t-alb/0123",
        target_group_arn_suffix="targetgroup/t-tg/0456",
        health_check_id="hc-123",
    )
    values.update(overrides)
    return ObservabilityArgs(**values)


@pytest.fixture(scope="module")
def plan():
    from infra.plan.runner import synthesize

    return synthesize("unit", {}, program=lambda: Observability("obs", _args()))


def _arn(plan, typ: str, name: str) -> str:
    """The ARN the offline plan gave the resource (deterministic fakes from its inputs)."""
    from infra.plan.fakes import computed_outputs, fake_id

    res = plan.one(typ, name)
    region = res.inputs["region"]
    return computed_outputs(typ, name, fake_id(typ, name, res.inputs, region), res.inputs, region)["arn"]


def _topic_arn(plan, tier: str) -> str:
    return _arn(plan, TOPIC, f"obs-{tier}")


def _alarm(plan, key: str):
    return plan.one(ALARM, f"obs-alarm-{key}")


def test_four_tier_topics_encrypted_with_a_cmk_in_the_region(plan):
    topics = {r.name: r for r in plan.of_type(TOPIC)}
    for tier in ("critical", "high", "medium", "low"):
        topic = topics[f"obs-{tier}"]
        assert topic.inputs["region"] == "eu-west-1"
        assert topic.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:eu-west-1:")
        assert topic.inputs["name"] == f"t-prod-euw1-alerts-{tier}"
    key = plan.one("aws:kms/key:Key", "obs-alerts-key-key")
    assert topics["obs-critical"].inputs["kmsMasterKeyId"] == _arn(plan, "aws:kms/key:Key", "obs-alerts-key-key")
    statements = json.loads(key.inputs["policy"])["Statement"]
    principals = {s["Principal"].get("Service") for s in statements}
    assert {"cloudwatch.amazonaws.com", "budgets.amazonaws.com", "backup.amazonaws.com"} <= principals
    for statement in statements:
        if statement["Principal"].get("Service"):
            assert "kms:GenerateDataKey*" in statement["Action"] and "kms:Decrypt*" in statement["Action"]


def test_topic_policy_lets_services_publish_only_for_this_account_and_over_tls(plan):
    policy = json.loads(plan.one("aws:sns/topicPolicy:TopicPolicy", "obs-high-policy").inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    for sid, service in (("CloudWatchAlarmsPublish", "cloudwatch"), ("BudgetsPublish", "budgets")):
        statement = by_sid[sid]
        assert statement["Principal"] == {"Service": f"{service}.amazonaws.com"}
        assert statement["Action"] == "sns:Publish"
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
        assert statement["Resource"] == _topic_arn(plan, "high")
    deny = by_sid["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert not [s for s in policy["Statement"] if s["Effect"] == "Allow" and s["Principal"] == "*"]


def test_every_alarm_notifies_its_tier_topic_with_actions_enabled(plan):
    alarms = {r.name.removeprefix("obs-alarm-"): r for r in plan.of_type(ALARM)}
    assert set(EXPECTED_TIERS) <= set(alarms)
    for key, tier in EXPECTED_TIERS.items():
        inputs = alarms[key].inputs
        topic = _arn(plan, TOPIC, "obs-critical-r53") if key == "route53-health" else _topic_arn(plan, tier)
        assert inputs["actionsEnabled"] is True, key
        assert inputs["alarmActions"] == [topic], key
        assert inputs["okActions"] == [topic], key
        assert inputs["tags"]["alert-tier"] == tier, key
        assert inputs["alarmDescription"].startswith(f"[{tier}]"), key


def test_tier_windows_come_from_the_tier_settings(plan):
    lag = _alarm(plan, "aurora-rpo-lag").inputs  # a Metrics Insights alarm: the period is on the query
    assert (lag["metricQueries"][0]["period"], lag["evaluationPeriods"], lag["datapointsToAlarm"]) == (60, 3, 2)
    cpu = _alarm(plan, "aurora-cpu").inputs
    assert (cpu["period"], cpu["evaluationPeriods"], cpu["datapointsToAlarm"]) == (300, 3, 3)
    capacity = _alarm(plan, "aurora-cpu-capacity").inputs
    assert (capacity["period"], capacity["evaluationPeriods"]) == (3600, 1)
    # Metric math alarms put the period on each metric.
    redis = _alarm(plan, "redis-replication-lag-s1").inputs
    assert {q["metric"]["period"] for q in redis["metricQueries"] if "metric" in q} == {60}


def test_aurora_rpo_lag_alarm_is_the_rpo_budget_in_ms(plan):
    inputs = _alarm(plan, "aurora-rpo-lag").inputs
    # any dimension set AWS publishes it with (it adds SourceRegion = the writer's Region), for this cluster
    [query] = inputs["metricQueries"]
    assert (
        query["expression"]
        == "SELECT MAX(AuroraGlobalDBRPOLag) FROM \"AWS/RDS\" WHERE DBClusterIdentifier = 't-aurora'"
    )
    assert query["returnData"] is True and "metricName" not in inputs
    assert inputs["threshold"] == 60_000
    assert inputs["comparisonOperator"] == "GreaterThanThreshold"
    assert inputs["treatMissingData"] == "notBreaching"  # the writer's cluster publishes no lag


def test_alb_error_rate_is_metric_math_with_a_zero_request_guard(plan):
    inputs = _alarm(plan, "alb-5xx-rate").inputs
    queries = {q["id"]: q for q in inputs["metricQueries"]}
    names = {q["metric"]["metricName"] for q in queries.values() if "metric" in q}
    assert names == {"RequestCount", "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"}
    assert all(
        q["metric"]["dimensions"] == {"LoadBalancer": "app/t-alb/0123"} for q in queries.values() if "metric" in q
    )
    returned = [q for q in queries.values() if q.get("returnData")]
    assert len(returned) == 1 and returned[0]["expression"].startswith("IF(m0 > 0,")
    assert inputs["threshold"] == pytest.approx(0.1)
    assert "metricName" not in inputs


def test_alb_p95_latency_uses_the_extended_statistic_in_seconds(plan):
    inputs = _alarm(plan, "alb-p95-latency").inputs
    assert inputs["metricName"] == "TargetResponseTime"
    assert inputs["extendedStatistic"] == "p95"
    assert "statistic" not in inputs
    assert inputs["threshold"] == pytest.approx(0.1)


def test_redis_alarms_take_the_max_over_each_shards_nodes(plan):
    inputs = _alarm(plan, "redis-cpu-s2").inputs
    nodes = [q["metric"]["dimensions"]["CacheClusterId"] for q in inputs["metricQueries"] if "metric" in q]
    assert nodes == ["t-redis-0002-001", "t-redis-0002-002", "t-redis-0002-003"]
    expression = next(q["expression"] for q in inputs["metricQueries"] if q.get("returnData"))
    assert expression == "MAX([m0, m1, m2])"
    assert len(plan.of_type(ALARM)) == len({r.name for r in plan.of_type(ALARM)})
    assert {f"obs-alarm-redis-{m}-s{s}" for m in ("cpu", "memory", "evictions") for s in (1, 2)} <= {
        r.name for r in plan.of_type(ALARM)
    }


def test_route53_alarm_and_its_topic_live_in_us_east_1(plan):
    alarm = _alarm(plan, "route53-health").inputs
    assert alarm["region"] == "us-east-1"
    assert alarm["namespace"] == "AWS/Route53" and alarm["dimensions"] == {"HealthCheckId": "hc-123"}
    assert alarm["treatMissingData"] == "breaching"
    topic = plan.one(TOPIC, "obs-critical-r53")
    assert topic.inputs["region"] == "us-east-1"
    assert topic.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:us-east-1:")
    # The critical tier's email subscribers get the us-east-1 twin's alerts too.
    subs = [r for r in plan.of_type("aws:sns/topicSubscription:TopicSubscription") if r.inputs["region"] == "us-east-1"]
    assert [s.inputs["endpoint"] for s in subs] == ["a@x.io"]
    # Every other alarm stays in the stack's Region.
    assert {r.inputs["region"] for r in plan.of_type(ALARM) if r.name != "obs-alarm-route53-health"} == {"eu-west-1"}


def test_in_us_east_1_the_route53_alarm_uses_the_critical_topic():
    from infra.plan.runner import synthesize

    plan = synthesize("unit", {}, program=lambda: Observability("obs", _args(region="us-east-1")))
    assert not [r for r in plan.of_type(TOPIC) if r.name == "obs-critical-r53"]
    assert len(plan.of_type(TOPIC)) == 4
    alarm = _alarm(plan, "route53-health").inputs
    assert alarm["alarmActions"] == [_topic_arn(plan, "critical")]


def test_without_inputs_only_topics_and_backup_alarms():
    from infra.plan.runner import synthesize

    plan = synthesize(
        "unit",
        {},
        program=lambda: Observability(
            "obs",
            _args(
                aurora_cluster_identifier=None, redis_replication_group_id=None, alb_arn_suffix=None,
                target_group_arn_suffix=None, health_check_id=None,
            ),
        ),
    )  # fmt: skip
    assert sorted(r.name for r in plan.of_type(ALARM)) == [
        "obs-alarm-backup-copy-jobs-failed",
        "obs-alarm-backup-jobs-failed",
    ]
    assert len(plan.of_type(TOPIC)) == 4


def test_dashboard_body_is_valid_json_with_the_regions_signals(plan):
    dashboard = plan.one("aws:cloudwatch/dashboard:Dashboard")
    assert dashboard.inputs["region"] == "eu-west-1"
    body = json.loads(dashboard.inputs["dashboardBody"])
    text = json.dumps(body)
    for needle in ("app/t-alb/0123", "t-aurora", "t-redis-0001-001", "hc-123", "AuroraGlobalDBReplicationLag"):
        assert needle in text
    alarm_widget = next(w for w in body["widgets"] if w["type"] == "alarm")
    lag_arn = _arn(plan, ALARM, "obs-alarm-aurora-replication-lag")
    assert lag_arn in alarm_widget["properties"]["alarms"]
    r53 = next(w for w in body["widgets"] if "Route 53" in w["properties"].get("title", ""))
    assert r53["properties"]["region"] == "us-east-1"


def test_tier_window_must_be_m_of_n_on_whole_minutes():
    with pytest.raises(ValidationError, match="datapoints_to_alarm <= evaluation_periods"):
        AlertTier(evaluation_periods=2, datapoints_to_alarm=3)
    with pytest.raises(ValidationError, match="multiple of 60"):
        AlertTier(period_seconds=90)


def test_tiers_must_be_the_four_known_ones():
    with pytest.raises(ValidationError, match="tiers must be exactly"):
        _args(tiers={"critical": AlertTier()})


def test_topic_policy_function_scopes_sources():
    policy = topic_policy("arn:aws:sns:us-east-1:1:t", "1")
    budgets = next(s for s in policy["Statement"] if s["Sid"] == "BudgetsPublish")
    assert budgets["Condition"]["ArnLike"]["aws:SourceArn"] == "arn:aws:budgets::1:*"
