"""Cost guard-rails: Budgets component inputs, both stacks' budgets (seed thresholds), bad `platform:cost` config."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from components.budgets import Budgets, BudgetsArgs, BudgetSpec
from infra.config.errors import ConfigError
from infra.config.fleet import load_fleet
from infra.plan.runner import synthesize
from tests.config_cases import PRIMARY, assert_config_issue

BUDGET = "aws:budgets/budget:Budget"
TOPIC = "arn:aws:sns:us-east-1:111122223333:t-alerts-medium"


def _spec(**overrides) -> BudgetSpec:
    values = dict(level="team", monthly_limit_usd=5000, thresholds=[70, 90], tag_filter=("team", "sre"),
                  topic_arn=TOPIC, emails=["fin@example.com"])  # fmt: skip
    values.update(overrides)
    return BudgetSpec(**values)


@pytest.fixture(scope="module")
def unit():
    specs = [
        _spec(),
        _spec(level="enterprise", monthly_limit_usd=100000, thresholds=[50, 75, 90, 100], tag_filter=None),
    ]
    return synthesize(
        "unit",
        {},
        program=lambda: Budgets(
            "b", BudgetsArgs(region="us-east-1", name_prefix="t", tags={"team": "sre"}, budgets=specs)
        ),
    )


def test_budget_is_monthly_cost_with_tag_filter_and_limit(unit):
    team = unit.one(BUDGET, "b-team").inputs
    assert (team["budgetType"], team["timeUnit"], team["limitUnit"]) == ("COST", "MONTHLY", "USD")
    assert team["limitAmount"] == "5000.00"
    assert team["costFilters"] == [{"name": "TagKeyValue", "values": ["user:team$sre"]}]
    assert team["name"] == "t-team"
    assert team["tags"]["team"] == "sre" and team["tags"]["budget-level"] == "team"
    assert "region" not in team  # AWS Budgets is global
    assert "costFilters" not in unit.one(BUDGET, "b-enterprise").inputs


def test_each_threshold_notifies_the_topic_and_emails_plus_a_forecast_at_100(unit):
    notes = unit.one(BUDGET, "b-team").inputs["notifications"]
    assert [(n["notificationType"], n["threshold"]) for n in notes] == [
        ("ACTUAL", 70),
        ("ACTUAL", 90),
        ("FORECASTED", 100),
    ]
    for n in notes:
        assert n["thresholdType"] == "PERCENTAGE" and n["comparisonOperator"] == "GREATER_THAN"
        assert n["subscriberSnsTopicArns"] == [TOPIC]
        assert n["subscriberEmailAddresses"] == ["fin@example.com"]
    enterprise = unit.one(BUDGET, "b-enterprise").inputs["notifications"]
    assert len(enterprise) == 5  # 4 seed thresholds + forecast = the AWS maximum


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"thresholds": [50, 120]}, "from 1 to 100"),
        ({"thresholds": [90, 70]}, "ascending"),
        ({"thresholds": [10, 20, 30, 40, 50]}, "at most 5 notifications"),
        ({"emails": [f"u{i}@example.com" for i in range(11)]}, "at most 10 email"),
        ({"topic_arn": None, "emails": []}, "give an SNS topic or emails"),
    ],
)
def test_component_rejects_what_aws_budgets_rejects(overrides, words):
    with pytest.raises(ValidationError, match=words):
        _spec(**overrides)


def test_primary_owns_account_wide_budgets_secondary_only_its_stack(plans):
    primary = {r.name: r.inputs for r in plans["us-east-1"].of_type(BUDGET)}
    secondary = {r.name: r.inputs for r in plans["eu-west-1"].of_type(BUDGET)}
    assert sorted(primary) == ["budgets-business-unit", "budgets-enterprise", "budgets-stack", "budgets-team"]
    assert sorted(secondary) == ["budgets-stack"]
    assert secondary["budgets-stack"]["costFilters"] == [{"name": "TagKeyValue", "values": ["user:region$eu-west-1"]}]
    assert primary["budgets-business-unit"]["costFilters"][0]["values"] == ["user:business-unit$engineering-platform"]
    assert primary["budgets-team"]["costFilters"][0]["values"] == ["user:team$devtools-sre"]


def test_stacks_budgets_carry_the_seed_limits_and_thresholds(plans):
    budgets = {r.name: r.inputs for r in plans["us-east-1"].of_type(BUDGET)}
    seed = {"budgets-enterprise": ("100000.00", [50, 75, 90, 100]), "budgets-business-unit": ("25000.00", [60, 80, 95]),
            "budgets-team": ("5000.00", [70, 90])}  # fmt: skip
    medium = plans["us-east-1"].outputs["alertTopicArns"]["medium"]
    for name, (limit, thresholds) in seed.items():
        inputs = budgets[name]
        assert inputs["limitAmount"] == limit
        actual = [n["threshold"] for n in inputs["notifications"] if n["notificationType"] == "ACTUAL"]
        assert actual == thresholds, name
        assert all(n["subscriberSnsTopicArns"] == [medium] for n in inputs["notifications"])
    for plan in plans.values():
        (stack_budget,) = [r for r in plan.of_type(BUDGET) if r.name == "budgets-stack"]
        topic = plan.outputs["alertTopicArns"]["medium"]
        assert {tuple(n["subscriberSnsTopicArns"]) for n in stack_budget.inputs["notifications"]} == {(topic,)}


@pytest.mark.parametrize(
    ("path", "value", "key", "words"),
    [
        (("team", "thresholds"), [70, 120], "platform:cost.team.thresholds", "outside 1-100"),
        (("businessUnit", "thresholds"), [95, 60], "platform:cost.businessUnit.thresholds", "ascending and unique"),
        (("enterprise", "thresholds"), [10, 20, 30, 40, 50], "platform:cost.enterprise", "at most 5 per budget"),
        (("stack", "monthlyLimitUsd"), 0, "platform:cost.stack.monthlyLimitUsd", "above 0"),
        (("team", "monthlyLimitUsd"), 30000, "platform:cost", "must not have a larger budget"),
        (("team", "alertTier"), "urgent", "platform:cost.team.alertTier", "critical"),
        (("stack", "emails"), ["x"], "platform:cost.stack.emails[0]", "not an email address"),
    ],
)
def test_bad_cost_config_names_file_and_key(write_stacks, path, value, key, words):
    root = write_stacks({"us-east-1": lambda config: config["platform:cost"][path[0]].update({path[1]: value})})
    assert_config_issue(root, PRIMARY, key, words)


def test_disabled_levels_are_not_created(write_stacks):
    from types import SimpleNamespace

    import pulumi

    from stacks.cost import build_cost

    def off(config):
        config["platform:cost"]["team"]["enabled"] = False

    root = write_stacks({"us-east-1": off, "eu-west-1": off})
    cfg = load_fleet(root).stacks["us-east-1"]
    ctx = SimpleNamespace(cfg=cfg, region=cfg.region, base="t-prod-use1", tags={"team": "sre"},
                          opts=lambda: pulumi.ResourceOptions())  # fmt: skip
    plan = synthesize("unit", {}, program=lambda: build_cost(ctx, SimpleNamespace(topic_arns={"medium": TOPIC})))
    assert sorted(r.name for r in plan.of_type(BUDGET)) == [
        "budgets-business-unit",
        "budgets-enterprise",
        "budgets-stack",
    ]


def test_secondary_account_wide_levels_must_match_the_primary(write_stacks):
    root = write_stacks({"eu-west-1": lambda config: config["platform:cost"]["team"].update({"monthlyLimitUsd": 4000})})
    with pytest.raises(ConfigError) as caught:
        load_fleet(root)
    text = str(caught.value)
    assert "Pulumi.eu-west-1.yaml" in text and "platform:cost.team" in text and "only the primary" in text
