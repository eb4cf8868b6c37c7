"""DR support resources in the stacks (the drill lock table) and the `platform:dr` config section."""

from __future__ import annotations

import pytest

from components.dr import DrSupport, DrSupportArgs
from infra.config.errors import ConfigError
from infra.config.fleet import load_fleet
from infra.plan.runner import REPO_ROOT, synthesize

TABLE = "aws:dynamodb/table:Table"


@pytest.fixture(scope="module")
def unit():
    return synthesize(
        "unit",
        {},
        program=lambda: DrSupport(
            "dr",
            DrSupportArgs(region="eu-west-1", name_prefix="acme-prod-euw1", tags={"team": "sre"}, account_id="1"),
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
