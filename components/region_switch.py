"""AWS ARC Region switch: the plan generated from the drill's step catalogue (`infra/dr/catalogue.py`), its roles.

Where it lives (research, docs/dr-runbook.md "ARC Region switch plan"): a plan is a GLOBAL resource (its ARN has no
Region: `arn:aws:arc-region-switch::<account>:plan/<name>:<suffix>`) spanning exactly two Regions
(https://docs.aws.amazon.com/arc-region-switch/latest/api/API_CreatePlan.html). CreatePlan/UpdatePlan/GetPlan go to
the control plane in the partition leader (botocore's endpoint rule set for `arc-region-switch`:
`UseControlPlaneEndpoint` -> `arc-region-switch-control-plane.<implicitGlobalRegion>`); StartPlanExecution and
GetPlanExecution are served by the data plane of each of the plan's Regions, so the recovery Region runs the plan
while the other is down. Hence ONE plan per (primary, secondary) pair, declared by the secondary stack (it has the
primary's outputs through its StackReference), and the roles once per fleet by the primary.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict, Field

from components.base import ComponentArgs, Input, PlatformComponent
from infra.dr import catalogue


class RegionSwitchRolesArgs(ComponentArgs):
    """Args of `RegionSwitchRoles`."""

    account_id: Input = Field(..., description="AWS account id.")
    fleet_name: str = Field(..., pattern=r"^[a-z0-9-]{1,40}$", description="`<prefix>-<environment>` of the fleet.")
    hosted_zone_id: Input = Field(..., description="Zone of the api-origin records (the Route 53 block reads them).")


class RegionSwitchRoles(PlatformComponent):
    """The plan's execution role (assumed by `arc-region-switch.amazonaws.com`) and the approver role.

    Outputs: `execution_role_arn`, `approver_role_arn`. IAM is global: created once, by the primary stack.
    """

    def __init__(self, name: str, args: RegionSwitchRolesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:dr:RegionSwitchRoles", name, opts)
        stem = args.fleet_name
        exec_name, approver_name = f"{stem}-dr-plan-execution", f"{stem}-dr-plan-approver"
        self.execution_role = aws.iam.Role(
            self.cname("execution"),
            name=exec_name,
            assume_role_policy=json.dumps(_trust({"Service": "arc-region-switch.amazonaws.com"})),
            tags=self.tagged(args.tags, exec_name),
            opts=self.child(),
        )
        aws.iam.RolePolicy(
            self.cname("execution-policy"),
            role=self.execution_role.id,
            policy=pulumi.Output.all(args.account_id, args.hosted_zone_id).apply(
                lambda v: json.dumps(execution_policy(v[0], stem, v[1]))
            ),
            opts=self.child(),
        )
        account_root = pulumi.Output.from_input(args.account_id).apply(lambda a: f"arn:aws:iam::{a}:root")
        self.approver_role = aws.iam.Role(
            self.cname("approver"),
            name=approver_name,
            # Principals of this account that IAM allows to assume it (the on-call group) can approve.
            assume_role_policy=account_root.apply(lambda root: json.dumps(_trust({"AWS": root}))),
            tags=self.tagged(args.tags, approver_name),
            opts=self.child(),
        )
        aws.iam.RolePolicy(
            self.cname("approver-policy"),
            role=self.approver_role.id,
            policy=pulumi.Output.from_input(args.account_id).apply(
                lambda a: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": [
                                    "arc-region-switch:ApprovePlanExecutionStep",
                                    "arc-region-switch:GetPlanExecution",
                                ],
                                "Resource": f"arn:aws:arc-region-switch::{a}:plan/{stem}-*",
                            }
                        ],
                    }
                )
            ),
            opts=self.child(),
        )
        self.execution_role_arn = self.execution_role.arn
        self.approver_role_arn = self.approver_role.arn
        self.register_outputs({"executionRoleArn": self.execution_role_arn, "approverRoleArn": self.approver_role_arn})


def _trust(principal: dict[str, str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
    }


def execution_policy(account: str, stem: str, zone_id: str) -> dict[str, Any]:
    """What the plan's blocks do with the execution role, after AWS's per-block sample policies
    (https://docs.aws.amazon.com/r53recovery/latest/dg/security_iam_region_switch_execution_blocks.html): writes
    scoped to the fleet's names; the Aurora block's describes on `*` as AWS's sample has them (read-only; a scoped
    describe that ARC issues without an identifier would fail the recovery)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AuroraGlobalDatabaseDescribe",
                "Effect": "Allow",
                "Action": ["rds:DescribeGlobalClusters", "rds:DescribeDBClusters"],
                "Resource": "*",
            },
            {
                "Sid": "AuroraGlobalDatabase",
                "Effect": "Allow",
                "Action": ["rds:SwitchoverGlobalCluster", "rds:FailoverGlobalCluster"],
                "Resource": [
                    f"arn:aws:rds::{account}:global-cluster:{stem}-*",
                    f"arn:aws:rds:*:{account}:cluster:{stem}-*",
                ],
            },
            {
                "Sid": "ManualApproval",
                "Effect": "Allow",
                "Action": ["arc-region-switch:ApprovePlanExecutionStep"],
                "Resource": f"arn:aws:arc-region-switch::{account}:plan/{stem}-*",
            },
            {
                "Sid": "Route53HealthCheck",
                "Effect": "Allow",
                "Action": ["route53:ListResourceRecordSets"],
                "Resource": f"arn:aws:route53:::hostedzone/{zone_id}",
            },
            {
                "Sid": "CustomActionLambda",
                "Effect": "Allow",
                "Action": ["lambda:InvokeFunction", "lambda:GetFunction"],
                "Resource": f"arn:aws:lambda:*:{account}:function:{stem}-*-dr-*",
            },
            {
                "Sid": "EksResourceScaling",
                "Effect": "Allow",
                "Action": ["eks:DescribeCluster", "eks:ListAssociatedAccessPolicies"],
                "Resource": [
                    f"arn:aws:eks:*:{account}:cluster/{stem}-*",
                    f"arn:aws:eks:*:{account}:access-entry/{stem}-*/*",
                ],
            },
        ],
    }


class PlanRegion(BaseModel):
    """One Region of the plan: what its blocks act on there."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, extra="forbid")

    region: str = Field(..., description="AWS Region.")
    aurora_cluster_arn: Input = Field(..., description="Regional Aurora cluster ARN (member of the global cluster).")
    eks_cluster_arn: Input = Field(..., description="EKS cluster ARN.")
    lambda_arns: dict[str, Input] = Field(..., description="Catalogue step -> custom-action Lambda ARN there.")
    record_set_identifier: str = Field(..., description="Its api-origin record's set identifier.")


class Deployment(BaseModel):
    """A Kubernetes Deployment (and its HPA) the EKS scaling step scales."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    namespace: str
    name: str
    hpa_name: str | None = None


class RegionSwitchPlanArgs(ComponentArgs):
    """Args of `RegionSwitchPlan`."""

    plan_name: str = Field(..., pattern=r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$", description="≤ 32.")
    primary: PlanRegion = Field(..., description="The primary Region (where the application normally runs).")
    secondary: PlanRegion = Field(..., description="The other Region of the pair.")
    global_cluster_identifier: Input = Field(..., description="Aurora global cluster id.")
    hosted_zone_id: Input = Field(..., description="Hosted zone of the api-origin records.")
    record_name: Input = Field(..., description="The api-origin record name.")
    deployments: list[Deployment] = Field(..., min_length=1, description="Deployments the EKS step scales.")
    execution_role_arn: Input = Field(..., description="Plan execution role.")
    approver_role_arn: Input = Field(..., description="Role that approves the ManualApproval step.")
    target_percent: int = Field(100, ge=1, le=200, description="EKS scaling target (platform:dr.capacityPercent).")
    rto_seconds: int = Field(300, ge=60, description="Recovery time objective (platform:dr.rtoSeconds).")
    step_timeout_minutes: int = Field(10, ge=1, description="Timeout of each block.")
    approval_timeout_minutes: int = Field(60, ge=1, description="ManualApproval timeout.")
    lambda_retry_interval_minutes: float = Field(1.0, gt=0, description="Custom-action retry interval.")
    ungraceful_minimum_success_percent: int = Field(50, ge=1, le=100, description="EKS ungraceful success bar.")


class RegionSwitchPlan(PlatformComponent):
    """An active/passive plan with one `activate` workflow per Region, steps from the catalogue.

    Outputs: `arn`, `name`.
    """

    def __init__(self, name: str, args: RegionSwitchPlanArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:dr:RegionSwitchPlan", name, opts)
        self.plan = aws.arcregionswitch.Plan(
            self.cname("plan"),
            name=args.plan_name,
            description="Generated from infra/dr/catalogue.py: the same steps as `python -m infra drill`.",
            execution_role=args.execution_role_arn,
            recovery_approach="activePassive",
            regions=[args.primary.region, args.secondary.region],
            primary_region=args.primary.region,
            recovery_time_objective_minutes=max(1, math.ceil(args.rto_seconds / 60)),
            workflows=[workflow(args, target) for target in (args.primary, args.secondary)],
            tags=self.tagged(args.tags, args.plan_name),
            opts=self.child(),
        )
        self.arn = self.plan.arn
        self.name = self.plan.name
        self.register_outputs({"arn": self.arn, "name": self.name})


def workflow(args: RegionSwitchPlanArgs, target: PlanRegion) -> dict[str, Any]:
    """The `activate <target>` workflow: the catalogue's ARC levels in order, a level of several steps in one
    Parallel block."""
    steps: list[dict[str, Any]] = []
    for level in catalogue.levels(catalogue.ARC):
        blocks = [block(args, name, target) for name in level]
        if len(blocks) == 1:
            steps.extend(blocks)
        else:
            steps.append(
                {
                    "name": "-and-".join(level),
                    "execution_block_type": "Parallel",
                    "parallel_configs": [{"steps": blocks}],
                }
            )
    return {
        "workflow_target_action": "activate",
        "workflow_target_region": target.region,
        "workflow_description": f"activate {target.region} (catalogue: {', '.join(catalogue.names(catalogue.ARC))})",
        "steps": steps,
    }


def block(args: RegionSwitchPlanArgs, name: str, target: PlanRegion) -> dict[str, Any]:
    """One catalogue step as an ARC execution block of the workflow activating `target`."""
    entry = catalogue.BY_NAME[name]
    cfg = dict(entry.arc_config)
    regions = (args.primary, args.secondary)
    source = args.secondary if target.region == args.primary.region else args.primary
    title = entry.title.format(src=source.region, dst=target.region, percent=args.target_percent)
    out: dict[str, Any] = {"name": name, "execution_block_type": entry.arc_block, "description": title}
    kind = entry.arc_block
    if kind == "ManualApproval":
        out["execution_approval_configs"] = [
            {"approval_role": args.approver_role_arn, "timeout_minutes": args.approval_timeout_minutes}
        ]
    elif kind == "EKSResourceScaling":
        out["eks_resource_scaling_configs"] = [
            {
                **cfg,
                "target_percent": args.target_percent,
                "timeout_minutes": args.step_timeout_minutes,
                "eks_clusters": [{"cluster_arn": r.eks_cluster_arn} for r in regions],
                "kubernetes_resource_types": [{"api_version": "apps/v1", "kind": "Deployment"}],
                # The API's scalingResources is a list of {key: {Region: resource}} maps (the inner key must match
                # `[a-z]{2}-[a-z-]+-\d+`, API_EksResourceScalingConfiguration); pulumi-aws / terraform-provider-aws
                # call the outer key `namespace` and the inner one `resource_name` (expandEKSResourceScalingConfig).
                "scaling_resources": [
                    {
                        "namespace": f"{d.namespace}-{d.name}",
                        "resources": [
                            {
                                "resource_name": r.region,
                                "name": d.name,
                                "namespace": d.namespace,
                                "hpa_name": d.hpa_name,
                            }
                            for r in regions
                        ],
                    }
                    for d in sorted(args.deployments, key=lambda d: (d.namespace, d.name))
                ],
                "ungracefuls": [{"minimum_success_percentage": args.ungraceful_minimum_success_percent}],
            }
        ]
    elif kind == "AuroraGlobalDatabase":
        out["global_aurora_configs"] = [
            {
                **cfg,
                "global_cluster_identifier": args.global_cluster_identifier,
                "database_cluster_arns": [r.aurora_cluster_arn for r in regions],
                "timeout_minutes": args.step_timeout_minutes,
            }
        ]
    elif kind == "CustomActionLambda":
        cfg.pop("handler", None)
        out["custom_action_lambda_configs"] = [
            {
                **cfg,
                "lambdas": [{"arn": r.lambda_arns[name]} for r in regions],
                "retry_interval_minutes": args.lambda_retry_interval_minutes,
                "timeout_minutes": args.step_timeout_minutes,
            }
        ]
    elif kind == "Route53HealthCheck":
        out["route53_health_check_configs"] = [
            {
                "hosted_zone_id": args.hosted_zone_id,
                "record_name": args.record_name,
                "record_sets": [
                    {"record_set_identifier": r.record_set_identifier, "region": r.region} for r in regions
                ],
                "timeout_minutes": args.step_timeout_minutes,
            }
        ]
    else:
        raise ValueError(f"catalogue step {name}: no ARC block builder for {kind}")
    return out
