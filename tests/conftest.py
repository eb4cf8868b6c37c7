"""Shared test harness.

- `planner` / `plans`: both real stack files synthesized ONCE per session (mock runtime) and shared.
- `run_program`: run any function (e.g. one component) under a fresh mock runtime and get the recorded
  registrations as a Plan. Each call resets Pulumi's runtime state (root stack, config, pending RPCs).
- `flipped_plans`: both stacks planned ONCE with the writer moved to eu-west-1 (the state after a switchover: the
  active-region SSM parameter reads eu-west-1 in every Region).
- `write_stacks`: copy the real stack files to a temp dir, edit them, and plan/check that dir.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.naming import active_region_parameter
from infra.plan.model import Plan
from infra.plan.observed import StaticObserved
from infra.plan.runner import REPO_ROOT, Planner, synthesize

STACKS = ("us-east-1", "eu-west-1")


@pytest.fixture(scope="session")
def planner() -> Planner:
    return Planner(REPO_ROOT)


@pytest.fixture(scope="session")
def plans(planner: Planner) -> dict[str, Plan]:
    """`{stack: Plan}` for every real stack file (secondaries fed from the primary's planned outputs)."""
    return {stack: planner.plan(stack) for stack in sorted(planner.fleet.stacks)}


@pytest.fixture(scope="session")
def primary_plan(plans: dict[str, Plan]) -> Plan:
    return plans["us-east-1"]


@pytest.fixture(scope="session")
def secondary_plan(plans: dict[str, Plan]) -> Plan:
    return plans["eu-west-1"]


@pytest.fixture(scope="session")
def arc_plans(plans: dict[str, Plan]) -> dict[str, Plan]:
    """Both stacks planned as after the Region switch plan's rollout: each stack file names the plan's health check
    for its Region (`platform:dr.regionSwitch.healthCheckId`, infra/dr/emulator/arc_seed.py), on a temp copy."""
    from infra.dr.emulator.arc_seed import with_plan_health_checks

    return with_plan_health_checks(REPO_ROOT, plans, Planner)


@pytest.fixture(scope="session")
def flipped_plans(planner: Planner) -> dict[str, Plan]:
    """Both stacks planned as after a switchover: the unedited stack files, and the active-region SSM parameter
    reading eu-west-1 in every Region (what the drill's reconcile step writes)."""
    name = active_region_parameter("devtools", "prod")
    observed = StaticObserved({region: {name: "eu-west-1"} for region in STACKS})
    flipped = Planner(REPO_ROOT, observed=observed)
    return {stack: flipped.plan(stack) for stack in sorted(flipped.fleet.stacks)}


@pytest.fixture
def run_program() -> Callable[..., Plan]:
    """`run_program(fn, stack="unit", config=None, stack_outputs=None) -> Plan`."""

    def run(
        fn: Callable[[], Any],
        stack: str = "unit",
        config: dict[str, Any] | None = None,
        stack_outputs: dict[str, dict[str, Any]] | None = None,
    ) -> Plan:
        return synthesize(stack, config or {}, stack_outputs, program=fn)

    return run


def load_stack_yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


@pytest.fixture
def write_stacks(tmp_path: Path) -> Callable[..., Path]:
    """Copy the real stack files to tmp; `edit(stack, doc)` callbacks mutate the parsed YAML before writing."""

    def write(edits: dict[str, Callable[[dict[str, Any]], None]] | None = None, drop: tuple[str, ...] = ()) -> Path:
        for path in sorted(REPO_ROOT.glob("Pulumi.*.yaml")):
            stack = path.name[len("Pulumi.") : -len(".yaml")]
            if stack in drop:
                continue
            shutil.copy(path, tmp_path / path.name)
            if edits and stack in edits:
                doc = load_stack_yaml(tmp_path / path.name)
                edits[stack](doc["config"])
                (tmp_path / path.name).write_text(yaml.safe_dump(doc, sort_keys=False))
        shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
        return tmp_path

    return write


def inputs_of(plan: Plan, typ: str, name: str | None = None) -> dict[str, Any]:
    """Inputs of the single resource of `typ` (and `name`) in `plan`."""
    return plan.one(typ, name).inputs


@pytest.fixture(scope="session", autouse=True)
def _plan_cache(tmp_path_factory: pytest.TempPathFactory):
    """Commands under test use a plan cache of their own (infra/plan/cache.py), never the repo's .plan-cache/."""
    import os

    previous = os.environ.get("INFRA_PLAN_CACHE")
    os.environ["INFRA_PLAN_CACHE"] = str(tmp_path_factory.mktemp("plan-cache"))
    yield
    if previous is None:
        os.environ.pop("INFRA_PLAN_CACHE", None)
    else:
        os.environ["INFRA_PLAN_CACHE"] = previous
