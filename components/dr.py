"""DR support in one region: the drill lock table (a conditional write in it keeps two drills from running) and
this Region's copy of the active-region parameter (the knob the drill writes and the program reads)."""

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
    active_region_parameter: str = Field(..., description="SSM parameter name of the active-region knob.")
    active_region: str = Field(..., description="Value the parameter is created with (the resolved writer Region).")


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
        self.active_region = aws.ssm.Parameter(
            self.cname("active-region"),
            region=args.region,
            name=args.active_region_parameter,
            type="String",
            # Not a secret: `insecure_value` keeps it readable in plans and state (`value` is always marked secret).
            # The provider then reads the live value into `insecure_value` (terraform-provider-aws
            # internal/service/ssm/parameter.go), so that is the property to ignore.
            insecure_value=args.active_region,
            # The drill may have written it before this stack first created it: take it over (same value, since
            # the program read it to compute `active_region`).
            overwrite=True,
            description="Active (writer) Region of the fleet: written by the DR drill, read by every deploy.",
            tags=self.tagged(args.tags, args.active_region_parameter),
            opts=self.child(ignore_changes=["insecureValue"]),
        )
        self.lock_table_name = self.table.name
        self.lock_table_arn = self.table.arn
        self.active_region_parameter_name = self.active_region.name
        self.register_outputs(
            {
                "lockTableName": self.lock_table_name,
                "lockTableArn": self.lock_table_arn,
                "activeRegionParameterName": self.active_region_parameter_name,
            }
        )
