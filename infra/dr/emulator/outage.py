"""A Region outage for `--local` drills, cut at the transport: requests fail as they do when a Region is down.

`RegionOutage(region).attach(client)` registers a botocore `before-send` handler on a client. For every request the
client would send to an endpoint that lives in the failed Region, the handler raises botocore's own
`EndpointConnectionError` (the error a refused or unroutable connection gives) instead of sending it; botocore's
retry handler and the caller then see exactly what a real outage shows. The program under test cannot tell: it gets
no response, no request id, no tidy API error. Requests to other Regions go out unchanged.

Which endpoint a request goes to is AWS's own data: a regional service's endpoint is in the client's Region; a
global ("partition") service has one endpoint whose credential scope is its control plane's Region, as botocore's
`endpoints.json` records (`partitionEndpoint` + `credentialScope.region`). With the us-east-1 outage that cuts Route 53
(API), IAM, CloudFront, Budgets, Organizations, Account, Cost Explorer, Health, Shield, WAF Classic, Support, the STS
*global* endpoint (`sts.amazonaws.com`; regional STS endpoints survive) and the rest of `GLOBAL_SERVICES`; the
us-west-2 outage cuts Network Manager and the ARC control-plane API (`route53-recovery-control-config`). This
matches AWS's list of global services and their control-plane Regions (AWS Fault Isolation Boundaries whitepaper,
"Global services": https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/global-services.html).

Per operation: what botocore's endpoint rules send to a control plane in the partition leader
(`UseControlPlaneEndpoint`: ARC Region switch's CreatePlan/UpdatePlan/GetPlan/ListPlans/ListRoute53HealthChecks) is
cut with us-east-1; that service's data plane (StartPlanExecution, GetPlanExecution, ...) is regional.

Not cut: Route 53 DNS answers and health checkers, ARC routing-control cluster endpoints (data planes that AWS runs
in many Regions and PoPs) - the emulator's DNS server and health checker model them (`emulator/dns.py`).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError

# Global services whose endpoints.json entry has no partitionEndpoint but one home Region (ARC's control plane).
_EXTRA_GLOBAL = {"route53-recovery-control-config": "us-west-2"}
# Clients of these use the service's single global endpoint whatever their region_name is.
_GLOBAL_CLIENT_REGIONS = ("aws-global", "global")


@cache
def global_services() -> dict[str, str]:
    """{service: Region of its control plane} for the aws partition, from botocore's endpoint data."""
    import botocore

    data = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    aws = next(p for p in data["partitions"] if p["partition"] == "aws")
    out: dict[str, str] = {}
    for name, svc in aws["services"].items():
        partition_endpoint = svc.get("partitionEndpoint")
        if not partition_endpoint:
            continue
        scope = svc.get("endpoints", {}).get(partition_endpoint, {}).get("credentialScope", {})
        regionalized = svc.get("isRegionalized", True)
        if scope.get("region") and (regionalized is False or name == "sts"):
            out[name] = scope["region"]
    out.update(_EXTRA_GLOBAL)
    return out


@cache
def _control_plane_operations(service: str) -> frozenset[str]:
    """Operations botocore's endpoint rules send to the service's control plane in the partition leader
    (`UseControlPlaneEndpoint`, e.g. ARC Region switch's CreatePlan / GetPlan: `...-control-plane.us-east-1`)."""
    import botocore.session

    try:
        model = botocore.session.get_session().get_service_model(service)
    except Exception:
        return frozenset()

    def control_plane(name: str) -> bool:
        params = model.operation_model(name).static_context_parameters
        return any(p.name == "UseControlPlaneEndpoint" and p.value for p in params)

    return frozenset(name for name in model.operation_names if control_plane(name))


def endpoint_region(service: str, client_region: str, operation: str | None = None) -> str:
    """The Region a request of `service` made by a client in `client_region` is served from (in real AWS)."""
    if operation is not None and operation in _control_plane_operations(service):
        return "us-east-1"  # the aws partition's leader Region
    home = global_services().get(service)
    if home is None:
        return client_region
    if service == "sts":  # STS: regional endpoints are the default (botocore sts_regional_endpoints=regional)
        return home if client_region in _GLOBAL_CLIENT_REGIONS else client_region
    return home


FAILURES = ("refused", "timeout")
# Services whose control-plane operations go to the partition leader while their data plane is regional.
CONTROL_PLANE_SERVICES = ("arc-region-switch",)  # connection refused/unroutable, or the connect timing out


@dataclass
class RegionOutage:
    """Every request to an endpoint in `region` fails to connect; `log` keeps what was attempted (for the report).

    `failure`: "refused" raises `EndpointConnectionError` (no route / connection refused); "timeout" raises
    `ConnectTimeoutError` (what a black-holed endpoint gives after the client's connect timeout, without the wait)."""

    region: str
    failure: str = "refused"
    log: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def cuts(self, service: str, client_region: str, operation: str | None = None) -> bool:
        return endpoint_region(service, client_region, operation) == self.region

    def cut_services(self) -> list[str]:
        """The global services this outage takes down (regional services of `region` go down too)."""
        return sorted(s for s, home in global_services().items() if home == self.region)

    def attach(self, client) -> None:
        """Cut this client's requests into the failed Region (for clients made for one drill)."""
        switch = OutageSwitch()
        switch.current = self
        switch.attach(client)

    def summary(self) -> dict[str, Any]:
        """For the report: what was cut and how many requests the program attempted into the failed Region."""
        with self._lock:
            into = [e for e in self.log if e["endpointRegion"] == self.region]
        return {
            "region": self.region,
            "failure": self.failure,
            "cut": [
                f"every regional endpoint of {self.region}",
                *(f"{s} (global endpoint only)" if s == "sts" else f"{s} (global)" for s in self.cut_services()),
                *(
                    f"{s} control plane ({', '.join(sorted(_control_plane_operations(s)))}; data plane regional)"
                    for s in CONTROL_PLANE_SERVICES
                    if self.region == "us-east-1"
                ),
            ],
            "requestsToFailedRegion": len(into),
            "sentToFailedRegion": sum(1 for e in into if not e["cut"]),
            "services": sorted({e["service"] for e in into}),
        }


class OutageSwitch:
    """One hook for long-lived clients: requests follow whichever outage is current (None: every Region is up).

    The emulator owns one; `Emulator.region_outage` sets it, `Emulator.reset` clears it. Clients attached once keep
    working across drills (making a boto3 client costs far more than a request to the emulator)."""

    def __init__(self) -> None:
        self.current: RegionOutage | None = None

    def attach(self, client) -> None:
        service = client.meta.service_model.service_name
        region = client.meta.region_name

        def before_send(request, event_name: str = "", **_: Any):
            outage = self.current
            if outage is None:
                return None
            operation = event_name.rpartition(".")[2] or None  # before-send.<service-id>.<Operation>
            cut = outage.cuts(service, region, operation)
            where = endpoint_region(service, region, operation)
            with outage._lock:
                outage.log.append({"service": service, "endpointRegion": where, "cut": cut})
            if cut:
                if outage.failure == "timeout":
                    raise ConnectTimeoutError(endpoint_url=request.url)
                raise EndpointConnectionError(endpoint_url=request.url)
            return None

        client.meta.events.register("before-send", before_send)
