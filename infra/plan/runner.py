"""Synthesize a stack offline: the real program, the stack file's config, Pulumi's mock runtime."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import threading
from collections.abc import Callable, Iterator
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
from infra.plan.cache import PlanCache
from infra.plan.model import Plan
from infra.plan.observed import Observed
from infra.plan.recorder import PlatformMocks, RecordingMonitor, clean

PROJECT = "platform"
REPO_ROOT = Path(__file__).resolve().parents[2]


def _program() -> None:
    from stacks import main

    main()


@contextlib.contextmanager
def _project_dir(root: Path):
    """The program finds the fleet's stack files where `pulumi up` would run it: here, the planned root."""
    from stacks.context import PROJECT_DIR_ENV

    before = os.environ.get(PROJECT_DIR_ENV)
    os.environ[PROJECT_DIR_ENV] = str(root)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(PROJECT_DIR_ENV, None)
        else:
            os.environ[PROJECT_DIR_ENV] = before


def synthesize(
    stack: str,
    config: dict[str, Any],
    stack_outputs: dict[str, dict[str, Any]] | None = None,
    program: Callable[[], None] = _program,
    monitor: RecordingMonitor | None = None,
    organization: str = "organization",
    observed: Observed | None = None,
) -> Plan:
    """Run `program` for `stack` with `config` (a stack file's `config:` mapping) under the mock runtime.

    Pass `monitor` (built on `PlatformMocks(stack_outputs)`) to inspect registrations even when the program fails.
    `organization` is what `pulumi.get_organization()` returns (a self-managed backend's is `organization`).
    `observed` answers the program's reads of live state (the active-region SSM parameter); default: none.
    """
    secret_keys = [k for k, v in config.items() if isinstance(v, dict) and set(v) == {"secure"}]
    if monitor is None:
        monitor = RecordingMonitor(PlatformMocks(stack_outputs, observed))
    mocks = monitor.mocks
    # Fresh runtime state for every run: root stack, config, outstanding RPCs.
    settings.reset_options(project=PROJECT, stack=stack, preview=False, organization=organization)
    runtime_config.set_all_config(engine_config(config), secret_keys)
    runtime_mocks.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor, organization=organization
    )
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    with _gc_paused(), _ctrl_c_not_swallowed():
        _sync_await(run_pulumi_func(program))
        plan = Plan(project=PROJECT, stack=stack, resources=list(monitor.records))
        plan.outputs = _resolve_outputs()
    return plan


@contextlib.contextmanager
def _ctrl_c_not_swallowed() -> Iterator[None]:
    """Ctrl-C stops a plan even where the SDK swallows exceptions.

    pulumi's runtime catches `BaseException` in places (e.g. `_get_source_position_for_frame`, run for every frame
    of every registration), so a KeyboardInterrupt landing there is lost and the plan runs to its end. The handler
    remembers the signal; if the interrupt was swallowed it is raised again once the program returns.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    hits: list[int] = []

    def handler(signum, frame):
        hits.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if hits:
        raise KeyboardInterrupt


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic GC while a program runs (reference counting still frees almost everything).

    Profiling the primary's cold plan (docs/benchmark.md, "Where the cold plan's time goes") showed ~40 % of it in
    the cyclic collector: the SDK's ~1M long-lived objects (classes, typing constructs) are re-scanned by every
    generation-2 pass the asyncio task churn of the mock runtime triggers. A plan is short; the cycles it leaves
    are collected by the first collection after it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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


# progress(stack) -> context manager yielding tick(resources registered so far); `cached=True` for a cache hit
Progress = Callable[..., contextlib.AbstractContextManager[Callable[[int], None]]]


@contextlib.contextmanager
def _no_progress(stack: str, cached: bool = False) -> Iterator[Callable[[int], None]]:
    yield lambda count: None


class Planner:
    """Plans stacks of one project directory, feeding each secondary its primary's planned outputs.

    Each stack is planned at most once per Planner; with a `cache` (infra/plan/cache.py) at most once per content
    of the stack files and the code, across commands. `progress` reports each plan as it runs. `observed`: the live
    state the program's reads see (docs/offline-plan.md); default none (a first deploy); a plan of an observed state
    is never cached (the key does not cover it).
    """

    def __init__(
        self,
        root: Path = REPO_ROOT,
        cache: PlanCache | None = None,
        progress: Progress | None = None,
        observed: Observed | None = None,
    ):
        self.root = root
        self.observed = observed
        self.fleet = load_fleet(root)  # validates every stack file and the cross-stack rules first
        self.cache = cache
        self.progress = progress or _no_progress
        self._plans: dict[str, Plan] = {}

    def plan(self, stack: str) -> Plan:
        if stack in self._plans:
            return self._plans[stack]
        if stack not in self.fleet.stacks:
            raise KeyError(stack)
        if self.observed is not None:
            self.cache = None  # the cache key covers the files and the code, not the observed state
        key = self.cache.key(stack, self.root) if self.cache else None
        cached = self.cache.get(key, stack) if self.cache and key else None
        if cached is not None:
            with self.progress(stack, cached=True) as tick:
                tick(len(cached.resources))
            self._plans[stack] = cached
            return cached
        cfg = self.fleet.stacks[stack]
        stack_outputs: dict[str, dict[str, Any]] = {}
        if not cfg.is_primary:
            stack_outputs[cfg.partner_stack] = self.plan(cfg.partner_stack).outputs
        config = read_stack_file(self.root / f"Pulumi.{stack}.yaml")
        with self.progress(stack) as tick, _project_dir(self.root):
            monitor = RecordingMonitor(PlatformMocks(stack_outputs, self.observed), on_record=tick)
            plan = synthesize(stack, config, stack_outputs, monitor=monitor)
        if self.cache and key:
            self.cache.put(key, plan)
        self._plans[stack] = plan
        return plan
