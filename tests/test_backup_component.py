"""BackupTier component: real properties of the registered AWS Backup resources."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from components.backup import BackupReports, BackupRule, BackupTier, BackupTierArgs, RestoreTesting, VaultLock
from infra.config.backup import COLD_STORAGE_MIN_DAYS, CONTINUOUS_MAX_RETENTION_DAYS
from infra.config.cron import cron_fields
from infra.plan.runner import synthesize

AURORA_ARN = "arn:aws:rds:us-east-1:111122223333:cluster:t-prod-use1-aurora"
TAGS = {"team": "t", "cost-center": "CC-1", "region": "us-east-1"}
VAULT = "aws:backup/vault:Vault"
LOCK = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
PLAN = "aws:backup/plan:Plan"
SELECTION = "aws:backup/selection:Selection"

SEED_RULES = [
    BackupRule(name="every-6h", schedule="cron(0 0/6 * * ? *)", retention_days=35),
    BackupRule(name="continuous-pitr", schedule="cron(0 1 * * ? *)", retention_days=35, continuous=True),
    BackupRule(name="daily", schedule="cron(0 2 * * ? *)", retention_days=365, cold_storage_after_days=90),
    BackupRule(name="monthly", schedule="cron(0 3 1 * ? *)", retention_days=2555, cold_storage_after_days=90),
]


def _args(**overrides) -> BackupTierArgs:
    values = dict(
        region="us-east-1",
        name_prefix="t-prod-use1",
        tags=TAGS,
        account_id="111122223333",
        partner_region="eu-west-1",
        partner_name_prefix="t-prod-euw1",
        source_code="use1",
        partner_code="euw1",
        resource_arns=[AURORA_ARN],
        rules=SEED_RULES,
        vault_lock=VaultLock(min_retention_days=7, max_retention_days=2555),
        notification_events=["BACKUP_JOB_COMPLETED", "COPY_JOB_FAILED"],
        restore_testing=RestoreTesting(
            aurora_cluster_arns=[AURORA_ARN],
            restore_metadata_overrides={"dbsubnetgroupname": "t-prod-use1-aurora"},
        ),
        reports=BackupReports(templates=["BACKUP_JOB_REPORT", "COPY_JOB_REPORT"]),
    )
    values.update(overrides)
    return BackupTierArgs(**values)


@pytest.fixture(scope="module")
def plan():
    return synthesize("unit", {}, program=lambda: BackupTier("backup", _args()))


def _rules(plan) -> dict[str, dict]:
    return {r["ruleName"]: r for r in plan.one(PLAN).inputs["rules"]}


def test_vault_encrypted_with_own_region_cmk(plan):
    vault = plan.one(VAULT, "backup-vault")
    assert vault.inputs["region"] == "us-east-1"
    assert vault.inputs["kmsKeyArn"].startswith("arn:aws:kms:us-east-1:")
    assert vault.inputs["name"] == "t-prod-use1-backup"
    assert vault.inputs.get("forceDestroy") is not True
    key = plan.one("aws:kms/key:Key", "backup-kms-key")
    assert key.inputs["enableKeyRotation"] is True
    assert '"backup.amazonaws.com"' in key.inputs["policy"]


def test_inbound_copy_vault_lives_in_this_region_with_its_own_cmk(plan):
    copy = plan.one(VAULT, "backup-copy-vault")
    assert copy.inputs["region"] == "us-east-1"
    assert copy.inputs["kmsKeyArn"].startswith("arn:aws:kms:us-east-1:")
    assert copy.inputs["name"] == "t-prod-use1-backup-from-euw1"
    assert copy.inputs["tags"]["backup-source-region"] == "eu-west-1"
    assert plan.one("aws:kms/key:Key", "backup-copy-kms-key").inputs["region"] == "us-east-1"


def test_both_vaults_locked_in_governance_mode(plan):
    locks = {lock.name: lock.inputs for lock in plan.of_type(LOCK)}
    assert set(locks) == {"backup-vault-lock", "backup-copy-vault-lock"}
    assert locks["backup-vault-lock"]["backupVaultName"] == "t-prod-use1-backup"
    assert locks["backup-copy-vault-lock"]["backupVaultName"] == "t-prod-use1-backup-from-euw1"
    assert locks["backup-copy-vault-lock"]["region"] == "us-east-1"
    for lock in locks.values():
        assert (lock["minRetentionDays"], lock["maxRetentionDays"]) == (7, 2555)
        assert "changeableForDays" not in lock  # governance: no lock date


def test_schedules_are_valid_aws_cron(plan):
    for rule in _rules(plan).values():
        minutes, _, dom, _, dow, _ = cron_fields(rule["schedule"])
        assert minutes.isdigit() and (dom == "?") != (dow == "?")
        assert rule["scheduleExpressionTimezone"] == "Etc/UTC"
        assert rule["startWindow"] >= 60 and rule["completionWindow"] > rule["startWindow"]


def test_six_hour_rule_keeps_35_days(plan):
    rule = _rules(plan)["every-6h"]
    assert cron_fields(rule["schedule"])[1] == "0/6"
    assert rule["lifecycle"]["deleteAfter"] == 35
    assert rule["targetVaultName"] == "t-prod-use1-backup"


def test_continuous_rule_for_pitr_within_aws_limit(plan):
    rule = _rules(plan)["continuous-pitr"]
    assert rule["enableContinuousBackup"] is True
    assert rule["lifecycle"]["deleteAfter"] <= CONTINUOUS_MAX_RETENTION_DAYS
    assert "coldStorageAfter" not in rule["lifecycle"]
    others = [r for name, r in _rules(plan).items() if name != "continuous-pitr"]
    assert all(not r.get("enableContinuousBackup") for r in others)


def test_retention_ordering_and_cold_storage_at_least_90_days_before_delete(plan):
    rules = _rules(plan)
    cold = [r for r in rules.values() if r["lifecycle"].get("coldStorageAfter")]
    assert {r["ruleName"] for r in cold} == {"daily", "monthly"}
    for rule in rules.values():
        lifecycles = [rule["lifecycle"], *(c["lifecycle"] for c in rule.get("copyActions", []))]
        for lifecycle in lifecycles:
            if "coldStorageAfter" in lifecycle:
                assert lifecycle["deleteAfter"] >= lifecycle["coldStorageAfter"] + COLD_STORAGE_MIN_DAYS
            assert 7 <= lifecycle["deleteAfter"] <= 2555  # inside the vault lock bounds
    retention = [rules[n]["lifecycle"]["deleteAfter"] for n in ("every-6h", "daily", "monthly")]
    assert retention == sorted(retention) and retention[-1] == 7 * 365


def test_every_rule_copies_to_the_partners_inbound_vault_by_arn(plan):
    # the partner stack owns it (in its region): this stack names it, never creates it
    copy_arn = "arn:aws:backup:eu-west-1:111122223333:backup-vault:t-prod-euw1-backup-from-use1"
    for rule in _rules(plan).values():
        (action,) = rule["copyActions"]
        assert action["destinationVaultArn"] == copy_arn
        assert action["lifecycle"]["deleteAfter"] == rule["lifecycle"]["deleteAfter"]
    assert "eu-west-1" not in {r.inputs.get("region") for r in plan.resources}


def test_selections_by_tier_tag_and_explicit_aurora_arn(plan):
    selections = {s.name: s.inputs for s in plan.of_type(SELECTION)}
    tier = selections["backup-selection-tier"]
    assert tier["selectionTags"] == [{"type": "STRINGEQUALS", "key": "backup-tier", "value": "critical"}]
    assert selections["backup-selection-explicit"]["resources"] == [AURORA_ARN]
    role_arn = "arn:aws:iam::123456789012:role/t-prod-use1-backup"
    assert all(s["iamRoleArn"] == role_arn for s in selections.values())
    assert all(s["region"] == "us-east-1" for s in selections.values())


def test_service_role_trusts_backup_and_has_backup_and_restore_policies(plan):
    role = plan.one("aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "backup.amazonaws.com"}
    attached = sorted(a.inputs["policyArn"] for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"))
    assert attached == [
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    ]


def test_vault_notifications_to_encrypted_topic_backup_may_publish(plan):
    notes = plan.one("aws:backup/vaultNotifications:VaultNotifications")
    topic = plan.one("aws:sns/topic:Topic")
    assert notes.inputs["backupVaultEvents"] == ["BACKUP_JOB_COMPLETED", "COPY_JOB_FAILED"]
    assert notes.inputs["snsTopicArn"] == f"arn:aws:sns:us-east-1:123456789012:{topic.inputs['name']}"
    assert topic.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:us-east-1:")
    policy = json.loads(plan.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    backup = [s for s in policy["Statement"] if s.get("Principal") == {"Service": "backup.amazonaws.com"}]
    assert backup and backup[0]["Action"] == "sns:Publish"
    assert backup[0]["Condition"]["StringEquals"]["aws:SourceAccount"] == "111122223333"
    # nobody else may publish; the only statement naming everyone is the TLS-only deny
    assert all(s["Effect"] == "Deny" for s in policy["Statement"] if s.get("Principal") == "*")
    deny = next(s for s in policy["Statement"] if s["Sid"] == "DenyInsecureTransport")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_weekly_restore_testing_of_aurora(plan):
    rtp = plan.one("aws:backup/restoreTestingPlan:RestoreTestingPlan")
    _, _, dom, _, dow, _ = cron_fields(rtp.inputs["scheduleExpression"])
    assert dom == "?" and dow in {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", *"1234567"}
    selection = rtp.inputs["recoveryPointSelection"]
    assert selection["includeVaults"] == ["arn:aws:backup:us-east-1:123456789012:backup-vault:t-prod-use1-backup"]
    assert selection["selectionWindowDays"] == 7
    sel = plan.one("aws:backup/restoreTestingSelection:RestoreTestingSelection")
    assert sel.inputs["protectedResourceType"] == "Aurora"
    assert sel.inputs["protectedResourceArns"] == [AURORA_ARN]
    assert sel.inputs["restoreTestingPlanName"] == rtp.inputs["name"]
    assert sel.inputs["restoreMetadataOverrides"] == {"dbsubnetgroupname": "t-prod-use1-aurora"}


def test_report_plans_deliver_to_private_encrypted_tls_only_bucket(plan):
    reports = plan.of_type("aws:backup/reportPlan:ReportPlan")
    assert sorted(r.inputs["reportSetting"]["reportTemplate"] for r in reports) == [
        "BACKUP_JOB_REPORT",
        "COPY_JOB_REPORT",
    ]
    bucket = plan.one("aws:s3/bucket:Bucket")
    assert {r.inputs["reportDeliveryChannel"]["s3BucketName"] for r in reports} == {bucket.inputs["bucket"]}
    sse = plan.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    pab = plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(pab[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                        "restrictPublicBuckets"))  # fmt: skip
    policy = json.loads(plan.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    lifecycle = plan.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert lifecycle.inputs["rules"][0]["expiration"]["days"] == 2555


def test_every_aws_resource_has_region_and_taggable_ones_are_tagged(plan):
    for res in plan.resources:
        if not res.type.startswith("aws:") or res.type.startswith("aws:iam/"):
            continue
        assert res.inputs.get("region") == "us-east-1", res.name
    taggable = [r for r in plan.resources if r.type.startswith("aws:") and "tags" in r.inputs]
    assert len(taggable) >= 10
    assert all(r.inputs["tags"].get("cost-center") == "CC-1" for r in taggable)


def test_compliance_lock_sets_lock_date_on_both_vaults():
    lock = VaultLock(min_retention_days=7, max_retention_days=2555, changeable_for_days=3)
    plan = synthesize("unit", {}, program=lambda: BackupTier("b", _args(vault_lock=lock, reports=None)))
    assert [lock.inputs["changeableForDays"] for lock in plan.of_type(LOCK)] == [3, 3]
    assert plan.of_type("aws:backup/reportPlan:ReportPlan") == []


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"rules": [BackupRule.model_construct(name="x", schedule="cron(0 1 * * ? *)", retention_days=3000,
                                               cold_storage_after_days=None, continuous=False, copy_to_partner=True,
                                               copy_retention_days=None, start_window_minutes=60,
                                               completion_window_minutes=720)]}, "vault lock"),
        ({"partner_region": "us-east-1"}, "partner_region"),
    ],
)  # fmt: skip
def test_args_reject_inconsistent_input(overrides, words):
    with pytest.raises(ValidationError, match=words):
        _args(**overrides)


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (dict(retention_days=100, cold_storage_after_days=30), "cold storage"),
        (dict(retention_days=36, continuous=True), "at most 35"),
        (dict(retention_days=30, cold_storage_after_days=1, continuous=True), "cold storage"),
    ],
)
def test_rule_rejects_aws_invalid_lifecycles(rule, words):
    with pytest.raises(ValidationError, match=words):
        BackupRule(name="r", schedule="cron(0 1 * * ? *)", **rule)
