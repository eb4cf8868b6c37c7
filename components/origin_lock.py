"""Locking the regional ALBs to CloudFront: the rotating origin-header secret and the ALB side of the lock.

- `OriginSecret` (primary stack): three random values in slots; CloudFront sends one, every ALB accepts all three.
- `lock_listener` (inside `RegionalAlb`): listener rules that forward only requests with an accepted header value,
  plus the Route 53 health path; the listener's default action answers 403.

Rotation without downtime: generation `g` keeps slot `k % 3` at the newest generation `k <= g`. CloudFront sends
generation `g - 1`; ALBs accept `g - 2` (retiring: CloudFront edges may still send it while the distribution
change propagates), `g - 1` (sent) and `g` (staged). Bumping `g` regenerates only the slot of `g - 2` and makes
CloudFront send the value staged by the previous bump, which every ALB (also the secondaries, which read the values
from the primary's outputs on their own schedule) has accepted since its last deploy. Stack order does not matter.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_random as random
from pydantic import BaseModel, ConfigDict, Field

from components.base import ComponentArgs, Input, PlatformComponent

SLOTS = 3
# Listener rule priorities: the header rule first, the health-check bypass after it; default action 403.
HEADER_RULE_PRIORITY, HEALTH_RULE_PRIORITY = 10, 20


def slot_generation(slot: int, generation: int) -> int:
    """The newest generation `k <= generation` with `k % SLOTS == slot` (the value that slot holds now)."""
    return generation - ((generation - slot) % SLOTS)


class OriginSecretArgs(ComponentArgs):
    """Args of `OriginSecret`."""

    generation: int = Field(1, ge=1, description="Rotation counter; +1 rotates one value (see module docstring).")
    length: int = Field(48, ge=32, le=128, description="Characters per value (letters and digits).")


class OriginSecret(PlatformComponent):
    """Outputs: `accepted_values` (secret list, every slot), `sent_value` (secret, what CloudFront sends)."""

    def __init__(self, name: str, args: OriginSecretArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:edge:OriginSecret", name, opts)
        self.slots = [
            random.RandomPassword(
                self.cname(f"slot-{slot}"),
                length=args.length,
                special=False,  # header-safe, no quoting anywhere
                keepers={"generation": str(slot_generation(slot, args.generation))},
                opts=self.child(),
            )
            for slot in range(SLOTS)
        ]
        sent_slot = (args.generation - 1) % SLOTS
        self.accepted_values: pulumi.Output[list[str]] = pulumi.Output.secret(
            pulumi.Output.all(*(slot.result for slot in self.slots))
        )
        self.sent_value: pulumi.Output[str] = pulumi.Output.secret(self.slots[sent_slot].result)
        self.register_outputs({"accepted_values": self.accepted_values, "sent_value": self.sent_value})


class OriginLockArgs(BaseModel):
    """The ALB side of the lock (a field of `RegionalAlbArgs`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    cloudfront_prefix_list_id: Input = Field(
        ..., description="`com.amazonaws.global.cloudfront.origin-facing` in the ALB's Region (weight 55)."
    )
    health_check_prefix_list_id: Input = Field(
        ..., description="`com.amazonaws.<region>.route53-healthchecks` (weight 25): a separate security group."
    )
    header_name: str = Field("X-Origin-Verify", description="Custom origin header CloudFront adds.")
    header_values: Input = Field(..., description="Accepted header values (secret list, at most 5 per condition).")
    health_check_path: str = Field("/healthz", description="The only path served without the header (GET/HEAD).")


def lock_listener(
    owner: PlatformComponent,
    args: ComponentArgs,
    lock: OriginLockArgs,
    listener: aws.lb.Listener,
    target_group: aws.lb.TargetGroup,
) -> list[aws.lb.ListenerRule]:
    """Forward requests that carry an accepted origin header, and the Route 53 health path; nothing else."""
    forward = [aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=target_group.arn)]
    header = aws.lb.ListenerRule(
        owner.cname("from-cloudfront"),
        region=args.region,
        listener_arn=listener.arn,
        priority=HEADER_RULE_PRIORITY,
        conditions=[
            aws.lb.ListenerRuleConditionArgs(
                http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(
                    http_header_name=lock.header_name, values=lock.header_values
                )
            )
        ],
        actions=forward,
        tags=owner.tagged(args.tags, f"{args.name_prefix}-alb-from-cloudfront"),
        opts=owner.child(),
    )
    # Route 53 health checkers cannot send a custom header. Only GET/HEAD of the health path bypass it; the
    # security groups admit nobody but CloudFront and the health checkers (docs/edge-and-traffic.md).
    health = aws.lb.ListenerRule(
        owner.cname("health-check"),
        region=args.region,
        listener_arn=listener.arn,
        priority=HEALTH_RULE_PRIORITY,
        conditions=[
            aws.lb.ListenerRuleConditionArgs(
                path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=[lock.health_check_path])
            ),
            aws.lb.ListenerRuleConditionArgs(
                http_request_method=aws.lb.ListenerRuleConditionHttpRequestMethodArgs(values=["GET", "HEAD"])
            ),
        ],
        actions=forward,
        tags=owner.tagged(args.tags, f"{args.name_prefix}-alb-health-check"),
        opts=owner.child(),
    )
    return [header, health]


def denied_action() -> aws.lb.ListenerDefaultActionArgs:
    """The locked listener's default: 403, no body worth caching."""
    return aws.lb.ListenerDefaultActionArgs(
        type="fixed-response",
        fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
            content_type="text/plain", status_code="403", message_body="Forbidden"
        ),
    )
