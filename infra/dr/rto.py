"""Modeled real RTO: what a drill would take against AWS, from the measured program and AWS's documented durations.

Against the emulator every AWS transition takes milliseconds, so the measured RTO only shows the program's own
overhead. The model gives each step the AWS duration AWS documents for its operation (kept here as data with its
source; where AWS gives no figure the value is a conservative choice and says so) and takes the longest path through
the drill's own step graph (the steps' `after` edges), so a change in the step order changes the model:

    step time   = measured seconds + modeled AWS seconds (0 for reads and for steps found already done)
    RTO window  = planned/failback: from the first cut-over step (downtime starts there) to traffic on the target;
                  unplanned: from the drill's first step (the Region is already down) to traffic on the target
    traffic     = record update (or a Region switch plan setting its health checks): Route 53 propagation + TTL;
                  health check: detection + TTL, counted from the
                  start of the window (detection runs while the data tier is promoted), so only the rest is added
    traffic failover (seed: < 30 s)   = the traffic term alone (what writes through DNS see)
    read path                         = CloudFront origin-group failover (connection attempts x timeout)

The modeled figures are reported beside their budgets; the drill's outcome and exit code are judged on what it
measured. A FAILED drill never reports an RTO, measured or modeled, as passing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

SOURCES = {
    "aurora": (
        "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html",
        "AWS: 'For Aurora Global Database, RTO can be in the order of minutes' (no figure; Well-Architected labs say "
        "'under a minute'): modeled conservatively as 120 s",
    ),
    "redis": (
        "https://disaster-recovery.workshop.aws/en/services/databases/elasticache/global-datastore.html",
        "AWS DR workshop, Global Datastore: 'RTO: 1 minute'",
    ),
    "route53-detection": (
        "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html",
        "RequestInterval x FailureThreshold of the stack's health check (platform:traffic.healthCheck), plus the "
        "60 s alias TTL, counted from the start of the window",
    ),
    "route53-ttl": (
        "https://aws.amazon.com/route53/faqs/",
        "alias records to an ALB carry the fixed 60 s TTL of the ELB target (Route 53 FAQ, DNS failover)",
    ),
    "route53-propagation": (
        "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-editing.html",
        "changes generally propagate to all Route 53 name servers within 60 seconds; plus the 60 s alias TTL",
    ),
    "region-switch-health-check": (
        "https://docs.aws.amazon.com/r53recovery/latest/dg/route53-health-check-block.html",
        "ASSUMPTION, no AWS figure for how fast Route 53 answers by a health check Region switch set: modeled like a "
        "record change (60 s propagation) plus the 60 s alias TTL",
    ),
    "cloudfront": (
        "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/high_availability_origin_failover.html",
        "CloudFront tries the primary origin connection_attempts x connection_timeout before the secondary "
        "(components/cdn.py: 3 x 5 s)",
    ),
    "capacity": (
        "https://docs.aws.amazon.com/eks/latest/userguide/automode.html",
        "ASSUMPTION, no AWS figure: the pre-warm's wait (EKS Auto Mode launches and registers nodes for the pending "
        "pods, then they start and pass readiness: typically 1-2 minutes); 120 s. Replace it with a figure measured "
        "in your account",
    ),
}
SECONDS = {"aurora": 120.0, "redis": 60.0, "route53-ttl": 60.0, "route53-propagation": 60.0, "capacity": 120.0}
# Terms AWS gives no figure for (the report marks them `documented: false`).
ASSUMED = {"aurora", "capacity", "region-switch-health-check"}


def _term(operation: str, key: str, seconds: float) -> dict[str, Any]:
    url, basis = SOURCES[key]
    return {
        "operation": operation,
        "seconds": round(seconds, 3),
        "source": url,
        "basis": basis,
        "documented": key not in ASSUMED,
    }


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def model(
    *,
    steps: list[dict[str, Any]],
    kind: str,
    outcome_failed: bool,
    traffic_mechanism: str,
    scaled_capacity: bool,
    detection_seconds: float,
    cloudfront_attempts: int,
    cloudfront_timeout_seconds: float,
    rto_budget: int,
    traffic_budget: int,
    cutover_steps: tuple[str, ...] = ("aurora-switch", "redis-promote"),
) -> dict[str, Any] | None:
    """The modeled RTO of a run (or of a dry-run's plan: steps `planned` count as they would run)."""
    by_name = {s["name"]: s for s in steps}
    if "traffic-shift" not in by_name:
        return None
    ttl = SECONDS["route53-ttl"]
    traffic = ttl + (detection_seconds if traffic_mechanism == "health-check" else SECONDS["route53-propagation"])
    aurora_op = "Aurora SwitchoverGlobalCluster" if kind != "unplanned" else "Aurora FailoverGlobalCluster"
    ops = {
        "prewarm-capacity": (
            "EKS capacity scale-out (pre-warm)",
            "capacity",
            SECONDS["capacity"] if scaled_capacity else 0,
        ),
        "aurora-switch": (aurora_op, "aurora", SECONDS["aurora"]),
        "redis-promote": ("ElastiCache FailoverGlobalReplicationGroup", "redis", SECONDS["redis"]),
    }
    # Which steps are inside the window: planned = from the cut-over on; unplanned = all.
    inside = set(by_name)
    if kind != "unplanned":
        inside = {n for n in by_name if n in cutover_steps or _downstream(n, cutover_steps, by_name)}
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    terms: dict[str, dict[str, Any]] = {}
    measured: dict[str, float] = {}

    def visit(name: str) -> float:
        if name in finish:
            return finish[name]
        step = by_name[name]
        deps = [d for d in step.get("after", []) if d in by_name]
        starts = {d: visit(d) for d in deps}
        start = max(starts.values(), default=0.0)
        via[name] = max(starts, key=starts.get) if starts else None
        own = float(step.get("seconds") or 0.0) if name in inside else 0.0
        measured[name] = own
        aws = 0.0
        if name in inside and step.get("outcome") != "already-done":  # done, or planned / not run (would run)
            if name in ops and ops[name][2]:
                label, key, aws = ops[name]
                terms[name] = _term(label, key, aws)
            elif name == "traffic-shift":
                if traffic_mechanism == "health-check":
                    aws = max(0.0, traffic - start)
                    terms[name] = _term("Route 53 health-check detection + TTL (remaining)", "route53-detection", aws)
                elif traffic_mechanism == "plan-health-check":
                    aws = traffic
                    label = "Region switch health checks set (state change + TTL)"
                    terms[name] = _term(label, "region-switch-health-check", traffic)
                else:
                    aws = traffic
                    terms[name] = _term("Route 53 record change propagation + TTL", "route53-propagation", traffic)
        finish[name] = start + own + aws
        return finish[name]

    total = visit("traffic-shift")
    path, node = [], "traffic-shift"
    while node is not None:
        path.append(node)
        node = via.get(node)
    path.reverse()
    reads = cloudfront_attempts * cloudfront_timeout_seconds
    return {
        "seconds": round(total, 3),
        "budgetSeconds": rto_budget,
        "passed": False if outcome_failed else total <= rto_budget,
        "programOverheadSeconds": round(sum(measured[n] for n in path), 3),
        "criticalPath": [terms[n] for n in path if n in terms],
        "path": path,
        "traffic": {
            "mechanism": traffic_mechanism,
            "seconds": round(traffic, 3),
            "budgetSeconds": traffic_budget,
            "passed": False if outcome_failed else traffic <= traffic_budget,
        },
        "readPath": {
            **_term("CloudFront origin-group failover (GET/HEAD/OPTIONS)", "cloudfront", reads),
            "budgetSeconds": traffic_budget,
            "passed": False if outcome_failed else reads <= traffic_budget,
        },
    }


def _downstream(name: str, roots: tuple[str, ...], by_name: dict[str, dict[str, Any]]) -> bool:
    """`name` runs after one of `roots` (transitively)."""
    seen, todo = set(), list(by_name[name].get("after", []))
    while todo:
        dep = todo.pop()
        if dep in roots:
            return True
        if dep not in seen and dep in by_name:
            seen.add(dep)
            todo += by_name[dep].get("after", [])
    return False
