"""Observability section (`platform:observability`): alert tiers (SNS topics), alarm thresholds, the dashboard.

Seed 001 `alerting_framework`: critical (respond in 5 minutes), high (15 minutes), medium (1 hour), low (next
business day). Seed SLAs: p95 < 100 ms, error rate < 0.1 %, availability > 99.99 %. Each tier's detection window
(`periodSeconds` x `evaluationPeriods`) must fit inside its response time, so an alarm leaves the on-call most
of the response budget. The Aurora replication-lag threshold is `platform:data.aurora.rpoBudgetSeconds`.
"""

from __future__ import annotations

import itertools
from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import ConfigModel
from infra.config.errors import ConfigFix
from infra.config.shared import EmailAddress

TIERS = ("critical", "high", "medium", "low")
Tier = Literal["critical", "high", "medium", "low"]
# CloudWatch: standard-resolution periods are 60 s multiples; 10 / 30 s need high-resolution metrics (none here).
_MAX_WINDOW_SECONDS = 86400  # CloudWatch: evaluationPeriods x period <= 1 day for periods below one hour


class AlertTierConfig(ConfigModel):
    """One alert tier: its SNS topic's subscribers and how long a condition must last before it alarms."""

    response_minutes: int = Field(
        ..., ge=1, le=10080, description="Seed response time of the tier in minutes (critical 5, high 15, ...)."
    )
    period_seconds: int = Field(60, description="Alarm period in seconds: a multiple of 60 (CloudWatch metrics).")
    evaluation_periods: int = Field(3, ge=1, le=1440, description="Periods evaluated (the N of 'M out of N').")
    datapoints_to_alarm: int = Field(2, ge=1, le=1440, description="Breaching periods needed (the M of 'M of N').")
    emails: list[EmailAddress] = Field(default_factory=list, description="Email subscribers of the tier's topic.")
    https_endpoints: list[str] = Field(
        default_factory=list, description="HTTPS subscribers (e.g. a PagerDuty / Opsgenie integration URL)."
    )

    @field_validator("period_seconds")
    @classmethod
    def _period(cls, value: int) -> int:
        if value < 60 or value % 60:
            raise ConfigFix(
                "is not a CloudWatch alarm period for standard metrics",
                "use a multiple of 60: 60, 120, ... 3600 (seconds)",
            )
        return value

    @field_validator("https_endpoints")
    @classmethod
    def _https(cls, value: list[str]) -> list[str]:
        bad = [index for index, url in enumerate(value) if not url.startswith("https://")]
        if bad:  # the entries by position: an integration URL may embed its key
            raise ConfigFix(
                f"entries {bad} are not https:// URLs (SNS delivers alerts over HTTPS only here)",
                "write each endpoint as https://<host>/<path> (the integration's HTTPS URL)",
            )
        return value

    @model_validator(mode="after")
    def _window(self) -> AlertTierConfig:
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise ConfigFix(
                f"datapointsToAlarm {self.datapoints_to_alarm} is above evaluationPeriods {self.evaluation_periods}",
                f"keep datapointsToAlarm <= evaluationPeriods: lower datapointsToAlarm to at most "
                f"{self.evaluation_periods} or raise evaluationPeriods to at least {self.datapoints_to_alarm}",
            )
        window = self.period_seconds * self.evaluation_periods
        budget = self.response_minutes * 60
        if window > budget:
            period = self.period_seconds if self.period_seconds <= budget else 60
            raise ConfigFix(
                f"detection window periodSeconds x evaluationPeriods = {window} s is longer than the tier's "
                f"response time ({self.response_minutes} min)",
                f"keep periodSeconds x evaluationPeriods <= responseMinutes x 60 = {budget} s: e.g. periodSeconds "
                f"{period} with evaluationPeriods at most {budget // period}, or raise responseMinutes to at least "
                f"{-(-window // 60)}",
            )
        if window > _MAX_WINDOW_SECONDS:
            raise ConfigFix(
                f"periodSeconds x evaluationPeriods = {window} s; CloudWatch allows at most one day",
                f"keep periodSeconds x evaluationPeriods <= {_MAX_WINDOW_SECONDS} s: evaluationPeriods at most "
                f"{_MAX_WINDOW_SECONDS // self.period_seconds} with periodSeconds {self.period_seconds}",
            )
        return self

    @property
    def detection_seconds(self) -> int:
        return self.period_seconds * self.evaluation_periods


def _tier(response: int, period: int, evaluations: int, datapoints: int) -> AlertTierConfig:
    return AlertTierConfig(
        response_minutes=response, period_seconds=period, evaluation_periods=evaluations, datapoints_to_alarm=datapoints
    )


class ThresholdsConfig(ConfigModel):
    """Alarm thresholds (seed SLAs as defaults; the rest are capacity guard-rails)."""

    alb_error_rate_percent: float = Field(
        0.1, gt=0, le=100, description="ALB 5xx responses as percent of requests (seed error rate < 0.1%)."
    )
    alb_p95_latency_ms: float = Field(
        100, gt=0, le=60000, description="p95 target response time in ms (seed response_time_sla < 100ms p95)."
    )
    aurora_cpu_percent: float = Field(80, gt=0, le=100, description="Aurora instance CPU percent (max of cluster).")
    aurora_freeable_memory_mib: int = Field(
        4096, ge=1, description="Alarm when any Aurora instance has less freeable memory than this (MiB)."
    )
    aurora_max_connections: int = Field(
        4000, ge=1, description="Alarm above this many connections on an instance (PostgreSQL default cap 5000)."
    )
    redis_engine_cpu_percent: float = Field(80, gt=0, le=100, description="Redis EngineCPUUtilization percent.")
    redis_memory_percent: float = Field(80, gt=0, le=100, description="Redis DatabaseMemoryUsagePercentage.")
    redis_evictions: int = Field(
        1000, ge=1, description="Evicted keys per alarm period on any node of a shard (allkeys-lru evicts by design)."
    )
    redis_replication_lag_seconds: float = Field(
        60, gt=0, description="Redis replica / Global Datastore replication lag in seconds (seed RPO 1 minute)."
    )
    capacity_cpu_percent: float = Field(
        60, gt=0, le=100, description="Low tier (capacity planning): hourly average Aurora / Redis CPU above this."
    )


class ObservabilityConfig(ConfigModel):
    """SNS topics per alert tier (CMK-encrypted), CloudWatch alarms on every tier, one dashboard per region."""

    critical: AlertTierConfig = Field(
        default_factory=lambda: _tier(5, 60, 3, 2), description="Service disrupting (seed: respond in 5 minutes)."
    )
    high: AlertTierConfig = Field(
        default_factory=lambda: _tier(15, 60, 5, 3),
        description="Performance degradation or partial outage (seed: 15 minutes).",
    )
    medium: AlertTierConfig = Field(
        default_factory=lambda: _tier(60, 300, 3, 3), description="Potential issues (seed: 1 hour)."
    )
    low: AlertTierConfig = Field(
        default_factory=lambda: _tier(1440, 3600, 1, 1),
        description="Informational / capacity planning (seed: next business day, taken as 24 hours).",
    )
    thresholds: ThresholdsConfig = Field(default_factory=ThresholdsConfig)  # type: ignore[arg-type]
    dashboard: bool = Field(True, description="Build the per-region operational-health CloudWatch dashboard.")
    backup_alarms: bool = Field(
        True, description="Alarm on failed AWS Backup backup and copy jobs in this region (high tier)."
    )
    route53_health_alarm: Literal["auto", "always", "never"] = Field(
        "auto",
        description=(
            "Alarm on this region's Route 53 health check. Its metric exists only in us-east-1, so the alarm and its "
            "topic must live there: `auto` = only in the stack whose region is us-east-1 (no stack then creates "
            "anything in another region); `always` = also from other regions (that stack then needs us-east-1's "
            "control plane to deploy); `never` = none. Other regions alarm on their ALB's healthy targets."
        ),
    )

    @model_validator(mode="after")
    def _tier_order(self) -> ObservabilityConfig:
        responses = {tier: self.tier(tier).response_minutes for tier in TIERS}
        wrong = [(a, b) for a, b in itertools.pairwise(TIERS) if responses[a] > responses[b]]
        if wrong:
            slower, faster = wrong[0]
            raise ConfigFix(
                f"tier response times {responses} must not decrease from critical to low (a more severe tier is "
                "answered faster)",
                f"keep critical <= high <= medium <= low responseMinutes (seed 5, 15, 60, 1440): lower "
                f"{slower}.responseMinutes to at most {responses[faster]} or raise {faster}.responseMinutes to at "
                f"least {responses[slower]}",
            )
        return self

    def tier(self, name: str) -> AlertTierConfig:
        return getattr(self, name)
