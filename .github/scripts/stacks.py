"""Print the stacks of this repository for GitHub Actions matrices (`>> "$GITHUB_OUTPUT"`).

One stack per `Pulumi.<stack>.yaml`, validated with the project's own config models (the same rules as
`python -m infra check`, so CI never runs a stack that check refuses). Per stack it says where CI may run it:
the `runs-on` labels of its preview and deploy jobs (docs/ci.md, "Where a stack is deployed from") and whether it
is in bootstrap (its runner does not exist yet: a targeted, Kubernetes-free update on a GitHub-hosted runner).

Environment (all optional):
    PULUMI_ORG          Pulumi organization of the stack names (`vars.PULUMI_ORG`; empty = `organization`, the
                        name a self-managed backend uses); the program's StackReferences use the same names.
    SELECTED_STACKS     comma/space separated subset to run (workflow_dispatch input); empty = every stack.
    FORCE_BOOTSTRAP     `true`: treat the selected stacks as in bootstrap (workflow_dispatch input).

Output lines:
    stacks=["us-east-1", "eu-west-1"]   selected stacks, primary first
    primary=us-east-1                   the primary if selected, else empty
    secondaries=["eu-west-1"]
    primaryMatrix=[{...}]               0 or 1 entries: stack, role, stackName, bootstrap, previewRunsOn, deployRunsOn
                                        (JSON label lists; `{0}`/`{1}` = run id/attempt, filled by the job's
                                        `runs-on: ${{ fromJSON(format(matrix.deployRunsOn, github.run_id,
                                        github.run_attempt)) }}`)
    secondaryMatrix=[{...}]
    matrix=[{...}]                      every selected entry, primary first
Exit 2 with a message on stderr for an invalid stack file or an unknown selected stack.
Usage: python .github/scripts/stacks.py [ROOT]
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's `infra` package

from infra.config.errors import ConfigError
from infra.config.fleet import load_fleet
from infra.config.reachability import runs_on


def project_name(root: Path) -> str:
    match = re.search(r"^name:\s*([\w.-]+)\s*$", (root / "Pulumi.yaml").read_text(), re.MULTILINE)
    if not match:
        raise SystemExit(f"{root / 'Pulumi.yaml'}: no `name:`")
    return match.group(1)


def entries(root: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    """One matrix entry per selected stack, primary first."""
    fleet = load_fleet(root)
    org = env.get("PULUMI_ORG") or "organization"
    project = project_name(root)
    selected = [s for s in re.split(r"[,\s]+", env.get("SELECTED_STACKS", "")) if s]
    unknown = sorted(set(selected) - set(fleet.stacks))
    if unknown:
        print(
            f"error: unknown stack(s) {unknown} in the 'stacks' input. Fix: use some of {sorted(fleet.stacks)}.",
            file=sys.stderr,
        )
        raise SystemExit(2)
    force = env.get("FORCE_BOOTSTRAP", "").lower() == "true"
    out = []
    for name in [fleet.primary, *fleet.secondaries()]:
        if selected and name not in selected:
            continue
        cfg = fleet.stacks[name]
        bootstrap = force or bool(cfg.deploy and cfg.deploy.bootstrap)
        # In bootstrap the runner does not exist yet: the targeted, Kubernetes-free update runs GitHub-hosted.
        hosted = ["ubuntu-latest"]
        out.append(
            {
                "stack": name,
                "role": cfg.role,
                "stackName": f"{org}/{project}/{name}",
                "bootstrap": bootstrap,
                "previewRunsOn": json.dumps(hosted if bootstrap else runs_on(name, cfg, "preview")),
                "deployRunsOn": json.dumps(hosted if bootstrap else runs_on(name, cfg, "deploy")),
            }
        )
    return out


def outputs(root: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if env is None else env)
    try:
        matrix = entries(root, env)
    except ConfigError as exc:
        print(f"error: invalid stack configuration\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None
    primaries = [e for e in matrix if e["role"] == "primary"]
    secondaries = [e for e in matrix if e["role"] != "primary"]
    return {
        "stacks": json.dumps([e["stack"] for e in matrix]),
        "primary": primaries[0]["stack"] if primaries else "",
        "secondaries": json.dumps([e["stack"] for e in secondaries]),
        "primaryMatrix": json.dumps(primaries),
        "secondaryMatrix": json.dumps(secondaries),
        "matrix": json.dumps(matrix),
    }


if __name__ == "__main__":
    for key, value in outputs(Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()).items():
        print(f"{key}={value}")
