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
    claude = next(g for g in eks["scalingResources"] if g["namespace"] == "claude-api-claude-api")
    # one Kubernetes resource per plan Region, keyed by the Region (the API's inner map key)
    assert {r["resourceName"]: (r["namespace"], r["name"], r["hpaName"]) for r in claude["resources"]} == {
        "us-east-1": ("claude-api", "claude-api", "claude-api"),
        "eu-west-1": ("claude-api", "claude-api", "claude-api"),
    }
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
    statements = {st["Sid"]: st for st in policies[0]["Statement"]}
    for sid, st in statements.items():
        resources = [st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"]
        if all(a.split(":")[1].startswith("Describe") for a in st["Action"]):
            continue  # read-only describes: on `*` as AWS's sample policy has them
        assert all("devtools-prod-" in r or ":hostedzone/" in r for r in resources), sid
    # every block type of the plan that acts with the execution role has its statement (AWS's sample policies)
    assert statements["ManualApproval"]["Action"] == ["arc-region-switch:ApprovePlanExecutionStep"]
    assert statements["Route53HealthCheck"]["Action"] == ["route53:ListResourceRecordSets"]
    assert statements["Route53HealthCheck"]["Resource"].startswith("arn:aws:route53:::hostedzone/")
    assert {"AuroraGlobalDatabase", "CustomActionLambda", "EksResourceScaling"} <= set(statements)


def test_the_plan_is_a_create_plan_request_the_arc_api_accepts(plan_inputs):
    """The mocks accept any value; AWS validates CreatePlan against its model (patterns, lengths, required members):
    e.g. scalingResources' inner keys must be Regions, which a namespace-keyed map breaks."""
    from infra.dr.arc_plan import problems, request

    api = request(plan_inputs)
    assert problems(api) == []
    eks = api["workflows"][0]["steps"][1]["executionBlockConfiguration"]["eksResourceScalingConfig"]
    assert eks["kubernetesResourceType"] == {"apiVersion": "apps/v1", "kind": "Deployment"}
    assert all(set(group[key]) == {"us-east-1", "eu-west-1"} for group in eks["scalingResources"] for key in group)


def test_the_api_check_rejects_what_aws_rejects():
    from infra.dr.arc_plan import problems

    bad = {
        "name": "x" * 40,
        "regions": ["us-east-1", "eu-west-1"],
        "recoveryApproach": "activePassive",
        "executionRole": "arn:aws:iam::123456789012:role/r",
        "workflows": [
            {
                "workflowTargetAction": "activate",
                "steps": [
                    {
                        "name": "prewarm",
                        "executionBlockType": "EKSResourceScaling",
                        "executionBlockConfiguration": {
                            "eksResourceScalingConfig": {
                                "kubernetesResourceType": {"apiVersion": "apps/v1", "kind": "Deployment"},
                                "scalingResources": [{"svc": {"claude-api": {"name": "a", "namespace": "a"}}}],
                            }
                        },
                    }
                ],
            }
        ],
    }
    found = "\n".join(problems(bad))
    assert "CreatePlan.name" in found and "'claude-api' does not match" in found
