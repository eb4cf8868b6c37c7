"""The Pulumi policy pack program and the offline check on the real stacks.

No Pulumi engine here: the pack's `__main__.py` is loaded with runpy under another name (so it builds its policies
without serving gRPC), and its validate callbacks are called with pulumi-policy's own argument classes and
unknown-checking proxies, as the engine would.
"""

from __future__ import annotations

import io
import re
import runpy
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, unknown_checking_proxy
from rich.console import Console

from infra.plan.model import Plan
from infra.plan.runner import REPO_ROOT
from infra.policy_check import check_plan, mandatory_violations, report_policy
from infra.tags import REQUIRED_TAG_KEYS
from policy.rules import REQUIRED_TAG_KEYS as PACK_TAG_KEYS
from policy.rules import RULES
from policy.rules.taggable import TAGGABLE_TYPES

PACK_DIR = REPO_ROOT / "policy"


@pytest.fixture(scope="module")
def pack() -> dict[str, Any]:
    """The pack program's globals, loaded like `pulumi` does (directory on sys.path) but not as __main__."""
    return runpy.run_path(str(PACK_DIR), run_name="policy_pack_under_test")


def _opts() -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        additional_secret_outputs=[],
        custom_timeouts=None,
        parent=None,
    )


def _validate(policy: ResourceValidationPolicy, typ: str, props: dict, name: str = "r") -> list[str]:
    violations: list[str] = []
    args = ResourceValidationArgs(
        typ, unknown_checking_proxy(props), f"urn:pulumi:s::p::{typ}::{name}", name, None, None
    )
    policy.validate(args, lambda message, urn=None: violations.append(message))
    return violations


def test_pulumi_policy_yaml_is_a_python_pack():
    doc = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert doc["runtime"]["name"] == "python"
    assert doc["runtime"]["options"]["virtualenv"] == "venv"
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(doc["version"]))
    assert doc["description"]
    assert (PACK_DIR / "__main__.py").is_file()


def test_pack_requirements_match_the_repository_pins():
    pins = {}
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.split("[")[0].strip().lower()] = version.strip()
    pack_pins = [line for line in (PACK_DIR / "requirements.txt").read_text().splitlines() if "==" in line]
    assert {line.split("==")[0] for line in pack_pins} == {"pulumi", "pulumi-policy"}
    for line in pack_pins:
        name, version = line.split("==")
        assert pins[name] == version, f"policy/requirements.txt pins {name}=={version}, repository {pins[name]}"


def test_pack_rules_import_nothing_outside_the_pack():
    for path in (PACK_DIR / "rules").glob("*.py"):
        if path.name == "taggable_gen.py":
            continue  # developer tool run from the repository (reads the installed pulumi-aws)
        source = path.read_text()
        assert not re.search(r"^\s*(from|import) (infra|stacks|components|pulumi_aws)\b", source, re.M), path.name


def test_every_rule_is_one_policy_with_its_enforcement(pack: dict[str, Any]):
    policies = {p.name: p for p in pack["POLICIES"]}
    assert set(policies) == set(RULES)
    levels = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}
    for rule_id, rule in RULES.items():
        policy = policies[rule_id]
        assert policy.enforcement_level == levels[rule.enforcement], rule_id
        expected = StackValidationPolicy if rule.stack_check else ResourceValidationPolicy
        assert isinstance(policy, expected), rule_id
        assert rule.reason in policy.description
        if rule.controls:
            assert policy.framework.reference == ", ".join(rule.controls)
        else:
            assert policy.framework is None


def test_resource_policy_reports_the_rule_message(pack: dict[str, Any]):
    policy = next(p for p in pack["POLICIES"] if p.name == "rds-storage-encrypted")
    typ = "aws:rds/cluster:Cluster"
    assert _validate(policy, typ, {"storageEncrypted": True}) == []
    assert _validate(policy, typ, {"storageEncrypted": False}) == [
        "rds-storage-encrypted: storageEncrypted is not true"
    ]
    # other types are ignored, unknown values during preview are not guessed
    assert _validate(policy, "aws:s3/bucket:Bucket", {"storageEncrypted": False}) == []
    assert _validate(policy, typ, {"storageEncrypted": UNKNOWN_BOOLEAN_VALUE}) == []


def test_resource_policy_reads_nested_proxied_inputs(pack: dict[str, Any]):
    policy = next(p for p in pack["POLICIES"] if p.name == "no-public-ingress")
    typ = "aws:ec2/securityGroup:SecurityGroup"
    props = {"ingress": [{"cidrBlocks": ["0.0.0.0/0"], "protocol": "tcp", "fromPort": 5432, "toPort": 5432}]}
    assert _validate(policy, typ, props) == [
        "no-public-ingress: ingress[0] allows 0.0.0.0/0 on tcp 5432-5432: only the ALB may be public, on TCP 443"
    ]


def test_stack_policy_uses_dependencies(pack: dict[str, Any]):
    policy = next(p for p in pack["POLICIES"] if p.name == "vpc-flow-logs")

    def resource(typ: str, name: str, deps: list[PolicyResource]) -> PolicyResource:
        return PolicyResource(typ, unknown_checking_proxy({}), f"urn:{name}", name, _opts(), None, None, deps, {})

    vpc = resource("aws:ec2/vpc:Vpc", "vpc", [])
    flow = resource("aws:ec2/flowLog:FlowLog", "flow", [vpc])
    reported: list[tuple[str, str | None]] = []
    policy.validate(StackValidationArgs([vpc, flow]), lambda m, urn=None: reported.append((m, urn)))
    assert reported == []
    policy.validate(StackValidationArgs([vpc]), lambda m, urn=None: reported.append((m, urn)))
    assert reported == [("vpc-flow-logs: VPC has no FlowLog", "urn:vpc")]


def test_pack_keeps_the_platform_tag_keys():
    assert tuple(PACK_TAG_KEYS) == tuple(REQUIRED_TAG_KEYS)


def test_taggable_types_match_what_the_stacks_tag(plans: dict[str, Plan]):
    for plan in plans.values():
        for r in plan.resources:
            if r.type.startswith("aws:") and "tags" in r.inputs:
                assert r.type in TAGGABLE_TYPES, f"{r.type} takes tags but is missing from policy/rules/taggable.py"


# --- the real stacks ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["us-east-1", "eu-west-1"])
def test_real_stacks_have_no_mandatory_violation(plans: dict[str, Plan], stack: str):
    findings = check_plan(plans[stack])
    violations = mandatory_violations(findings)
    assert not violations, [(f.rule.id, f.resource and f.resource.name, f.message) for f in violations]
    assert all(f.evaluated for f in findings), "the offline plan has no unknown values"
    console = Console(file=io.StringIO(), width=200)
    assert report_policy(plans[stack], console) == 0
    assert f"{len(RULES)} rules on {len(plans[stack].resources)} resources" in console.file.getvalue()


def test_rules_see_the_real_resources(primary_plan: Plan):
    """Guard against rules that silently match nothing: the types they check exist in the real stacks."""
    present = {r.type for r in primary_plan.resources}
    for rule_id in (
        "eks-private-endpoint",
        "alb-drop-invalid-headers",
        "cloudfront-waf",
        "vpc-flow-logs",
        "kms-key-rotation",
        "k8s-restricted-pods",
        "no-public-ingress",
        "dynamodb-pitr",
    ):
        assert present & set(RULES[rule_id].types), rule_id


def test_a_stack_file_relaxing_a_mandatory_setting_fails_the_check(write_stacks, capsys):
    """`python -m infra plan <stack> --policy` on a stack file that turns off ALB deletion protection (ELB.6)."""
    from infra.cli import main

    def no_alb_deletion_protection(config: dict) -> None:
        config["platform:compute"].setdefault("alb", {})["deletionProtection"] = False

    root: Path = write_stacks({"us-east-1": no_alb_deletion_protection})
    capsys.readouterr()
    assert main(["--root", str(root), "plan", "us-east-1", "--quiet", "--policy"]) == 1
    captured = capsys.readouterr()
    out, err = captured.out, captured.err  # findings table on stdout, the failure line on stderr
    assert "alb-deletion-protection" in out
    assert "error: policy check failed on us-east-1: mandatory rule(s) violated: alb-deletion-protection" in err


def test_docs_table_lists_every_rule_and_control():
    text = (REPO_ROOT / "docs" / "policy.md").read_text()
    for rule_id, rule in RULES.items():
        assert f"`{rule_id}`" in text, f"docs/policy.md does not list {rule_id}: run python -m infra.policy_check"
        for control in rule.controls:
            assert f"| {control} | `{rule_id}` |" in text, (control, rule_id)
