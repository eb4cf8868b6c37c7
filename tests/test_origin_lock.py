"""Origin locked to CloudFront: the ALBs admit only CloudFront's origin-facing servers (and the Route 53 health
checkers, on the health path only); requests without the rotating origin header get 403."""

from __future__ import annotations

import pytest

from components.origin_lock import SLOTS, slot_generation
from infra.config.errors import ConfigError
from infra.config.fleet import load_fleet
from infra.plan.fakes import _managed_prefix_list
from infra.plan.runner import Planner
from stacks.origin import CLOUDFRONT_PREFIX_LIST, health_check_prefix_list
from tests.config_cases import SECONDARY, assert_config_issue, set_key

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG = "aws:ec2/securityGroup:SecurityGroup"
LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
CF = "aws:cloudfront/distribution:Distribution"
PASSWORD = "random:index/randomPassword:RandomPassword"


def _prefix_list_id(name: str) -> str:
    return _managed_prefix_list({"name": name})["id"]


def _alb_ingress(plan):
    return [r for r in plan.of_type(INGRESS) if r.inputs.get("fromPort") == 443 and r.name.startswith("alb-")]


@pytest.mark.parametrize("stack", ["us-east-1", "eu-west-1"])
def test_alb_admits_only_cloudfront_and_the_health_checkers(plans, stack):
    plan = plans[stack]
    ingress = _alb_ingress(plan)
    assert ingress and not [r for r in ingress if r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6")]
    by_rule = {r.name: (r.inputs["securityGroupId"], r.inputs["prefixListId"]) for r in ingress}
    assert {name: pl for name, (_, pl) in by_rule.items()} == {
        "alb-sg-https-cloudfront": _prefix_list_id(CLOUDFRONT_PREFIX_LIST),
        "alb-sg-https-health": _prefix_list_id(health_check_prefix_list(stack)),
    }
    # one prefix list per security group: 55 (CloudFront) + 25 (Route 53) would exceed the 60-rule quota of one
    groups = {sg for sg, _ in by_rule.values()}
    lb = plan.one(LB).inputs
    assert len(groups) == 2 and set(lb["securityGroups"]) == groups
    assert {r.name for r in plan.of_type(SG) if r.name.startswith("alb-sg")} == {"alb-sg", "alb-sg-health"}
    assert lb["tags"]["edge-origin"] == "cloudfront"


@pytest.mark.parametrize("stack", ["us-east-1", "eu-west-1"])
def test_listener_denies_without_the_origin_header(plans, stack):
    plan = plans[stack]
    listener = plan.one(LISTENER).inputs
    assert listener["defaultActions"] == [
        {"type": "fixed-response", "fixedResponse": {"contentType": "text/plain", "statusCode": "403",
                                                     "messageBody": "Forbidden"}}
    ]  # fmt: skip
    rules = {r.name: r.inputs for r in plan.of_type(RULE)}
    header = rules["alb-from-cloudfront"]["conditions"]
    assert header == [{"httpHeader": {"httpHeaderName": "X-Origin-Verify", "values": "[secret]"}}]
    health = rules["alb-health-check"]["conditions"]
    assert {
        "pathPattern": {"values": [plan.one("aws:route53/healthCheck:HealthCheck").inputs["resourcePath"]]}
    } in health
    assert {"httpRequestMethod": {"values": ["GET", "HEAD"]}} in health
    assert all(r["actions"][0]["type"] == "forward" for r in rules.values())


def test_cloudfront_sends_the_header_to_both_origins(primary_plan):
    origins = primary_plan.one(CF).inputs["origins"]
    assert len(origins) == 2
    assert all(o["customHeaders"] == [{"name": "X-Origin-Verify", "value": "[secret]"}] for o in origins)
    slots = [r for r in primary_plan.of_type(PASSWORD) if r.name.startswith("origin-secret-slot-")]
    assert len(slots) == SLOTS and all(not r.inputs["special"] and r.inputs["length"] >= 32 for r in slots)
    assert primary_plan.outputs["originVerifyValues"] == "[secret]"  # a secret output, never plaintext


def test_secondary_reads_the_values_and_creates_none(secondary_plan):
    assert not [r for r in secondary_plan.of_type(PASSWORD) if r.name.startswith("origin-secret")]
    assert "originVerifyValues" not in secondary_plan.outputs


@pytest.mark.parametrize("generation", range(1, 12))
def test_rotation_never_retires_a_value_in_use(generation):
    """One bump regenerates one slot: never the one CloudFront sent before the bump (edges may still send it
    while the distribution change propagates) nor the one it sends after (ALBs must already accept it)."""

    def keepers(g: int) -> list[int]:
        return [slot_generation(slot, g) for slot in range(SLOTS)]

    def sent(g: int) -> int:
        return (g - 1) % SLOTS

    before, after = keepers(generation), keepers(generation + 1)
    changed = [slot for slot in range(SLOTS) if before[slot] != after[slot]]
    assert len(changed) == 1
    assert changed[0] not in (sent(generation), sent(generation + 1))
    assert before[sent(generation + 1)] == generation  # staged by the previous bump, accepted since


def test_edge_disabled_keeps_the_configured_ingress(write_stacks):
    def off(config):
        config["platform:edge"]["enabled"] = False
        config["platform:compute"]["alb"]["ingressCidrs"] = ["203.0.113.0/24"]

    root = write_stacks({"us-east-1": off, "eu-west-1": off})
    plan = Planner(root).plan("us-east-1")
    assert [r.inputs.get("cidrIpv4") for r in _alb_ingress(plan)] == ["203.0.113.0/24"]
    assert plan.one(LISTENER).inputs["defaultActions"][0]["type"] == "forward"
    assert plan.of_type(RULE) == [] and plan.of_type(CF) == []


def test_fleet_agrees_on_the_lock(write_stacks):
    root = write_stacks({"eu-west-1": set_key("edge", "enabled", False)})
    assert_config_issue(root, SECONDARY, "platform:edge.enabled", "locked to the primary's CloudFront")
    root = write_stacks({"eu-west-1": set_key("edge", "originVerify.headerName", "X-Other")})
    with pytest.raises(ConfigError) as caught:
        load_fleet(root)
    assert any(i.key == "platform:edge.originVerify.headerName" for i in caught.value.issues)


def test_header_cloudfront_cannot_add_is_refused(write_stacks):
    from tests.config_cases import PRIMARY

    root = write_stacks({"us-east-1": set_key("edge", "originVerify.headerName", "X-Amz-Origin")})
    assert_config_issue(root, PRIMARY, "platform:edge.originVerify.headerName", "CloudFront cannot add")
