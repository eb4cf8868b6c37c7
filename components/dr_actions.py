"""The Region switch plan's per-Region parts: the custom-action Lambdas and the plan role's EKS access entry.

ARC requires a custom-action Lambda in EACH of the plan's Regions and runs the activating Region's one
(https://docs.aws.amazon.com/r53recovery/latest/dg/custom-action-lambda-block.html), so every region stack deploys
its own pair in its own Region. The EKS resource scaling block needs an access entry for the plan's execution role
with `AmazonARCRegionSwitchScalingPolicy` on both clusters
(https://docs.aws.amazon.com/r53recovery/latest/dg/eks-resource-scaling-block.html); each stack creates it on its own
cluster, so no stack creates anything in another Region.
"""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
from pydantic import Field

from components.base import ComponentArgs, Input, PlatformComponent
from components.kms import KmsKey, KmsKeyArgs

ACTIONS_SOURCE = Path(__file__).resolve().parents[1] / "infra" / "dr" / "actions.py"
SCALING_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonARCRegionSwitchScalingPolicy"
# catalogue step -> handler in infra/dr/actions.py
HANDLERS = {"redis-promote": "redis_promote", "reconcile-iac": "write_active_region"}


class DrActionsArgs(ComponentArgs):
    """Args of `DrActions`."""

    account_id: Input = Field(..., description="AWS account id (resource ARNs in the role policy).")
    fleet_regions: list[str] = Field(..., min_length=2, description="Every Region of the fleet (knob writes).")
    global_datastore_id: Input = Field(..., description="Redis Global Datastore id (promotion target group).")
    replication_group_id: Input = Field(..., description="This Region's Redis replication group id.")
    parameter_name: str = Field(..., pattern=r"^/", description="The active-Region knob's SSM parameter name.")
    cluster_name: Input = Field(None, description="This Region's EKS cluster (for the plan role's access entry).")
    plan_role_arn: Input = Field(None, description="The Region switch plan's execution role (access entry).")
    namespaces: list[str] = Field(default_factory=list, description="Namespaces the plan role may scale in.")
    log_retention_days: int = Field(365, ge=1, description="Retention of the Lambdas' log groups.")
    timeout_seconds: int = Field(300, ge=30, le=900, description="Lambda timeout (ARC re-invokes after it).")


class DrActions(PlatformComponent):
    """Outputs: `function_arns` (catalogue step -> Lambda ARN), `role_arn`."""

    def __init__(self, name: str, args: DrActionsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:dr:DrActions", name, opts)
        role_name = f"{args.name_prefix}-dr-actions"
        self.role = aws.iam.Role(
            self.cname("role"),
            name=role_name,
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            tags=self.tagged(args.tags, role_name),
            opts=self.child(),
        )
        names = {step: f"{args.name_prefix}-dr-{step}" for step in HANDLERS}
        policy = pulumi.Output.all(args.account_id, args.global_datastore_id).apply(
            lambda v: json.dumps(_role_policy(v[0], v[1], args.region, args.parameter_name, list(names.values())))
        )
        aws.iam.RolePolicy(self.cname("policy"), role=self.role.id, policy=policy, opts=self.child())
        # The platform encrypts every log group with a CMK (policy rule logs-kms).
        key = KmsKey(
            self.cname("kms"),
            KmsKeyArgs(
                region=args.region,
                name_prefix=args.name_prefix,
                tags=args.tags,
                purpose="dr-actions",
                account_id=args.account_id,
                service_principals=[f"logs.{args.region}.amazonaws.com"],
            ),
            opts=self.child(),
        )
        code = pulumi.AssetArchive({"actions.py": pulumi.FileAsset(str(ACTIONS_SOURCE))})
        self.functions: dict[str, aws.lambda_.Function] = {}
        for step, handler in HANDLERS.items():
            fn_name = names[step]
            group = aws.cloudwatch.LogGroup(
                self.cname(f"{step}-logs"),
                region=args.region,
                name=f"/aws/lambda/{fn_name}",
                retention_in_days=args.log_retention_days,
                kms_key_id=key.arn,
                tags=self.tagged(args.tags, fn_name),
                opts=self.child(),
            )
            self.functions[step] = aws.lambda_.Function(
                self.cname(step),
                region=args.region,
                name=fn_name,
                role=self.role.arn,
                runtime="python3.12",
                handler=f"actions.{handler}",
                code=code,
                timeout=args.timeout_seconds,
                memory_size=256,
                environment=aws.lambda_.FunctionEnvironmentArgs(
                    variables={
                        "GLOBAL_DATASTORE_ID": args.global_datastore_id,
                        "REPLICATION_GROUP_ID": args.replication_group_id,
                        "PARAMETER_NAME": args.parameter_name,
                        "FLEET_REGIONS": ",".join(args.fleet_regions),
                        "WAIT_SECONDS": str(max(30, args.timeout_seconds - 30)),
                    }
                ),
                tags=self.tagged(args.tags, fn_name),
                opts=self.child(depends_on=[group]),
            )
        if args.plan_role_arn is not None and args.cluster_name is not None:
            entry = aws.eks.AccessEntry(
                self.cname("plan-access"),
                region=args.region,
                cluster_name=args.cluster_name,
                principal_arn=args.plan_role_arn,
                type="STANDARD",
                tags=self.tagged(args.tags, f"{args.name_prefix}-dr-plan"),
                opts=self.child(),
            )
            aws.eks.AccessPolicyAssociation(
                self.cname("plan-access-policy"),
                region=args.region,
                cluster_name=args.cluster_name,
                principal_arn=entry.principal_arn,
                policy_arn=SCALING_POLICY,
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(
                    type="namespace", namespaces=sorted(set(args.namespaces))
                )
                if args.namespaces
                else aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=self.child(),
            )
        self.function_arns = {step: fn.arn for step, fn in self.functions.items()}
        self.role_arn = self.role.arn
        self.register_outputs({"functionArns": self.function_arns, "roleArn": self.role_arn})


def _role_policy(account: str, datastore: str, region: str, parameter: str, functions: list[str]) -> dict:
    """Least privilege: promote this Region's member of the one datastore, write the one knob in any Region."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "RedisPromote",
                "Effect": "Allow",
                "Action": [
                    "elasticache:DescribeGlobalReplicationGroups",
                    "elasticache:FailoverGlobalReplicationGroup",
                ],
                "Resource": [
                    f"arn:aws:elasticache::{account}:globalreplicationgroup:{datastore}",
                    f"arn:aws:elasticache:{region}:{account}:replicationgroup:*",
                ],
            },
            {
                "Sid": "ActiveRegionKnob",
                "Effect": "Allow",
                "Action": "ssm:PutParameter",
                "Resource": f"arn:aws:ssm:*:{account}:parameter{parameter}",
            },
            {
                "Sid": "OwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{fn}:*" for fn in functions],
            },
        ],
    }
