"""Network component: real properties of the registered resources."""

from __future__ import annotations

import ipaddress

import pytest
from pydantic import ValidationError

from components.network import Network, NetworkArgs, carve_subnets

ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]


def _args(**overrides) -> NetworkArgs:
    values = dict(
        region="us-east-1",
        name_prefix="t-prod-use1",
        tags={"team": "t"},
        cidr="10.0.0.0/16",
        availability_zones=ZONES,
        interface_endpoints=["ecr.api", "sts"],
        account_id="111122223333",
    )
    values.update(overrides)
    return NetworkArgs(**values)


@pytest.fixture(scope="module")
def network_plan():
    from infra.plan.runner import synthesize

    return synthesize("unit", {}, program=lambda: Network("net", _args()))


def test_subnets_three_tiers_per_az_inside_vpc(network_plan):
    subnets = network_plan.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == 9
    vpc = ipaddress.IPv4Network("10.0.0.0/16")
    blocks = [ipaddress.IPv4Network(s.inputs["cidrBlock"]) for s in subnets]
    assert all(b.subnet_of(vpc) for b in blocks)
    assert all(not a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])
    assert sorted({s.inputs["availabilityZone"] for s in subnets}) == ZONES
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)
    assert all(s.inputs["region"] == "us-east-1" for s in subnets)


def test_nat_per_az_and_private_routes_use_own_az_nat(network_plan):
    nats = network_plan.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == 3
    routes = [r for r in network_plan.of_type("aws:ec2/route:Route") if "natGatewayId" in r.inputs]
    assert len(routes) == 3
    assert len({r.inputs["natGatewayId"] for r in routes}) == 3


def test_single_nat_mode():
    from infra.plan.runner import synthesize

    plan = synthesize("unit", {}, program=lambda: Network("net", _args(nat_gateways="single")))
    assert len(plan.of_type("aws:ec2/natGateway:NatGateway")) == 1
    routes = [r for r in plan.of_type("aws:ec2/route:Route") if "natGatewayId" in r.inputs]
    assert len(routes) == 3 and len({r.inputs["natGatewayId"] for r in routes}) == 1


def test_database_subnets_have_no_internet_route(network_plan):
    db_rt = network_plan.one("aws:ec2/routeTable:RouteTable", "net-database-rt")
    routes = [r for r in network_plan.of_type("aws:ec2/route:Route") if db_rt.urn in r.dependencies]
    assert routes == []


def test_flow_logs_encrypted_with_rotating_cmk(network_plan):
    group = network_plan.one("aws:cloudwatch/logGroup:LogGroup")
    key = network_plan.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert group.inputs["kmsKeyId"].startswith("arn:aws:kms:us-east-1:")
    assert group.inputs["retentionInDays"] == 365
    flow = network_plan.one("aws:ec2/flowLog:FlowLog")
    assert flow.inputs["trafficType"] == "ALL"
    assert flow.inputs["logDestination"] == f"arn:aws:logs:us-east-1:123456789012:log-group:{group.inputs['name']}"
    assert '"logs.us-east-1.amazonaws.com"' in key.inputs["policy"]


def test_default_security_group_has_no_rules(network_plan):
    default_sg = network_plan.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert not default_sg.inputs.get("ingress") and not default_sg.inputs.get("egress")


def test_endpoints(network_plan):
    endpoints = network_plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    by_service = {e.inputs["serviceName"]: e.inputs for e in endpoints}
    assert by_service["com.amazonaws.us-east-1.s3"]["vpcEndpointType"] == "Gateway"
    assert len(by_service["com.amazonaws.us-east-1.s3"]["routeTableIds"]) == 4  # 3 private + database
    for service in ("ecr.api", "sts"):
        ep = by_service[f"com.amazonaws.us-east-1.{service}"]
        assert ep["vpcEndpointType"] == "Interface" and ep["privateDnsEnabled"] is True
        assert len(ep["subnetIds"]) == 3


def test_every_child_is_parented_and_tagged(network_plan):
    component = network_plan.one("platform:network:Network")
    descendants = [r for r in network_plan.resources if r.urn != component.urn]
    assert all(r.parent is not None for r in descendants)
    tagged = [r for r in descendants if "tags" in r.inputs]
    assert len(tagged) >= 25
    assert all(r.inputs["tags"]["team"] == "t" and "Name" in r.inputs["tags"] for r in tagged)


def test_carve_rejects_tiers_that_do_not_fit():
    with pytest.raises(ValidationError, match="do not fit"):
        _args(cidr="10.0.0.0/20", private_prefix=20)


def test_carve_is_aligned_and_deterministic():
    cidrs = carve_subnets(_args())
    assert cidrs["private"] == ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"]
    assert cidrs["public"][0] == "10.0.96.0/22"
    assert carve_subnets(_args()) == cidrs
