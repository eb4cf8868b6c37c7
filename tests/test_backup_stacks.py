"""Backup tier in both real stacks (offline plan of the stack files)."""

from __future__ import annotations

import pytest

from infra.config.cron import cron_fields
from infra.config.fleet import load_fleet
from infra.plan.runner import REPO_ROOT

VAULT = "aws:backup/vault:Vault"
PARTNER = {"us-east-1": "eu-west-1", "eu-west-1": "us-east-1"}


@pytest.fixture(scope="module", params=["us-east-1", "eu-west-1"])
def stack(request, plans):
    return request.param, plans[request.param]


def test_vault_with_cmk_and_lock_in_own_region(stack):
    region, plan = stack
    vault = plan.one(VAULT, "backup-vault")
    assert vault.inputs["region"] == region
    assert vault.inputs["kmsKeyArn"].startswith(f"arn:aws:kms:{region}:")
    locks = plan.of_type("aws:backup/vaultLockConfiguration:VaultLockConfiguration")
    assert vault.inputs["name"] in {lock.inputs["backupVaultName"] for lock in locks}
    assert plan.outputs["backupVaultName"] == vault.inputs["name"]
    assert plan.outputs["backupVaultArn"] == f"arn:aws:backup:{region}:123456789012:backup-vault:{vault.inputs['name']}"


def test_plan_has_6h_35d_rule_copying_to_partner_region(stack):
    region, plan = stack
    backup_plan = plan.one("aws:backup/plan:Plan")
    assert backup_plan.inputs["region"] == region
    rules = {r["ruleName"]: r for r in backup_plan.inputs["rules"]}
    six = [r for r in rules.values() if cron_fields(r["schedule"])[1] == "0/6"]
    assert six and six[0]["lifecycle"]["deleteAfter"] == 35
    inbound = plan.one(VAULT, "backup-copy-vault")
    assert inbound.inputs["region"] == region  # receives the partner's copies
    for rule in rules.values():
        (action,) = rule["copyActions"]
        assert action["destinationVaultArn"].startswith(f"arn:aws:backup:{PARTNER[region]}:")
    assert plan.outputs["backupPlanId"]


def test_copy_vaults_do_not_collide_across_stacks(plans):
    """Each stack owns its own vault and its inbound copy vault, in its own region: four distinct vaults."""
    vaults = [(v.inputs["region"], v.inputs["name"]) for p in plans.values() for v in p.of_type(VAULT)]
    assert len(set(vaults)) == 4
    assert sorted(r for r, _ in vaults) == ["eu-west-1", "eu-west-1", "us-east-1", "us-east-1"]


def test_each_copy_action_targets_the_inbound_vault_the_partner_stack_declares(plans):
    """Cross-stack contract without outputs: the ARN one stack computes is the vault the other creates."""
    for stack, plan in plans.items():
        partner = plans[PARTNER[stack]]
        inbound = partner.one(VAULT, "backup-copy-vault").inputs
        arn = f"arn:aws:backup:{inbound['region']}:123456789012:backup-vault:{inbound['name']}"
        for rule in plan.one("aws:backup/plan:Plan").inputs["rules"]:
            assert [a["destinationVaultArn"] for a in rule["copyActions"]] == [arn], stack


def test_selections_by_tag_and_aurora_cluster_arn(stack):
    _, plan = stack
    selections = {s.name: s.inputs for s in plan.of_type("aws:backup/selection:Selection")}
    assert selections["backup-selection-tier"]["selectionTags"][0]["key"] == "backup-tier"
    aurora = plan.one("aws:rds/cluster:Cluster")
    assert aurora.inputs["tags"]["backup-tier"] == selections["backup-selection-tier"]["selectionTags"][0]["value"]
    assert selections["backup-selection-explicit"]["resources"] == [plan.outputs["auroraClusterArn"]]


def test_restore_testing_targets_aurora_in_isolated_subnets(stack):
    _, plan = stack
    rtp = plan.one("aws:backup/restoreTestingPlan:RestoreTestingPlan")
    assert cron_fields(rtp.inputs["scheduleExpression"])[4] == "SAT"
    sel = plan.one("aws:backup/restoreTestingSelection:RestoreTestingSelection")
    assert sel.inputs["protectedResourceArns"] == [plan.outputs["auroraClusterArn"]]
    subnet_group = plan.one("aws:rds/subnetGroup:SubnetGroup").inputs["name"]
    assert sel.inputs["restoreMetadataOverrides"]["dbsubnetgroupname"] == subnet_group
    assert sel.inputs["restoreMetadataOverrides"]["vpcsecuritygroupids"].startswith('["sg-')


def test_stack_files_carry_the_seed_numbers():
    for cfg in load_fleet(REPO_ROOT).stacks.values():
        rules = {r.name: r for r in cfg.backup.rules}
        assert (cron_fields(rules["every-6h"].schedule)[1], rules["every-6h"].retention_days) == ("0/6", 35)
        assert rules["continuous-pitr"].continuous and rules["continuous-pitr"].retention_days == 35
        assert (rules["daily"].retention_days, rules["daily"].cold_storage_after_days) == (365, 90)
        assert rules["monthly-compliance"].retention_days == 7 * 365
        assert all(r.copy_to_partner for r in rules.values())
        assert cfg.backup.vault_lock.mode == "governance" and cfg.backup.restore_testing.enabled
        # The continuous rule's window matches Aurora's own PITR window (AWS Backup would otherwise change it).
        assert rules["continuous-pitr"].retention_days == cfg.data.aurora.backup_retention_days


def test_policy_pack_finds_nothing_on_the_backup_tier(stack):
    """Vault CMK (Backup.1), vault lock, plan lifecycle, SNS encryption, S3 baseline: no finding, not even advisory."""
    from infra.policy_check import check_plan

    _, plan = stack
    backup_urns = {r.urn for r in plan.resources if "platform:backup:BackupTier" in r.urn}
    assert len(backup_urns) > 20
    findings = [f for f in check_plan(plan) if f.resource is not None and f.resource.urn in backup_urns]
    assert findings == [], [(f.rule.id, f.message) for f in findings]
