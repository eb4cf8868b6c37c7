"""DR tier, ARC Region switch part: the plan generated from the drill's step catalogue (`platform:dr.regionSwitch`).

* every stack: its custom-action Lambdas and the plan role's EKS access entry, in its own Region;
* the primary: the plan's execution and approver roles (IAM, once per fleet);
* each secondary: the plan pairing the primary with itself (ARC plans span exactly two Regions).
Exports `drActionLambdaArns`, primary `drPlanExecutionRoleArn` / `drPlanApproverRoleArn`, secondary
`regionSwitchPlanArn` (docs/stack-outputs.md, docs/dr-runbook.md).
"""

from __future__ import annotations

from typing import Any

import pulumi

from components.dr_actions import DrActions, DrActionsArgs
from components.region_switch import (
    Deployment,
    PlanRegion,
    RegionSwitchPlan,
    RegionSwitchPlanArgs,
    RegionSwitchRoles,
    RegionSwitchRolesArgs,
)
from infra.naming import region_code
from stacks.context import RegionContext


def active_region_parameter(ctx: RegionContext) -> str:
    """The active-Region knob's SSM parameter name (same in every Region; the state tier owns the parameter)."""
    return ctx.active.parameter_name


def _eks_arn(region: str, account: Any, cluster_name: Any) -> pulumi.Output[str]:
    return pulumi.Output.all(account, cluster_name).apply(lambda v: f"arn:aws:eks:{region}:{v[0]}:cluster/{v[1]}")


def build_region_switch(ctx: RegionContext, compute: Any, data: Any, dns: Any) -> None:
    """See the module docstring; nothing when `platform:dr.regionSwitch.enabled` is false."""
    cfg = ctx.cfg.dr.region_switch
    if not cfg.enabled:
        return
    if not ctx.cfg.data.redis.global_datastore:
        pulumi.log.warn("ARC Region switch plan skipped: it promotes the Redis Global Datastore, which is off")
        return
    if not cfg.health_check_id:
        pulumi.log.warn(
            "platform:dr.regionSwitch.healthCheckId is not set: the Region switch plan's traffic step cannot move "
            f"{ctx.region}'s traffic until its api-origin record uses the plan's health check (two-step rollout, "
            "docs/dr-runbook.md 'ARC Region switch plan'); `drill --executor arc` refuses until then"
        )
    fleet = f"{ctx.cfg.naming.prefix}-{ctx.cfg.environment}"
    primary = ctx.cfg.is_primary
    if primary:
        roles = RegionSwitchRoles(
            "region-switch-roles",
            RegionSwitchRolesArgs(
                region=ctx.region,
                name_prefix=ctx.base,
                tags=ctx.tags,
                account_id=ctx.account_id,
                fleet_name=fleet,
                hosted_zone_id=dns.zone_id,
            ),
            opts=ctx.opts(),
        )
        role_arn, approver_arn = roles.execution_role_arn, roles.approver_role_arn
        pulumi.export("drPlanExecutionRoleArn", role_arn)
        pulumi.export("drPlanApproverRoleArn", approver_arn)
        datastore = data.redis.global_replication_group_id
    else:
        role_arn, approver_arn = ctx.from_primary("drPlanExecutionRoleArn"), ctx.from_primary("drPlanApproverRoleArn")
        datastore = ctx.from_primary("redisGlobalReplicationGroupId")
    # The Workload component names its Deployment and HPA after the service, in the service's namespace.
    deployments = [Deployment(namespace=s.ns, name=s.name, hpa_name=s.name) for s in ctx.cfg.workloads.services]
    actions = DrActions(
        "dr-actions",
        DrActionsArgs(
            region=ctx.region,
            name_prefix=ctx.base,
            tags=ctx.tags,
            account_id=ctx.account_id,
            fleet_regions=ctx.fleet_regions,
            global_datastore_id=datastore,
            replication_group_id=data.redis_replication_group_id,
            parameter_name=active_region_parameter(ctx),
            cluster_name=compute.cluster_name,
            plan_role_arn=role_arn,
            namespaces=[d.namespace for d in deployments],
        ),
        opts=ctx.opts(),
    )
    pulumi.export("drActionLambdaArns", actions.function_arns)
    if primary:
        return
    p = ctx.primary_region
    primary_lambdas = ctx.from_primary("drActionLambdaArns")
    plan = RegionSwitchPlan(
        "region-switch",
        RegionSwitchPlanArgs(
            region=ctx.region,
            name_prefix=ctx.base,
            tags=ctx.tags,
            plan_name=f"{fleet}-{region_code(p)}-{region_code(ctx.region)}",
            primary=PlanRegion(
                region=p,
                aurora_cluster_arn=ctx.from_primary("auroraClusterArn"),
                eks_cluster_arn=_eks_arn(p, ctx.account_id, ctx.from_primary("eksClusterName")),
                lambda_arns={step: primary_lambdas.apply(lambda d, s=step: d[s]) for step in actions.function_arns},
                record_set_identifier=p,
            ),
            secondary=PlanRegion(
                region=ctx.region,
                aurora_cluster_arn=data.aurora_cluster_arn,
                eks_cluster_arn=_eks_arn(ctx.region, ctx.account_id, compute.cluster_name),
                lambda_arns=actions.function_arns,
                record_set_identifier=ctx.region,
            ),
            global_cluster_identifier=ctx.from_primary("auroraGlobalClusterIdentifier"),
            hosted_zone_id=dns.zone_id,
            record_name=dns.api_origin_name,
            deployments=deployments,
            execution_role_arn=role_arn,
            approver_role_arn=approver_arn,
            target_percent=ctx.cfg.dr.capacity_percent,
            rto_seconds=ctx.cfg.dr.rto_seconds,
            step_timeout_minutes=max(1, ctx.cfg.dr.step_timeout_seconds // 60),
            approval_timeout_minutes=cfg.approval_timeout_minutes,
            lambda_retry_interval_minutes=cfg.lambda_retry_interval_minutes,
            ungraceful_minimum_success_percent=cfg.ungraceful_minimum_success_percent,
        ),
        opts=ctx.opts(),
    )
    pulumi.export("regionSwitchPlanArn", plan.arn)
