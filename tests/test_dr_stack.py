"""DR support resources in the stacks (the drill lock table) and the `platform:dr` config section."""

from __future__ import annotations

import pytest

from components.dr import DrSupport, DrSupportArgs
from infra.config.errors import ConfigError
from infra.config.fleet import load_fleet
from infra.config.loader import read_stack_file
from infra.naming import active_region_parameter
from infra.plan.observed import StaticObserved
from infra.plan.runner import REPO_ROOT, synthesize

TABLE = "aws:dynamodb/table:Table"
PARAMETER = "aws:ssm/parameter:Parameter"
KNOB = active_region_parameter("devtools", "prod")


@pytest.fixture(scope="module")
def unit():
    return synthesize(
        "unit",
        {},
        program=lambda: DrSupport(
            "dr",
            DrSupportArgs(
                region="eu-west-1",
                name_prefix="acme-prod-euw1",
                tags={"team": "sre"},
                account_id="1",
                active_region_parameter="/acme/prod/dr/active-region",
                active_region="us-east-1",
            ),
        ),
    )


def test_lock_table_is_encrypted_with_its_own_cmk_and_protected(unit):
    table = unit.one(TABLE).inputs
    assert table["name"] == "acme-prod-euw1-dr-lock"
    assert table["region"] == "eu-west-1"
    assert table["hashKey"] == "lockId" and table["billingMode"] == "PAY_PER_REQUEST"
    assert table["attributes"] == [{"name": "lockId", "type": "S"}]
    assert table["serverSideEncryption"]["enabled"] is True
    key = unit.one("aws:kms/key:Key")
    assert table["serverSideEncryption"]["kmsKeyArn"].startswith("arn:aws:kms:")
    assert key.inputs["enableKeyRotation"] is True
    assert table["pointInTimeRecovery"] == {"enabled": True}
    assert table["deletionProtectionEnabled"] is True
    assert table["tags"] == {"team": "sre", "Name": "acme-prod-euw1-dr-lock"}
    assert unit.one(TABLE).parent == unit.one("platform:dr:DrSupport").urn


def test_every_stack_exports_its_lock_table(plans):
    for stack, plan in plans.items():
        tables = [r for r in plan.of_type(TABLE) if r.name == "dr-lock"]
        assert len(tables) == 1, stack
        assert tables[0].inputs["region"] == stack
        assert plan.outputs["drLockTableName"] == tables[0].inputs["name"]


def test_stack_files_carry_the_seed_budgets():
    for cfg in load_fleet(REPO_ROOT).stacks.values():
        assert (cfg.dr.rto_seconds, cfg.dr.rpo_seconds, cfg.dr.capacity_percent) == (300, 60, 100)


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [("rtoSeconds", 5, "greater than or equal to 30"), ("capacityPercent", 0, "greater than or equal to 1"),
     ("reportsBucket", "Bad_Bucket", "should match pattern"), ("rpoMinutes", 1, "is not a known setting")],
)  # fmt: skip
def test_bad_dr_config_names_file_and_key(write_stacks, key, value, words):
    root = write_stacks({"eu-west-1": lambda config: config["platform:dr"].update({key: value})})
    with pytest.raises(ConfigError) as caught:
        load_fleet(root)
    text = str(caught.value)
    assert "Pulumi.eu-west-1.yaml" in text and f"platform:dr.{key}" in text and words in text


def test_active_region_parameter_is_created_once_and_never_reverted(unit):
    param = unit.one(PARAMETER)
    assert param.inputs["name"] == "/acme/prod/dr/active-region" and param.inputs["region"] == "eu-west-1"
    assert param.inputs["type"] == "String" and param.inputs["insecureValue"] == "us-east-1"
    assert param.inputs["overwrite"] is True  # adopts a parameter the drill wrote before the stack created it
    assert param.parent == unit.one("platform:dr:DrSupport").urn


def _secondary(plans, observed, edit=None):
    config = read_stack_file(REPO_ROOT / "Pulumi.eu-west-1.yaml")
    if edit:
        edit(config)
    return synthesize("eu-west-1", config, {"us-east-1": plans["us-east-1"].outputs}, observed=observed)


def test_each_stack_reads_the_knob_in_its_own_region_only(plans):
    # eu-west-1's parameter says eu-west-1; the one in us-east-1 (unreachable, or not written yet) is not consulted
    plan = _secondary(plans, StaticObserved({"eu-west-1": {KNOB: "eu-west-1"}, "us-east-1": {KNOB: "us-east-1"}}))
    assert plan.outputs["writerRegion"] == "eu-west-1" and plan.outputs["activeRegionSource"] == "ssm"
    other = _secondary(plans, StaticObserved({"us-east-1": {KNOB: "eu-west-1"}}))
    assert other.outputs["writerRegion"] == "us-east-1" and other.outputs["activeRegionSource"] == "default"


def test_stack_file_override_wins_over_the_parameter_and_is_logged(plans, caplog):
    def edit(config):
        config["platform:activeRegion"] = "us-east-1"

    plan = _secondary(plans, StaticObserved({"eu-west-1": {KNOB: "eu-west-1"}}), edit)
    assert plan.outputs["writerRegion"] == "us-east-1" and plan.outputs["activeRegionSource"] == "override"
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]  # the engine's log, offline
    assert any("platform:activeRegion = us-east-1 in the stack file overrides the SSM parameter" in w for w in warnings)
    # the committed stack files have no Region switch health check yet: the plan says what it cannot do
    assert any("regionSwitch.healthCheckId is not set" in w and "eu-west-1's traffic" in w for w in warnings)


def test_a_parameter_that_is_no_region_stops_the_deploy(plans):
    with pytest.raises(Exception, match=r"holds 'eu-west-9x', which is not an AWS Region code. Fix: "):
        _secondary(plans, StaticObserved({"eu-west-1": {KNOB: "eu-west-9x"}}))
