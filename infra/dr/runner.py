"""One drill run: resolve outputs, refuse what is unsafe, lock, run the steps (or print them), write the report."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.dr.drill import (
    KINDS,
    Aws,
    DrillLock,
    DrillSettings,
    Engine,
    Refusal,
    Step,
    Topology,
    now,
)
from infra.dr.steps import build_steps

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")


@dataclass
class Result:
    report: dict[str, Any]
    exit_code: int
    path: Path | None = None
    steps: list[Step] = field(default_factory=list)


def check_request(settings: DrillSettings, regions: list[str], interactive_ok: bool = False) -> None:
    """Refusals that need no AWS call."""
    if settings.kind not in KINDS:
        raise Refusal(f"unknown drill kind '{settings.kind}': use one of {', '.join(KINDS)}.")
    for flag, region in (("--from", settings.source), ("--to", settings.target)):
        if region not in regions:
            raise Refusal(f"unknown region {flag} {region}: the stacks are {', '.join(sorted(regions))}.")
    if settings.source == settings.target:
        raise Refusal(
            f"--from and --to are both {settings.source}: the target is the current writer; nothing to switch."
        )
    if settings.kind == "unplanned" and settings.execute and not settings.accept_data_loss and not interactive_ok:
        raise Refusal(
            "an unplanned failover may lose the writes not yet replicated (up to the replication lag). "
            "Re-run with --accept-data-loss to confirm."
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
) -> Result:
    drill_id = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{settings.kind}-{uuid.uuid4().hex[:6]}"
    report: dict[str, Any] = {
        "schemaVersion": 1,
        "drillId": drill_id,
        "kind": settings.kind,
        "from": settings.source,
        "to": settings.target,
        "mode": mode,
        "executed": settings.execute,
        "operator": settings.operator,
        "startedAt": now(),
        "endedAt": None,
        "outcome": "dry-run",
        "error": None,
        "steps": [],
        "rto": {"seconds": None, "budgetSeconds": settings.rto_seconds, "passed": None},
        "rpo": {"seconds": None, "budgetSeconds": settings.rpo_seconds, "passed": None},
        "capacity": {"percent": settings.capacity_percent, "before": None, "after": None, "source": None},
        "final": {},
        "budgets": {"rtoSeconds": settings.rto_seconds, "rpoSeconds": settings.rpo_seconds},
        "replan": None,
    }
    steps: list[Step] = []
    lock = None
    try:
        missing = topo.missing([settings.source, settings.target])
        if missing:
            raise Refusal("missing stack outputs (deploy the tiers first): " + ", ".join(missing) + ".")
        steps, state, capacity = build_steps(aws, topo, settings, knob)
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
        if settings.kind == "failback" and settings.target != topo.primary:
            raise Refusal(
                f"failback returns to the primary region {topo.primary}; --to is {settings.target}. "
                "Use `planned` to switch to another region."
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
            return _finish(report, steps, 0, reports_dir)
        lock = DrillLock(
            aws,
            settings.target,
            topo.region(settings.target)["drLockTableName"],
            drill_id,
            f"{settings.kind} {settings.source}->{settings.target} by {settings.operator} ({drill_id})",
        )
        lock.acquire(settings.break_lock)
        engine = Engine(steps, settings, listener)
        failure: BaseException | None = None
        try:
            engine.run()
        except BaseException as exc:
            failure = exc
        by_name = {s.name: s for s in steps}
        report["steps"] = [
            {**s.result, "calls": s.calls, "why": s.why, "after": list(s.after)} for s in steps if s.result
        ]
        traffic = by_name["traffic-shift"].result
        if engine.cutover_started_at and traffic.get("endedAt"):
            from datetime import datetime

            start = datetime.fromisoformat(engine.cutover_started_at.replace("Z", "+00:00"))
            end = datetime.fromisoformat(traffic["endedAt"].replace("Z", "+00:00"))
            rto = round((end - start).total_seconds(), 3)
            report["rto"].update(
                seconds=rto,
                cutoverStartedAt=engine.cutover_started_at,
                trafficOnTargetAt=traffic["endedAt"],
                passed=rto <= settings.rto_seconds,
            )
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
            }
        if isinstance(failure, Refusal):  # a pre-check refused: nothing was switched
            report["error"] = str(failure)
            return _finish(report, steps, 3, reports_dir, "refused")
        if failure is not None:
            report["error"] = f"{type(failure).__name__}: {failure}"
            return _finish(report, steps, 1, reports_dir, "failed")
        passed = report["rto"]["passed"] is not False and report["rpo"]["passed"] is not False
        return _finish(report, steps, 0 if passed else 1, reports_dir, "passed" if passed else "failed")
    except Refusal as exc:
        report["error"] = str(exc)
        return _finish(report, steps, 3, reports_dir, "refused")
    finally:
        if lock is not None:
            lock.release()


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
