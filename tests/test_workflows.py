"""The GitHub Actions workflows shipped for users' repositories (.github/workflows).

They cannot run here; these tests check what can be checked offline: the SchemaStore workflow schema
(tests/data/github-workflow.schema.json, Apache-2.0, vendored from check-jsonschema), actions pinned to the commit
SHAs we verified (with a version comment), least-privilege permissions, OIDC instead of AWS keys, the stack matrix
generated from the stack files, the deploy order (primary, then secondaries) and the drill's inputs and report.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from infra.plan.runner import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
STACKS_SCRIPT = REPO_ROOT / ".github" / "scripts" / "stacks.py"
SCHEMA = json.loads((REPO_ROOT / "tests" / "data" / "github-workflow.schema.json").read_text())

# Commit SHAs checked against public workflows that pin the same release (see docs/ci.md). Bump deliberately.
PINNED_ACTIONS = {
    "actions/checkout": ("11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"),
    "actions/setup-python": ("0b93645e9fea7318ecaed2b359559ac225c90a2b", "v5.3.0"),
    "actions/upload-artifact": ("6f51ac03b9356f520e9adb1b1b7802705f340c2b", "v4.5.0"),
    "aws-actions/configure-aws-credentials": ("e3dd6a429d7300a6a4c196c26e071d42e0343502", "v4.0.2"),
    "pulumi/actions": ("8582a9e8cc630786854029b4e09281acd6794b58", "v6.6.1"),
}


def load(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    if True in doc:  # YAML 1.1 reads the key `on` as a boolean
        doc["on"] = doc.pop(True)
    return doc


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).startswith(action + "@")]


def all_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(p.name, name, job) for p in sorted(WORKFLOWS.glob("*.yml")) for name, job in load(p.name)["jobs"].items()]


def test_the_three_workflows_exist():
    assert {p.name for p in WORKFLOWS.glob("*.yml")} == {"pr.yml", "deploy.yml", "drill.yml"}


@pytest.mark.parametrize("name", ["pr.yml", "deploy.yml", "drill.yml"])
def test_workflow_matches_the_schema(name: str):
    errors = [e.message for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(load(name))]
    assert not errors, errors


def test_the_schema_rejects_a_broken_workflow():
    broken = copy.deepcopy(load("pr.yml"))
    broken["jobs"]["offline"]["runs_on"] = broken["jobs"]["offline"].pop("runs-on")
    assert list(jsonschema.Draft7Validator(SCHEMA).iter_errors(broken))


def test_every_action_is_pinned_to_a_verified_sha_with_a_version_comment():
    pattern = re.compile(r"uses:\s*([\w.-]+/[\w.-]+)@(\S+)(?:\s+#\s*(\S+))?")
    seen = set()
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for line in path.read_text().splitlines():
            if "uses:" not in line:
                continue
            match = pattern.search(line)
            assert match, f"{path.name}: cannot read '{line.strip()}'"
            action, ref, comment = match.groups()
            assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{path.name}: {action} is not pinned to a commit SHA"
            assert action in PINNED_ACTIONS, f"{path.name}: {action} has no verified pin in this test"
            assert (ref, comment) == PINNED_ACTIONS[action], f"{path.name}: {action}@{ref} # {comment}"
            seen.add(action)
    assert seen == set(PINNED_ACTIONS)


def test_permissions_are_least_privilege():
    for name in ("pr.yml", "deploy.yml", "drill.yml"):
        assert load(name)["permissions"] == {"contents": "read"}, name
    for workflow, job_name, job in all_jobs():
        permissions = job.get("permissions", {})
        assert permissions != "write-all", (workflow, job_name)
        writes = {k for k, v in permissions.items() if v == "write"}
        allowed = {"id-token"} | ({"pull-requests"} if (workflow, job_name) == ("pr.yml", "preview") else set())
        assert writes <= allowed, (workflow, job_name, writes)
        uses_aws = bool(steps_using(job, "aws-actions/configure-aws-credentials"))
        assert ("id-token" in writes) == uses_aws, f"{workflow}/{job_name}: id-token write only where OIDC is used"


def test_aws_credentials_are_short_lived_oidc_only():
    text = "\n".join(p.read_text() for p in WORKFLOWS.glob("*.yml"))
    for forbidden in ("aws-access-key-id", "aws-secret-access-key", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert forbidden not in text
    for workflow, job_name, job in all_jobs():
        for step in steps_using(job, "aws-actions/configure-aws-credentials"):
            assert step["with"]["role-to-assume"].startswith("${{ vars."), (workflow, job_name)
            assert int(step["with"]["role-duration-seconds"]) <= 7200


def test_stacks_script_covers_every_stack_file_primary_first():
    out = subprocess.run([sys.executable, str(STACKS_SCRIPT), str(REPO_ROOT)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    values = dict(line.split("=", 1) for line in out.stdout.splitlines())
    files = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in REPO_ROOT.glob("Pulumi.*.yaml"))
    stacks = json.loads(values["stacks"])
    assert sorted(stacks) == files
    assert stacks[0] == values["primary"]
    assert sorted(json.loads(values["secondaries"])) == sorted(set(files) - {values["primary"]})


def test_stacks_script_on_a_fleet_of_three(tmp_path: Path):
    for stack, role in (("us-east-1", "primary"), ("eu-west-1", "secondary"), ("ap-southeast-2", "secondary")):
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(
            f"config:\n  platform:region: {stack}\n  platform:role: {role}\n"
        )
    out = subprocess.run([sys.executable, str(STACKS_SCRIPT), str(tmp_path)], capture_output=True, text=True)
    assert out.stdout.splitlines() == [
        'stacks=["us-east-1", "ap-southeast-2", "eu-west-1"]',
        "primary=us-east-1",
        'secondaries=["ap-southeast-2", "eu-west-1"]',
    ]
    (tmp_path / "Pulumi.eu-west-1.yaml").write_text("config:\n  platform:role: primary\n")
    out = subprocess.run([sys.executable, str(STACKS_SCRIPT), str(tmp_path)], capture_output=True, text=True)
    assert out.returncode != 0 and "exactly one primary" in out.stderr


def test_pull_request_offline_job():
    doc = load("pr.yml")
    assert "pull_request" in doc["on"]
    run = "\n".join(s.get("run", "") for s in doc["jobs"]["offline"]["steps"])
    assert "pip install -r requirements.txt" in run
    assert "ruff check ." in run
    assert "python -m pytest" in run
    assert "for file in Pulumi.*.yaml" in run
    assert 'python -m infra plan "$stack" --quiet --diff --policy' in run
    assert "$GITHUB_STEP_SUMMARY" in run
    assert "exit $status" in run, "a mandatory policy violation must fail the job"


def test_pull_request_preview_matrix_comes_from_the_stack_files():
    doc = load("pr.yml")
    stacks_job = doc["jobs"]["stacks"]
    assert ".github/scripts/stacks.py" in stacks_job["steps"][-1]["run"]
    assert stacks_job["outputs"]["stacks"] == "${{ steps.list.outputs.stacks }}"
    preview = doc["jobs"]["preview"]
    assert "stacks" in preview["needs"]
    assert preview["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}"
    (pulumi,) = steps_using(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["policyPacks"] == "policy"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["stack-name"].endswith("${{ matrix.stack }}")
    (aws,) = steps_using(preview, "aws-actions/configure-aws-credentials")
    assert aws["with"]["aws-region"] == "${{ matrix.stack }}"
    setup = "\n".join(s.get("run", "") for s in preview["steps"])
    assert "policy/venv/bin/pip install -r policy/requirements.txt" in setup


def test_deploy_primary_first_then_secondaries_behind_approval():
    doc = load("deploy.yml")
    assert doc["on"]["push"]["branches"] == ["main"]
    jobs = doc["jobs"]
    primary, secondaries = jobs["primary"], jobs["secondaries"]
    assert "primary" in secondaries["needs"]
    assert primary["environment"] == "production" and secondaries["environment"] == "production"
    assert secondaries["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.secondaries) }}"
    for job, stack in ((primary, "${{ needs.stacks.outputs.primary }}"), (secondaries, "${{ matrix.stack }}")):
        (pulumi,) = steps_using(job, "pulumi/actions")
        assert pulumi["with"]["command"] == "up"
        assert pulumi["with"]["policyPacks"] == "policy"
        assert pulumi["with"]["stack-name"].endswith(stack)
    assert doc["concurrency"]["cancel-in-progress"] is False, "never cancel a running deployment"


def test_drill_is_dispatched_with_inputs_and_uploads_the_report():
    doc = load("drill.yml")
    inputs = doc["on"]["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"kind", "from", "to", "execute"}
    assert inputs["kind"]["options"] == ["planned", "unplanned", "failback"]
    assert inputs["execute"]["type"] == "boolean" and inputs["execute"]["default"] is False
    job = doc["jobs"]["drill"]
    assert job["environment"] == "dr-drill"
    run = "\n".join(s.get("run", "") for s in job["steps"])
    assert 'python -m infra drill "${args[@]}"' in run
    assert "--reports-dir reports/dr" in run
    assert 'if [ "$EXECUTE" = "true" ]' in run, "dry-run unless execute is checked"
    (upload,) = steps_using(job, "actions/upload-artifact")
    assert upload["if"] == "always()"
    assert "reports/dr/" in upload["with"]["path"]
    # inputs reach the shell through env, never interpolated into the script (injection)
    assert "${{ inputs." not in run
