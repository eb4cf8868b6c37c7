"""`drill ... --executor arc`: AWS runs the recovery - the stacks' ARC Region switch plan - and the drill follows it.

The drill's own pre-checks run first (reads only; ARC evaluates plans continuously but cannot refuse a lagging
secondary the way the drill does), then the drill starts the pair's plan in the TARGET Region's data plane
(`StartPlanExecution`: `activate <target>`, mode graceful for planned/failback, ungraceful for unplanned), approves
its ManualApproval step as the plan's approver role (the operator's `--execute` is the approval), follows
`GetPlanExecution` to a terminal state and maps each step's times and status onto the report's steps, then runs the
drill's `verify` (data-plane reads). Only data-plane operations are called, all in the target Region
(botocore's endpoint rules: StartPlanExecution, GetPlanExecution, ApprovePlanExecutionStep, ListPlanExecutions,
ListRoute53HealthChecksInRegion, GetPlanInRegion), so it works with the source Region and us-east-1 down.
A re-run follows the plan's execution still in progress instead of starting another.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from typing import Any

from infra.dr import catalogue
from infra.dr.arc_plan import plan_steps
from infra.dr.drill import Aws, DrillSettings, Engine, Refusal, Step, StepFailed, Topology

ACTIVE_STATES = ("inProgress", "pendingManualApproval", "pending", "pausedByOperator")
DONE_STATES = ("completed", "completedWithExceptions", "completedMonitoringApplicationHealth")
SERVICE = "arc-region-switch"


def plan_arn(topo: Topology, settings: DrillSettings) -> str:
    """The pair's plan: declared by the secondary of (source, target) - ARC plans span exactly two Regions."""
    secondary = next((r for r in (settings.source, settings.target) if r != topo.primary), None)
    arn = topo.region(secondary).get("regionSwitchPlanArn") if secondary else None
    if not arn:
        raise Refusal(
            f"--executor arc: stack {secondary or settings.target} has no output 'regionSwitchPlanArn' (the Region "
            "switch plan of this pair). Fix: set platform:dr.regionSwitch.enabled: true and deploy that stack, or "
            "drop --executor arc to let the drill run the steps."
        )
    return arn


def check_plan(aws: Aws, topo: Topology, settings: DrillSettings, arn: str) -> None:
    """Refuse, before any write, a plan whose traffic step would change nothing: Region switch moves traffic only
    through the health checks it created, and only once the api-origin records use them
    (https://docs.aws.amazon.com/r53recovery/latest/dg/route53-health-check-block.html)."""
    arc = aws(SERVICE, settings.target)
    plan = arc.get_plan_in_region(arn=arn)["plan"]
    if settings.target not in plan["regions"] or settings.source not in plan["regions"]:
        raise Refusal(f"plan {arn} spans {', '.join(plan['regions'])}, not {settings.source} and {settings.target}.")
    checks = {
        c["region"]: c["healthCheckId"] for c in arc.list_route53_health_checks_in_region(arn=arn)["healthChecks"]
    }
    for region in plan["regions"]:
        out = topo.region(region)
        wanted = checks.get(region)
        if wanted is None:
            raise Refusal(
                f"plan {arn} has no Route 53 health check for {region}: its traffic step cannot move traffic."
            )
        if out.get("regionSwitchHealthCheckId") != wanted or out.get("originHealthCheckId") == out.get("healthCheckId"):
            raise Refusal(
                f"the api-origin record of {region} does not use the plan's health check {wanted}, so the plan's "
                f"traffic-shift step would change nothing. Fix: set `platform:dr.regionSwitch.healthCheckId: "
                f"{wanted}` in Pulumi.{region}.yaml and deploy that stack (docs/dr-runbook.md, ARC Region switch "
                "plan), or drop --executor arc."
            )


def _iso(moment: datetime | None) -> str | None:
    """botocore parses the API's timestamps into datetimes; the report writes them like the drill's own."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ArcEngine:
    """Engine-compatible (`run()`, `cutover_started_at`): the drill's pre-checks, the plan execution, `verify`."""

    def __init__(self, steps: list[Step], settings: DrillSettings, listener, guard, aws: Aws, arn: str, drill_id: str):
        self.settings, self.listener, self.guard, self.aws = settings, listener, guard, aws
        self.arn, self.drill_id = arn, drill_id
        self.steps = {s.name: s for s in steps}
        self.cutover_started_at: str | None = None
        self.execution: dict[str, Any] = {}
        first_arc = next(c.name for c in catalogue.CATALOGUE if catalogue.ARC in c.executors)
        order = [c.name for c in catalogue.CATALOGUE]
        drill_only = [s for s in steps if catalogue.ARC not in catalogue.BY_NAME[s.name].executors]
        self.pre = [s for s in drill_only if order.index(s.name) < order.index(first_arc)]
        self.post = [s for s in drill_only if s not in self.pre]
        # ARC's order for its steps (the first waits for the drill's pre-checks): what ran after what, for the report
        # and the modeled RTO's critical path
        pre = tuple(s.name for s in self.pre)
        self.arc_steps = [
            dataclasses.replace(
                self.steps.get(name) or _arc_only(name, settings),
                after=catalogue.effective_after(name, catalogue.ARC) or pre,
            )
            for name in catalogue.names(catalogue.ARC)
        ]

    @property
    def all_steps(self) -> list[Step]:
        """Every step of the run in catalogue order (the ARC-only `approve` included), for the report."""
        by_name = {s.name: s for s in [*self.pre, *self.arc_steps, *self.post]}
        return [by_name[c.name] for c in catalogue.CATALOGUE if c.name in by_name]

    def run(self) -> None:
        Engine(self.pre, self.settings, self.listener).run()
        self.guard()
        arc = self.aws(SERVICE, self.settings.target)
        execution_id = self._start_or_resume(arc)
        self._follow(arc, execution_id)
        Engine(self.post, self.settings, self.listener).run(already=[s.name for s in self.arc_steps])

    def _comment(self) -> str:
        s = self.settings
        return f"python -m infra drill {s.kind} {s.source} -> {s.target} ({self.drill_id}) by {s.operator}"

    def _start_or_resume(self, arc) -> str:
        """The execution still running toward the target (a re-run after an interruption), else a new one.
        GetPlanExecution names no target Region: the drill's executions say it in their comment."""
        for item in arc.list_plan_executions(planArn=self.arn)["items"]:
            if item["executionState"] not in ACTIVE_STATES:
                continue
            if f"-> {self.settings.target} " in (item.get("comment") or ""):
                return item["executionId"]
            raise Refusal(
                f"execution {item['executionId']} of plan {self.arn} is '{item['executionState']}' and was not "
                f"started toward {self.settings.target} by a drill: let it finish or cancel it "
                f"(`aws arc-region-switch cancel-plan-execution --region {self.settings.target} ...`) first."
            )
        response = arc.start_plan_execution(
            planArn=self.arn,
            targetRegion=self.settings.target,
            action="activate",
            mode=catalogue.mode_of(self.settings.kind),
            comment=self._comment(),
        )
        return response["executionId"]

    def _follow(self, arc, execution_id: str) -> None:
        deadline = time.monotonic() + self.settings.step_timeout_seconds * len(catalogue.levels(catalogue.ARC))
        seen: dict[str, str] = {}
        while True:
            execution = arc.get_plan_execution(planArn=self.arn, executionId=execution_id)
            self.execution = execution
            self._record(execution, seen)
            state = execution["executionState"]
            if state in DONE_STATES:
                return
            if state not in ACTIVE_STATES:
                failed = [s["name"] for s in execution.get("stepStates", []) if s.get("status") == "failed"]
                raise StepFailed(
                    f"plan execution {execution_id} is '{state}'"
                    + (f" at {', '.join(failed)}" if failed else "")
                    + f": see `aws arc-region-switch list-plan-execution-events --region {self.settings.target} "
                    f"--plan-arn {self.arn} --execution-id {execution_id}`"
                )
            if state == "pendingManualApproval":
                self._approve(arc, execution)
            if time.monotonic() > deadline:
                raise StepFailed(f"plan execution {execution_id} still '{state}' after the drill's timeout")
            time.sleep(self.settings.poll_seconds)

    def _approve(self, arc, execution: dict[str, Any]) -> None:
        for state in execution.get("stepStates", []):
            if state.get("status") != "pendingApproval":
                continue
            self.guard()  # the fleet lock is still ours before we let the plan switch the writer
            self._approver(arc, state["name"]).approve_plan_execution_step(
                planArn=self.arn,
                executionId=execution["executionId"],
                stepName=state["name"],
                approval="approve",
                comment=f"approved by `drill --execute` ({self.drill_id}, {self.settings.operator})",
            )

    def _approver(self, arc, step_name: str):
        """A client acting as the step's approval role (ARC checks the caller is it), via the target's STS."""
        plan = arc.get_plan_in_region(arn=self.arn)["plan"]
        role = next(
            (
                s["executionBlockConfiguration"]["executionApprovalConfig"]["approvalRole"]
                for s in plan_steps(plan)
                if s["name"] == step_name and s["executionBlockType"] == "ManualApproval"
            ),
            None,
        )
        if role is None:
            return arc
        creds = self.aws("sts", self.settings.target).assume_role(
            RoleArn=role, RoleSessionName=f"drill-{self.drill_id}"[:64]
        )["Credentials"]
        approver = Aws(
            self.aws.endpoint,
            {
                "aws_access_key_id": creds["AccessKeyId"],
                "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"],
            },
            hooks=self.aws.hooks,
            endpoints=self.aws.endpoints,
        )
        return approver(SERVICE, self.settings.target)

    def _record(self, execution: dict[str, Any], seen: dict[str, str]) -> None:
        """Copy ARC's step states onto the report's steps; tell the listener what changed."""
        by_name = {s.name: s for s in self.arc_steps}
        for state in execution.get("stepStates", []):
            step = by_name.get(state["name"])
            if step is None:  # a Parallel block: its steps are reported one by one
                continue
            status = state.get("status", "notStarted")
            if seen.get(step.name) == status:
                continue
            if step.name not in seen and status != "notStarted":
                step.result = {"name": step.name, "title": step.title, "startedAt": _iso(state.get("startTime"))}
                step.result["requestIds"] = [execution["executionId"]]
                self.listener("start", step)
                if step.cutover and step.result["startedAt"] < (self.cutover_started_at or "~"):
                    self.cutover_started_at = step.result["startedAt"]
            seen[step.name] = status
            if status == "completed":
                ended = state.get("endTime")
                step.result.update(outcome="done", endedAt=_iso(ended), executor="arc")
                step.result["seconds"] = round(_seconds(state.get("startTime"), ended), 3)
                self.listener("end", step)
            elif status in ("failed", "canceled"):
                step.result.update(outcome="failed", endedAt=_iso(state.get("endTime")), executor="arc")
                step.result["error"] = f"ARC step {status} (execution {execution['executionId']})"
                self.listener("fail", step)


def _seconds(start: datetime | None, end: datetime | None) -> float:
    return max(0.0, (end - start).total_seconds()) if start is not None and end is not None else 0.0


def _arc_only(name: str, settings: DrillSettings) -> Step:
    entry = catalogue.BY_NAME[name]
    fmt = {"src": settings.source, "dst": settings.target, "percent": settings.capacity_percent}
    return Step(
        name,
        entry.title.format(**fmt),
        entry.arc_behaviour.get(catalogue.mode_of(settings.kind), ""),
        entry.why,
        after=catalogue.effective_after(name, catalogue.ARC),
    )
