"""The offline plan end to end: both real stack files, the JSON document, the CLI, snapshot diffs."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import jsonschema
import pulumi
import pytest

from infra.cli import main
from infra.plan.model import Plan
from infra.plan.recorder import PlatformMocks, RecordingMonitor
from infra.plan.render import diff_plans
from infra.plan.runner import REPO_ROOT, synthesize
from stacks import main as stack_program

SCHEMA = json.loads((REPO_ROOT / "infra" / "plan" / "plan.schema.json").read_text())


@pytest.mark.parametrize("stack", ["us-east-1", "eu-west-1"])
def test_plan_document_shape_and_network(plans, stack):
    plan = plans[stack]
    document = json.loads(json.dumps(plan.to_dict()))
    jsonschema.validate(document, SCHEMA)
    assert document["project"] == "platform" and document["stack"] == stack
    urns = {r["urn"] for r in document["resources"]}
    for resource in document["resources"]:
        assert set(resource["dependencies"]) <= urns, f"{resource['urn']} depends on an unknown URN"
        assert resource["parent"] is None or resource["parent"] in urns
    vpc = plan.one("aws:ec2/vpc:Vpc")
    assert vpc.inputs["region"] == stack
    subnets = plan.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) >= 9 and all(s.inputs["region"] == stack for s in subnets)
    assert len(plan.of_type("aws:ec2/natGateway:NatGateway")) == 3
    flow_log = plan.one("aws:ec2/flowLog:FlowLog")
    assert flow_log.inputs["region"] == stack and flow_log.inputs["vpcId"] == plan.outputs["vpcId"]
    assert plan.outputs["region"] == stack


def test_every_aws_resource_uses_the_explicit_provider(plans):
    for plan in plans.values():
        provider = plan.one("pulumi:providers:aws")
        assert provider.inputs["region"] == plan.stack
        for resource in plan.resources:
            if resource.custom and resource.type.startswith("aws:"):
                assert resource.provider == provider.urn, resource.urn
        # No Kubernetes resource may fall back to a default provider (the ambient kubeconfig).
        k8s_providers = {r.urn for r in plan.of_type("pulumi:providers:kubernetes")}
        k8s = [r for r in plan.resources if r.custom and r.type.startswith("kubernetes:")]
        assert k8s and all(r.provider in k8s_providers for r in k8s)


def test_secondary_reads_the_primary_through_a_stack_reference(plans):
    ref = plans["eu-west-1"].one("pulumi:pulumi:StackReference")
    assert ref.inputs["name"] == "organization/platform/us-east-1"
    assert plans["us-east-1"].of_type("pulumi:pulumi:StackReference") == []
    assert plans["eu-west-1"].outputs["writerRegion"] == "us-east-1"


def test_missing_partner_output_fails_offline():
    def program():
        ref = pulumi.StackReference("primary", stack_name="organization/platform/us-east-1")
        pulumi.export("x", ref.require_output("doesNotExist"))

    with pytest.raises(Exception, match="doesNotExist"):
        synthesize("eu-west-1", {}, {"us-east-1": {"region": "us-east-1"}}, program=program)


def test_invalid_config_registers_nothing(write_stacks):
    from infra.config.loader import read_stack_file

    root = write_stacks()
    config = read_stack_file(root / "Pulumi.us-east-1.yaml")
    config["platform:network"] = {**config["platform:network"], "azCount": 1}
    monitor = RecordingMonitor(PlatformMocks())
    with pytest.raises(pulumi.RunError, match=r"Pulumi\.us-east-1\.yaml: key 'platform:network\.azCount'"):
        synthesize("us-east-1", config, program=stack_program, monitor=monitor)
    assert monitor.records == []


def test_cli_plan_writes_json(tmp_path, capsys):
    out = tmp_path / "p.json"
    assert main(["plan", "us-east-1", "--json", str(out), "--quiet"]) == 0
    document = json.loads(out.read_text())
    jsonschema.validate(document, SCHEMA)
    assert any(r["type"] == "aws:ec2/vpc:Vpc" for r in document["resources"])


def test_cli_config_error_is_one_paragraph_without_traceback(write_stacks):
    root = write_stacks({"us-east-1": lambda c: c["platform:network"].update(cidr="10.0.0.0/33")})
    for command in (["check"], ["plan", "us-east-1"]):
        result = subprocess.run(
            [sys.executable, "-m", "infra", "--root", str(root), *command],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert "Pulumi.us-east-1.yaml: key 'platform:network.cidr'" in result.stderr


def test_cli_unknown_stack(capsys):
    assert main(["plan", "ap-south-1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "error: no stack 'ap-south-1'" in err and "Fix: use one of: eu-west-1, us-east-1" in err


def test_diff_reports_added_removed_changed(primary_plan):
    old = Plan.from_dict(copy.deepcopy(primary_plan.to_dict()))
    vpc = old.one("aws:ec2/vpc:Vpc")
    vpc.inputs["cidrBlock"] = "10.99.0.0/16"
    removed = old.resources.pop()  # present now, absent before -> "added"
    old.resources.append(
        type(removed)(**{**removed.to_dict(), "urn": removed.urn + "-gone", "name": removed.name + "-gone"})
    )
    diff = diff_plans(old, primary_plan)
    assert diff.changed[vpc.urn] == ["cidrBlock"]
    assert diff.added == [removed.urn]
    assert diff.removed == [removed.urn + "-gone"]
    assert diff_plans(primary_plan, primary_plan).empty


def test_cli_diff_against_a_plan_file(write_stacks, capsys, primary_plan, tmp_path):
    root = write_stacks()
    base = Plan.from_dict(copy.deepcopy(primary_plan.to_dict()))
    base.one("aws:ec2/vpc:Vpc").inputs["enableDnsHostnames"] = False
    base.write(tmp_path / "base.json")
    argv = ["--root", str(root), "plan", "us-east-1", "--diff", "--base", str(tmp_path / "base.json"), "--quiet"]
    assert main(argv) == 0  # without --detailed-exitcode a diff is information, like `terraform plan`
    out = capsys.readouterr().out
    assert "network-vpc" in out and "enableDnsHostnames" in out and "1 to change" in out
    assert main([*argv, "--detailed-exitcode"]) == 2
