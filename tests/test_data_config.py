"""Data config (`platform:data`): bad input names the stack file, the key path and what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config.data import AURORA_POSTGRES_VERSIONS, DataConfig
from infra.config.fleet import load_fleet
from infra.plan.runner import REPO_ROOT
from tests.config_cases import PRIMARY, SECONDARY, Edit, assert_config_issue, combine, set_key


def _set(path: str, value: Any) -> Edit:
    return set_key("data", path, value)


BAD = [
    ("us-east-1", _set("aurora.engineVersion", "14.9"), PRIMARY, "platform:data.aurora.engineVersion",
     "not a supported Aurora PostgreSQL version"),
    ("us-east-1", _set("aurora.backupRetentionDays", 0), PRIMARY, "platform:data.aurora.backupRetentionDays",
     "1 to 35 days"),
    ("eu-west-1", _set("aurora.backupRetentionDays", 36), SECONDARY, "platform:data.aurora.backupRetentionDays",
     "1 to 35 days"),
    ("us-east-1", _set("aurora.writerInstanceClass", "db.t4g.medium"), PRIMARY,
     "platform:data.aurora.writerInstanceClass", "memory-optimized"),
    ("us-east-1", _set("aurora.backupWindow", "3am-4am"), PRIMARY, "platform:data.aurora.backupWindow", "03:00-04:00"),
    ("us-east-1", _set("aurora.maintenanceWindow", "sunday 05:00"), PRIMARY,
     "platform:data.aurora.maintenanceWindow", "sun:05:00-sun:06:00"),
    ("eu-west-1", _set("aurora.readers", 0), SECONDARY, "platform:data.aurora.readers", "greater than or equal to 1"),
    ("us-east-1", _set("aurora.readerScaling.minReaders", 6), PRIMARY, "platform:data.aurora.readerScaling",
     "above maxReaders"),
    ("eu-west-1", _set("aurora.readerScaling.minReaders", 3), SECONDARY, "platform:data.aurora",
     "replica(s) of the writer's class"),
    ("us-east-1", _set("aurora.monitoringInterval", 0), PRIMARY, "platform:data.aurora.monitoringInterval", "15"),
    ("us-east-1", _set("redis.nodeType", "cache.t4g.medium"), PRIMARY, "platform:data.redis",
     "Global Datastore supports only"),
    ("us-east-1", _set("redis.nodeType", "r7g.xlarge"), PRIMARY, "platform:data.redis.nodeType",
     "not an ElastiCache node type"),
    ("us-east-1", combine(_set("redis.globalDatastore", False), _set("redis.transitEncryption", False)), PRIMARY,
     "platform:data.redis", "transitEncryption must be true"),
    ("us-east-1", _set("redis.transitEncryption", False), PRIMARY, "platform:data.redis", "which ElastiCache accepts"),
    ("us-east-1", _set("aurora.pgauditLog", ["everything"]), PRIMARY, "platform:data.aurora.pgauditLog[0]", "ddl"),
    ("us-east-1", _set("aurora.masterSecretRotationDays", 0), PRIMARY, "platform:data.aurora.masterSecretRotationDays",
     "greater than or equal to 1"),
    ("us-east-1", _set("redis.replicasPerShard", 0), PRIMARY, "platform:data.redis.replicasPerShard",
     "greater than or equal to 1"),
    ("us-east-1", _set("redis.snapshotRetentionDays", 36), PRIMARY, "platform:data.redis.snapshotRetentionDays",
     "less than or equal to 35"),
    ("us-east-1", _set("redis.slowLogRetentionDays", 45), PRIMARY, "platform:data.redis.slowLogRetentionDays",
     "CloudWatch Logs retention values"),
    ("us-east-1", _set("redis.maxmemoryPolicy", "noeviction-please"), PRIMARY, "platform:data.redis.maxmemoryPolicy",
     "allkeys-lru"),
    ("us-east-1", _set("aurora.storageType", "io2"), PRIMARY, "platform:data.aurora.storageType",
     "is not a known setting"),
    # fleet rules: members of the global database / Global Datastore must match the primary
    ("eu-west-1", _set("aurora.engineVersion", "15.10"), SECONDARY, "platform:data.aurora.engineVersion",
     "same value in every stack file"),
    ("eu-west-1", _set("redis.nodeType", "cache.r7g.2xlarge"), SECONDARY, "platform:data.redis.nodeType",
     "same value in every stack file"),
    ("eu-west-1", _set("redis.shards", 4), SECONDARY, "platform:data.redis.shards", "same value in every stack file"),
    ("eu-west-1", _set("redis.globalDatastore", False), SECONDARY, "platform:data.redis.globalDatastore",
     "same value in every stack file"),
]  # fmt: skip


@pytest.mark.parametrize(("stack", "edit", "file", "key", "words"), BAD, ids=[f"{b[3]}:{b[4]}" for b in BAD])
def test_bad_data_config_names_file_key_and_fix(write_stacks, stack, edit, file, key, words):
    assert_config_issue(write_stacks({stack: edit}), file, key, words)


def test_stack_files_carry_the_seed_numbers():
    fleet = load_fleet(REPO_ROOT)
    primary, secondary = fleet.stacks["us-east-1"].data, fleet.stacks["eu-west-1"].data
    for data in (primary, secondary):
        a, r = data.aurora, data.redis
        assert (a.writer_instance_class, a.reader_instance_class) == ("db.r6g.8xlarge", "db.r6g.4xlarge")
        assert a.backup_retention_days == 35 and a.rpo_budget_seconds == 60
        assert int(a.engine_version.split(".")[0]) >= 15  # seed: PostgreSQL 15+
        assert r.shards * (1 + r.replicas_per_shard) == 9  # seed: 9 nodes
        assert r.global_datastore and r.transit_encryption
        assert a.pgaudit_log == ["ddl", "role"] and a.master_secret_rotation_days == 30
    assert primary.aurora.readers == 2  # seed: primary with 2 read replicas
    assert secondary.aurora.readers >= 1


def test_defaults_are_the_seed_values_and_supported():
    defaults = DataConfig()
    assert defaults.aurora.engine_version in AURORA_POSTGRES_VERSIONS
    assert defaults.aurora.readers == 2 and defaults.aurora.backup_retention_days == 35
    assert defaults.redis.shards == 3 and defaults.redis.replicas_per_shard == 2
    assert defaults.aurora.deletion_protection and not defaults.aurora.skip_final_snapshot


def test_turning_off_storage_encryption_fails_the_policy_check(write_stacks, capsys):
    """Config accepts `storageEncrypted: false` (disposable test stacks); the mandatory policy rule then fails
    `python -m infra plan <stack> --policy`, naming the rule, as `pulumi preview --policy-pack policy` would."""
    from infra.cli import main

    edit = _set("aurora.storageEncrypted", False)
    root = write_stacks({"us-east-1": edit, "eu-west-1": edit})
    capsys.readouterr()
    assert main(["--root", str(root), "plan", "us-east-1", "--quiet", "--policy"]) == 1
    captured = capsys.readouterr()
    out, err = captured.out, captured.err  # findings table on stdout, the failure line on stderr
    assert "error: policy check failed on us-east-1: mandatory rule(s) violated: rds-storage-encrypted" in err
    assert "storageEncrypted is not true" in out


def test_storage_encryption_must_match_across_the_global_database(write_stacks):
    root = write_stacks({"eu-west-1": _set("aurora.storageEncrypted", False)})
    assert_config_issue(root, SECONDARY, "platform:data.aurora.storageEncrypted", "same value in every stack file")
