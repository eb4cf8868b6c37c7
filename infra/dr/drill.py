"""The DR drill: an ordered plan of named steps (AWS ARC Region switch shape) run against real AWS or the emulator.

Every step has a pre-check, an action, a wait-with-timeout and a verification. `done()` reads the actual AWS state,
so a step whose effect is already in place is skipped: a re-run after a crash resumes where AWS is.
Independent steps run in parallel (thread pool, dependency order). Nothing is ever deleted.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

KINDS = ("planned", "unplanned", "failback")
FAIL_AFTER_ENV = "DR_FAIL_AFTER_STEP"  # test-only seam: raise InjectedFailure after the named step finished

# Outputs the drill reads from every region stack / from the primary only (docs/stack-outputs.md).
REGION_OUTPUTS = (
    "eksClusterName",
    "eksWorkloads",
    "eksNodePoolNames",
    "hostedZoneId",
    "healthCheckId",
    "apiOriginName",
    "routingPolicy",
    "auroraClusterIdentifier",
    "auroraClusterArn",
    "redisReplicationGroupId",
    "drLockTableName",
    "regionalRecordName",
    "activeRegionParameterName",
)
PRIMARY_OUTPUTS = ("auroraGlobalClusterIdentifier", "redisGlobalReplicationGroupId")


class Refusal(Exception):
    """The drill will not run: a clear message naming what is wrong and what to do."""


class InjectedFailure(RuntimeError):
    """Raised by the test seam `DR_FAIL_AFTER_STEP`."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ----------------------------------------------------------------------------------------------------- settings
@dataclass
class DrillSettings:
    kind: str
    source: str
    target: str
    execute: bool = False
    accept_data_loss: bool = False
    break_lock: bool = False
    ignore_missing_metrics: bool = False  # planned: go on without a replication-lag datapoint
    rto_seconds: int = 300
    rpo_seconds: int = 60
    capacity_percent: int = 100
    step_timeout_seconds: float = 600
    poll_seconds: float = 5.0
    # for the up-front refusals and the modeled RTO (from the stack files; see cli.settings_from)
    routing_policy: str = "failover"
    traffic_budget_seconds: int = 30
    health_check_detection_seconds: float = 30.0
    operator: str = field(default_factory=lambda: os.environ.get("USER", "unknown"))


@dataclass
class Topology:
    """What the drill acts on, read from the stacks' outputs (never hard-coded)."""

    outputs: dict[str, dict[str, Any]]  # stack (= region) -> outputs
    primary: str

    def region(self, region: str) -> dict[str, Any]:
        return self.outputs[region]

    @property
    def global_cluster(self) -> str:
        return self.outputs[self.primary]["auroraGlobalClusterIdentifier"]

    @property
    def global_datastore(self) -> str:
        return self.outputs[self.primary]["redisGlobalReplicationGroupId"]

    def missing(self, regions: list[str]) -> list[str]:
        problems = []
        for region in regions:
            have = self.outputs.get(region, {})
            for key in REGION_OUTPUTS:
                if have.get(key) in (None, "", []):
                    problems.append(f"stack {region}: output '{key}'")
        for key in PRIMARY_OUTPUTS:
            if self.outputs.get(self.primary, {}).get(key) in (None, ""):
                problems.append(f"stack {self.primary} (primary): output '{key}'")
        return problems


# ----------------------------------------------------------------------------------------------------- AWS access
class Aws:
    """boto3 clients per (service, region); `endpoint` points them at the emulator (same code, other URL).

    `endpoints` overrides the endpoint per service.
    `dns_server` is the (host, port) of the authoritative DNS the data-plane checks query (the emulator's; None: the
    system resolver). `hooks` are applied to every client made (the emulator's Region outage cuts requests there).
    """

    def __init__(
        self,
        endpoint: str | None = None,
        credentials: dict[str, str] | None = None,
        *,
        dns_server: tuple[str, int] | None = None,
        hooks: tuple[Callable[[Any], None], ...] = (),
        max_attempts: int = 3,
        endpoints: dict[str, str] | None = None,
    ):
        self.endpoint = endpoint
        self.endpoints = endpoints or {}  # per-service endpoint overrides (the emulator's ARC Region switch)
        self.credentials = credentials or {}
        self.dns_server = dns_server
        self.hooks = hooks
        self.max_attempts = max_attempts
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._session = None

    def __call__(self, service: str, region: str):
        key = (service, region)
        with self._lock:  # one session (its loader caches the service models); clients made one at a time
            if key in self._clients:
                return self._clients[key]
            from botocore.config import Config

            if self._session is None:
                self._session = _shared_session()
            client = self._session.client(
                service,
                region_name=region,
                endpoint_url=self.endpoints.get(service, self.endpoint),
                config=Config(
                    retries={"max_attempts": self.max_attempts, "mode": "standard"}, connect_timeout=5, read_timeout=30
                ),
                **self.credentials,
            )
            for hook in self.hooks:
                hook(client)
            self._clients[key] = client
            return client

    def resolve(self, name: str) -> set[str]:
        """A records of `name` through DNS (Route 53's data plane), not the Route 53 API; empty if none."""
        import dns.exception
        import dns.resolver

        resolver = dns.resolver.Resolver(configure=self.dns_server is None)
        if self.dns_server is not None:
            resolver.nameservers, resolver.port = [self.dns_server[0]], self.dns_server[1]
        resolver.lifetime = 3.0
        try:
            return {r.address for r in resolver.resolve(name.rstrip(".") + ".", "A")}
        except dns.exception.DNSException:
            return set()


def unreachable(exc: BaseException) -> bool:
    """A transport failure (no connection, timeout, connection dropped): the endpoint's Region looks down."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    return isinstance(exc, BotoConnectionError | HTTPClientError)


_SESSION = None


def _shared_session():
    """One boto3 session per process: loading the service models is the slow part of making a client."""
    global _SESSION
    if _SESSION is None:
        import boto3

        _SESSION = boto3.session.Session()
    return _SESSION


def request_id(response: dict[str, Any]) -> str | None:
    return response.get("ResponseMetadata", {}).get("RequestId")


# ----------------------------------------------------------------------------------------------------- steps
@dataclass
class Step:
    """A named unit: pre-check (raises Refusal), done (observed AWS state), action, verify; wait = poll done()."""

    name: str
    title: str
    calls: str  # what the step calls (dry-run text)
    why: str
    after: tuple[str, ...] = ()
    precheck: Callable[[], None] | None = None
    done: Callable[[], bool] | None = None
    action: Callable[[], list[str]] | None = None  # returns AWS request ids
    verify: Callable[[], None] | None = None
    cutover: bool = False  # the first cut-over step starts the RTO clock
    # filled while running
    result: dict[str, Any] = field(default_factory=dict)


class StepFailed(RuntimeError):
    pass


class Engine:
    """Runs steps in dependency order; independent ones in parallel; records start/end/outcome/request ids."""

    def __init__(
        self,
        steps: list[Step],
        settings: DrillSettings,
        listener: Callable[[str, Step], None],
        guard: Callable[[], None] | None = None,
    ):
        self.guard = guard  # fencing: called before every action (the fleet lock is still ours)
        self.steps = {s.name: s for s in steps}
        self.order = [s.name for s in steps]
        self.settings = settings
        self.listener = listener
        self.cutover_started: float | None = None
        self.cutover_started_at: str | None = None

    def _wait(self, step: Step) -> None:
        if step.done is None:
            return
        deadline = time.monotonic() + self.settings.step_timeout_seconds
        while not step.done():
            if time.monotonic() > deadline:
                raise StepFailed(f"{step.name}: timed out after {self.settings.step_timeout_seconds:g}s")
            time.sleep(self.settings.poll_seconds)

    def _run_one(self, step: Step) -> None:
        step.result = {"name": step.name, "title": step.title, "startedAt": now(), "requestIds": []}
        started = time.monotonic()
        self.listener("start", step)
        if step.precheck:
            step.precheck()
        if step.cutover and self.cutover_started is None:
            self.cutover_started, self.cutover_started_at = started, step.result["startedAt"]
        if step.done is not None and step.done():
            step.result["outcome"] = "already-done"
        else:
            if step.action:
                if self.guard is not None:
                    self.guard()
                step.result["requestIds"] = [r for r in step.action() if r]
            self._wait(step)
            step.result["outcome"] = "done"
        if step.verify:
            step.verify()
        step.result["endedAt"] = now()
        step.result["seconds"] = round(time.monotonic() - started, 3)
        self.listener("end", step)
        if os.environ.get(FAIL_AFTER_ENV) == step.name:
            raise InjectedFailure(f"injected failure after step '{step.name}' ({FAIL_AFTER_ENV})")

    def run(self, already: list[str] | tuple[str, ...] = ()) -> None:
        """`already`: steps finished elsewhere (the ARC executor's), which dependencies may name."""
        pending = list(self.order)
        finished: set[str] = set(already)
        running: dict[Any, str] = {}
        failure: BaseException | None = None
        with ThreadPoolExecutor(max_workers=4) as pool:
            while (pending and failure is None) or running:
                if failure is None:
                    for name in list(pending):
                        if all(dep in finished for dep in self.steps[name].after):
                            pending.remove(name)
                            running[pool.submit(self._run_one, self.steps[name])] = name
                if not running:
                    break
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    name = running.pop(future)
                    exc = future.exception()
                    step = self.steps[name]
                    if exc is None:
                        finished.add(name)
                    else:
                        step.result.setdefault("startedAt", now())
                        step.result.update(outcome="failed", endedAt=now(), error=str(exc))
                        self.listener("fail", step)
                        failure = failure or exc
        for name in pending:
            self.steps[name].result = {"name": name, "title": self.steps[name].title, "outcome": "not-run"}
        if failure is not None:
            raise failure
