"""Emulator extension: AWS ARC Region switch (moto 5.2.5 has no `arc-region-switch`), for `drill --executor arc`.

Test-support code like `extensions.py`, listed in docs/dr-runbook.md. An HTTP server on 127.0.0.1 (random port)
speaking the protocol botocore uses for this service (`awsJson1_0`, `X-Amz-Target: ArcRegionSwitch.<Operation>`,
errors as `{"__type", "message"}`), implementing, after the API reference
(https://docs.aws.amazon.com/arc-region-switch/latest/api/):

* control plane: `CreatePlan` (the request is checked like the service does: `infra/dr/arc_plan.py`), `GetPlan`,
  `ListRoute53HealthChecks`;
* data plane: `GetPlanInRegion`, `ListRoute53HealthChecksInRegion`, `StartPlanExecution`, `GetPlanExecution`,
  `ListPlanExecutions`, `ListPlanExecutionEvents`, `ApprovePlanExecutionStep`.

A plan execution runs the `activate <targetRegion>` workflow's blocks in order (a `Parallel` block's steps side by
side) against the SAME emulated services the drill uses, through clients cut by the emulator's Region outage like
the drill's (`emulator/arc_blocks.py` has what each block does). Documented behaviour: a failed step pauses the
execution (`pausedByFailedStep`); a `ManualApproval` step waits in `pendingApproval` for ApprovePlanExecutionStep.
Assumptions where AWS does not document it (docs/dr-runbook.md): one active execution per plan
(IllegalStateException otherwise); the Region switch health checks are healthy until an execution sets them; their
ids here are derived from plan name, record and Region (`health_check_id`), AWS's are random.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from infra.dr.emulator.local_http import serve, shutdown

ACCOUNT = "123456789012"
TERMINAL = ("completed", "completedWithExceptions", "canceled", "failed", "planExecutionTimedOut", "pausedByFailedStep")


class ApiError(Exception):
    """An ARC error response."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.status = code, status


def health_check_id(plan_name: str, record_name: str, region: str) -> str:
    """The emulator's id of the Region switch health check for one record set (AWS generates a random one)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"arc-region-switch:{plan_name}:{record_name.rstrip('.')}:{region}"))


def plan_health_checks(plan: dict[str, Any]) -> list[dict[str, str]]:
    """The Route 53 health checks Region switch creates for a plan (API `Route53HealthCheck`), one per record set
    of its Route53HealthCheck steps; `plan` in the API shape (CreatePlan request or GetPlan)."""
    from infra.dr.arc_plan import plan_steps

    found: dict[tuple[str, str, str], dict[str, str]] = {}
    for step in plan_steps(plan):
        r53 = step.get("executionBlockConfiguration", {}).get("route53HealthCheckConfig")
        for record_set in (r53 or {}).get("recordSets", []):
            key = (r53["hostedZoneId"], r53["recordName"], record_set["region"])
            found[key] = {
                "hostedZoneId": r53["hostedZoneId"],
                "recordName": r53["recordName"],
                "region": record_set["region"],
                "healthCheckId": health_check_id(plan["name"], r53["recordName"], record_set["region"]),
            }
    return list(found.values())


class ArcService:
    """The plans and executions; `functions` maps a Lambda ARN to (handler name, environment) for custom actions."""

    def __init__(self, emulator) -> None:
        self.emu = emulator
        self.plans: dict[str, dict[str, Any]] = {}
        self.executions: dict[str, Any] = {}
        self.functions: dict[str, tuple[str, dict[str, str]]] = {}
        self.samples: dict[tuple[str, str, str], int] = {}  # (cluster, namespace, deployment) -> max replicas seen
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0
        self._aws = None

    @property
    def aws(self):
        """The service's own clients of the emulated services, made once (making boto3 clients is the slow part) and
        cut by the emulator's current Region outage, as ARC's calls into a failed Region would fail."""
        if self._aws is None:
            from infra.dr.drill import Aws
            from infra.dr.emulator import CREDENTIALS

            self._aws = Aws(self.emu.endpoint, CREDENTIALS, hooks=(self.emu.outages.attach,), max_attempts=1)
        return self._aws

    # --- server -------------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ArcService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet: the drill prints its own progress
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
                region = _signing_region(self.headers.get("Authorization", ""))
                try:
                    status, payload = 200, service.call(operation, json.loads(body or b"{}"), region)
                except ApiError as exc:
                    status, payload = exc.status, {"__type": exc.code, "message": str(exc)}
                data = json.dumps(payload, default=str).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = serve(Handler, "emulator-arc")
        self.port = self._server.server_port
        return self

    def stop(self) -> None:
        shutdown(self._server)
        self._server = None

    def reset(self) -> None:
        with self.lock:
            for execution in self.executions.values():
                execution.cancel()
            self.plans.clear()
            self.executions.clear()
            self.functions.clear()
            self.samples.clear()

    # --- operations ---------------------------------------------------------------------------------------------
    def call(self, operation: str, params: dict[str, Any], region: str) -> dict[str, Any]:
        from infra.dr.arc_plan import problems

        handler = getattr(self, f"_op_{_snake(operation)}", None)
        if handler is None:
            raise ApiError("UnknownOperationException", f"{operation} is not implemented by the emulator")
        found = problems(params, operation)
        if found:
            raise ApiError("ValidationException", "; ".join(found[:5]))
        with self.lock:
            return handler(params, region)

    def _plan(self, arn: str) -> dict[str, Any]:
        if arn not in self.plans:
            raise ApiError("ResourceNotFoundException", f"plan {arn} not found")
        return self.plans[arn]

    def _op_create_plan(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        suffix = hashlib.sha256(params["name"].encode()).hexdigest()[:6]
        arn = f"arn:aws:arc-region-switch::{ACCOUNT}:plan/{params['name']}:{suffix}"
        if arn in self.plans:
            raise ApiError("IllegalStateException", f"plan {params['name']} already exists")
        plan = {**params, "arn": arn, "owner": ACCOUNT, "version": "1", "updatedAt": time.time()}
        plan.pop("tags", None)
        self.plans[arn] = plan
        from moto.route53.models import HealthCheck, route53_backends

        r53 = route53_backends[ACCOUNT]["global"]
        for check in plan_health_checks(plan):
            made = HealthCheck(check["healthCheckId"], f"arc-{arn}", {"type": "RECOVERY_CONTROL"})
            r53.health_checks[check["healthCheckId"]] = made
        from infra.dr.emulator.arc_blocks import sample_capacity

        sample_capacity(self, plan)
        return {"plan": plan}

    def _op_get_plan(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        return {"plan": self._plan(params["arn"])}

    _op_get_plan_in_region = _op_get_plan

    def _op_list_route53_health_checks(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        plan = self._plan(params["arn"])
        checks = [
            {**c, "status": "healthy" if self.emu.health.healthy(c["healthCheckId"]) else "unhealthy"}
            for c in plan_health_checks(plan)
            if params.get("recordName") in (None, c["recordName"])
            and params.get("hostedZoneId") in (None, c["hostedZoneId"])
        ]
        return {"healthChecks": checks}

    _op_list_route53_health_checks_in_region = _op_list_route53_health_checks

    def _op_start_plan_execution(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        from infra.dr.emulator.arc_blocks import Execution

        plan = self._plan(params["planArn"])
        target, action = params["targetRegion"], params["action"]
        if target not in plan["regions"]:
            raise ApiError("IllegalArgumentException", f"{target} is not a Region of plan {plan['name']}")
        workflow = next(
            (
                w
                for w in plan["workflows"]
                if w["workflowTargetAction"] == action and w.get("workflowTargetRegion", target) == target
            ),
            None,
        )
        if workflow is None:
            raise ApiError("IllegalArgumentException", f"plan {plan['name']} has no '{action} {target}' workflow")
        active = [e for e in self.executions.values() if e.plan_arn == plan["arn"] and e.state not in TERMINAL]
        if active:
            raise ApiError("IllegalStateException", f"execution {active[0].id} of this plan is still {active[0].state}")
        execution = Execution(self, plan, workflow, target, params.get("mode", "graceful"), region, params)
        self.executions[execution.id] = execution
        execution.start()
        other = next(r for r in plan["regions"] if r != target)
        return {
            "executionId": execution.id,
            "plan": plan["arn"],
            "planVersion": plan["version"],
            "activateRegion": target,
            "deactivateRegion": other,
        }

    def _execution(self, params: dict[str, Any]):
        self._plan(params["planArn"])
        execution = self.executions.get(params["executionId"])
        if execution is None or execution.plan_arn != params["planArn"]:
            raise ApiError("ResourceNotFoundException", f"execution {params['executionId']} not found")
        return execution

    def _op_get_plan_execution(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        return self._execution(params).describe()

    def _op_list_plan_executions(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        self._plan(params["planArn"])
        items = [
            {k: v for k, v in e.describe().items() if k not in ("stepStates", "plan")}
            for e in self.executions.values()
            if e.plan_arn == params["planArn"] and params.get("state") in (None, e.state)
        ]
        return {"items": items}

    def _op_list_plan_execution_events(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        execution = self._execution(params)
        return {"items": [e for e in execution.events if params.get("name") in (None, e.get("stepName"))]}

    def _op_approve_plan_execution_step(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        self._execution(params).approve(params["stepName"], params["approval"], params.get("comment"))
        return {}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _signing_region(authorization: str) -> str:
    """The Region of a SigV4 `Authorization` header's credential scope (`Credential=<key>/<date>/<region>/...`)."""
    match = re.search(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/", authorization)
    return match.group(1) if match else "us-east-1"
