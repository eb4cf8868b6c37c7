"""Region audit: every stack creates its regional resources in its own Region only (static stability: a stack can
be deployed while another Region, e.g. us-east-1, is impaired); global services are listed with their control plane."""

from __future__ import annotations

import json

import jsonschema

from infra.plan.model import Plan, PlannedResource
from infra.plan.regions import region_audit, regions_of
from infra.plan.runner import REPO_ROOT

EXPECTED_REGIONS = {"us-east-1": {"us-east-1"}, "eu-west-1": {"eu-west-1"}}
EXPECTED_GLOBAL = {
    "us-east-1": {"budgets", "cloudfront", "iam", "route53"},
    "eu-west-1": {"arc-region-switch", "budgets", "iam", "route53"},
}


def test_each_stack_creates_resources_in_exactly_its_own_region(plans):
    for stack, plan in plans.items():
        audit = plan.regions()
        assert regions_of(plan.resources) == EXPECTED_REGIONS[stack], (stack, audit["crossRegion"])
        assert audit["stackRegion"] == stack
        assert audit["crossRegion"] == {}
        assert set(audit["global"]) == EXPECTED_GLOBAL[stack]
        assert {g["controlPlaneRegion"] for g in audit["global"].values()} == {"us-east-1"}


def test_plan_json_carries_the_region_audit_and_matches_the_schema(secondary_plan, tmp_path):
    path = tmp_path / "plan.json"
    secondary_plan.write(path)
    doc = json.loads(path.read_text())
    schema = json.loads((REPO_ROOT / "infra" / "plan" / "plan.schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert doc["regions"]["regional"] == {"eu-west-1": sum(doc["regions"]["regional"].values())}
    assert Plan.from_dict(doc).regions() == doc["regions"]


def _res(name, typ, inputs=None, provider=None, custom=True):
    return PlannedResource(f"urn:pulumi:s::p::{typ}::{name}", typ, name, None, custom, provider, inputs or {}, [])


def test_region_input_beats_the_provider_and_global_services_count_by_control_plane():
    provider = _res("aws", "pulumi:providers:aws", {"region": "eu-west-1"})
    audit = region_audit(
        [
            provider,
            _res("vault", "aws:backup/vault:Vault", {"region": "us-east-1"}),
            _res("table", "aws:dynamodb/table:Table"),  # inherits the provider's Region
            _res("role", "aws:iam/role:Role"),
            _res("rule", "aws:route53/resolverRule:ResolverRule", {"region": "eu-west-1"}),  # regional Route 53
            _res("zone", "aws:route53/zone:Zone"),
            _res("ns", "kubernetes:core/v1:Namespace"),  # not an AWS resource
            _res("component", "platform:x:Y", custom=False),
        ]
    )
    assert audit["regional"] == {"eu-west-1": 2, "us-east-1": 1}
    assert audit["crossRegion"] == {"urn:pulumi:s::p::aws:backup/vault:Vault::vault": "us-east-1"}
    assert audit["global"] == {
        "iam": {"controlPlaneRegion": "us-east-1", "resources": 1},
        "route53": {"controlPlaneRegion": "us-east-1", "resources": 1},
    }
