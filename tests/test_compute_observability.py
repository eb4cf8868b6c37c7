"""Container-level observability of the compute tier in the real stacks: the Container Insights add-on with Pod
Identity, Auto Mode's compute logs with the NodePool-limit metric filter, and the capacity alarms in the seed's
tiers, each on a metric that exists (namespace, name, statistic, dimensions as documented)."""

from __future__ import annotations

import json

import pytest

from infra.config.fleet import load_fleet
from infra.plan.runner import REPO_ROOT

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
STACKS = ["us-east-1", "eu-west-1"]


def _alarms(plan) -> dict[str, dict]:
    return {r.name.removeprefix("observability-alarm-"): r.inputs for r in plan.of_type(ALARM)}


@pytest.mark.parametrize("stack", STACKS)
def test_container_insights_add_on_with_pod_identity(plans, stack):
    plan = plans[stack]
    addon = next(
        a.inputs
        for a in plan.of_type("aws:eks/addon:Addon")
        if a.inputs["addonName"] == "amazon-cloudwatch-observability"
    )
    assoc = addon["podIdentityAssociations"][0]
    assert assoc["serviceAccount"] == "cloudwatch-agent"
    role = next(r for r in plan.of_type("aws:iam/role:Role") if r.inputs.get("name", "").endswith("-eks-cloudwatch"))
    assert "pods.eks.amazonaws.com" in role.inputs["assumeRolePolicy"]
    policies = {
        a.inputs["policyArn"] for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.name == "eks-cloudwatch-policy"
    }  # fmt: skip
    assert policies == {"arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"}


@pytest.mark.parametrize("stack", STACKS)
def test_auto_mode_compute_logs_feed_the_nodepool_limit_metric(plans, stack):
    plan = plans[stack]
    cluster = plan.one("aws:eks/cluster:Cluster").inputs["name"]
    source = plan.one("aws:cloudwatch/logDeliverySource:LogDeliverySource", "eks-compute-logs-source").inputs
    assert source["logType"] == "AUTO_MODE_COMPUTE_LOGS"
    assert source["resourceArn"] == plan.outputs["eksClusterArn"]
    group = plan.one("aws:cloudwatch/logGroup:LogGroup", "eks-compute-logs-group").inputs
    assert group["name"] == f"/aws/vendedlogs/eks/{cluster}/auto-mode-compute" and group["kmsKeyId"]
    destination = plan.one(
        "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination", "eks-compute-logs-destination"
    ).inputs
    assert destination["deliveryDestinationConfiguration"]["destinationResourceArn"].endswith(group["name"])
    delivery = plan.one("aws:cloudwatch/logDelivery:LogDelivery", "eks-compute-logs-delivery").inputs
    assert delivery["deliverySourceName"] == source["name"]
    policy = json.loads(
        plan.one("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "eks-compute-logs-delivery-policy").inputs[
            "policyDocument"
        ]
    )
    assert policy["Statement"][0]["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    filt = plan.one("aws:cloudwatch/logMetricFilter:LogMetricFilter", "eks-compute-logs-limit-filter").inputs
    assert filt["logGroupName"] == group["name"]
    assert filt["pattern"] == '"exceed limits for nodepool"'  # Karpenter's scheduler message at NodePool limits
    assert filt["metricTransformation"]["namespace"] == "Platform/EKS"
    assert filt["metricTransformation"]["name"] == "NodePoolLimitReached"


@pytest.mark.parametrize("stack", STACKS)
def test_capacity_alarms_in_the_high_tier_on_real_metrics(plans, stack):
    plan = plans[stack]
    cluster = plan.one("aws:eks/cluster:Cluster").inputs["name"]
    alarms = _alarms(plan)
    cfg = load_fleet(REPO_ROOT).stacks[stack]
    high = cfg.observability.tier("high")

    pending = alarms["eks-pods-unschedulable"]
    assert (pending["namespace"], pending["metricName"], pending["statistic"]) == (
        "AWS/EKS",
        "scheduler_pending_pods_UNSCHEDULABLE",
        "Sum",  # the only valid statistic of the EKS-vended scheduler metrics
    )
    assert pending["dimensions"] == {"ClusterName": cluster}
    assert pending["comparisonOperator"] == "GreaterThanThreshold" and pending["threshold"] == 0
    # "pending longer than a few minutes": every datapoint of the high tier's window must breach
    assert pending["period"] == high.period_seconds and pending["evaluationPeriods"] == high.evaluation_periods

    limit = alarms["eks-nodepool-limit"]
    assert (limit["namespace"], limit["metricName"], limit["statistic"]) == (
        "Platform/EKS",
        "NodePoolLimitReached",
        "Sum",
    )

    for svc in cfg.workloads.services:
        at_max = alarms[f"hpa-at-max-{svc.ns}"]
        assert (at_max["namespace"], at_max["metricName"], at_max["statistic"]) == (
            "ContainerInsights",
            "namespace_number_of_running_pods",
            "Minimum",
        )
        assert at_max["dimensions"] == {"Namespace": svc.ns, "ClusterName": cluster}
        assert at_max["threshold"] == svc.max_replicas
        assert at_max["comparisonOperator"] == "GreaterThanOrEqualToThreshold"

    topic = next(t for t in plan.of_type("aws:sns/topic:Topic") if t.inputs["name"].endswith("-alerts-high"))
    for key in (
        "eks-pods-unschedulable",
        "eks-nodepool-limit",
        *(f"hpa-at-max-{s.ns}" for s in cfg.workloads.services),
    ):
        assert alarms[key]["alarmDescription"].startswith("[high]")
        assert alarms[key]["alarmActions"] == [f"arn:aws:sns:{stack}:123456789012:{topic.inputs['name']}"]
