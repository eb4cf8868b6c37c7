"""Route 53's data plane in the emulator: a health checker and an authoritative DNS server over moto's zones.

Real Route 53 has two data planes that keep working when its control plane (the API, in us-east-1) is down: the
health checkers, and the authoritative DNS servers that answer from the zones plus the health-check results
(https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/appendix-b---edge-network-global-service-guidance.html).
This module models both, reading the records and health checks from moto's Route 53 backend (so whatever the drill
or the seed wrote through the API is what DNS answers):

* `HealthChecker`: a check is healthy unless the Region of its endpoint is under an emulated outage for longer than
  `RequestInterval x FailureThreshold` (the check's own settings; "How Route 53 determines whether a health check is
  healthy": https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html),
  scaled by `DR_EMULATOR_TIME_SCALE` (default 0.01: 30 s of detection take 0.3 s).
* Health checks Region switch controls (`emulator/arc.py`: the ones a plan's Route53HealthCheck step creates) report
  the state the last execution set (`controlled`), healthy until then. CALCULATED checks are healthy while at least
  `HealthThreshold` children are ("Creating and updating health checks", calculated health checks).
* `DnsServer`: UDP DNS on 127.0.0.1 answering A queries. Failover records: the PRIMARY if its check is healthy, else
  a healthy SECONDARY, else the PRIMARY (Route 53 answers the primary when both are unhealthy). Weighted: the
  healthy record with the highest weight, a healthy zero-weight record only when every non-zero one is unhealthy,
  else the highest weight (Route 53 answers at random in proportion to the weights; the emulator is deterministic).
  Alias targets outside the zones (ALBs) answer a fixed address per target name, with the 60 s TTL Route 53 gives
  alias records to ELB (Route 53 FAQ, "DNS failover ... alias records with a fixed TTL of 60 seconds").
* `install_status_api`: moto's `GetHealthCheckStatus` reports what the checker sees (Failure once unhealthy).
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from typing import Any

ALIAS_TTL_SECONDS = 60


def time_scale() -> float:
    return float(os.environ.get("DR_EMULATOR_TIME_SCALE", "0.01"))


def _route53():
    from moto.route53.models import route53_backends

    return [b["global"] for b in route53_backends.values()]


class HealthChecker:
    """Status of the emulated health checks; an outage of a Region fails the checks of its endpoints."""

    def __init__(self) -> None:
        self.check_region: dict[str, str] = {}  # health check id -> Region of the endpoint it probes
        self.outages: dict[str, float] = {}  # Region -> monotonic start
        self.controlled: dict[str, bool] = {}  # Region switch health check id -> healthy (set by a plan execution)
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.check_region.clear()
            self.outages.clear()
            self.controlled.clear()

    def control(self, check_id: str, healthy: bool) -> None:
        """A Region switch execution sets one of its health checks (data plane: no Route 53 API call)."""
        with self._lock:
            self.controlled[check_id] = healthy

    def region_down(self, region: str) -> None:
        with self._lock:
            self.outages.setdefault(region, time.monotonic())

    def region_up(self, region: str) -> None:
        with self._lock:
            self.outages.pop(region, None)

    def _check(self, check_id: str):
        for backend in _route53():
            if check_id in backend.health_checks:
                return backend.health_checks[check_id]
        return None

    def healthy(self, check_id: str | None, depth: int = 0) -> bool:
        if check_id is None:
            return True
        with self._lock:
            if check_id in self.controlled:
                return self.controlled[check_id]
        check = self._check(check_id)
        children = getattr(check, "children", None) or []
        if children and depth < 2:
            threshold = int(getattr(check, "health_threshold", None) or len(children))
            return sum(self.healthy(c, depth + 1) for c in children) >= threshold
        with self._lock:
            region = self.check_region.get(check_id)
            since = self.outages.get(region) if region else None
        if since is None:
            return True
        check = self._check(check_id)
        interval = getattr(check, "request_interval", 30) or 30
        threshold = getattr(check, "failure_threshold", 3) or 3
        return time.monotonic() - since < int(interval) * int(threshold) * time_scale()


_ACTIVE: list[HealthChecker] = []  # the running emulator's checker (moto's response classes are per process)


def install_status_api(checker: HealthChecker) -> None:
    """moto's `GetHealthCheckStatus` always reports Success; report the emulated checker's view instead: every
    checker Region observes `Failure` once the check is unhealthy (API reference, HealthCheckObservation)."""
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.route53.responses import Route53

    _ACTIVE[:] = [checker]
    if getattr(Route53, "_dr_status_api", False):
        return
    original = Route53.get_health_check_status

    def get_health_check_status(self) -> ActionResult:
        result = original(self)  # validates the id (NoSuchHealthCheck)
        check_id = self._get_param("HealthCheckId")
        if not _ACTIVE or _ACTIVE[0].healthy(check_id):
            return result
        check = _ACTIVE[0]._check(check_id)
        regions = list(getattr(check, "regions", None) or ["us-east-1", "us-west-2", "eu-west-1"])
        status = "Failure: Connection timed out. The endpoint or the internet connection is down."
        now = utcnow()
        return ActionResult(
            {
                "HealthCheckObservations": [
                    {
                        "Region": r,
                        "IPAddress": "127.0.13.37",
                        "StatusReport": {"Status": status, "CheckedTime": now},
                    }
                    for r in regions
                ]
            }
        )

    Route53.get_health_check_status = get_health_check_status
    Route53._dr_status_api = True


def _address(name: str) -> str:
    digest = hashlib.sha256(name.lower().rstrip(".").encode()).digest()
    return f"10.{digest[0]}.{digest[1]}.{max(digest[2], 1)}"


class DnsServer:
    """Authoritative answers for moto's hosted zones (A queries), through the health checker."""

    def __init__(self, checker: HealthChecker):
        self.checker = checker
        self.port = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> DnsServer:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="emulator-dns", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        sock, self._sock = self._sock, None
        if self._thread is not None:
            self._thread.join(timeout=2)
        if sock is not None:
            sock.close()

    def _serve(self) -> None:
        import dns.message
        import dns.rcode
        import dns.rrset

        while self._sock is not None:
            sock = self._sock
            try:
                data, peer = sock.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            try:
                query = dns.message.from_wire(data)
                response = dns.message.make_response(query)
                question = query.question[0]
                found = self.answer(question.name.to_text())
                if found is None:
                    response.set_rcode(dns.rcode.NXDOMAIN)
                else:
                    addresses, ttl = found
                    response.answer.append(dns.rrset.from_text_list(question.name, ttl, "IN", "A", addresses))
                sock.sendto(response.to_wire(), peer)
            except Exception:  # a malformed query gets no answer, as from a real server under load
                continue

    # --- resolution --------------------------------------------------------------------------------------------
    def _records(self, name: str) -> list[Any]:
        key = name.lower().rstrip(".") + "."
        out = []
        for backend in _route53():
            for zone in backend.zones.values():
                out += [r for r in zone.rrsets if r.name.lower().rstrip(".") + "." == key and r.type == "A"]
        return out

    def _pick(self, records: list[Any]) -> Any | None:
        if not records:
            return None
        healthy = [r for r in records if self.checker.healthy(r.health_check_id)]
        failover = [r for r in records if r.failover]
        if failover:
            primary = next((r for r in failover if r.failover == "PRIMARY"), None)
            if primary is not None and primary in healthy:
                return primary
            secondary = next((r for r in healthy if r.failover == "SECONDARY"), None)
            return secondary or primary or failover[0]
        weighted = [r for r in records if r.weight is not None]
        if weighted:
            # Route 53: healthy non-zero records first; zero-weight records only when every non-zero one is
            # unhealthy; all records as if healthy when none is ("Weighted records with a weight of 0",
            # https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-how-route-53-chooses-records.html).
            # That fallback is what `routingPolicy: failover` (active 100, others 0) relies on.
            pool = (
                [r for r in weighted if r in healthy and int(r.weight) > 0]
                or [r for r in weighted if r in healthy]
                or weighted
            )
            return max(pool, key=lambda r: (int(r.weight), r.set_identifier or ""))
        return records[0]

    def answer(self, name: str, depth: int = 0) -> tuple[list[str], int] | None:
        record = self._pick(self._records(name))
        if record is None or depth > 4:
            return None
        alias = record.alias_target
        if alias:
            target = alias.get("DNSName", "")
            inner = self.answer(target, depth + 1)
            return ([_address(target)], ALIAS_TTL_SECONDS) if inner is None else inner
        values = [r.get("Value") if isinstance(r, dict) else str(r) for r in record.records or []]
        return values, int(record.ttl or 60)
