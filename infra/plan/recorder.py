"""Mocks and a recording monitor: the engine's view of every registration, for the offline plan."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

from infra.plan import fakes
from infra.plan.model import PlannedResource
from infra.plan.observed import Observed, StaticObserved, parameters_by_path

STACK_REFERENCE = "pulumi:pulumi:StackReference"
SSM_BY_PATH = "aws:ssm/getParametersByPath:getParametersByPath"
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
_ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"


class PlanError(Exception):
    """The program cannot be planned offline (e.g. an invoke or stack output the plan cannot answer)."""


class PlatformMocks(Mocks):
    """Answers registrations with echoed inputs plus faked computed outputs; StackReferences from partner plans;
    SSM reads from an observed state (default: none, as on a first deploy)."""

    def __init__(self, stack_outputs: dict[str, dict[str, Any]] | None = None, observed: Observed | None = None):
        self.stack_outputs = stack_outputs or {}
        self.observed = observed or StaticObserved()
        self.provider_regions: dict[str, str] = {}

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ == STACK_REFERENCE:
            return self._stack_reference(args)
        if args.typ.startswith("pulumi:providers:"):
            if "region" in args.inputs:
                self.provider_regions[args.name] = args.inputs["region"]
            return f"{args.name}-provider-id", dict(args.inputs)
        region = args.inputs.get("region") or self._provider_region(args.provider)
        physical = args.resource_id or fakes.fake_id(args.typ, args.name, args.inputs, region)
        state = fakes.computed_outputs(args.typ, args.name, physical, args.inputs, region)
        state.update(args.inputs)
        return physical, state

    def call(self, args: MockCallArgs) -> dict[str, Any]:
        if args.token == SSM_BY_PATH:
            region = args.args.get("region") or self._provider_region(args.provider)
            return parameters_by_path(self.observed, region, args.args)
        handler = fakes.INVOKES.get(args.token)
        if handler is None:
            raise PlanError(
                f"the offline plan cannot answer the invoke '{args.token}'; add a fake to infra/plan/fakes.py "
                "or pass the value in as an input instead of looking it up"
            )
        return handler(args.args)

    def _provider_region(self, provider_ref: str | None) -> str:
        if provider_ref:
            name = provider_ref.rsplit("::", 1)[0].rsplit("::", 1)[-1]
            if name in self.provider_regions:
                return self.provider_regions[name]
        return "us-east-1"

    def _stack_reference(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        full_name = str(args.inputs.get("name") or args.resource_id)
        stack = full_name.rsplit("/", 1)[-1]
        if stack not in self.stack_outputs:
            raise PlanError(f"StackReference '{full_name}': no plan of stack '{stack}' to read outputs from")
        return full_name, {"name": full_name, "outputs": self.stack_outputs[stack], "secretOutputNames": []}


class RecordingMonitor(MockMonitor):
    """A MockMonitor that also keeps what the engine would receive: parent, dependencies, provider, inputs."""

    def __init__(self, mocks: PlatformMocks, on_record: Callable[[int], None] | None = None):
        super().__init__(mocks)
        self.records: list[PlannedResource] = []
        self._lock = threading.Lock()
        self._on_record = on_record  # progress: called with the number of registrations so far

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self._record(response.urn, request, request.object, custom=bool(request.custom))
        return response

    def ReadResource(self, request):
        response = super().ReadResource(request)
        self._record(response.urn, request, request.properties, custom=True)
        return response

    def _record(self, urn: str, request, struct, custom: bool) -> None:
        parent = request.parent or None
        if parent and parent.split("::")[-2].endswith("pulumi:pulumi:Stack"):
            parent = None
        record = PlannedResource(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=parent,
            custom=custom,
            provider=(request.provider.rsplit("::", 1)[0] if request.provider else None),
            inputs=clean(json_format.MessageToDict(struct)),
            dependencies=sorted(set(request.dependencies)),
            options=_options(request),
        )
        with self._lock:
            self.records.append(record)
            count = len(self.records)
        if self._on_record is not None:
            self._on_record(count)


def _options(request) -> dict[str, Any]:
    """The lifecycle options of a registration (ReadResource requests carry none)."""
    if not hasattr(request, "retainOnDelete"):
        return {"protect": False, "retainOnDelete": False, "ignoreChanges": [], "deleteBeforeReplace": False}
    return {
        "protect": bool(request.protect),
        "retainOnDelete": bool(request.retainOnDelete),
        "ignoreChanges": sorted(request.ignoreChanges),
        "deleteBeforeReplace": bool(request.deleteBeforeReplace),
    }


def clean(value: Any) -> Any:
    """Wire values -> plain JSON: secrets `[secret]`, unknowns `[unknown]`, resource refs their URN."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET_SIG:
            return "[secret]"
        if sig == _RESOURCE_SIG:
            return value.get("urn")
        if sig == _ASSET_SIG:
            return "[asset]"
        if sig == _ARCHIVE_SIG:
            return "[archive]"
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == rpc.UNKNOWN:
        return "[unknown]"
    return value
