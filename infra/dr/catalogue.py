"""The ONE definition of the recovery steps: the drill (`infra/dr/steps.py`) and the stacks' ARC Region switch
plan (`components/region_switch.py`) are both generated from it, so they cannot disagree (tests compare them).

Each entry names a step, its order (`after`), who runs it (`drill`, `arc` or both) and its kind-specific
behaviour: planned and failback runs are *graceful* (ARC `mode=graceful`), unplanned runs are *ungraceful*.

* Drill-only steps: the pre-checks (ARC evaluates its plans continuously instead, "plan evaluation") and `verify`
  (ARC records the execution's recovery time but does not check DNS answers).
* ARC-only step: `approve` (ARC `ManualApproval`); in the drill the approval is the operator's `--execute`
  (plus `--accept-data-loss` for unplanned).

ARC runs the steps of a workflow in sequence; steps the catalogue lets run side by side (same dependencies) become
one `Parallel` block. Sources: execution block types and their graceful/ungraceful settings,
https://docs.aws.amazon.com/arc-region-switch/latest/api/API_ExecutionBlockConfiguration.html,
https://docs.aws.amazon.com/r53recovery/latest/dg/region-switch-plan-block.html (one page per block type).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DRILL, ARC = "drill", "arc"
GRACEFUL, UNGRACEFUL = "graceful", "ungraceful"


def mode_of(kind: str) -> str:
    """planned / failback switch over without data loss (graceful); unplanned fails over (ungraceful)."""
    return UNGRACEFUL if kind == "unplanned" else GRACEFUL


@dataclass(frozen=True)
class CatalogueStep:
    """One recovery step. `title`/`calls` may use {src}, {dst}, {percent}; `calls` is per mode."""

    name: str
    title: str
    why: str
    after: tuple[str, ...] = ()
    executors: frozenset[str] = frozenset({DRILL, ARC})
    arc_block: str | None = None  # ARC execution block type (None: not in the ARC plan)
    calls: dict[str, str] = field(default_factory=dict)  # mode -> what the drill calls
    arc_behaviour: dict[str, str] = field(default_factory=dict)  # mode -> what the ARC block does
    # Fixed settings of the ARC block (pulumi-aws input names) that encode the graceful/ungraceful behaviour.
    arc_config: dict[str, Any] = field(default_factory=dict)

    def calls_for(self, kind: str) -> str:
        return self.calls.get(mode_of(kind)) or self.calls.get(GRACEFUL, "")


def _both(text: str) -> dict[str, str]:
    return {GRACEFUL: text, UNGRACEFUL: text}


CATALOGUE: tuple[CatalogueStep, ...] = (
    CatalogueStep(
        "precheck-aurora",
        "Aurora target available, lag within budget",
        "a switchover to an unhealthy or lagging secondary loses data or stalls",
        executors=frozenset({DRILL}),
        calls=_both(
            "rds.describe_db_clusters, rds.describe_global_clusters, "
            "cloudwatch.get_metric_statistics(AuroraGlobalDBReplicationLag)"
        ),
    ),
    CatalogueStep(
        "precheck-redis",
        "Redis secondary in sync",
        "the Redis secondary must be associated to be promoted",
        executors=frozenset({DRILL}),
        calls=_both("elasticache.describe_global_replication_groups"),
    ),
    CatalogueStep(
        "precheck-eks",
        "target cluster active, NodePool limits hold the pre-warmed services",
        "the target must be able to take the primary's load",
        executors=frozenset({DRILL}),
        calls=_both("eks.describe_cluster; Kubernetes GET HPAs and Deployments (target and source), NodePool"),
    ),
    CatalogueStep(
        "approve",
        "operator approves the switch",
        "a human decides to move the writer; ARC waits for ApprovePlanExecutionStep",
        executors=frozenset({ARC}),
        arc_block="ManualApproval",
        arc_behaviour=_both("waits for arc-region-switch:ApprovePlanExecutionStep by the approver role"),
    ),
    CatalogueStep(
        "prewarm-capacity",
        "scale {dst} capacity to {percent}% of {src}",
        "capacity must be there before traffic arrives",
        after=("precheck-aurora", "precheck-redis", "precheck-eks", "approve"),
        arc_block="EKSResourceScaling",
        calls=_both(
            "Kubernetes PATCH horizontalpodautoscalers (spec.minReplicas = the writer's floor) and "
            "deployments/scale (spec.replicas = {percent}% of {src}); waits for ready replicas"
        ),
        arc_behaviour={
            GRACEFUL: "scales the workloads' Deployments in the activating Region to targetPercent of the "
            "deactivating Region's max pod count in the last 24 h",
            UNGRACEFUL: "the same, but succeeds once minimumSuccessPercentage of the target is reached "
            "(the deactivating Region may be unreadable)",
        },
        arc_config={"capacity_monitoring_approach": "sampledMaxInLast24Hours"},
    ),
    CatalogueStep(
        "aurora-switch",
        "Aurora writer -> {dst}",
        "the database writer must move before the application writes in the target",
        after=("prewarm-capacity",),
        arc_block="AuroraGlobalDatabase",
        calls={
            GRACEFUL: "rds.switchover_global_cluster (RPO 0: waits for the secondary to catch up)",
            UNGRACEFUL: "rds.failover_global_cluster(AllowDataLoss=True); last resort if it fails: "
            "remove_from_global_cluster (detach-and-promote, see runbook)",
        },
        arc_behaviour={
            GRACEFUL: "behavior=switchoverOnly (SwitchoverGlobalCluster, RPO 0)",
            UNGRACEFUL: "ungraceful=failover (FailoverGlobalCluster with AllowDataLoss)",
        },
        arc_config={"behavior": "switchoverOnly", "ungracefuls": [{"ungraceful": "failover"}]},
    ),
    CatalogueStep(
        "redis-promote",
        "Redis primary -> {dst}",
        "Region switch has no Redis step: promote the Global Datastore secondary",
        after=("prewarm-capacity",),
        arc_block="CustomActionLambda",
        calls=_both("elasticache.failover_global_replication_group"),
        arc_behaviour=_both(
            "custom action Lambda `redis_promote` in the activating Region (no ungraceful skip: "
            "an unplanned failover must promote Redis too)"
        ),
        arc_config={"region_to_run": "activatingRegion", "handler": "redis_promote"},
    ),
    CatalogueStep(
        "traffic-shift",
        "traffic -> {dst}",
        "users reach the target only after its data tier is writable",
        after=("aurora-switch", "redis-promote"),
        arc_block="Route53HealthCheck",
        calls=_both(
            "route53.change_resource_record_sets (UPSERT api-origin failover roles / weights); Route 53 API "
            "unreachable: no call, health-check failover (data plane); done = DNS answers the target"
        ),
        arc_behaviour=_both(
            "sets the Region switch health checks of the api-origin record sets (data plane): the activating "
            "Region's healthy, the other's unhealthy"
        ),
    ),
    CatalogueStep(
        "verify",
        "target is writer, Redis primary, DNS answers target",
        "prove the cut-over before declaring it done",
        after=("traffic-shift",),
        executors=frozenset({DRILL}),
        calls=_both("rds/elasticache reads in the target Region; DNS query of api-origin (data plane)"),
    ),
    CatalogueStep(
        "reconcile-iac",
        "active-region parameter = {dst} in every reachable Region",
        "every stack reads it in its own Region: the next deploy from main keeps the new writer",
        after=("verify",),
        arc_block="CustomActionLambda",
        calls=_both(
            "ssm.put_parameter(activeRegionParameterName, Overwrite) in every Region; unreachable ones are reported"
        ),
        arc_behaviour=_both(
            "custom action Lambda `write_active_region` in the activating Region: writes the SSM parameter "
            "in every reachable Region"
        ),
        arc_config={"region_to_run": "activatingRegion", "handler": "write_active_region"},
    ),
)

BY_NAME = {step.name: step for step in CATALOGUE}


def names(executor: str) -> list[str]:
    """The step names `executor` runs, in catalogue order."""
    return [s.name for s in CATALOGUE if executor in s.executors]


def effective_after(name: str, executor: str) -> tuple[str, ...]:
    """`after` of `name` among the steps `executor` runs: a dependency the executor does not run is replaced by
    that step's own dependencies (so the order is kept through it)."""
    out: list[str] = []

    def add(dep: str) -> None:
        if executor in BY_NAME[dep].executors:
            if dep not in out:
                out.append(dep)
        else:
            for inner in BY_NAME[dep].after:
                add(inner)

    for dep in BY_NAME[name].after:
        add(dep)
    return tuple(out)


def levels(executor: str) -> list[list[str]]:
    """The executor's steps grouped into sequential levels; steps of one level run in parallel."""
    remaining = names(executor)
    placed: set[str] = set()
    result: list[list[str]] = []
    while remaining:
        level = [n for n in remaining if set(effective_after(n, executor)) <= placed]
        if not level:
            raise ValueError(f"dependency cycle among {remaining}")
        result.append(level)
        placed.update(level)
        remaining = [n for n in remaining if n not in placed]
    return result


def _check() -> None:
    for step in CATALOGUE:
        for dep in step.after:
            if dep not in BY_NAME:
                raise ValueError(f"{step.name}: unknown dependency {dep}")
        if (ARC in step.executors) != (step.arc_block is not None):
            raise ValueError(f"{step.name}: an ARC step needs an execution block type (and only an ARC step)")
    levels(DRILL), levels(ARC)


_check()
