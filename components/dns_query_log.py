"""Route 53 DNS query logging for the platform's public hosted zone.

AWS requires the CloudWatch Logs group in us-east-1, in the zone's account, with a resource policy that lets
route53.amazonaws.com write to it (CreateQueryLoggingConfig, "Log Group and Resource Policy":
https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateQueryLoggingConfig.html). The zone is owned by
the primary stack, so only a primary in us-east-1 builds this: no stack reaches into another Region.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator

from components.base import ComponentArgs, Input, PlatformComponent
from components.kms import KmsKey, KmsKeyArgs
from components.log_write_policy import log_write_policy

QUERY_LOG_REGION = "us-east-1"


class DnsQueryLogArgs(ComponentArgs):
    """Args of `DnsQueryLog`. `region` must be us-east-1 (AWS requirement)."""

    zone_id: Input = Field(..., description="Public hosted zone id.")
    zone_name: str = Field(..., description="Zone name (log group name).")
    account_id: Input = Field(..., description="AWS account id (key and resource policies).")
    retention_days: int = Field(365, description="Retention of the query log.")

    @field_validator("region")
    @classmethod
    def _us_east_1(cls, value: str) -> str:
        if value != QUERY_LOG_REGION:
            raise ValueError(f"Route 53 query logs must go to a log group in {QUERY_LOG_REGION}, not {value}")
        return value


class DnsQueryLog(PlatformComponent):
    """CMK, log group `/aws/route53/<zone>`, resource policy for Route 53, the query logging config."""

    def __init__(self, name: str, args: DnsQueryLogArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:dns:DnsQueryLog", name, opts)
        region, tags = args.region, args.tags
        key = KmsKey(
            self.cname("key"),
            KmsKeyArgs(
                region=region, name_prefix=args.name_prefix, tags=tags, purpose="dns-query-log",
                account_id=args.account_id, service_principals=[f"logs.{region}.amazonaws.com"],
            ),
            opts=self.child(),
        )  # fmt: skip
        log_name = f"/aws/route53/{args.zone_name}"
        self.log_group = aws.cloudwatch.LogGroup(
            self.cname("log"),
            region=region,
            name=log_name,
            retention_in_days=args.retention_days,
            kms_key_id=key.arn,
            tags=self.tagged(tags, f"{args.name_prefix}-dns-query-log"),
            opts=self.child(),
        )
        policy = aws.cloudwatch.LogResourcePolicy(
            self.cname("policy"),
            region=region,
            policy_name=f"{args.name_prefix}-route53-query-logging",
            policy_document=pulumi.Output.all(self.log_group.arn, args.account_id, args.zone_id).apply(
                lambda v: json.dumps(_resource_policy(v[0], v[1], v[2]))
            ),
            opts=self.child(),
        )
        self.query_log = aws.route53.QueryLog(
            self.cname("query-log"),
            zone_id=args.zone_id,
            cloudwatch_log_group_arn=self.log_group.arn,
            opts=self.child(depends_on=[policy]),
        )
        self.log_group_name = self.log_group.name
        self.register_outputs({"logGroupName": self.log_group_name})


def _resource_policy(log_group_arn: str, account: str, zone_id: str) -> dict:
    # Confused-deputy guard: only this account's zone may write (aws:SourceAccount / aws:SourceArn).
    return log_write_policy(
        "Route53QueryLogs",
        "route53.amazonaws.com",
        f"{log_group_arn.removesuffix(':*')}:*",
        account,
        f"arn:aws:route53:::hostedzone/{zone_id}",
    )
