"""What the emulated Region switch does for each execution block of a plan (`emulator/arc.py`), per the ARC guide's
block pages (https://docs.aws.amazon.com/r53recovery/latest/dg/region-switch-plan-block.html and the one per type).

Every AWS call goes through the emulator's moto endpoint with the current Region outage attached, as ARC's own calls
would fail into a failed Region. Durations are scaled like the health checker's (`DR_EMULATOR_TIME_SCALE`): a
10-minute block timeout is 6 s at the default 0.01.

* ManualApproval: `pendingApproval` until ApprovePlanExecutionStep (`approve` completes it, `decline` fails it).
* EKSResourceScaling: per resource, the activating Region's Deployment is scaled to `targetPercent` of the
  deactivating Region's sampled maximum (ARC samples continuously, `sampledMaxInLast24Hours`; the emulator samples at
  CreatePlan and at each execution start when that Region answers), and its HPA's `minReplicas` raised to it (the
  block's EKS access policy grants `horizontalpodautoscalers` get/patch; the exact field is an assumption), within
  the HPA's `maxReplicas`. Done when the ready replicas reach the target (ungraceful: `minimumSuccessPercentage`).
* AuroraGlobalDatabase: graceful `SwitchoverGlobalCluster` (`behavior: switchoverOnly`), ungraceful
  `FailoverGlobalCluster` with `AllowDataLoss` (`ungraceful: failover`); done when the activating Region's cluster is
  the writer. A step whose cluster already is the writer completes without a call.
* CustomActionLambda: runs the function of `regionToRun` (`activatingRegion`: the one in the target Region) - the
  emulator calls its handler (`infra/dr/actions.py`, what the function deploys) with the function's environment;
  a failure is retried after `retryIntervalMinutes` until the block's timeout.
* Route53HealthCheck: sets the plan's health checks - the activating Region's healthy, the others unhealthy (data
  plane: no Route 53 API call).
"""

from __future__ import annotations

import importlib
import math
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from infra.dr.emulator.dns import time_scale


def _region_of(arn: str) -> str:
    return arn.split(":")[3]


def _cluster_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _eks_configs(plan: dict[str, Any]):
    from infra.dr.arc_plan import plan_steps

    for step in plan_steps(plan):
        cfg = step.get("executionBlockConfiguration", {})
        if "eksResourceScalingConfig" in cfg:
            yield cfg["eksResourceScalingConfig"]


def sample_capacity(service, plan: dict[str, Any], regions: tuple[str, ...] | None = None) -> None:
    """Record the Deployments' replicas of the plan's clusters (the reachable ones): ARC's capacity sampling."""
    from infra.dr.kube import kube_for

    aws = service.aws

    for cfg in _eks_configs(plan):
        for cluster in cfg.get("eksClusters", []):
            region, name = _region_of(cluster["clusterArn"]), _cluster_name(cluster["clusterArn"])
            if regions is not None and region not in regions:
                continue
            try:
                api = kube_for(aws, region, name)
                for group in cfg.get("scalingResources", []):
                    for resources in group.values():
                        resource = resources.get(region)
                        if resource is None:
                            continue
                        spec = api.scale(resource["namespace"], resource["name"]).get("spec", {})
                        key = (cluster["clusterArn"], resource["namespace"], resource["name"])
                        service.samples[key] = max(service.samples.get(key, 0), int(spec.get("replicas", 0)))
            except Exception:  # an unreachable Region keeps its earlier samples
                continue


class StepError(RuntimeError):
    pass


class Execution:
    """One plan execution: runs the workflow in a thread; `describe()` is GetPlanExecution's answer."""

    def __init__(self, service, plan, workflow, target: str, mode: str, region: str, params: dict[str, Any]):
        self.service, self.plan, self.workflow = service, plan, workflow
        self.plan_arn, self.target, self.mode, self.region = plan["arn"], target, mode, region
        self.deactivating = next(r for r in plan["regions"] if r != target)
        self.id = uuid.uuid4().hex[:20]
        self.comment = params.get("comment")
        self.action = params["action"]
        self.state = "inProgress"
        self.start_time, self.end_time = time.time(), None
        self.steps: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self._approvals: dict[str, threading.Event] = {}
        self._approved: dict[str, str] = {}
        self._cancelled = threading.Event()
        self.aws = service.aws

    # --- API views ----------------------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        out = {
            "planArn": self.plan_arn,
            "executionId": self.id,
            "version": self.plan["version"],
            "startTime": self.start_time,
            "mode": self.mode,
            "executionState": self.state,
            "executionAction": self.action,
            "executionRegion": self.region,
            "stepStates": [dict(s) for s in self.steps.values()],
        }
        if self.comment:
            out["comment"] = self.comment
        if self.end_time is not None:
            out["endTime"] = self.end_time
            out["actualRecoveryTime"] = f"PT{self.end_time - self.start_time:.3f}S"
        return out

    def _event(self, kind: str, step: dict[str, Any] | None = None, error: str | None = None, **extra: Any) -> None:
        event = {"eventId": uuid.uuid4().hex, "timestamp": time.time(), "type": kind, **extra}
        if step is not None:
            event.update(stepName=step["name"], executionBlockType=step["executionBlockType"])
        if error:
            event["error"] = error
        if self.events:
            event["previousEventId"] = self.events[-1]["eventId"]
        self.events.append(event)

    def approve(self, step: str, approval: str, comment: str | None) -> None:
        from infra.dr.emulator.arc import ApiError

        waiting = self._approvals.get(step)
        if waiting is None or self.steps.get(step, {}).get("status") != "pendingApproval":
            raise ApiError("ResourceNotFoundException", f"step {step} is not waiting for an approval")
        self._approved[step] = approval
        waiting.set()

    def cancel(self) -> None:
        self._cancelled.set()
        for waiting in self._approvals.values():
            waiting.set()

    # --- running ------------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._event("executionStarted")
        threading.Thread(target=self._run, name=f"arc-execution-{self.id}", daemon=True).start()

    def _run(self) -> None:
        try:
            self._steps(self.workflow["steps"])
        except StepError as exc:
            self.state = "pausedByFailedStep"
            self._event("executionPaused", error=str(exc))
            return
        self.state, self.end_time = "completed", time.time()
        self._event("executionSucceeded")

    def _steps(self, steps: list[dict[str, Any]]) -> None:
        for step in steps:
            if self._cancelled.is_set():
                raise StepError("execution canceled")
            self._step(step)

    def _step(self, step: dict[str, Any]) -> None:
        state = {"name": step["name"], "status": "running", "startTime": time.time(), "stepMode": self.mode}
        self.steps[step["name"]] = state
        self._event("stepStarted", step)
        try:
            self._block(step, step.get("executionBlockConfiguration", {}))
        except Exception as exc:
            state.update(status="failed", endTime=time.time())
            self._event("stepFailed", step, error=f"{type(exc).__name__}: {exc}")
            raise StepError(f"step {step['name']} failed: {exc}") from exc
        state.update(status="completed", endTime=time.time())
        self._event("stepSucceeded", step)

    def _block(self, step: dict[str, Any], cfg: dict[str, Any]) -> None:
        kind = step["executionBlockType"]
        if kind == "Parallel":
            inner = cfg["parallelConfig"]["steps"]
            with ThreadPoolExecutor(max_workers=len(inner)) as pool:
                futures = [pool.submit(self._step, s) for s in inner]
            errors = [f.exception() for f in futures if f.exception() is not None]
            if errors:
                raise errors[0]
            return
        handler = {
            "ManualApproval": self._manual_approval,
            "EKSResourceScaling": self._eks_scaling,
            "AuroraGlobalDatabase": self._aurora,
            "CustomActionLambda": self._custom_action,
            "Route53HealthCheck": self._health_checks,
        }.get(kind)
        if handler is None:
            raise StepError(f"the emulator does not implement the {kind} block")
        handler(step, next(iter(cfg.values())))

    def _deadline(self, cfg: dict[str, Any], default_minutes: int = 60) -> float:
        return time.monotonic() + cfg.get("timeoutMinutes", default_minutes) * 60 * time_scale()

    def _wait(self, check, cfg: dict[str, Any], what: str) -> None:
        deadline = self._deadline(cfg)
        while not check():
            if time.monotonic() > deadline or self._cancelled.is_set():
                raise StepError(f"{what}: timed out after {cfg.get('timeoutMinutes', 60)} min (scaled)")
            time.sleep(0.02)

    def _manual_approval(self, step: dict[str, Any], cfg: dict[str, Any]) -> None:
        waiting = self._approvals.setdefault(step["name"], threading.Event())
        self.steps[step["name"]]["status"] = "pendingApproval"
        previous, self.state = self.state, "pendingManualApproval"
        self._event("stepPendingApproval", step)
        timeout = cfg.get("timeoutMinutes", 60) * 60 * time_scale()
        if not waiting.wait(timeout) or self._cancelled.is_set():
            raise StepError("no approval before the step's timeout")
        self.state = previous
        self.steps[step["name"]]["status"] = "running"
        if self._approved.get(step["name"]) != "approve":
            raise StepError("declined by the approver")

    def _eks_scaling(self, step: dict[str, Any], cfg: dict[str, Any]) -> None:
        from infra.dr.kube import kube_for

        sample_capacity(self.service, self.plan, (self.deactivating,))
        clusters = {_region_of(c["clusterArn"]): c["clusterArn"] for c in cfg["eksClusters"]}
        api = kube_for(self.aws, self.target, _cluster_name(clusters[self.target]))
        success = 100
        if self.mode == "ungraceful":
            success = cfg.get("ungraceful", {}).get("minimumSuccessPercentage", 100)
        wanted: list[tuple[dict[str, Any], int]] = []
        for group in cfg.get("scalingResources", []):
            for resources in group.values():
                mine, theirs = resources[self.target], resources[self.deactivating]
                key = (clusters[self.deactivating], theirs["namespace"], theirs["name"])
                basis = self.service.samples.get(key, 0)
                target = math.ceil(basis * cfg.get("targetPercent", 100) / 100)
                if mine.get("hpaName"):
                    hpa = api.hpa(mine["namespace"], mine["hpaName"])["spec"]
                    target = min(target, hpa["maxReplicas"])
                    if hpa["minReplicas"] < target:
                        api.set_hpa_min(mine["namespace"], mine["hpaName"], target)
                current = api.scale(mine["namespace"], mine["name"]).get("spec", {}).get("replicas", 0)
                if current < target:
                    api.set_scale(mine["namespace"], mine["name"], target)
                wanted.append((mine, math.ceil(target * success / 100)))

        def ready() -> bool:
            return all(
                api.deployment(r["namespace"], r["name"]).get("status", {}).get("readyReplicas", 0) >= n
                for r, n in wanted
            )

        self._wait(ready, cfg, "EKS resource scaling")

    def _aurora(self, step: dict[str, Any], cfg: dict[str, Any]) -> None:
        rds = self.aws("rds", self.target)
        arn = next(a for a in cfg["databaseClusterArns"] if _region_of(a) == self.target)
        ident = cfg["globalClusterIdentifier"]

        def writer() -> str | None:
            cluster = rds.describe_global_clusters(GlobalClusterIdentifier=ident)["GlobalClusters"][0]
            if cluster.get("Status") != "available" or cluster.get("FailoverState"):
                return None
            return next((m["DBClusterArn"] for m in cluster["GlobalClusterMembers"] if m.get("IsWriter")), None)

        if writer() != arn:
            if self.mode == "ungraceful" and cfg.get("ungraceful", {}).get("ungraceful") == "failover":
                rds.failover_global_cluster(
                    GlobalClusterIdentifier=ident, TargetDbClusterIdentifier=arn, AllowDataLoss=True
                )
            else:
                rds.switchover_global_cluster(GlobalClusterIdentifier=ident, TargetDbClusterIdentifier=arn)
        self._wait(lambda: writer() == arn, cfg, "Aurora global database")

    def _custom_action(self, step: dict[str, Any], cfg: dict[str, Any]) -> None:
        run_in = {"activatingRegion": self.target, "deactivatingRegion": self.deactivating}[cfg["regionToRun"]]
        arn = next(fn["arn"] for fn in cfg["lambdas"] if _region_of(fn["arn"]) == run_in)
        if arn not in self.service.functions:
            raise StepError(f"Lambda {arn} does not exist")
        handler_name, env = self.service.functions[arn]
        module, _, function = handler_name.rpartition(".")
        handler = getattr(importlib.import_module(f"infra.dr.{module}"), function)
        env = {
            **env,
            "AWS_REGION": run_in,
            "WAIT_SECONDS": str(float(env.get("WAIT_SECONDS", "240")) * time_scale()),
            "POLL_SECONDS": "0.02",
        }
        deadline = self._deadline(cfg)
        while True:
            try:
                handler({"StepName": step["name"]}, None, client_factory=self.aws, env=env)
                return
            except Exception as exc:
                self._event("stepUpdate", step, error=f"{type(exc).__name__}: {exc}")
                if time.monotonic() > deadline:
                    raise
                time.sleep(cfg.get("retryIntervalMinutes", 1) * 60 * time_scale())

    def _health_checks(self, step: dict[str, Any], cfg: dict[str, Any]) -> None:
        from infra.dr.emulator.arc import health_check_id

        for record_set in cfg.get("recordSets", []):
            check = health_check_id(self.plan["name"], cfg["recordName"], record_set["region"])
            self.service.emu.health.control(check, record_set["region"] == self.target)
