"""Synthesize a stack offline: the real program, the stack file's config, Pulumi's mock runtime."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.config.fleet import load_fleet
from infra.config.loader import engine_config, read_stack_file
from infra.plan.model import Plan
from infra.plan.recorder import PlatformMocks, RecordingMonitor, clean

PROJECT = "platform"
REPO_ROOT = Path(__file__).resolve().parents[2]


def _program() -> None:
    from stacks import main

    main()


def synthesize(
    stack: str,
    config: dict[str, Any],
    stack_outputs: dict[str, dict[str, Any]] | None = None,
    program: Callable[[], None] = _program,
    monitor: RecordingMonitor | None = None,
    organization: str = "organization",
) -> Plan:
    """Run `program` for `stack` with `config` (a stack file's `config:` mapping) under the mock runtime.

    Pass `monitor` (built on `PlatformMocks(stack_outputs)`) to inspect registrations even when the program fails.
    `organization` is what `pulumi.get_organization()` returns (a self-managed backend's is `organization`).
    """
    secret_keys = [k for k, v in config.items() if isinstance(v, dict) and set(v) == {"secure"}]
    if monitor is None:
        monitor = RecordingMonitor(PlatformMocks(stack_outputs))
    mocks = monitor.mocks
    # Fresh runtime state for every run: root stack, config, outstanding RPCs.
    settings.reset_options(project=PROJECT, stack=stack, preview=False, organization=organization)
    runtime_config.set_all_config(engine_config(config), secret_keys)
    runtime_mocks.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor, organization=organization
    )
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    _sync_await(run_pulumi_func(program))
    plan = Plan(project=PROJECT, stack=stack, resources=list(monitor.records))
    plan.outputs = _resolve_outputs()
    return plan


def _resolve_outputs() -> dict[str, Any]:
    root = settings.get_root_resource()
    outputs: dict[str, Any] = {}
    for name, value in sorted(getattr(root, "outputs", {}).items()):
        output = pulumi.Output.from_input(value)
        if _sync_await(output.is_secret()):
            outputs[name] = "[secret]"
        else:
            outputs[name] = clean(_sync_await(output.future()))
    return outputs


class Planner:
    """Plans stacks of one project directory, feeding each secondary its primary's planned outputs."""

    def __init__(self, root: Path = REPO_ROOT):
        self.root = root
        self.fleet = load_fleet(root)  # validates every stack file and the cross-stack rules first
        self._plans: dict[str, Plan] = {}

    def plan(self, stack: str) -> Plan:
        if stack in self._plans:
            return self._plans[stack]
        if stack not in self.fleet.stacks:
            raise KeyError(stack)
        cfg = self.fleet.stacks[stack]
        stack_outputs: dict[str, dict[str, Any]] = {}
        if not cfg.is_primary:
            stack_outputs[cfg.partner_stack] = self.plan(cfg.partner_stack).outputs
        config = read_stack_file(self.root / f"Pulumi.{stack}.yaml")
        plan = synthesize(stack, config, stack_outputs)
        self._plans[stack] = plan
        return plan
