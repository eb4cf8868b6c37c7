"""Cost tier: AWS Budgets from `platform:cost` on the cost-allocation tags every resource carries.

Every stack gets a budget on its own spend (tag `region`); the account-wide levels (business unit, team,
enterprise) have one owner, the primary stack, like every other global resource.
"""

from __future__ import annotations

from typing import Any

from components.budgets import Budgets, BudgetsArgs, BudgetSpec
from infra.config.cost import BudgetLevelConfig
from stacks.context import RegionContext


def build_cost(ctx: RegionContext, observability: Any) -> Budgets | None:
    """Budgets notifying the configured tier's topic of this stack (and emails); None when all are disabled."""
    cfg = ctx.cfg.cost
    topics = getattr(observability, "topic_arns", None) or {}
    levels: list[tuple[str, BudgetLevelConfig, tuple[str, str] | None]] = [
        ("stack", cfg.stack, ("region", ctx.region)),
    ]
    if ctx.cfg.is_primary:
        levels += [
            ("business-unit", cfg.business_unit, ("business-unit", ctx.cfg.tags.business_unit)),
            ("team", cfg.team, ("team", ctx.cfg.tags.team)),
            ("enterprise", cfg.enterprise, None),
        ]
    specs = [
        BudgetSpec(
            level=level,
            monthly_limit_usd=lv.monthly_limit_usd,
            thresholds=list(lv.thresholds),
            forecast_alert=lv.forecast_alert,
            tag_filter=tag,
            topic_arn=topics.get(lv.alert_tier),
            emails=list(lv.emails),
        )
        for level, lv, tag in levels
        if lv.enabled
    ]
    if not specs:
        return None
    return Budgets(
        "budgets",
        BudgetsArgs(region=ctx.region, name_prefix=ctx.base, tags=ctx.tags, budgets=specs),
        opts=ctx.opts(),
    )
