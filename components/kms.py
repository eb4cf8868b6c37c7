"""A customer-managed KMS key with rotation, an alias and a least-privilege key policy."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
from pydantic import Field

from components.base import ComponentArgs, Input, PlatformComponent


class KmsKeyArgs(ComponentArgs):
    """Args of `KmsKey`."""

    purpose: str = Field(..., pattern=r"^[a-z][a-z0-9-]{1,30}$", description="What the key protects, e.g. `flow-logs`.")
    account_id: Input = Field(..., description="AWS account id (key policy root principal).")
    service_principals: list[str] = Field(
        default_factory=list,
        description="Service principals allowed to use the key (e.g. `logs.us-east-1.amazonaws.com`).",
    )
    deletion_window_days: int = Field(30, ge=7, le=30, description="Waiting period before a deleted key is gone.")


class KmsKey(PlatformComponent):
    """A rotating CMK for one purpose in one region. Outputs: `key_id`, `arn`, `alias_name`."""

    def __init__(self, name: str, args: KmsKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:security:KmsKey", name, opts)
        statements = pulumi.Output.from_input(args.account_id).apply(
            lambda account: json.dumps(_policy(account, args.region, args.service_principals))
        )
        key_name = f"{args.name_prefix}-{args.purpose}"
        self.key = aws.kms.Key(
            self.cname("key"),
            region=args.region,
            description=f"{key_name}: customer-managed key for {args.purpose}",
            enable_key_rotation=True,
            deletion_window_in_days=args.deletion_window_days,
            policy=statements,
            tags=self.tagged(args.tags, key_name),
            opts=self.child(),
        )
        self.alias = aws.kms.Alias(
            self.cname("alias"),
            region=args.region,
            name=f"alias/{key_name}",
            target_key_id=self.key.key_id,
            opts=self.child(),
        )
        self.arn = self.key.arn
        self.key_id = self.key.key_id
        self.alias_name = self.alias.name
        self.register_outputs({"arn": self.arn, "keyId": self.key_id, "aliasName": self.alias_name})


def _policy(account: str, region: str, services: list[str]) -> dict:
    statements: list[dict] = [
        {
            "Sid": "AccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    for service in sorted(services):
        # CloudWatch Logs is scoped by the log-group ARN in the encryption context (as the Logs docs show);
        # other services by the calling account.
        if service.startswith("logs."):
            condition = {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account}:*"}}
        else:
            condition = {"StringEquals": {"aws:SourceAccount": account}}
        statements.append(
            {
                "Sid": "Allow" + "".join(part.title() for part in service.split(".")[0].split("-")),
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": condition,
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}
