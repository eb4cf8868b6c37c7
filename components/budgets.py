"""Monthly AWS Budgets with percentage alerts to an SNS topic and/or email.

AWS Budgets is a global (account-level) service: budgets take no Region. A budget filters spend by cost-allocation
tags (`TagKeyValue` = `user:<key>$<value>`; the tag keys must be activated as cost allocation tags in Billing).
AWS limits: 5 notifications per budget; one SNS topic and up to 10 emails per notification.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from components.base import ComponentArgs, Input, PlatformComponent

MAX_NOTIFICATIONS = 5
MAX_EMAILS = 10


class BudgetSpec(BaseModel):
    """One budget: its level, limit, filter and alert thresholds."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    level: str = Field(..., pattern=r"^[a-z][a-z0-9-]{1,30}$", description="`stack`, `business-unit`, ... (names).")
    monthly_limit_usd: float = Field(..., gt=0, description="Monthly limit in USD.")
    thresholds: list[float] = Field(..., min_length=1, description="Percent of the limit (actual spend), 1-100.")
    forecast_alert: bool = Field(True, description="Also alert on forecasted spend above 100%.")
    tag_filter: tuple[str, str] | None = Field(
        None, description="(tag key, value): count only spend carrying this cost-allocation tag; none = all spend."
    )
    topic_arn: Input = Field(None, description="SNS topic notified (one per notification, AWS limit).")
    emails: list[str] = Field(default_factory=list, description="Email subscribers (at most 10).")

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: list[float]) -> list[float]:
        if any(not 1 <= v <= 100 for v in value) or list(value) != sorted(set(value)):
            raise ValueError(f"thresholds {value} must be ascending, unique percentages from 1 to 100")
        return value

    @model_validator(mode="after")
    def _limits(self) -> BudgetSpec:
        if len(self.thresholds) + int(self.forecast_alert) > MAX_NOTIFICATIONS:
            raise ValueError(f"a budget has at most {MAX_NOTIFICATIONS} notifications (thresholds + forecast)")
        if len(self.emails) > MAX_EMAILS:
            raise ValueError(f"a notification has at most {MAX_EMAILS} email subscribers")
        if self.topic_arn is None and not self.emails:
            raise ValueError(f"budget {self.level}: give an SNS topic or emails to notify")
        return self


class BudgetsArgs(ComponentArgs):
    """Args of `Budgets` (`region` is only used for names and tags: budgets are global)."""

    budgets: list[BudgetSpec] = Field(..., min_length=1, description="The budgets to create.")

    @field_validator("budgets")
    @classmethod
    def _unique(cls, value: list[BudgetSpec]) -> list[BudgetSpec]:
        levels = [b.level for b in value]
        if len(levels) != len(set(levels)):
            raise ValueError(f"budget levels {levels} must be unique")
        return value


class Budgets(PlatformComponent):
    """One `aws.budgets.Budget` per spec. Outputs: `budget_names` (level -> name)."""

    def __init__(self, name: str, args: BudgetsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:cost:Budgets", name, opts)
        self.budgets: dict[str, aws.budgets.Budget] = {}
        for spec in args.budgets:
            budget_name = f"{args.name_prefix}-{spec.level}"
            filters = None
            if spec.tag_filter is not None:
                key, value = spec.tag_filter
                filters = [aws.budgets.BudgetCostFilterArgs(name="TagKeyValue", values=[f"user:{key}${value}"])]
            self.budgets[spec.level] = aws.budgets.Budget(
                self.cname(spec.level),
                name=budget_name,
                budget_type="COST",
                time_unit="MONTHLY",
                limit_amount=f"{spec.monthly_limit_usd:.2f}",
                limit_unit="USD",
                cost_filters=filters,
                notifications=_notifications(spec),
                tags=self.tagged(args.tags, budget_name, **{"budget-level": spec.level}),
                opts=self.child(),
            )
        self.budget_names = {level: b.name for level, b in self.budgets.items()}
        self.register_outputs({"budgetNames": self.budget_names})


def _notifications(spec: BudgetSpec) -> list[aws.budgets.BudgetNotificationArgs]:
    topics = [spec.topic_arn] if spec.topic_arn is not None else None
    emails = list(spec.emails) or None
    kinds = [("ACTUAL", t) for t in spec.thresholds] + ([("FORECASTED", 100.0)] if spec.forecast_alert else [])
    return [
        aws.budgets.BudgetNotificationArgs(
            comparison_operator="GREATER_THAN",
            notification_type=kind,
            threshold=threshold,
            threshold_type="PERCENTAGE",
            subscriber_sns_topic_arns=topics,
            subscriber_email_addresses=emails,
        )
        for kind, threshold in kinds
    ]
