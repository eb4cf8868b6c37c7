"""The ARC Region switch plan as AWS receives it: pulumi-aws `aws.arcregionswitch.Plan` inputs -> CreatePlan request.

pulumi-aws (through terraform-provider-aws, `internal/service/arcregionswitch/expand.go`) nests every block's
configuration in a one-item list at the step (`globalAuroraConfigs: [{...}]`) and renames a few API members; the API
(`ExecutionBlockConfiguration`, botocore's `arc-region-switch` model) has one configuration member per step. `request()`
does the provider's expansion, so the mock runtime's plan can be checked against what the API accepts (`problems()`:
botocore's parameter validation plus the length and pattern rules of the model, which botocore does not enforce
client-side but the service does). The emulator's CreatePlan (`infra/dr/emulator/arc.py`) runs the same checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

# pulumi-aws step member -> API ExecutionBlockConfiguration member
CONFIG_KEYS = {
    "executionApprovalConfigs": "executionApprovalConfig",
    "eksResourceScalingConfigs": "eksResourceScalingConfig",
    "globalAuroraConfigs": "globalAuroraConfig",
    "customActionLambdaConfigs": "customActionLambdaConfig",
    "route53HealthCheckConfigs": "route53HealthCheckConfig",
    "parallelConfigs": "parallelConfig",
    "arcRoutingControlConfigs": "arcRoutingControlConfig",
}
# pulumi-aws nested one-item lists that are single structures in the API
SINGULAR = {"ungracefuls": "ungraceful", "kubernetesResourceTypes": "kubernetesResourceType"}
PLAN_KEYS = ("name", "regions", "primaryRegion", "recoveryApproach", "executionRole", "description")


def request(inputs: dict[str, Any]) -> dict[str, Any]:
    """The CreatePlan request the provider sends for these Plan inputs (camelCase, as the plan JSON shows them)."""
    out = {k: inputs[k] for k in PLAN_KEYS if inputs.get(k) is not None}
    if inputs.get("recoveryTimeObjectiveMinutes") is not None:
        out["recoveryTimeObjectiveMinutes"] = inputs["recoveryTimeObjectiveMinutes"]
    out["workflows"] = [
        {
            **{k: w[k] for k in ("workflowTargetAction", "workflowTargetRegion", "workflowDescription") if k in w},
            "steps": [_step(s) for s in w.get("steps", [])],
        }
        for w in inputs.get("workflows", [])
    ]
    return out


def _step(step: dict[str, Any]) -> dict[str, Any]:
    out = {k: step[k] for k in ("name", "description", "executionBlockType") if k in step}
    config: dict[str, Any] = {}
    for key, api_key in CONFIG_KEYS.items():
        items = step.get(key) or []
        if items:
            config[api_key] = _config(api_key, items[0])
    out["executionBlockConfiguration"] = config
    return out


def _config(api_key: str, cfg: dict[str, Any]) -> dict[str, Any]:
    if api_key == "parallelConfig":
        return {"steps": [_step(s) for s in cfg.get("steps", [])]}
    out: dict[str, Any] = {}
    for key, value in cfg.items():
        if value is None:
            continue
        if key in SINGULAR:
            out[SINGULAR[key]] = value[0] if value else None
        elif key == "scalingResources":
            # [{namespace: K, resources: [{resourceName: R, ...}]}] -> [{K: {R: {name, namespace, hpaName}}}]
            out[key] = [
                {
                    group["namespace"]: {
                        r["resourceName"]: {k: r[k] for k in ("name", "namespace", "hpaName") if r.get(k)}
                        for r in group.get("resources", [])
                    }
                }
                for group in value
            ]
        else:
            out[key] = value
    return {k: v for k, v in out.items() if v is not None}


def plan_steps(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every step of every workflow of a plan in the API shape, a Parallel block's steps after the block."""

    def visit(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for step in steps:
            yield step
            yield from visit(step.get("executionBlockConfiguration", {}).get("parallelConfig", {}).get("steps", []))

    for workflow in plan.get("workflows", []):
        yield from visit(workflow.get("steps", []))


@cache
def _model():
    import botocore.session

    return botocore.session.get_session().get_service_model("arc-region-switch")


def problems(params: dict[str, Any], operation: str = "CreatePlan") -> list[str]:
    """What the service would reject in `params`: botocore's validation (types, required members) and every string,
    list and map key against the model's `pattern`, `min` and `max` (the server-side ValidationException rules)."""
    from botocore.validate import ParamValidator

    shape = _model().operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    found = [line.strip() for line in report.generate_report().splitlines()[1:] if line.strip()]
    _walk(params, shape, operation, found)
    return found


def _walk(value: Any, shape, path: str, found: list[str]) -> None:
    meta = shape.metadata
    if shape.type_name == "string" and isinstance(value, str):
        if "pattern" in meta and not re.fullmatch(meta["pattern"], value):
            found.append(f"{path}: {value!r} does not match {meta['pattern']}")
        if len(value) < meta.get("min", 0) or len(value) > meta.get("max", len(value)):
            found.append(f"{path}: length {len(value)} outside {meta.get('min', 0)}..{meta.get('max')}")
    elif shape.type_name == "structure" and isinstance(value, dict):
        for key, item in value.items():
            if key in shape.members:
                _walk(item, shape.members[key], f"{path}.{key}", found)
    elif shape.type_name == "list" and isinstance(value, list):
        if len(value) < meta.get("min", 0):
            found.append(f"{path}: {len(value)} items, at least {meta['min']} required")
        for i, item in enumerate(value):
            _walk(item, shape.member, f"{path}[{i}]", found)
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            _walk(key, shape.key, f"{path} key", found)
            _walk(item, shape.value, f"{path}[{key}]", found)
