"""DR support: the drill lock table of one region (a conditional write in it keeps two drills from running)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
from pydantic import Field

from components.base import ComponentArgs, Input, PlatformComponent
from components.kms import KmsKey, KmsKeyArgs


class DrSupportArgs(ComponentArgs):
    """Args of `DrSupport`."""

    account_id: Input = Field(..., description="AWS account id (for the table's KMS key policy).")
    deletion_protection: bool = Field(True, description="Protect the lock table from deletion (default on).")


class DrSupport(PlatformComponent):
    """A per-region DynamoDB lock table for the DR drill, encrypted with its own CMK, PITR on.

    Each region has one so the lock can be taken in the drill's TARGET region, reachable while the old primary
    region is down. Outputs: `lock_table_name`, `lock_table_arn`.
    """

    def __init__(self, name: str, args: DrSupportArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:dr:DrSupport", name, opts)
        self.key = KmsKey(
            self.cname("kms"),
            KmsKeyArgs(
                region=args.region,
                name_prefix=args.name_prefix,
                tags=args.tags,
                purpose="dr-lock",
                account_id=args.account_id,
            ),
            opts=self.child(),
        )
        table_name = f"{args.name_prefix}-dr-lock"
        self.table = aws.dynamodb.Table(
            self.cname("lock"),
            region=args.region,
            name=table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key="lockId",
            attributes=[aws.dynamodb.TableAttributeArgs(name="lockId", type="S")],
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True, kms_key_arn=self.key.arn),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            deletion_protection_enabled=args.deletion_protection,
            tags=self.tagged(args.tags, table_name),
            opts=self.child(),
        )
        self.lock_table_name = self.table.name
        self.lock_table_arn = self.table.arn
        self.register_outputs({"lockTableName": self.lock_table_name, "lockTableArn": self.lock_table_arn})
