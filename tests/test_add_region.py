"""README "Adding a Region", performed literally for a third Region: copy the secondary's stack file, set the
Region and a free VPC CIDR; then `check` exits 0, the new stack plans with its own Region's registry and its
share of `api-origin`, and a local planned drill to it passes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from infra.cli import main
from infra.plan.runner import REPO_ROOT, Planner

NEW = "ap-southeast-2"
RECORD = "aws:route53/record:Record"


def readme_procedure() -> str:
    """The README's section, so the test fails if the procedure it performs is no longer the documented one."""
    text = (REPO_ROOT / "README.md").read_text()
    return text.split("## Adding a Region", 1)[1].split("\n## ", 1)[0]


@pytest.fixture(scope="module")
def three_regions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    procedure = readme_procedure()
    for step in ("Copy a secondary stack file", "set `platform:region`", "VPC CIDR that overlaps no other"):
        assert step in procedure
    root = tmp_path_factory.mktemp("three-regions")
    for path in REPO_ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, root / path.name)
    # What a user does in an editor: copy the file, change two lines, nothing else (comments stay).
    text = (root / "Pulumi.eu-west-1.yaml").read_text()
    text = text.replace("platform:region: eu-west-1", f"platform:region: {NEW}", 1)
    text, cidrs = re.subn(r"(?m)^(\s+cidr:) 10\.20\.0\.0/16$", r"\1 10.30.0.0/16", text)
    assert cidrs == 1
    (root / f"Pulumi.{NEW}.yaml").write_text(text)
    return root


def test_check_accepts_the_third_region(three_regions, capsys):
    assert main(["--root", str(three_regions), "check"]) == 0
    assert "3 stack files valid" in capsys.readouterr().out


def test_third_region_plans_with_its_own_registry_and_a_standby_record(three_regions):
    plan = Planner(three_regions).plan(NEW)
    images = [
        c["image"]
        for d in plan.of_type("kubernetes:apps/v1:Deployment")
        for c in d.inputs["spec"]["template"]["spec"]["containers"]
    ]
    assert images and all(f".dkr.ecr.{NEW}.amazonaws.com/" in i for i in images), images
    origin = plan.one(RECORD, "traffic-origin").inputs
    assert origin["setIdentifier"] == NEW and origin["weightedRoutingPolicies"] == [{"weight": 0}]
    assert origin["healthCheckId"] == plan.outputs["healthCheckId"]
    assert plan.outputs["vpcCidr"] == "10.30.0.0/16"


def test_copied_file_with_another_regions_registry_is_refused(three_regions, tmp_path):
    for path in three_regions.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    new = tmp_path / f"Pulumi.{NEW}.yaml"
    new.write_text(new.read_text().replace(".dkr.ecr.{region}.", ".dkr.ecr.eu-west-1."))
    from tests.config_cases import assert_config_issue

    assert_config_issue(
        tmp_path, new.name, "platform:workloads.services[0].image", "pulls from the ECR registry of eu-west-1"
    )


@pytest.fixture
def clean_emulator_state():
    """A `--local` drill runs moto in this process: leave its backends as other tests expect them (empty)."""
    from infra.dr.emulator import Emulator

    Emulator().reset()
    yield
    Emulator().reset()


def test_local_drill_to_the_third_region_passes(three_regions, tmp_path, capsys, clean_emulator_state):
    report_file = tmp_path / "report.json"
    argv = ["--root", str(three_regions), "drill", "planned", "--from", "us-east-1", "--to", NEW]
    code = main([*argv, "--local", "--execute", "--no-replan", "--json", str(report_file)])
    out = capsys.readouterr().out
    assert code == 0, out
    final = json.loads(report_file.read_text())["final"]
    assert (final["auroraWriterRegion"], final["redisPrimaryRegion"], final["trafficRegion"]) == (NEW, NEW, NEW)


def test_the_other_stacks_take_the_new_region_into_their_fleet(three_regions):
    """The new file is all it takes: on their next deploy the primary replicates the master secret there (its
    bootstrap Job runs wherever the writer moves) and every stack's knob Lambda writes its parameter there too."""
    planner = Planner(three_regions)
    primary = planner.plan("us-east-1")
    secret = next(
        r.inputs
        for r in primary.of_type("aws:secretsmanager/secret:Secret")
        if r.inputs.get("name") == primary.outputs["auroraMasterSecretName"]
    )
    assert sorted(r["region"] for r in secret["replicas"]) == ["ap-southeast-2", "eu-west-1"]
    for stack in ("us-east-1", NEW):
        functions = [
            f for f in planner.plan(stack).of_type("aws:lambda/function:Function") if "-dr-" in f.inputs["name"]
        ]
        assert functions, stack
        for fn in functions:
            regions = fn.inputs["environment"]["variables"]["FLEET_REGIONS"].split(",")
            assert regions == ["ap-southeast-2", "eu-west-1", "us-east-1"], (stack, fn.name)
