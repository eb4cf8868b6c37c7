"""Which endpoints answer: probed before the drill decides anything (reads only, in parallel).

A regional outage shows as transport failures (no connection, timeouts), never as an API error; an API error (e.g.
AccessDenied) means the endpoint is up. The drill probes each Region's services it uses and the Route 53 API
(control plane, us-east-1), then: a planned switchover or a failback with anything unreachable is refused before any
write; an unplanned failover needs the target Region only and skips the reads of the failed one (with the reason in
the report); traffic moves by health-check failover (data plane) when the Route 53 API does not answer.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from infra.dr.drill import Aws, unreachable

ROUTE53_API = "route53 API (control plane, us-east-1)"
# One cheap read per regional service the drill calls.
PROBES = {
    "rds": lambda c: c.describe_global_clusters(MaxRecords=20),
    "elasticache": lambda c: c.describe_global_replication_groups(MaxRecords=20),
    "eks": lambda c: c.list_clusters(maxResults=1),
    "dynamodb": lambda c: c.list_tables(Limit=1),
}


@dataclass
class Reachability:
    """{Region or ROUTE53_API: {service: reason}} for what did not answer."""

    down: dict[str, dict[str, str]] = field(default_factory=dict)

    def region_down(self, region: str) -> bool:
        return bool(self.down.get(region))

    @property
    def route53_api_down(self) -> bool:
        return bool(self.down.get(ROUTE53_API))

    def reason(self, key: str) -> str:
        services = self.down.get(key, {})
        if not services:
            return ""
        first = next(iter(services.values()))
        return f"{', '.join(sorted(services))}: {first}"

    def report(self) -> dict[str, Any]:
        return {key: dict(sorted(v.items())) for key, v in sorted(self.down.items()) if v}


def probe(aws: Aws, regions: list[str]) -> Reachability:
    jobs = [(region, service, fn) for region in regions for service, fn in PROBES.items()]
    jobs.append((ROUTE53_API, "route53", lambda c: c.list_hosted_zones(MaxItems="1")))

    def run(job) -> tuple[str, str, str | None]:
        key, service, fn = job
        try:
            fn(aws(service, "us-east-1" if key == ROUTE53_API else key))
        except Exception as exc:
            if unreachable(exc):
                return key, service, f"{type(exc).__name__}: {exc}"
        return key, service, None

    result = Reachability()
    with ThreadPoolExecutor(max_workers=8) as pool:
        for key, service, error in pool.map(run, jobs):
            if error:
                result.down.setdefault(key, {})[service] = error
    return result
