"""One drill run: resolve outputs, refuse what is unsafe, lock, run the steps (or print them), write the report."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.console import Interrupted
from infra.dr.arc_executor import ArcEngine, check_plan, plan_arn
from infra.dr.drill import (
    KINDS,
    Aws,
    DrillSettings,
    Engine,
    Refusal,
    Step,
    Topology,
    now,
)
from infra.dr.lock import FleetLock
from infra.dr.reach import ROUTE53_API, Reachability, probe
from infra.dr.rto import model
from infra.dr.steps import build_steps

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")
SHIFTABLE_POLICIES = ("failover", "weighted")


@dataclass
class Result:
    report: dict[str, Any]
    exit_code: int
    path: Path | None = None
    steps: list[Step] = field(default_factory=list)


def check_request(
    settings: DrillSettings, regions: list[str], interactive_ok: bool = False, primary: str | None = None
) -> None:
    """Refusals that need no AWS call (answered before anything is planned or read)."""
    if settings.kind not in KINDS:
        raise Refusal(f"unknown drill kind '{settings.kind}': use one of {', '.join(KINDS)}.")
    for flag, region in (("--from", settings.source), ("--to", settings.target)):
        if region not in regions:
            raise Refusal(f"unknown region {flag} {region}: the stacks are {', '.join(sorted(regions))}.")
    if settings.source == settings.target:
        raise Refusal(
            f"--from and --to are both {settings.source}: the target is the current writer; nothing to switch."
        )
    if settings.routing_policy not in SHIFTABLE_POLICIES:
        raise Refusal(_policy_refusal(settings.routing_policy))
    if primary is not None:
        _check_failback(settings, primary)
    if settings.kind == "unplanned" and settings.execute and not settings.accept_data_loss and not interactive_ok:
        raise Refusal(
            "an unplanned failover may lose the writes not yet replicated (up to the replication lag). "
            "Re-run with --accept-data-loss to confirm."
        )


def _check_failback(settings: DrillSettings, primary: str) -> None:
    if settings.kind == "failback" and settings.target != primary:
        raise Refusal(
            f"failback returns to the primary region {primary}; --to is {settings.target}. "
            "Use `planned` to switch to another region."
        )


def _policy_refusal(policy: str) -> str:
    return (
        f"platform:traffic.routingPolicy is '{policy}': api-origin has no record state a drill can shift (Route 53 "
        "keeps answering by latency/location), so traffic would stay while Aurora and Redis move. Use "
        "routingPolicy failover or weighted in every stack file. Nothing was changed."
    )


def _reach_refusal(settings: DrillSettings, reach: Reachability, regions: list[str]) -> str | None:
    """A planned switchover / failback needs every Region and the Route 53 API; an unplanned one the target."""
    down = [r for r in regions if reach.region_down(r)]
    if settings.target in down:
        return (
            f"the target Region {settings.target} is unreachable ({reach.reason(settings.target)}): a drill cannot "
            "move the writer into a Region it cannot reach. Nothing was changed."
        )
    if settings.kind == "unplanned":
        return None
    parts = [f"{r} ({reach.reason(r)})" for r in down]
    if reach.route53_api_down:
        parts.append(f"the Route 53 API, control plane in us-east-1 ({reach.reason(ROUTE53_API)})")
    if not parts:
        return None
    return (
        f"a {settings.kind} switchover needs every Region healthy, and these do not answer: {'; '.join(parts)}. "
        f"If {settings.source} is down, run `python -m infra drill unplanned --from {settings.source} --to "
        f"{settings.target} --execute --accept-data-loss`. Nothing was changed."
    )


def run_drill(
    settings: DrillSettings,
    topo: Topology,
    aws: Aws,
    knob,
    mode: str,
    listener=lambda event, step: None,
    replan=None,
    reports_dir: Path | None = None,
    annotate=None,
    executor: str = "drill",
) -> Result:
    """`annotate(report)` adds what only the caller knows (the emulator's outage log) before the report is written.
    `executor`: `drill` runs the steps itself; `arc` starts the pair's Region switch plan and follows it
    (`infra/dr/arc_executor.py`)."""
    drill_id = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{settings.kind}-{uuid.uuid4().hex[:6]}"
    report: dict[str, Any] = {
        "schemaVersion": 1,
        "drillId": drill_id,
        "kind": settings.kind,
        "from": settings.source,
        "to": settings.target,
        "mode": mode,
        "executor": executor,
        "executed": settings.execute,
        "operator": settings.operator,
        "startedAt": now(),
        "endedAt": None,
        "outcome": "dry-run",
        "error": None,
        "steps": [],
        "rto": {"seconds": None, "budgetSeconds": settings.rto_seconds, "passed": None, "modeled": None},
        "rpo": {"seconds": None, "budgetSeconds": settings.rpo_seconds, "passed": None},
        "capacity": {"percent": settings.capacity_percent, "before": None, "after": None, "source": None},
        "final": {},
        "budgets": {
            "rtoSeconds": settings.rto_seconds,
            "rpoSeconds": settings.rpo_seconds,
            "trafficFailoverSeconds": settings.traffic_budget_seconds,
        },
        "reachability": {},
        "lock": None,
        "pending": [],
        "replan": None,
    }
    steps: list[Step] = []
    lock = None
    state = None

    def finish(code: int, outcome: str | None = None) -> Result:
        if state is not None:
            report["pending"] = list(state.pending)
            for entry in report["steps"]:
                if state.skipped.get(entry["name"]):
                    entry["skipped"] = list(state.skipped[entry["name"]])
        if lock is not None:
            report["lock"] = lock.report()
        if annotate is not None:
            annotate(report)
        return _finish(report, steps, code, reports_dir, outcome)

    try:
        missing = topo.missing([settings.source, settings.target])
        if missing:
            raise Refusal("missing stack outputs (deploy the tiers first): " + ", ".join(missing) + ".")
        policy = topo.region(settings.target).get("routingPolicy", settings.routing_policy)
        if policy not in SHIFTABLE_POLICIES:
            raise Refusal(_policy_refusal(policy))
        _check_failback(settings, topo.primary)
        regions = sorted(topo.outputs)
        reach = probe(aws, regions)
        report["reachability"] = reach.report()
        refusal = _reach_refusal(settings, reach, regions)
        if refusal:
            raise Refusal(refusal)
        steps, state, capacity = build_steps(aws, topo, settings, knob, reach, executor)
        arc_engine = None
        if executor == "arc":
            arn = plan_arn(topo, settings)
            check_plan(aws, topo, settings, arn)
            # fencing through the lock taken below, before its first write
            arc_engine = ArcEngine(steps, settings, listener, lambda: lock.check(), aws, arn, drill_id)
            steps = arc_engine.all_steps  # the objects the engine fills in (the plan's `approve` included)
        # Is there anything left to do? (a completed switch is refused; a partial one resumes)
        complete = (
            state.target_is_writer()
            and state.redis_primary_region() == settings.target
            and state.traffic_on_target()
            and knob.done()
        )
        if complete:
            raise Refusal(
                f"{settings.target} is already the current writer (Aurora, Redis, traffic and the active-region "
                f"knob): nothing to switch. To go back, run `failback --from {settings.target} --to {settings.source}`."
            )
        if not settings.execute:
            for step in steps:
                step.precheck and step.precheck()  # reads only: refuse a dry-run that would be refused
            report["steps"] = [
                {
                    "name": s.name,
                    "title": s.title,
                    "calls": s.calls,
                    "why": s.why,
                    "after": list(s.after),
                    "outcome": "planned",
                }
                for s in steps
            ]
            report["capacity"].update(before=capacity.get("before"), source=capacity.get("source"))
            _modeled(report, settings, state, scaled=True, failed=False)  # a pre-warm is assumed to add capacity
            return finish(0)
        lock = FleetLock(
            aws,
            {r: o["drLockTableName"] for r, o in topo.outputs.items() if o.get("drLockTableName")},
            drill_id,
            f"{settings.kind} {settings.source}->{settings.target} by {settings.operator} ({drill_id})",
        )
        lock.acquire(settings.break_lock, required=(settings.target,))
        engine = arc_engine or Engine(steps, settings, listener, guard=lock.check)
        failure: BaseException | None = None
        try:
            engine.run()
        except BaseException as exc:
            failure = exc
        by_name = {s.name: s for s in steps}
        if arc_engine is not None and by_name["prewarm-capacity"].result.get("outcome") == "done":
            with contextlib.suppress(Exception):  # what the plan's EKS step left (the drill's done() reads it)
                capacity["after"] = state.workloads(settings.target)
        if arc_engine is not None and arc_engine.execution:
            report["arcExecution"] = {
                "planArn": arc_engine.arn,
                **{
                    k: arc_engine.execution.get(k)
                    for k in ("executionId", "executionState", "executionRegion", "mode", "actualRecoveryTime")
                },
            }
        report["steps"] = [
            {**s.result, "calls": s.calls, "why": s.why, "after": list(s.after)} for s in steps if s.result
        ]
        if settings.kind == "unplanned":
            lag = capacity.get("lagMs")
            rpo = None if lag is None else round(lag / 1000, 3)
            report["rpo"].update(
                seconds=rpo,
                basis="AuroraGlobalDBReplicationLag at cut-over (data loss bound)",
                passed=None if rpo is None else rpo <= settings.rpo_seconds,
            )
        else:
            report["rpo"].update(seconds=0, basis="switchover: AWS waits for the secondary to catch up", passed=True)
        report["capacity"].update(
            before=capacity.get("before"), after=capacity.get("after"), source=capacity.get("source")
        )
        if isinstance(failure, KeyboardInterrupt):
            raise failure  # below: the report says where it stopped
        if failure is None and replan is not None:
            problems = replan()
            report["replan"] = {"checked": True, "dataReplacements": problems}
            if problems:
                failure = RuntimeError(
                    "re-plan with the new active region replaces data resources: " + "; ".join(problems)
                )
        with contextlib.suppress(Exception):  # the report must still be written
            report["final"] = {
                "auroraWriterRegion": _region_of(topo, state.aurora_writer_arn()),
                "redisPrimaryRegion": state.redis_primary_region(),
                "trafficRegion": state.dns_answer_region(),
                "activeRegionKnob": settings.target if knob.done() else None,
                "activeRegionKnobUnreachable": dict(sorted(knob.unreachable.items())),
            }
        failed = (failure is not None and not isinstance(failure, Refusal)) or report["rpo"]["passed"] is False
        _rto(report, settings, engine, by_name, state, capacity, failed)
        if isinstance(failure, Refusal):  # a pre-check refused: nothing was switched
            report["error"] = str(failure)
            return finish(3, "refused")
        if failure is not None:
            report["error"] = f"{type(failure).__name__}: {failure}"
            return finish(1, "failed")
        passed = report["rto"]["passed"] is not False and not failed
        if not passed and report["rto"]["modeled"]:  # an RTO over budget fails the drill: nothing passes then
            report["rto"]["modeled"] = {**report["rto"]["modeled"], "passed": False}
        return finish(0 if passed else 1, "passed" if passed else "failed")
    except Refusal as exc:
        report["error"] = str(exc)
        return finish(3, "refused")
    except KeyboardInterrupt:
        report["steps"] = report["steps"] or [
            {**s.result, "calls": s.calls, "why": s.why, "after": list(s.after)} for s in steps if s.result
        ]
        report["error"] = "interrupted (Ctrl-C)"
        result = finish(130, "failed")
        raise Interrupted(
            _stopped_at(settings, steps, lock is not None, result.path), "re-run the same command"
        ) from None
    finally:
        if lock is not None:
            lock.release()


def _stopped_at(settings: DrillSettings, steps: list[Step], locked: bool, path: Path | None) -> str:
    """One sentence: which steps finished, which were in flight, what happened to the lock, where the report is."""
    done = [s.name for s in steps if s.result.get("outcome") in ("done", "already-done")]
    flight = [s.name for s in steps if s.result.get("startedAt") and s.name not in done]
    what = f"drill {settings.kind} {settings.source} -> {settings.target}"
    if not done and not flight:
        where = "before its first step; nothing was changed"
    else:
        where = f"after {', '.join(done) or 'no step'} finished"
        if flight:
            where += f" (in flight: {', '.join(flight)}; AWS completes an operation it accepted)"
    lock = "; the drill lock was released" if locked else ""
    report = f"; report {path}" if path else ""
    return f"{what} stopped {where}{lock}{report}."


def _rto(report, settings, engine, by_name, state, capacity, failed: bool) -> None:
    """Measured RTO (cut-over start to traffic on target) and the modeled real one; never passing if failed."""
    from datetime import datetime

    def parse(ts: str) -> datetime:
        return datetime.fromisoformat(ts.replace("Z", "+00:00"))

    traffic = by_name["traffic-shift"].result
    if engine.cutover_started_at and traffic.get("endedAt"):
        rto = round((parse(traffic["endedAt"]) - parse(engine.cutover_started_at)).total_seconds(), 3)
        report["rto"].update(
            seconds=rto,
            cutoverStartedAt=engine.cutover_started_at,
            trafficOnTargetAt=traffic["endedAt"],
            passed=False if failed else rto <= settings.rto_seconds,
        )
    elif failed:
        report["rto"]["passed"] = False
    before, after = capacity.get("before") or {}, capacity.get("after") or {}
    # the pre-warm added ready pods (so Auto Mode had to launch nodes for them)
    scaled = any(after.get(n, {}).get("readyReplicas", 0) > c.get("readyReplicas", 0) for n, c in before.items())
    _modeled(report, settings, state, scaled, failed)


def _modeled(report, settings, state, scaled: bool, failed: bool) -> None:
    """The modeled real RTO (`infra/dr/rto.py`); for a dry-run, of the planned steps (no program time yet)."""
    from components.cdn import ORIGIN_CONNECTION_ATTEMPTS, ORIGIN_CONNECTION_TIMEOUT_SECONDS

    report["rto"]["modeled"] = model(
        steps=report["steps"],
        kind=settings.kind,
        outcome_failed=failed,
        traffic_mechanism=state.traffic_mechanism,
        scaled_capacity=scaled,
        detection_seconds=settings.health_check_detection_seconds,
        cloudfront_attempts=ORIGIN_CONNECTION_ATTEMPTS,
        cloudfront_timeout_seconds=ORIGIN_CONNECTION_TIMEOUT_SECONDS,
        rto_budget=settings.rto_seconds,
        traffic_budget=settings.traffic_budget_seconds,
    )


def _region_of(topo: Topology, arn: str | None) -> str | None:
    return next((r for r, o in topo.outputs.items() if arn and o.get("auroraClusterArn") == arn), None)


def _finish(report, steps, code, reports_dir, outcome=None) -> Result:
    if outcome:
        report["outcome"] = outcome
    report["endedAt"] = now()
    path = None
    if reports_dir is not None:
        reports_dir.mkdir(parents=True, exist_ok=True)
        path = reports_dir / f"{report['drillId']}.json"
        path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return Result(report=report, exit_code=code, path=path, steps=steps)
