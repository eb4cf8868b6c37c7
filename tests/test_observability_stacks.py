"""Observability tier in both real stacks: tier topics with KMS, SLA / RPO alarms on the stack's resources, exports."""

from __future__ import annotations

import json

import pytest

from infra.config.fleet import load_fleet
from infra.plan.runner import REPO_ROOT
from tests.config_cases import PRIMARY, assert_config_issue

TOPIC = "aws:sns/topic:Topic"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TIERS = ("critical", "high", "medium", "low")


def _ours(plan, typ):
    return [r for r in plan.of_type(typ) if r.name.startswith("observability-")]


def _alarm(plan, key):
    return plan.one(ALARM, f"observability-alarm-{key}").inputs


def test_each_stack_has_four_kms_encrypted_tier_topics_and_exports_them(plans):
    for stack, plan in plans.items():
        topics = {r.name.removeprefix("observability-"): r.inputs for r in _ours(plan, TOPIC)}
        assert set(TIERS) <= set(topics), stack
        for tier in TIERS:
            assert topics[tier]["region"] == stack
            assert topics[tier]["kmsMasterKeyId"].startswith(f"arn:aws:kms:{stack}:")
        exported = plan.outputs["alertTopicArns"]
        assert sorted(exported) == sorted(TIERS)
        for tier in TIERS:
            assert exported[tier] == f"arn:aws:sns:{stack}:123456789012:{topics[tier]['name']}"


def test_replication_lag_alarm_watches_this_regions_cluster_at_the_rpo_budget(plans):
    for stack, plan in plans.items():
        cfg = load_fleet(REPO_ROOT).stacks[stack]
        lag = _alarm(plan, "aurora-rpo-lag")
        assert lag["metricQueries"][0]["expression"] == (
            f'SELECT MAX(AuroraGlobalDBRPOLag) FROM "AWS/RDS" WHERE DBClusterIdentifier = '
            f"'{plan.outputs['auroraClusterIdentifier']}'"
        )
        assert lag["threshold"] == cfg.data.aurora.rpo_budget_seconds * 1000 == 60_000
        assert lag["alarmActions"] == [plan.outputs["alertTopicArns"]["critical"]]


def test_alb_sla_alarms_use_the_stacks_alb_and_seed_slas(plans):
    for plan in plans.values():
        lb = plan.one("aws:lb/loadBalancer:LoadBalancer")
        suffix = plan.outputs["albArn"].split(":loadbalancer/")[1]
        rate = _alarm(plan, "alb-5xx-rate")
        dims = {json.dumps(q["metric"]["dimensions"]) for q in rate["metricQueries"] if "metric" in q}
        assert dims == {json.dumps({"LoadBalancer": suffix})}, lb.name
        assert rate["threshold"] == pytest.approx(0.1)
        assert rate["alarmActions"] == [plan.outputs["alertTopicArns"]["critical"]]
        p95 = _alarm(plan, "alb-p95-latency")
        assert p95["extendedStatistic"] == "p95" and p95["threshold"] == pytest.approx(0.1)
        assert p95["alarmActions"] == [plan.outputs["alertTopicArns"]["high"]]


def test_redis_alarms_cover_every_seed_shard_of_this_regions_group(plans):
    for stack, plan in plans.items():
        group = plan.outputs["redisReplicationGroupId"]
        for shard in (1, 2, 3):
            cpu = _alarm(plan, f"redis-cpu-s{shard}")
            nodes = [q["metric"]["dimensions"]["CacheClusterId"] for q in cpu["metricQueries"] if "metric" in q]
            assert nodes == [f"{group}-{shard:04d}-{n:03d}" for n in (1, 2, 3)], stack


def test_route53_health_alarm_only_where_its_metric_lives_and_no_stack_outside_its_region(plans):
    """`route53HealthAlarm: auto`: Route 53 metrics exist only in us-east-1, so only the us-east-1 stack alarms on
    its health check (on its own critical topic); eu-west-1 creates nothing in us-east-1 and watches its origin
    with the in-region ALB alarm instead."""
    primary = plans["us-east-1"]
    alarm = _alarm(primary, "route53-health")
    assert alarm["region"] == "us-east-1"
    assert alarm["dimensions"] == {"HealthCheckId": primary.outputs["healthCheckId"]}
    assert alarm["alarmActions"] == [primary.outputs["alertTopicArns"]["critical"]]
    secondary = plans["eu-west-1"]
    assert not [a for a in secondary.of_type(ALARM) if a.name.endswith("route53-health")]
    assert not [t for t in secondary.of_type(TOPIC) if t.name.endswith("critical-r53")]
    assert "healthCheckAlarmArn" not in secondary.outputs
    assert {a.inputs["region"] for a in secondary.of_type(ALARM)} == {"eu-west-1"}
    assert _alarm(secondary, "alb-no-healthy-targets")["region"] == "eu-west-1"


def test_route53_health_alarm_always_keeps_the_cross_region_twin(write_stacks):
    from infra.plan.runner import Planner

    def always(doc):
        doc["platform:observability"]["route53HealthAlarm"] = "always"

    root = write_stacks({"eu-west-1": always})
    plan = Planner(root).plan("eu-west-1")
    assert _alarm(plan, "route53-health")["region"] == "us-east-1"
    twin = plan.one(TOPIC, "observability-critical-r53").inputs
    assert twin["region"] == "us-east-1" and twin["kmsMasterKeyId"].startswith("arn:aws:kms:us-east-1:")


def test_every_alarm_of_the_tier_has_actions_enabled_and_one_dashboard_per_region(plans):
    for stack, plan in plans.items():
        alarms = _ours(plan, ALARM)
        assert len(alarms) >= 25, stack
        assert all(a.inputs["actionsEnabled"] is True and a.inputs["alarmActions"] for a in alarms)
        dashboards = plan.of_type("aws:cloudwatch/dashboard:Dashboard")
        assert len(dashboards) == 1 and dashboards[0].inputs["region"] == stack
        json.loads(dashboards[0].inputs["dashboardBody"])


def test_stack_files_carry_the_seed_tiers_and_slas():
    for cfg in load_fleet(REPO_ROOT).stacks.values():
        obs = cfg.observability
        assert [obs.tier(t).response_minutes for t in TIERS] == [5, 15, 60, 1440]
        assert obs.thresholds.alb_error_rate_percent == 0.1
        assert obs.thresholds.alb_p95_latency_ms == 100


@pytest.mark.parametrize(
    ("edit", "key", "words"),
    [
        (lambda o: o["critical"].update(evaluationPeriods=10), "platform:observability.critical",
         "longer than the tier's response time"),
        (lambda o: o["high"].update(datapointsToAlarm=9), "platform:observability.high",
         "above evaluationPeriods"),
        (lambda o: o["medium"].update(periodSeconds=90), "platform:observability.medium.periodSeconds",
         "not a CloudWatch alarm period"),
        (lambda o: o["thresholds"].update(albErrorRatePercent=150),
         "platform:observability.thresholds.albErrorRatePercent", "less than or equal to 100"),
        (lambda o: o["critical"].update(emails=["not-an-email"]), "platform:observability.critical.emails[0]",
         "not an email address"),
        (lambda o: o["high"].update(responseMinutes=600), "platform:observability", "must not decrease"),
    ],
)  # fmt: skip
def test_bad_observability_config_names_file_and_key(write_stacks, edit, key, words):
    root = write_stacks({"us-east-1": lambda config: edit(config["platform:observability"])})
    assert_config_issue(root, PRIMARY, key, words)
