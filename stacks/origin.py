"""Origin lock (every stack, before compute): only CloudFront reaches the ALBs (docs/edge-and-traffic.md).

The primary generates the rotating origin-header values (`OriginSecret`) and exports them as a secret output;
secondaries read them from the primary. Every stack looks up the two AWS-managed prefix lists in its own Region.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.origin_lock import OriginSecret, OriginSecretArgs
from stacks.context import RegionContext

CLOUDFRONT_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"


def health_check_prefix_list(region: str) -> str:
    """Route 53 health checkers, published per Region (`com.amazonaws.<region>.route53-healthchecks`)."""
    return f"com.amazonaws.{region}.route53-healthchecks"


@dataclass
class OriginLock:
    """What the compute tier (ALB) and the edge tier (CloudFront) read."""

    header_name: str
    accepted_values: pulumi.Output[list[str]]
    sent_value: pulumi.Output[str] | None  # primary only: what CloudFront sends
    cloudfront_prefix_list_id: pulumi.Output[str]
    health_check_prefix_list_id: pulumi.Output[str]


def build_origin_lock(ctx: RegionContext) -> OriginLock | None:
    """None when the fleet has no CloudFront (`edge.enabled: false`): the ALBs then take `alb.ingressCidrs`."""
    edge = ctx.cfg.edge
    if not edge.enabled:
        return None
    sent = None
    if ctx.cfg.is_primary:
        secret = OriginSecret(
            "origin-secret",
            OriginSecretArgs(
                region=ctx.region, name_prefix=ctx.base, tags=ctx.tags, generation=edge.origin_verify.generation
            ),
            opts=ctx.opts(),
        )
        accepted, sent = secret.accepted_values, secret.sent_value
        pulumi.export("originVerifyValues", accepted)
    else:
        accepted = pulumi.Output.secret(ctx.from_primary("originVerifyValues"))
    invoke = pulumi.InvokeOutputOptions(provider=ctx.aws_provider)
    return OriginLock(
        header_name=edge.origin_verify.header_name,
        accepted_values=accepted,
        sent_value=sent,
        cloudfront_prefix_list_id=aws.ec2.get_managed_prefix_list_output(name=CLOUDFRONT_PREFIX_LIST, opts=invoke).id,
        health_check_prefix_list_id=aws.ec2.get_managed_prefix_list_output(
            name=health_check_prefix_list(ctx.region), opts=invoke
        ).id,
    )
