"""The plan to diff against: a plan JSON file, or the plan of a git revision (by default HEAD).

`plan <stack> --diff [--base REF|FILE]` compares the working tree's plan with the plan of the same stack at the
merge base of HEAD and REF (REF defaults to HEAD: "what do my uncommitted edits change"; CI passes the pull
request's target branch: "what does this pull request change", the same three-dot diff GitHub shows). The base is
planned from a `git archive` of that revision in a temporary directory, by that revision's own code, in a
subprocess; the result lands in the plan cache under the content key of that tree, so it is planned once.
Why not committed snapshots: every change to a resource would have to regenerate them, and helpers working in
parallel would conflict on generated JSON at every rebase; a base computed from git cannot go stale.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from infra.plan.cache import PlanCache, code_digest, plan_key
from infra.plan.model import Plan


class BaseError(Exception):
    """The base plan cannot be produced; `fix` says what to do."""

    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.fix = fix


def _git(root: Path, *args: str, binary: bool = False):
    out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=120)
    if out.returncode != 0:
        raise BaseError(
            f"git {' '.join(args)} failed in {root}: {out.stderr.decode(errors='replace').strip()}",
            "run inside a git clone with the base revision fetched (CI: actions/checkout with fetch-depth: 0), "
            "or pass --base FILE (a plan JSON written by `plan --json`).",
        )
    return out.stdout if binary else out.stdout.decode().strip()


def resolve(root: Path, ref: str) -> tuple[str, str]:
    """(commit to plan, description): the merge base of HEAD and `ref`."""
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    head = _git(root, "rev-parse", "HEAD")
    base = commit if commit == head else _git(root, "merge-base", "HEAD", commit)
    what = f"{ref} ({base[:12]})" if base == commit else f"the merge base of HEAD and {ref} ({base[:12]})"
    return base, what


def check_base(root: Path, base: str) -> None:
    """Fail fast (before any planning) on a base that cannot be resolved."""
    if not (base.endswith(".json") and Path(base).is_file()):
        resolve(root, base)


def base_plan(
    root: Path, stack: str, base: str, cache: PlanCache | None, current: Plan, current_key: str | None
) -> tuple[Plan, str]:
    """The plan of `stack` at `base` (a plan JSON file or a git revision) and a description of it.

    `current` / `current_key`: the working tree's plan and its cache key; a base with the same key is that plan.
    """
    if base.endswith(".json") and Path(base).is_file():
        try:
            return Plan.from_dict(json.loads(Path(base).read_text())), base
        except (ValueError, KeyError, TypeError) as exc:
            raise BaseError(
                f"{base} is not a plan document ({exc}).", "pass a file written by `plan --json`."
            ) from None
    commit, what = resolve(root, base)
    top = Path(_git(root, "rev-parse", "--show-toplevel"))
    prefix = root.resolve().relative_to(top.resolve()).as_posix() if root.resolve() != top.resolve() else ""
    with tempfile.TemporaryDirectory(prefix="plan-base-") as tmp:
        tree = Path(tmp)
        archive = _git(top, "archive", "--format=tar", commit, *([prefix] if prefix else []), binary=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tree, filter="data")
        if prefix:
            tree = tree / prefix
        if not (tree / f"Pulumi.{stack}.yaml").is_file():
            return Plan(project="platform", stack=stack), f"{what}, which has no Pulumi.{stack}.yaml"
        key = plan_key(stack, tree, code=code_digest(tree))
        if key == current_key:  # same stack files, same code, same environment: the same plan
            return current, f"{what}; same stack files and code"
        if cache is not None and (hit := cache.get(key, stack)) is not None:
            return hit, what
        from infra.console import make_console

        make_console(stderr=True).print(f"planning {stack} at {what} (its own code, a fresh interpreter) ...")
        plan = _plan_in(tree, stack)
        if cache is not None:
            cache.put(key, plan)
        return plan, what


def _plan_in(tree: Path, stack: str) -> Plan:
    """Plan `stack` with the code and stack files of `tree` (its own CLI, a fresh interpreter)."""
    out_file = tree / ".base-plan.json"
    env = {**os.environ, "INFRA_PLAN_CACHE": "off", "PYTHONPATH": str(tree)}
    command = [sys.executable, "-m", "infra", "--root", str(tree), "plan", stack, "--quiet", "--json", str(out_file)]
    out = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=900)
    if out.returncode != 0 or not out_file.is_file():
        tail = "\n".join((out.stderr or out.stdout).strip().splitlines()[-5:])
        raise BaseError(
            f"planning {stack} at the base revision failed (exit {out.returncode}): {tail}",
            "fix the base revision, or diff against another one with --base REF / --base FILE.",
        )
    return Plan.from_dict(json.loads(out_file.read_text()))
