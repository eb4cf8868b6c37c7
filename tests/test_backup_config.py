"""platform:backup config: every bad input names the stack file, the key path and what AWS allows."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config.backup import BackupConfig
from infra.config.cron import cron_fields
from infra.config.errors import ConfigError
from infra.config.loader import parse_stack_config, platform_keys, read_stack_file
from infra.plan.runner import REPO_ROOT
from tests.config_cases import PRIMARY, SECONDARY, Edit, assert_config_issue, set_key


def _set(path: str, value: Any) -> Edit:
    """Set `platform:backup.<path>`; a numeric part indexes a list (rules)."""
    return set_key("backup", path, value)


# Rule indexes in the stack files: 0 every-6h, 1 continuous-pitr, 2 daily, 3 monthly-compliance.
BAD = [
    ("us-east-1", _set("rules.0.retentionDays", 0), PRIMARY, "platform:backup.rules[0].retentionDays",
     "greater than or equal to 1"),
    ("us-east-1", _set("rules.3.retentionDays", 40000), PRIMARY, "platform:backup.rules[3].retentionDays",
     "less than or equal to 36500"),
    ("eu-west-1", _set("rules.1.retentionDays", 36), SECONDARY, "platform:backup.rules[1]",
     "continuous backup keeps at most 35 days"),
    ("us-east-1", _set("rules.2.coldStorageAfterDays", 300), PRIMARY, "platform:backup.rules[2]",
     "coldStorageAfterDays 300 is too late for retentionDays 365"),
    ("us-east-1", _set("rules.2.coldStorageAfterDays", 0), PRIMARY, "platform:backup.rules[2].coldStorageAfterDays",
     "greater than or equal to 1"),
    ("us-east-1", _set("rules.2.copyRetentionDays", 120), PRIMARY, "platform:backup.rules[2]",
     "too late for copyRetentionDays 120"),
    ("us-east-1", _set("rules.1.coldStorageAfterDays", 7), PRIMARY, "platform:backup.rules[1]",
     "continuous backups cannot move to cold storage"),
    ("us-east-1", _set("rules.0.schedule", "rate(6 hours)"), PRIMARY, "platform:backup.rules[0].schedule",
     "not an AWS cron expression"),
    ("us-east-1", _set("rules.0.schedule", "cron(0 */6 * * *)"), PRIMARY, "platform:backup.rules[0].schedule",
     "has 5 fields"),
    ("us-east-1", _set("rules.0.schedule", "cron(*/15 * * * ? *)"), PRIMARY, "platform:backup.rules[0].schedule",
     "at most hourly"),
    ("us-east-1", _set("rules.0.schedule", "cron(0 25 * * ? *)"), PRIMARY, "platform:backup.rules[0].schedule",
     "hours field '25'"),
    ("us-east-1", _set("rules.0.schedule", "cron(0 1 * * MON *)"), PRIMARY, "platform:backup.rules[0].schedule",
     "exactly one of day-of-month and day-of-week"),
    ("us-east-1", _set("rules.3.name", "daily"), PRIMARY, "platform:backup", "duplicated: ['daily']"),
    ("us-east-1", _set("vaultLock.mode", "compliance"), PRIMARY, "platform:backup.vaultLock",
     "set acknowledgeIrreversible: true"),
    ("us-east-1", _set("vaultLock", {"mode": "compliance", "acknowledgeIrreversible": True}), PRIMARY,
     "platform:backup.vaultLock", "compliance mode needs changeableForDays"),
    ("us-east-1", _set("vaultLock", {"mode": "compliance", "acknowledgeIrreversible": True, "changeableForDays": 2}),
     PRIMARY, "platform:backup.vaultLock.changeableForDays", "greater than or equal to 3"),
    ("us-east-1", _set("vaultLock.changeableForDays", 30), PRIMARY, "platform:backup.vaultLock",
     "changeableForDays turns the lock into compliance mode"),
    ("us-east-1", _set("vaultLock.minRetentionDays", 3000), PRIMARY, "platform:backup.vaultLock",
     "minRetentionDays 3000 is above maxRetentionDays 2555"),
    ("us-east-1", _set("vaultLock.maxRetentionDays", 365), PRIMARY, "platform:backup",
     "rule 'monthly-compliance': retentionDays 2555 is outside the vault lock's 7..365 days"),
    ("eu-west-1", _set("vaultLock.minRetentionDays", 90), SECONDARY, "platform:backup",
     "rule 'every-6h': retentionDays 35 is outside the vault lock's 90..2555 days"),
    ("us-east-1", _set("notificationEvents", ["BACKUP_JOB_FAILED"]), PRIMARY, "platform:backup.notificationEvents",
     "unsupported vault events ['BACKUP_JOB_FAILED']"),
    ("us-east-1", _set("restoreTesting.schedule", "cron(0 5 * * SAT *)"), PRIMARY,
     "platform:backup.restoreTesting.schedule", "exactly one of day-of-month and day-of-week"),
    ("us-east-1", _set("reports.templates", ["RESOURCE_COMPLIANCE_REPORT"]), PRIMARY,
     "platform:backup.reports.templates", "unknown report templates"),
    ("eu-west-1", _set("rules.1.retentionDays", 14), SECONDARY, "platform:backup.rules[1].retentionDays",
     "platform:data.aurora.backupRetentionDays is 35"),
]  # fmt: skip


@pytest.mark.parametrize(("stack", "edit", "file", "key", "words"), BAD, ids=[f"{b[3]}:{b[4]}" for b in BAD])
def test_bad_backup_config_names_file_and_key(write_stacks, stack, edit, file, key, words):
    assert_config_issue(write_stacks({stack: edit}), file, key, words)


def test_error_text_names_file_key_and_fix():
    raw = platform_keys(read_stack_file(REPO_ROOT / PRIMARY))
    raw["backup"] = {**raw["backup"], "vaultLock": {"mode": "compliance"}}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(raw, "Pulumi.x.yaml")
    text = str(caught.value)
    assert "Pulumi.x.yaml" in text and "platform:backup.vaultLock" in text and "Fix:" in text


def test_explicit_compliance_lock_is_accepted():
    cfg = BackupConfig.model_validate(
        {"vaultLock": {"mode": "compliance", "acknowledgeIrreversible": True, "changeableForDays": 3}}
    )
    assert cfg.vault_lock.mode == "compliance" and cfg.vault_lock.changeable_for_days == 3


def test_defaults_are_the_seed_and_valid_without_a_section():
    raw = platform_keys(read_stack_file(REPO_ROOT / PRIMARY))
    raw.pop("backup")
    cfg = parse_stack_config(raw, PRIMARY)
    assert [(r.name, r.retention_days) for r in cfg.backup.rules] == [
        ("every-6h", 35),
        ("continuous-pitr", 35),
        ("daily", 365),
        ("monthly-compliance", 2555),
    ]
    assert cfg.backup.vault_lock.mode == "governance" and cfg.backup.vault_lock.changeable_for_days is None


@pytest.mark.parametrize(
    "expression",
    ["cron(0 0/6 * * ? *)", "cron(0 5 ? * SAT *)", "cron(30 2 1 JAN,JUL ? *)", "cron(0 3 ? * 6#1 *)",
     "cron(0 4 L * ? 2027)"],
)  # fmt: skip
def test_cron_parser_accepts_aws_forms(expression):
    assert len(cron_fields(expression)) == 6
