"""The ARC Region switch part of seeding (`drill --executor arc --local`): the rollout an operator does, in order.

1. `with_plan_health_checks(root, plans)`: after the plan's first deploy, each stack file gets
   `platform:dr.regionSwitch.healthCheckId` - the health check Region switch created for that Region's api-origin
   record set - and is planned again (the records then answer through a CALCULATED check of it and the endpoint
   check). Done on a temporary copy of the stack files; the committed ones are never edited.
2. `register_plans(emu, plans, outputs)`: CreatePlan in the emulator from each secondary's planned
   `aws:arcregionswitch/plan:Plan` (the request the provider sends, `infra/dr/arc_plan.py`), with the identifiers
   AWS generates replaced by the emulator's (cluster ARNs, zone id, function ARNs), and the custom-action Lambdas
   registered with the environment their planned functions carry.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path
from typing import Any

from infra.dr.arc_plan import request
from infra.dr.emulator.arc import ACCOUNT, plan_health_checks
from infra.plan.model import Plan

PLAN = "aws:arcregionswitch/plan:Plan"
FUNCTION = "aws:lambda/function:Function"


def plan_checks(plans: dict[str, Plan]) -> dict[str, str]:
    """Region -> the health check id Region switch gives that Region's record set (over every planned plan)."""
    out: dict[str, str] = {}
    for plan in plans.values():
        for resource in plan.of_type(PLAN):
            for check in plan_health_checks(request(resource.inputs)):
                out[check["region"]] = check["healthCheckId"]
    return out


def with_plan_health_checks(root: Path, plans: dict[str, Plan], planner_factory) -> dict[str, Plan]:
    """The plans after step 1 of the rollout (module docstring); `planner_factory(root)` makes the Planner."""
    from infra.dr.reconcile import fresh_copy

    checks = plan_checks(plans)
    copy_root = fresh_copy(root)
    try:
        for stack in plans:
            if stack in checks:
                path = copy_root / f"Pulumi.{stack}.yaml"
                path.write_text(_set_health_check(path.read_text(), checks[stack], path.name))
        planner = planner_factory(copy_root)
        return {stack: planner.plan(stack) for stack in plans}
    finally:
        shutil.rmtree(copy_root, ignore_errors=True)


def _set_health_check(text: str, check_id: str, name: str) -> str:
    """Add `healthCheckId` under `platform:dr` -> `regionSwitch:` (text edit: the file's comments stay)."""
    match = re.search(r"^(?P<indent>[ ]+)regionSwitch:[^\n]*\n", text, flags=re.MULTILINE)
    if match is None:
        raise ValueError(f"{name}: no `regionSwitch:` section under `platform:dr` to add healthCheckId to")
    indent = match.group("indent") + "  "
    return text[: match.end()] + f"{indent}healthCheckId: {check_id}\n" + text[match.end() :]


def register_plans(emu, plans: dict[str, Plan], outputs: dict[str, dict[str, Any]]) -> None:
    """Step 2 (module docstring); sets each secondary's `regionSwitchPlanArn` output to the emulator's ARN."""
    region_of = {stack: out.get("region", stack) for stack, out in outputs.items()}
    datastore = next(
        (o["redisGlobalReplicationGroupId"] for o in outputs.values() if o.get("redisGlobalReplicationGroupId")), None
    )
    functions: dict[str, str] = {}  # function name -> the emulator's ARN
    for stack, plan in plans.items():
        for fn in plan.of_type(FUNCTION):
            handler = fn.inputs.get("handler", "")
            if not handler.startswith("actions."):
                continue
            env = dict((fn.inputs.get("environment") or {}).get("variables") or {})
            if datastore and "GLOBAL_DATASTORE_ID" in env:
                env["GLOBAL_DATASTORE_ID"] = datastore  # AWS generates the id (prefix + suffix)
            arn = f"arn:aws:lambda:{region_of[stack]}:{ACCOUNT}:function:{fn.inputs['name']}"
            functions[fn.inputs["name"]] = arn
            emu.arc.functions[arn] = (handler, env)
    clusters = {
        region_of[s]: emu.client("eks", region_of[s]).describe_cluster(name=o["eksClusterName"])["cluster"]["arn"]
        for s, o in outputs.items()
        if o.get("eksClusterName")
    }
    aurora = {region_of[s]: o["auroraClusterArn"] for s, o in outputs.items() if o.get("auroraClusterArn")}
    zone = next((o["hostedZoneId"] for o in outputs.values() if o.get("hostedZoneId")), None)
    for stack, plan in plans.items():
        for resource in plan.of_type(PLAN):
            params = _substitute(request(copy.deepcopy(resource.inputs)), clusters, aurora, functions, zone)
            arn = emu.client("arc-region-switch", "us-east-1").create_plan(**params)["plan"]["arn"]
            outputs[stack]["regionSwitchPlanArn"] = arn


def _substitute(node: Any, clusters, aurora, functions, zone) -> Any:
    if isinstance(node, list):
        return [_substitute(item, clusters, aurora, functions, zone) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _substitute(v, clusters, aurora, functions, zone) for k, v in node.items()}
    if "clusterArn" in out:
        out["clusterArn"] = clusters.get(out["clusterArn"].split(":")[3], out["clusterArn"])
    if "databaseClusterArns" in out:
        out["databaseClusterArns"] = [aurora.get(a.split(":")[3], a) for a in out["databaseClusterArns"]]
    if "lambdas" in out:
        out["lambdas"] = [
            {**fn, "arn": functions.get(re.split(r"function[:/]", fn["arn"])[-1], fn["arn"])} for fn in out["lambdas"]
        ]
    if "hostedZoneId" in out and zone:
        out["hostedZoneId"] = zone
    return out
