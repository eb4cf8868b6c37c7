"""Backup tier: AWS Backup for this region, copying every recovery point to the partner region's inbound vault.

Each stack owns, in its own region, the inbound vault that receives its partner's copies; copies are addressed to
the partner's inbound vault by its deterministic ARN, so neither stack reads the other's outputs nor creates
anything in the other's region (docs/backup.md, "Cross-region copies").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi

from components.backup import BackupReports, BackupRule, BackupTier, BackupTierArgs, RestoreTesting, VaultLock
from infra.naming import name_prefix, region_code
from infra.tags import BACKUP_TIER_KEY
from stacks.context import RegionContext


@dataclass
class Backup:
    """What later tiers read from the backup tier (see docs/stack-outputs.md)."""

    tier: BackupTier | None
    vault_name: Any
    vault_arn: Any
    plan_id: Any


def partner_region(ctx: RegionContext) -> str:
    """Stacks are named after their region, so the partner stack's name is the partner region."""
    return ctx.cfg.partner_stack


def build_backup(ctx: RegionContext, data: Any) -> Backup:
    """Vault, lock, plan and selections for this region; exports `backupVaultName`, `backupVaultArn`, `backupPlanId`."""
    cfg = ctx.cfg.backup
    if not cfg.enabled:
        return Backup(tier=None, vault_name=None, vault_arn=None, plan_id=None)
    partner = partner_region(ctx)
    lock = cfg.vault_lock
    restore = cfg.restore_testing
    aurora = getattr(data, "aurora", None)
    overrides: dict[str, Any] = {}
    if aurora is not None:
        # Restore the test cluster into the platform's isolated database subnets behind Aurora's own SG.
        overrides = {
            "dbsubnetgroupname": aurora.cluster.db_subnet_group_name,
            "vpcsecuritygroupids": pulumi.Output.from_input(aurora.security_group_id).apply(
                lambda sg: json.dumps([sg])
            ),
        }
    tier = BackupTier(
        "backup",
        BackupTierArgs(
            region=ctx.region,
            name_prefix=ctx.base,
            tags=ctx.tags,
            account_id=ctx.account_id,
            partner_region=partner,
            partner_name_prefix=name_prefix(ctx.cfg.naming.prefix, ctx.cfg.environment, partner),
            source_code=region_code(ctx.region),
            partner_code=region_code(partner),
            tier_tag_key=BACKUP_TIER_KEY,
            tier_tag_value=cfg.tier,
            resource_arns=[data.aurora_cluster_arn],
            rules=[
                BackupRule(
                    name=r.name,
                    schedule=r.schedule,
                    retention_days=r.retention_days,
                    cold_storage_after_days=r.cold_storage_after_days,
                    continuous=r.continuous,
                    copy_to_partner=r.copy_to_partner,
                    copy_retention_days=r.copy_retention_days,
                    start_window_minutes=r.start_window_minutes,
                    completion_window_minutes=r.completion_window_minutes,
                )
                for r in cfg.rules
            ],
            vault_lock=VaultLock(
                min_retention_days=lock.min_retention_days,
                max_retention_days=lock.max_retention_days,
                changeable_for_days=lock.changeable_for_days if lock.mode == "compliance" else None,
            )
            if lock.enabled
            else None,
            notification_events=cfg.notification_events,
            restore_testing=RestoreTesting(
                schedule=restore.schedule,
                start_window_hours=restore.start_window_hours,
                selection_window_days=restore.selection_window_days,
                algorithm=restore.algorithm,
                recovery_point_types=list(restore.recovery_point_types),
                validation_window_hours=restore.validation_window_hours,
                aurora_cluster_arns=[data.aurora_cluster_arn],
                restore_metadata_overrides=overrides,
            )
            if restore.enabled
            else None,
            reports=BackupReports(
                templates=cfg.reports.templates,
                formats=list(cfg.reports.formats),
                retention_days=cfg.reports.retention_days,
            )
            if cfg.reports.enabled
            else None,
        ),
        opts=ctx.opts(),
    )
    backup = Backup(tier=tier, vault_name=tier.vault_name, vault_arn=tier.vault_arn, plan_id=tier.plan_id)
    pulumi.export("backupVaultName", backup.vault_name)
    pulumi.export("backupVaultArn", backup.vault_arn)
    pulumi.export("backupPlanId", backup.plan_id)
    return backup
