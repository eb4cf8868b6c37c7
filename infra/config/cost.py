"""Cost section (`platform:cost`): AWS Budgets per stack, business unit, team and enterprise.

Seed 000 `cost_monitoring.budget_thresholds`: enterprise $100,000/month alerting at 50/75/90/100 %, business unit
$25,000 at 60/80/95 %, team $5,000 at 70/90 %. The seed has no per-stack level; ours defaults to half the
enterprise budget (two region stacks) with the enterprise thresholds. Budgets filter on the cost-allocation tags
every resource carries (`platform:tags`): the business-unit and team budgets on `business-unit` / `team`, the
stack budget on `region`. Business-unit, team and enterprise budgets are account-wide, so only the primary stack
creates them.
"""

from __future__ import annotations

import itertools
from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import ConfigModel
from infra.config.errors import ConfigFix
from infra.config.shared import EmailAddress

# AWS Budgets: a budget has at most 5 notifications; a notification has 1 SNS topic and at most 10 emails.
MAX_NOTIFICATIONS = 5
MAX_EMAILS = 10


def _percents(values: list[float]) -> str:
    """`[70, 90]`, not `[70.0, 90.0]` (YAML integers arrive as floats here)."""
    return f"[{', '.join(f'{v:g}' for v in values)}]"


class BudgetLevelConfig(ConfigModel):
    """One monthly cost budget and its alert thresholds (percent of the limit, actual spend)."""

    enabled: bool = Field(True, description="Create this budget.")
    monthly_limit_usd: float = Field(..., description="Monthly limit in USD (> 0).")
    thresholds: list[float] = Field(
        ..., description="Alert thresholds in percent of the limit: ascending, unique, each 1-100 (actual spend)."
    )
    forecast_alert: bool = Field(
        True, description="Also alert when the month's forecasted spend exceeds 100% of the limit."
    )
    alert_tier: Literal["critical", "high", "medium", "low"] = Field(
        "medium", description="Alert tier whose SNS topic receives the notifications (budgets allow one topic)."
    )
    emails: list[EmailAddress] = Field(
        default_factory=list, description=f"Email subscribers of every notification (at most {MAX_EMAILS})."
    )

    @field_validator("monthly_limit_usd")
    @classmethod
    def _limit(cls, value: float) -> float:
        if value <= 0:
            raise ConfigFix(
                "is not a budget (a monthly limit must be above 0)",
                "use a monthly limit in USD above 0, e.g. 5000 (or set enabled: false to drop this budget)",
            )
        return value

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: list[float]) -> list[float]:
        if not value:
            raise ConfigFix("has no threshold", "give at least one percentage, e.g. [50, 75, 90, 100]")
        bad = [v for v in value if not 1 <= v <= 100]
        if bad:
            raise ConfigFix(
                f"thresholds {_percents(bad)} are outside 1-100 percent of the limit", "use percentages from 1 to 100"
            )
        if list(value) != sorted(set(value)):
            raise ConfigFix(
                f"thresholds {_percents(value)} are not ascending and unique",
                f"list each percentage once, ascending: {_percents(sorted(set(value)))}",
            )
        return value

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        if len(value) > MAX_EMAILS:
            raise ConfigFix(
                f"lists {len(value)} emails; AWS Budgets allows at most {MAX_EMAILS} per notification",
                f"list at most {MAX_EMAILS} (drop {len(value) - MAX_EMAILS}); use a distribution list for more people",
            )
        return value

    @model_validator(mode="after")
    def _count(self) -> BudgetLevelConfig:
        total = len(self.thresholds) + (1 if self.forecast_alert else 0)
        if total > MAX_NOTIFICATIONS:
            room = MAX_NOTIFICATIONS - (1 if self.forecast_alert else 0)
            raise ConfigFix(
                f"{len(self.thresholds)} thresholds{' + the forecast alert' if self.forecast_alert else ''} = "
                f"{total} notifications; AWS Budgets allows at most {MAX_NOTIFICATIONS} per budget",
                f"keep at most {room} thresholds"
                + (f", or set forecastAlert: false for {MAX_NOTIFICATIONS}" if self.forecast_alert else ""),
            )
        return self

    @property
    def notification_count(self) -> int:
        return len(self.thresholds) + (1 if self.forecast_alert else 0)


def _level(limit: float, thresholds: list[float]) -> BudgetLevelConfig:
    return BudgetLevelConfig(monthly_limit_usd=limit, thresholds=thresholds)


class CostConfig(ConfigModel):
    """Monthly AWS Budgets at stack, business-unit, team and enterprise level (seed limits and thresholds)."""

    stack: BudgetLevelConfig = Field(
        default_factory=lambda: _level(50000, [50, 75, 90, 100]),
        description="This stack's spend (tag `region`): our level, half the enterprise budget by default.",
    )
    business_unit: BudgetLevelConfig = Field(
        default_factory=lambda: _level(25000, [60, 80, 95]),
        description="Spend tagged with this stack's `business-unit` (seed: $25,000, 60/80/95%). Primary only.",
    )
    team: BudgetLevelConfig = Field(
        default_factory=lambda: _level(5000, [70, 90]),
        description="Spend tagged with this stack's `team` (seed: $5,000, 70/90%). Primary only.",
    )
    enterprise: BudgetLevelConfig = Field(
        default_factory=lambda: _level(100000, [50, 75, 90, 100]),
        description="All spend of the account (seed: $100,000, 50/75/90/100%). Primary only.",
    )

    @model_validator(mode="after")
    def _hierarchy(self) -> CostConfig:
        levels = [("team", self.team), ("businessUnit", self.business_unit), ("enterprise", self.enterprise)]
        active = [(n, lv) for n, lv in levels if lv.enabled]
        for (low_name, low), (high_name, high) in itertools.pairwise(active):
            if low.monthly_limit_usd > high.monthly_limit_usd:
                raise ConfigFix(
                    f"{low_name}.monthlyLimitUsd {low.monthly_limit_usd:g} is above {high_name}.monthlyLimitUsd "
                    f"{high.monthly_limit_usd:g}; a narrower level must not have a larger budget",
                    f"keep {low_name}.monthlyLimitUsd <= {high_name}.monthlyLimitUsd: lower {low_name} to at most "
                    f"{high.monthly_limit_usd:g} or raise {high_name} to at least {low.monthly_limit_usd:g}",
                )
        return self
