"""DR section (`platform:dr`): the budgets and knobs of the DR drill (`python -m infra drill`)."""

from __future__ import annotations

from pydantic import Field

from infra.config.base import ConfigModel


class RegionSwitchConfig(ConfigModel):
    """The AWS ARC Region switch plan generated from the drill's step catalogue (docs/dr-runbook.md)."""

    enabled: bool = Field(
        True,
        description=(
            "Declare the ARC Region switch plan (one per secondary Region, paired with the primary), its execution "
            "and approver roles and the custom-action Lambdas."
        ),
    )
    approval_timeout_minutes: int = Field(
        60, ge=1, le=10080, description="How long the plan's ManualApproval step waits for an approver."
    )
    lambda_retry_interval_minutes: float = Field(
        1.0, gt=0, le=60, description="ARC re-invokes a custom-action Lambda after this long until it succeeds."
    )
    ungraceful_minimum_success_percent: int = Field(
        50,
        ge=1,
        le=100,
        description="Unplanned (ungraceful) runs: the EKS scaling step succeeds at this percent of its target.",
    )
    health_check_id: str | None = Field(
        None,
        pattern=r"^[0-9a-zA-Z-]{1,64}$",
        description=(
            "The Route 53 health check the plan's traffic step (Route53HealthCheck) created for THIS Region's "
            "api-origin record set: after the plan's first deploy, `aws arc-region-switch list-route53-health-checks "
            "--arn <regionSwitchPlanArn>` lists it per Region. Set, the record answers only while this check and "
            "the endpoint check are both healthy, so a plan execution moves traffic; unset, it cannot (`drill "
            "--executor arc` refuses). docs/dr-runbook.md, ARC Region switch plan."
        ),
    )


class DrConfig(ConfigModel):
    """Recovery budgets the drill report is judged against, and how the drill pre-warms and waits."""

    rto_seconds: int = Field(
        300, ge=30, le=86400, description="RTO budget in seconds (seed: 5 minutes for automated failover)."
    )
    rpo_seconds: int = Field(
        60,
        ge=0,
        le=86400,
        description=(
            "RPO budget in seconds (seed: 1 minute maximum data loss). A planned drill refuses to start when the "
            "Aurora global replication lag is above it; an unplanned one reports the lag at cut-over against it."
        ),
    )
    traffic_failover_seconds: int = Field(
        30,
        ge=1,
        le=3600,
        description=(
            "Traffic failover budget in seconds (seed: global load balancer failover < 30 s); the drill report's "
            "modeled traffic failover (health-check detection or record propagation, plus DNS TTL) is judged by it."
        ),
    )
    capacity_percent: int = Field(
        100,
        ge=1,
        le=200,
        description="Pre-warm: scale the target region's Deployments to this percent of the replicas the source runs.",
    )
    step_timeout_seconds: int = Field(
        600, ge=10, le=7200, description="Longest a step may wait for AWS to reach the wanted state."
    )
    poll_seconds: float = Field(5.0, gt=0, le=60, description="Seconds between state polls while a step waits.")
    reports_bucket: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        description="Optional S3 bucket that keeps a copy of every drill report (the audit trail); none by default.",
    )
    region_switch: RegionSwitchConfig = Field(
        default_factory=RegionSwitchConfig, description="The ARC Region switch plan (same steps as the drill)."
    )
