"""EKS Auto Mode compute (managed Karpenter) logs in CloudWatch Logs, and a metric for "NodePool limits reached".

Auto Mode's node autoscaler runs inside AWS; its logs are delivered as CloudWatch vended logs (delivery source of
type `AUTO_MODE_COMPUTE_LOGS` on the cluster -> delivery destination = our log group; EKS user guide "Access
AWS-managed component logs for EKS Auto"). When a pending pod cannot get a node because a NodePool's `limits` are
used up, Karpenter's scheduler logs "all available instance types exceed limits for nodepool"
(kubernetes-sigs/karpenter, pkg/controllers/provisioning/scheduling/scheduler.go); a metric filter turns each such
line into a count, which the observability tier alarms on.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
from pydantic import Field

from components.base import ComponentArgs, Input, PlatformComponent
from components.log_write_policy import log_write_policy

LIMIT_PATTERN = '"exceed limits for nodepool"'
METRIC_NAMESPACE = "Platform/EKS"
METRIC_NAME = "NodePoolLimitReached"


class AutoModeComputeLogsArgs(ComponentArgs):
    """Args of `AutoModeComputeLogs`."""

    account_id: Input = Field(..., description="AWS account id (log resource policy conditions).")
    cluster_name: str = Field(..., description="EKS cluster name (log group name, metric dimension).")
    cluster_arn: Input = Field(..., description="EKS cluster ARN (the delivery source).")
    kms_key_arn: Input = Field(..., description="CMK of the log group (its policy admits CloudWatch Logs).")
    retention_days: int = Field(365, description="Log retention.")


class AutoModeComputeLogs(PlatformComponent):
    """Outputs: `log_group_name`, `metric` ((namespace, name, dimensions) of the limit-reached count)."""

    def __init__(self, name: str, args: AutoModeComputeLogsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:compute:AutoModeComputeLogs", name, opts)
        region, cname = args.region, args.cluster_name
        group_name = f"/aws/vendedlogs/eks/{cname}/auto-mode-compute"
        self.log_group = aws.cloudwatch.LogGroup(
            self.cname("group"),
            region=region,
            name=group_name,
            retention_in_days=args.retention_days,
            kms_key_id=args.kms_key_arn,
            tags=self.tagged(args.tags, group_name),
            opts=self.child(),
        )
        # Vended logs to CloudWatch Logs: the log group must let the delivery service write, for this account's
        # deliveries only (CloudWatch Logs user guide, "Enabling logging from AWS services", V2 permissions).
        policy = aws.cloudwatch.LogResourcePolicy(
            self.cname("delivery-policy"),
            region=region,
            policy_name=f"{cname}-auto-mode-compute-logs",
            policy_document=pulumi.Output.all(self.log_group.arn, args.account_id).apply(
                lambda parts: json.dumps(_delivery_policy(parts[0], parts[1], region))
            ),
            opts=self.child(),
        )
        source = aws.cloudwatch.LogDeliverySource(
            self.cname("source"),
            region=region,
            name=f"{cname}-compute"[:60],
            log_type="AUTO_MODE_COMPUTE_LOGS",
            resource_arn=args.cluster_arn,
            tags=self.tagged(args.tags, f"{cname}-compute"),
            opts=self.child(),
        )
        destination = aws.cloudwatch.LogDeliveryDestination(
            self.cname("destination"),
            region=region,
            name=f"{cname}-compute"[:60],
            delivery_destination_configuration=aws.cloudwatch.LogDeliveryDestinationDeliveryDestinationConfigurationArgs(
                destination_resource_arn=self.log_group.arn
            ),
            tags=self.tagged(args.tags, f"{cname}-compute"),
            opts=self.child(depends_on=[policy]),
        )
        aws.cloudwatch.LogDelivery(
            self.cname("delivery"),
            region=region,
            delivery_source_name=source.name,
            delivery_destination_arn=destination.arn,
            tags=self.tagged(args.tags, f"{cname}-compute"),
            opts=self.child(),
        )
        aws.cloudwatch.LogMetricFilter(
            self.cname("limit-filter"),
            region=region,
            name=f"{cname}-nodepool-limit-reached",
            log_group_name=self.log_group.name,
            pattern=LIMIT_PATTERN,
            metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                namespace=METRIC_NAMESPACE,
                name=METRIC_NAME,
                value="1",
                default_value="0",
                unit="Count",
            ),
            opts=self.child(),
        )
        self.log_group_name = self.log_group.name
        self.metric = (METRIC_NAMESPACE, METRIC_NAME)
        self.register_outputs({"logGroupName": self.log_group_name})


def _delivery_policy(group_arn: str, account: str, region: str) -> dict:
    return log_write_policy(
        "AWSLogDeliveryWrite",
        "delivery.logs.amazonaws.com",
        f"{group_arn}:log-stream:*",
        account,
        f"arn:aws:logs:{region}:{account}:*",
    )
