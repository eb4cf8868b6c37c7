"""Secrets Manager rotation pieces the data tier shares: the AWS-published PostgreSQL single-user rotation function
(deployed from the Serverless Application Repository into the VPC) and the rotation-failure alert.

Sources: https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_available-rotation-templates.html
(SecretsManagerRDSPostgreSQLRotationSingleUser, expected SecretString keys), and
https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-eventbridge.html (rotation events).
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
from pydantic import Field

from components.base import ComponentArgs, Input, PlatformComponent

POSTGRES_SINGLE_USER_APP = (
    "arn:aws:serverlessrepo:us-east-1:297356227824:applications/SecretsManagerRDSPostgreSQLRotationSingleUser"
)
# CloudTrail "AWS Service Event" names Secrets Manager writes when a rotation does not complete.
ROTATION_FAILURE_EVENTS = ["RotationFailed", "RotationAbandoned"]


def postgres_rotation_function(
    owner: PlatformComponent,
    *,
    region: str,
    function_name: str,
    subnet_ids: Input,
    security_group_id: Input,
    kms_key_arn: Input,
    tags: dict[str, str],
) -> pulumi.Output[str]:
    """Deploy the rotation function in the VPC (it must reach the cluster on 5432 and Secrets Manager over the
    interface endpoint) and return its ARN. The application grants secretsmanager.amazonaws.com the invoke."""
    stack = aws.serverlessrepository.CloudFormationStack(
        owner.cname("rotation-app"),
        region=region,
        name=function_name,
        application_id=POSTGRES_SINGLE_USER_APP,
        capabilities=["CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"],
        parameters={
            "functionName": function_name,
            "endpoint": f"https://secretsmanager.{region}.amazonaws.com",
            "vpcSubnetIds": pulumi.Output.from_input(subnet_ids).apply(lambda ids: ",".join(ids)),
            "vpcSecurityGroupIds": security_group_id,
            "kmsKeyArn": kms_key_arn,
        },
        tags=owner.tagged(tags, function_name),
        opts=owner.child(),
    )
    return stack.outputs.apply(lambda outputs: outputs["RotationLambdaARN"])


def rotation_security_group(
    owner: PlatformComponent,
    *,
    region: str,
    vpc_id: Input,
    vpc_cidr: str,
    db_port: int,
    name: str,
    tags: dict[str, str],
) -> aws.ec2.SecurityGroup:
    """The rotation function's group: out to the database port and HTTPS (Secrets Manager endpoint) in the VPC only.
    CIDR rather than the database's group: that group admits this one, and a reference back would be a cycle."""
    return aws.ec2.SecurityGroup(
        owner.cname("rotation-sg"),
        region=region,
        vpc_id=vpc_id,
        description="Master-secret rotation function: PostgreSQL and the Secrets Manager endpoint only",
        egress=[
            aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=port, to_port=port, cidr_blocks=[vpc_cidr],
                                            description=what)
            for port, what in ((db_port, "database"), (443, "Secrets Manager interface endpoint"))
        ],
        tags=owner.tagged(tags, name),
        opts=owner.child(),
    )  # fmt: skip


def rotation_failure_pattern() -> str:
    return json.dumps(
        {
            "source": ["aws.secretsmanager"],
            "detail-type": ["AWS Service Event via CloudTrail"],
            "detail": {"eventSource": ["secretsmanager.amazonaws.com"], "eventName": ROTATION_FAILURE_EVENTS},
        }
    )


class RotationFailureAlertArgs(ComponentArgs):
    """Args of `RotationFailureAlert`."""

    topic_arn: Input = Field(..., description="Alert topic (it must allow events.amazonaws.com to publish).")


class RotationFailureAlert(PlatformComponent):
    """An EventBridge rule on every failed or abandoned Secrets Manager rotation in this Region, published to the
    alert topic. Secrets Manager emits these as CloudTrail "AWS Service Event" records, which EventBridge receives
    from CloudTrail's management events (the account trail must log them)."""

    def __init__(self, name: str, args: RotationFailureAlertArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:observability:RotationFailureAlert", name, opts)
        rule_name = f"{args.name_prefix}-secret-rotation-failed"
        self.rule = aws.cloudwatch.EventRule(
            self.cname("rule"),
            region=args.region,
            name=rule_name,
            description="A Secrets Manager rotation failed or was abandoned in this Region",
            event_pattern=rotation_failure_pattern(),
            tags=self.tagged(args.tags, rule_name),
            opts=self.child(),
        )
        aws.cloudwatch.EventTarget(
            self.cname("target"),
            region=args.region,
            rule=self.rule.name,
            arn=args.topic_arn,
            opts=self.child(),
        )
        self.register_outputs({"ruleArn": self.rule.arn})
