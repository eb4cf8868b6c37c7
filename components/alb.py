"""The regional internet-facing ALB: HTTPS only (TLS 1.2+), access logs to an encrypted bucket, pod IP targets."""

from __future__ import annotations

import json
import re

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator

from components.base import ComponentArgs, Input, PlatformComponent
from components.origin_lock import OriginLockArgs, denied_action, lock_listener
from components.storage import bucket_policy, secure_bucket_settings

# Elastic Load Balancing accounts that write access logs in Regions opened before August 2022 (ELB user guide,
# "Enable access logs"); newer Regions use the log-delivery service principal instead.
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-south-1": "718504428378",
    "sa-east-1": "507241528517",
}


class RegionalAlbArgs(ComponentArgs):
    """Args of `RegionalAlb`. Defaults: deletion protection, invalid headers dropped, TLS 1.2+/1.3 policy."""

    account_id: Input = Field(..., description="AWS account id (log bucket name and policy).")
    vpc_id: Input = Field(..., description="VPC of the ALB and its targets.")
    subnet_ids: Input = Field(..., description="Public subnets (>= 2 AZs).")
    certificate_arn: Input = Field(..., description="Validated regional ACM certificate for the HTTPS listener.")
    target_security_group_id: Input = Field(
        ..., description="Security group of the targets: the EKS node SG (pods use their node's ENIs)."
    )
    target_port: int = Field(8080, ge=1, le=65535, description="Container port of the API pods (IP targets).")
    deregistration_delay_seconds: int = Field(
        30, ge=0, le=300, description="Draining time; the pods' preStop sleep must exceed it."
    )
    health_check_path: str = Field("/healthz", description="Target health check path.")
    ssl_policy: str = Field("ELBSecurityPolicy-TLS13-1-2-2021-06", description="TLS 1.2+ listener policy.")
    ingress_cidrs: list[str] = Field(
        default_factory=lambda: ["0.0.0.0/0"], description="Who may reach 443 when there is no `origin_lock`."
    )
    origin_lock: OriginLockArgs | None = Field(
        None, description="CloudFront-only: prefix lists instead of `ingress_cidrs`, origin header, default 403."
    )
    deletion_protection: bool = Field(True, description="ALB deletion protection.")
    idle_timeout_seconds: int = Field(60, ge=1, le=4000, description="Idle timeout.")
    access_log_retention_days: int = Field(365, ge=1, description="Days access logs are kept.")

    @field_validator("ssl_policy")
    @classmethod
    def _tls12(cls, value: str) -> str:
        if not re.match(r"^ELBSecurityPolicy-(TLS13-1-[23]-|TLS-1-2-|FS-1-2-)", value):
            raise ValueError("ssl_policy must be a TLS 1.2+ ELB security policy")
        return value


class RegionalAlb(PlatformComponent):
    """Outputs: `arn`, `arn_suffix`, `dns_name`, `zone_id`, `target_group_arn`, `target_group_arn_suffix`,
    `security_group_id`, `log_bucket`."""

    def __init__(self, name: str, args: RegionalAlbArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:compute:RegionalAlb", name, opts)
        region = args.region
        lb_name = f"{args.name_prefix}-alb"[:32].rstrip("-")
        bucket_name = pulumi.Output.concat(args.name_prefix, "-alb-logs-", args.account_id)

        # Access-log bucket. ALB access logs support only SSE-S3 (AES256) bucket encryption, not SSE-KMS.
        self.log_bucket = aws.s3.Bucket(
            self.cname("logs"),
            region=region,
            bucket=bucket_name,
            tags=self.tagged(args.tags, f"{args.name_prefix}-alb-logs"),
            opts=self.child(),
        )
        bucket = self.log_bucket.id
        secure_bucket_settings(
            self,
            "logs",
            region=region,
            bucket=bucket,
            expiration_days=args.access_log_retention_days,
            lifecycle_id="expire-access-logs",
            encryption="AES256",
        )
        policy = aws.s3.BucketPolicy(
            self.cname("logs-policy"),
            region=region,
            bucket=bucket,
            policy=pulumi.Output.all(self.log_bucket.arn, args.account_id).apply(
                lambda parts: json.dumps(_log_bucket_policy(parts[0], parts[1], region))
            ),
            opts=self.child(),
        )

        # Security groups: the world (or the configured CIDRs) -> 443 on the ALB -> the API pods (node SG).
        sg_name = f"{args.name_prefix}-alb"
        self.security_group = aws.ec2.SecurityGroup(
            self.cname("sg"),
            region=region,
            name=sg_name,
            description=f"Regional ALB {lb_name}: HTTPS in, API pods out",
            vpc_id=args.vpc_id,
            tags=self.tagged(args.tags, sg_name),
            opts=self.child(),
        )
        security_groups = [self.security_group.id]
        if args.origin_lock is None:
            for index, cidr in enumerate(args.ingress_cidrs):
                self._https_from(f"sg-https-{index}", self.security_group, args, cidr_ipv4=cidr)
        else:
            # Managed prefix lists count their weight against the 60-inbound-rules quota of a security group:
            # CloudFront's weighs 55 and Route 53's health checkers' 25, so each gets its own group (an ALB takes
            # up to 5). https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html
            lock = args.origin_lock
            self._https_from(
                "sg-https-cloudfront", self.security_group, args, prefix_list_id=lock.cloudfront_prefix_list_id
            )
            self.health_security_group = aws.ec2.SecurityGroup(
                self.cname("sg-health"),
                region=region,
                name=f"{sg_name}-health",
                description=f"Regional ALB {lb_name}: HTTPS from Route 53 health checkers",
                vpc_id=args.vpc_id,
                tags=self.tagged(args.tags, f"{sg_name}-health"),
                opts=self.child(),
            )
            self._https_from(
                "sg-https-health", self.health_security_group, args, prefix_list_id=lock.health_check_prefix_list_id
            )
            security_groups.append(self.health_security_group.id)
        aws.vpc.SecurityGroupEgressRule(
            self.cname("sg-to-targets"),
            region=region,
            security_group_id=self.security_group.id,
            referenced_security_group_id=args.target_security_group_id,
            ip_protocol="tcp",
            from_port=args.target_port,
            to_port=args.target_port,
            description="ALB to the API pods (IP targets)",
            tags=self.tagged(args.tags, f"{sg_name}-to-targets"),
            opts=self.child(),
        )
        aws.vpc.SecurityGroupIngressRule(
            self.cname("targets-from-alb"),
            region=region,
            security_group_id=args.target_security_group_id,
            referenced_security_group_id=self.security_group.id,
            ip_protocol="tcp",
            from_port=args.target_port,
            to_port=args.target_port,
            description="API pods from the regional ALB",
            tags=self.tagged(args.tags, f"{sg_name}-to-nodes"),
            opts=self.child(),
        )

        self.load_balancer = aws.lb.LoadBalancer(
            self.cname("lb"),
            region=region,
            name=lb_name,
            load_balancer_type="application",
            internal=False,
            security_groups=security_groups,
            subnets=args.subnet_ids,
            enable_deletion_protection=args.deletion_protection,
            drop_invalid_header_fields=True,
            desync_mitigation_mode="strictest",
            enable_http2=True,
            idle_timeout=args.idle_timeout_seconds,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=bucket, prefix="alb", enabled=True),
            tags=self.tagged(args.tags, lb_name, **({"edge-origin": "cloudfront"} if args.origin_lock else {})),
            opts=self.child(depends_on=[policy]),
        )
        tg_name = f"{args.name_prefix}-api"[:32].rstrip("-")
        self.target_group = aws.lb.TargetGroup(
            self.cname("tg"),
            region=region,
            name=tg_name,
            vpc_id=args.vpc_id,
            # Pod IPs, registered by Auto Mode's load balancer controller through a TargetGroupBinding: every node
            # the autoscaler launches is covered without any Auto Scaling group.
            target_type="ip",
            ip_address_type="ipv4",
            protocol="HTTP",
            port=args.target_port,
            deregistration_delay=args.deregistration_delay_seconds,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                path=args.health_check_path,
                protocol="HTTP",
                port="traffic-port",
                matcher="200",
                interval=15,
                healthy_threshold=2,
                unhealthy_threshold=3,
                timeout=5,
            ),
            tags=self.tagged(args.tags, tg_name),
            opts=self.child(),
        )
        self.listener = aws.lb.Listener(
            self.cname("https"),
            region=region,
            load_balancer_arn=self.load_balancer.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=args.ssl_policy,
            certificate_arn=args.certificate_arn,
            default_actions=[
                denied_action()
                if args.origin_lock
                else aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=self.target_group.arn)
            ],
            tags=self.tagged(args.tags, f"{lb_name}-https"),
            opts=self.child(),
        )
        if args.origin_lock is not None:
            self.listener_rules = lock_listener(self, args, args.origin_lock, self.listener, self.target_group)

        self.arn = self.load_balancer.arn
        self.arn_suffix = self.load_balancer.arn_suffix
        self.dns_name = self.load_balancer.dns_name
        self.zone_id = self.load_balancer.zone_id
        self.target_group_arn = self.target_group.arn
        self.target_group_arn_suffix = self.target_group.arn_suffix
        self.security_group_id = self.security_group.id
        self.register_outputs(
            {
                "arn": self.arn,
                "arnSuffix": self.arn_suffix,
                "dnsName": self.dns_name,
                "zoneId": self.zone_id,
                "targetGroupArn": self.target_group_arn,
                "logBucket": self.log_bucket.id,
            }
        )

    def _https_from(self, key: str, group: aws.ec2.SecurityGroup, args: RegionalAlbArgs, **source: Input) -> None:
        aws.vpc.SecurityGroupIngressRule(
            self.cname(key),
            region=args.region,
            security_group_id=group.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="HTTPS to the ALB listener",
            tags=self.tagged(args.tags, f"{args.name_prefix}-alb-{key}"),
            opts=self.child(),
            **source,
        )


def _log_bucket_policy(bucket_arn: str, account: str, region: str) -> dict:
    writer = (
        {"AWS": f"arn:aws:iam::{ELB_LOG_ACCOUNTS[region]}:root"}
        if region in ELB_LOG_ACCOUNTS
        else {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    )
    return bucket_policy(
        bucket_arn,
        {
            "Sid": "ElbAccessLogs",
            "Effect": "Allow",
            "Principal": writer,
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/alb/AWSLogs/{account}/*",
        },
    )
