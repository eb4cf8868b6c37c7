"""The stacks' ARC Region switch plan is generated from the drill's step catalogue: the two cannot disagree."""

from __future__ import annotations

import json

import pytest

from infra.dr import catalogue
from infra.dr.drill import DrillSettings, Topology
from infra.dr.steps import build_steps
from infra.plan.model import Plan

PLAN = "aws:arcregionswitch/plan:Plan"
FUNCTION = "aws:lambda/function:Function"


def _flatten(steps: list[dict]) -> list[list[dict]]:
    """A workflow's steps as levels: a Parallel block is one level of its inner steps."""
    out = []
    for step in steps:
        if step["executionBlockType"] == "Parallel":
            out.append(step["parallelConfigs"][0]["steps"])
        else:
            out.append([step])
    return out


@pytest.fixture(scope="module")
def plan_inputs(secondary_plan: Plan) -> dict:
    return secondary_plan.one(PLAN).inputs


def test_one_plan_per_pair_declared_by_the_secondary_spanning_both_regions(plans, plan_inputs):
    assert plans["us-east-1"].of_type(PLAN) == []  # the pair's plan is the secondary's (it reads the primary)
    assert plan_inputs["regions"] == ["us-east-1", "eu-west-1"]
    assert plan_inputs["primaryRegion"] == "us-east-1"
    assert plan_inputs["recoveryApproach"] == "activePassive"
    assert plan_inputs["recoveryTimeObjectiveMinutes"] == 5  # platform:dr.rtoSeconds 300
    assert len(plan_inputs["name"]) <= 32
    assert sorted(w["workflowTargetRegion"] for w in plan_inputs["workflows"]) == ["eu-west-1", "us-east-1"]
    assert {w["workflowTargetAction"] for w in plan_inputs["workflows"]} == {"activate"}


def test_every_workflow_is_the_catalogue_arc_steps_in_its_order_and_block_types(plan_inputs):
    for wf in plan_inputs["workflows"]:
        levels = _flatten(wf["steps"])
        assert [[s["name"] for s in level] for level in levels] == catalogue.levels(catalogue.ARC)
        for level in levels:
            for step in level:
                assert step["executionBlockType"] == catalogue.BY_NAME[step["name"]].arc_block
        target = wf["workflowTargetRegion"]
        described = {s["name"]: s["description"] for level in levels for s in level}
        assert described["aurora-switch"] == f"Aurora writer -> {target}"


def test_plan_and_drill_run_their_common_steps_in_the_same_order(plan_inputs):
    drill, _, _ = build_steps(
        None,
        Topology({"us-east-1": {}, "eu-west-1": {}}, "us-east-1"),
        DrillSettings(kind="planned", source="us-east-1", target="eu-west-1"),
        type("K", (), {"done": staticmethod(lambda: False), "apply": staticmethod(lambda: [])})(),
    )
    drill_names = [s.name for s in drill]
    plan_names = [s["name"] for level in _flatten(plan_inputs["workflows"][0]["steps"]) for s in level]
    common = [n for n in drill_names if n in plan_names]
    assert common == [n for n in plan_names if n in drill_names]
    # every step is run by one executor or both, as the catalogue says, and nothing else
    assert set(drill_names) | set(plan_names) == set(catalogue.BY_NAME)
    assert set(plan_names) - set(drill_names) == {"approve"}
    assert set(drill_names) - set(plan_names) == {"precheck-aurora", "precheck-redis", "precheck-eks", "verify"}


def test_graceful_and_ungraceful_behaviour_of_each_block(plan_inputs):
    steps = {s["name"]: s for level in _flatten(plan_inputs["workflows"][1]["steps"]) for s in level}
    aurora = steps["aurora-switch"]["globalAuroraConfigs"][0]
    assert aurora["behavior"] == "switchoverOnly"  # planned / failback: RPO 0
    assert aurora["ungracefuls"] == [{"ungraceful": "failover"}]  # unplanned: allow data loss
    assert aurora["globalClusterIdentifier"] == "devtools-prod-aurora-global"
    assert [a.split(":")[3] for a in aurora["databaseClusterArns"]] == ["us-east-1", "eu-west-1"]
    redis = steps["redis-promote"]["customActionLambdaConfigs"][0]
    assert redis["regionToRun"] == "activatingRegion"
    assert "ungracefuls" not in redis  # no skip: an unplanned failover must promote Redis too
    assert [a["arn"].split(":")[3] for a in redis["lambdas"]] == ["us-east-1", "eu-west-1"]
    eks = steps["prewarm-capacity"]["eksResourceScalingConfigs"][0]
    assert eks["targetPercent"] == 100 and eks["ungracefuls"] == [{"minimumSuccessPercentage": 50}]
    assert {r["namespace"] for r in eks["scalingResources"]} >= {"claude-api"}
    approval = steps["approve"]["executionApprovalConfigs"][0]
    assert approval["approvalRole"].endswith(":role/devtools-prod-dr-plan-approver")
    r53 = steps["traffic-shift"]["route53HealthCheckConfigs"][0]
    assert [r["recordSetIdentifier"] for r in r53["recordSets"]] == ["us-east-1", "eu-west-1"]
    knob = steps["reconcile-iac"]["customActionLambdaConfigs"][0]
    assert knob["regionToRun"] == "activatingRegion"


def test_each_stack_deploys_its_custom_action_lambdas_in_its_own_region(plans):
    for stack, plan in plans.items():
        functions = {r.inputs["name"]: r.inputs for r in plan.of_type(FUNCTION) if "-dr-" in r.inputs["name"]}
        assert len(functions) == 2, stack
        for fn in functions.values():
            assert fn["region"] == stack
            assert fn["environment"]["variables"]["PARAMETER_NAME"] == "/devtools/prod/dr/active-region"
        entries = [r for r in plan.of_type("aws:eks/accessEntry:AccessEntry") if r.name.endswith("plan-access")]
        assert len(entries) == 1 and entries[0].inputs["region"] == stack
        assert entries[0].inputs["principalArn"].endswith(":role/devtools-prod-dr-plan-execution")


def test_execution_role_trusts_region_switch_and_is_scoped_to_the_fleet(primary_plan):
    roles = {r.inputs.get("name"): r.inputs for r in primary_plan.of_type("aws:iam/role:Role")}
    trust = json.loads(roles["devtools-prod-dr-plan-execution"]["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "arc-region-switch.amazonaws.com"}
    policies = [
        json.loads(r.inputs["policy"])
        for r in primary_plan.of_type("aws:iam/rolePolicy:RolePolicy")
        if r.name == "region-switch-roles-execution-policy"
    ]
    resources = [
        res
        for st in policies[0]["Statement"]
        for res in ([st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"])
    ]
    assert all("devtools-prod-" in res for res in resources)
