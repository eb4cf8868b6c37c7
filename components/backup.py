"""AWS Backup for one region: CMK-encrypted vault with a vault lock, the inbound copy vault that receives the partner
region's copies, a plan, tag and ARN selections, vault notifications, weekly restore testing of Aurora and Backup
Audit Manager reports.

Every resource is in THIS stack's region (static stability: a stack deploys while the other region is impaired).
Cross-region copies go to the PARTNER's inbound vault, which the partner stack owns in its own region; the copy
action names it by its deterministic ARN, so neither stack reads the other's outputs (docs/backup.md).
"""

from __future__ import annotations

import json
from typing import Literal

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict, Field, model_validator

from components.base import ComponentArgs, Input, PlatformComponent
from components.kms import KmsKey, KmsKeyArgs
from components.sns import Publisher, topic_policy
from components.storage import bucket_policy, secure_bucket_settings

BACKUP_SERVICE = "backup.amazonaws.com"
_MANAGED = "arn:aws:iam::aws:policy/service-role/"
SERVICE_ROLE_POLICIES = ("AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores")
COLD_STORAGE_MIN_DAYS = 90
CONTINUOUS_MAX_RETENTION_DAYS = 35


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class BackupRule(_Spec):
    """One plan rule (see infra/config/backup.py for the user-facing validation)."""

    name: str = Field(..., description="Rule name.")
    schedule: str = Field(..., description="AWS cron expression (UTC).")
    retention_days: int = Field(..., ge=1, description="Days a recovery point is kept.")
    cold_storage_after_days: int | None = Field(None, ge=1, description="Days before cold storage (supported types).")
    continuous: bool = Field(False, description="Continuous backup / point-in-time restore.")
    copy_to_partner: bool = Field(True, description="Copy recovery points to the partner-region copy vault.")
    copy_retention_days: int | None = Field(None, ge=1, description="Copy retention; default: retention_days.")
    start_window_minutes: int = Field(60, ge=60, description="Minutes a job may wait to start.")
    completion_window_minutes: int = Field(720, ge=120, description="Minutes a job may run.")

    @model_validator(mode="after")
    def _lifecycle(self) -> BackupRule:
        if self.continuous and self.retention_days > CONTINUOUS_MAX_RETENTION_DAYS:
            raise ValueError(f"continuous rule {self.name} keeps at most {CONTINUOUS_MAX_RETENTION_DAYS} days")
        if self.cold_storage_after_days is not None:
            if self.continuous:
                raise ValueError(f"continuous rule {self.name} cannot move to cold storage")
            if min(self.retention_days, self.copy_days) < self.cold_storage_after_days + COLD_STORAGE_MIN_DAYS:
                raise ValueError(f"rule {self.name}: retention must be >= cold storage + {COLD_STORAGE_MIN_DAYS} days")
        return self

    @property
    def copy_days(self) -> int:
        return self.copy_retention_days or self.retention_days


class VaultLock(_Spec):
    """Vault lock bounds; `changeable_for_days` set = compliance mode (irreversible after it), unset = governance."""

    min_retention_days: int = Field(..., ge=1)
    max_retention_days: int = Field(..., ge=1)
    changeable_for_days: int | None = Field(None, ge=3)


class RestoreTesting(_Spec):
    """Restore testing plan + its Aurora selection."""

    schedule: str = Field("cron(0 5 ? * SAT *)", description="AWS cron expression (UTC); default weekly.")
    start_window_hours: int = Field(24, ge=1, le=168)
    selection_window_days: int = Field(7, ge=1, le=365)
    algorithm: Literal["LATEST_WITHIN_WINDOW", "RANDOM_WITHIN_WINDOW"] = "LATEST_WITHIN_WINDOW"
    recovery_point_types: list[str] = Field(default_factory=lambda: ["SNAPSHOT"])
    validation_window_hours: int = Field(2, ge=0, le=168)
    aurora_cluster_arns: list[Input] = Field(..., min_length=1, description="Aurora clusters whose points are tested.")
    restore_metadata_overrides: dict[str, Input] = Field(
        default_factory=dict,
        description="Restore metadata overrides, e.g. `dbsubnetgroupname`, `vpcsecuritygroupids` (JSON list).",
    )


class BackupReports(_Spec):
    """Backup Audit Manager report plans delivered to a bucket of this component."""

    templates: list[str] = Field(default_factory=lambda: ["BACKUP_JOB_REPORT"], min_length=1)
    formats: list[str] = Field(default_factory=lambda: ["CSV", "JSON"], min_length=1)
    retention_days: int = Field(2555, ge=30, description="Days report files are kept.")


class BackupTierArgs(ComponentArgs):
    """Args of `BackupTier`."""

    account_id: Input = Field(..., description="AWS account id (key policies, bucket name, topic policy).")
    partner_region: str = Field(..., description="Region copies go to (the partner stack's region).")
    partner_name_prefix: str = Field(..., description="Physical-name prefix in the partner region.")
    source_code: str = Field(..., pattern=r"^[a-z0-9]{2,8}$", description="Region code of this region (`use1`).")
    partner_code: str = Field(..., pattern=r"^[a-z0-9]{2,8}$", description="Region code of the partner (`euw1`).")
    tier_tag_key: str = Field("backup-tier", description="Tag key that selects resources.")
    tier_tag_value: str = Field("critical", description="Tag value that selects resources.")
    resource_arns: list[Input] = Field(default_factory=list, description="Resources selected explicitly by ARN.")
    rules: list[BackupRule] = Field(..., min_length=1, description="Plan rules.")
    vault_lock: VaultLock | None = Field(None, description="Vault lock on both vaults; None: no lock.")
    notification_events: list[str] = Field(
        default_factory=lambda: ["BACKUP_JOB_COMPLETED", "COPY_JOB_FAILED", "RESTORE_JOB_COMPLETED"],
        min_length=1,
        description="Vault events published to the tier's SNS topic.",
    )
    restore_testing: RestoreTesting | None = Field(None, description="Restore testing; None: none.")
    reports: BackupReports | None = Field(None, description="Report plans; None: none.")

    @model_validator(mode="after")
    def _lock_bounds(self) -> BackupTierArgs:
        if self.partner_region == self.region:
            raise ValueError("partner_region must differ from region (cross-region copies)")
        lock = self.vault_lock
        if lock is not None:
            if lock.min_retention_days > lock.max_retention_days:
                raise ValueError("vault lock min_retention_days is above max_retention_days")
            for rule in self.rules:
                days = [rule.retention_days] + ([rule.copy_days] if rule.copy_to_partner else [])
                if any(not lock.min_retention_days <= d <= lock.max_retention_days for d in days):
                    raise ValueError(f"rule {rule.name}: retention outside the vault lock bounds")
        return self


def inbound_vault_name(prefix: str, source_code: str) -> str:
    """The vault of the region with `prefix` that receives copies from the region `source_code`."""
    return f"{prefix}-backup-from-{source_code}"[:50]


def _underscored(name: str) -> str:
    """Restore testing and report plan names allow letters, digits and underscores only."""
    return name.replace("-", "_").replace(".", "_")


class BackupTier(PlatformComponent):
    """Outputs: `vault_name`, `vault_arn`, `copy_vault_arn`, `plan_id`, `plan_arn`, `topic_arn`, `role_arn`,
    `restore_testing_plan_name` (or None), `report_bucket` (or None)."""

    def __init__(self, name: str, args: BackupTierArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:backup:BackupTier", name, opts)
        region, prefix, tags = args.region, args.name_prefix, args.tags

        # One CMK per region: recovery points in the vault and the SNS topic (AWS Backup publishes through it).
        self.key = KmsKey(
            self.cname("kms"),
            KmsKeyArgs(
                region=region,
                name_prefix=prefix,
                tags=tags,
                purpose="backup",
                account_id=args.account_id,
                service_principals=[BACKUP_SERVICE],
            ),
            opts=self.child(),
        )
        vault_name = f"{prefix}-backup"
        self.vault = aws.backup.Vault(
            self.cname("vault"),
            region=region,
            name=vault_name,
            kms_key_arn=self.key.arn,
            force_destroy=False,
            tags=self.tagged(tags, vault_name),
            opts=self.child(),
        )

        # Inbound copy vault: receives the partner region's copies; in this region, with its own CMK.
        self.copy_key = KmsKey(
            self.cname("copy-kms"),
            KmsKeyArgs(
                region=region,
                name_prefix=prefix,
                tags=tags,
                purpose=f"backup-from-{args.partner_code}",
                account_id=args.account_id,
            ),
            opts=self.child(),
        )
        copy_name = inbound_vault_name(prefix, args.partner_code)
        self.copy_vault = aws.backup.Vault(
            self.cname("copy-vault"),
            region=region,
            name=copy_name,
            kms_key_arn=self.copy_key.arn,
            force_destroy=False,
            tags=self.tagged(tags, copy_name, **{"backup-source-region": args.partner_region}),
            opts=self.child(),
        )
        # Where this region's copies go: the partner stack's inbound vault (it must exist when a copy job runs).
        destination = inbound_vault_name(args.partner_name_prefix, args.source_code)
        self.copy_destination_vault_arn = pulumi.Output.from_input(args.account_id).apply(
            lambda account: f"arn:aws:backup:{args.partner_region}:{account}:backup-vault:{destination}"
        )
        if args.vault_lock is not None:
            for suffix, vault in (("vault-lock", self.vault), ("copy-vault-lock", self.copy_vault)):
                aws.backup.VaultLockConfiguration(
                    self.cname(suffix),
                    region=region,
                    backup_vault_name=vault.name,
                    min_retention_days=args.vault_lock.min_retention_days,
                    max_retention_days=args.vault_lock.max_retention_days,
                    changeable_for_days=args.vault_lock.changeable_for_days,
                    opts=self.child(),
                )

        # Service role for backup, copy and restore (restore testing) jobs.
        role_name = f"{prefix}-backup"
        self.role = aws.iam.Role(
            self.cname("role"),
            name=role_name,
            description=f"AWS Backup service role for {vault_name}",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"Service": BACKUP_SERVICE}, "Action": "sts:AssumeRole"}
                    ],
                }
            ),
            tags=self.tagged(tags, role_name),
            opts=self.child(),
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                self.cname(f"role-{policy.removeprefix('AWSBackupServiceRolePolicy').lower()}"),
                role=self.role.name,
                policy_arn=_MANAGED + policy,
                opts=self.child(),
            )
            for policy in SERVICE_ROLE_POLICIES
        ]

        self.plan = aws.backup.Plan(
            self.cname("plan"),
            region=region,
            name=vault_name,
            rules=[self._rule(rule, args) for rule in args.rules],
            tags=self.tagged(tags, vault_name),
            opts=self.child(),
        )
        selection_opts = self.child(depends_on=attachments)
        aws.backup.Selection(
            self.cname("selection-tier"),
            region=region,
            name=f"{prefix}-tier-{args.tier_tag_value}"[:50],
            plan_id=self.plan.id,
            iam_role_arn=self.role.arn,
            selection_tags=[
                aws.backup.SelectionSelectionTagArgs(
                    type="STRINGEQUALS", key=args.tier_tag_key, value=args.tier_tag_value
                )
            ],
            opts=selection_opts,
        )
        if args.resource_arns:
            aws.backup.Selection(
                self.cname("selection-explicit"),
                region=region,
                name=f"{prefix}-explicit"[:50],
                plan_id=self.plan.id,
                iam_role_arn=self.role.arn,
                resources=args.resource_arns,
                opts=selection_opts,
            )

        self.topic = self._notifications(args)
        self.restore_testing_plan = self._restore_testing(args, attachments)
        self.report_bucket = self._reports(args)

        self.vault_name = self.vault.name
        self.vault_arn = self.vault.arn
        self.copy_vault_arn = self.copy_vault.arn  # the inbound vault in this region
        self.plan_id = self.plan.id
        self.plan_arn = self.plan.arn
        self.topic_arn = self.topic.arn
        self.role_arn = self.role.arn
        self.restore_testing_plan_name = self.restore_testing_plan.name if self.restore_testing_plan else None
        self.register_outputs(
            {
                "vaultName": self.vault_name,
                "vaultArn": self.vault_arn,
                "copyVaultArn": self.copy_vault_arn,
                "copyDestinationVaultArn": self.copy_destination_vault_arn,
                "planId": self.plan_id,
                "topicArn": self.topic_arn,
                "roleArn": self.role_arn,
            }
        )

    def _rule(self, rule: BackupRule, args: BackupTierArgs) -> aws.backup.PlanRuleArgs:
        copy_actions = None
        if rule.copy_to_partner:
            cold = rule.cold_storage_after_days
            copy_actions = [
                aws.backup.PlanRuleCopyActionArgs(
                    destination_vault_arn=self.copy_destination_vault_arn,
                    lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(
                        delete_after=rule.copy_days,
                        cold_storage_after=cold,
                    ),
                )
            ]
        return aws.backup.PlanRuleArgs(
            rule_name=rule.name,
            target_vault_name=self.vault.name,
            schedule=rule.schedule,
            schedule_expression_timezone="Etc/UTC",
            start_window=rule.start_window_minutes,
            completion_window=rule.completion_window_minutes,
            enable_continuous_backup=rule.continuous,
            lifecycle=aws.backup.PlanRuleLifecycleArgs(
                delete_after=rule.retention_days,
                cold_storage_after=rule.cold_storage_after_days,
            ),
            copy_actions=copy_actions,
            recovery_point_tags={**args.tags, "backup-rule": rule.name},
        )

    def _notifications(self, args: BackupTierArgs) -> aws.sns.Topic:
        """Vault events to a CMK-encrypted topic that only AWS Backup (and the account) may publish to."""
        topic_name = f"{args.name_prefix}-backup-events"
        topic = aws.sns.Topic(
            self.cname("events"),
            region=args.region,
            name=topic_name,
            kms_master_key_id=self.key.arn,
            tags=self.tagged(args.tags, topic_name),
            opts=self.child(),
        )
        policy = aws.sns.TopicPolicy(
            self.cname("events-policy"),
            region=args.region,
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, args.account_id).apply(
                lambda parts: json.dumps(topic_policy(parts[0], parts[1], [Publisher("BackupPublish", BACKUP_SERVICE)]))
            ),
            opts=self.child(),
        )
        aws.backup.VaultNotifications(
            self.cname("vault-notifications"),
            region=args.region,
            backup_vault_name=self.vault.name,
            sns_topic_arn=topic.arn,
            backup_vault_events=args.notification_events,
            opts=self.child(depends_on=[policy]),
        )
        return topic

    def _restore_testing(
        self, args: BackupTierArgs, attachments: list[pulumi.Resource]
    ) -> aws.backup.RestoreTestingPlan | None:
        spec = args.restore_testing
        if spec is None:
            return None
        plan_name = _underscored(f"{args.name_prefix}_restore_test")
        plan = aws.backup.RestoreTestingPlan(
            self.cname("restore-testing"),
            region=args.region,
            name=plan_name,
            schedule_expression=spec.schedule,
            schedule_expression_timezone="Etc/UTC",
            start_window_hours=spec.start_window_hours,
            recovery_point_selection=aws.backup.RestoreTestingPlanRecoveryPointSelectionArgs(
                algorithm=spec.algorithm,
                include_vaults=[self.vault.arn],
                recovery_point_types=spec.recovery_point_types,
                selection_window_days=spec.selection_window_days,
            ),
            tags=self.tagged(args.tags, plan_name),
            opts=self.child(),
        )
        aws.backup.RestoreTestingSelection(
            self.cname("restore-testing-aurora"),
            region=args.region,
            name=_underscored(f"{args.name_prefix}_aurora"),
            restore_testing_plan_name=plan.name,
            protected_resource_type="Aurora",
            protected_resource_arns=spec.aurora_cluster_arns,
            iam_role_arn=self.role.arn,
            restore_metadata_overrides=spec.restore_metadata_overrides or None,
            validation_window_hours=spec.validation_window_hours,
            opts=self.child(depends_on=attachments),
        )
        return plan

    def _reports(self, args: BackupTierArgs) -> pulumi.Output[str] | None:
        """Report plans writing to a private, TLS-only, SSE-KMS bucket with a retention lifecycle."""
        spec = args.reports
        if spec is None:
            return None
        region = args.region
        bucket = aws.s3.Bucket(
            self.cname("reports"),
            region=region,
            bucket=pulumi.Output.concat(args.name_prefix, "-backup-reports-", args.account_id),
            force_destroy=False,
            tags=self.tagged(args.tags, f"{args.name_prefix}-backup-reports"),
            opts=self.child(),
        )
        # SSE-KMS with the AWS managed key: Backup Audit Manager writes with its service-linked role, which a
        # customer-managed key policy built by KmsKey does not name (docs/backup.md).
        secure_bucket_settings(
            self,
            "reports",
            region=region,
            bucket=bucket.bucket,
            expiration_days=spec.retention_days,
            lifecycle_id="expire-backup-reports",
        )
        plans = [
            aws.backup.ReportPlan(
                self.cname(f"report-{template.lower().replace('_', '-')}"),
                region=region,
                name=_underscored(f"{args.name_prefix}_{template.lower()}"),
                description=f"{template} for {args.name_prefix}",
                report_delivery_channel=aws.backup.ReportPlanReportDeliveryChannelArgs(
                    s3_bucket_name=bucket.bucket, s3_key_prefix="backup-reports", formats=spec.formats
                ),
                report_setting=aws.backup.ReportPlanReportSettingArgs(report_template=template, regions=[region]),
                tags=self.tagged(args.tags, _underscored(f"{args.name_prefix}_{template.lower()}")),
                opts=self.child(),
            )
            for template in spec.templates
        ]
        # The reports service-linked role exists once a report plan does; the policy names it, so it comes after.
        aws.s3.BucketPolicy(
            self.cname("reports-policy"),
            region=region,
            bucket=bucket.bucket,
            policy=pulumi.Output.all(bucket.arn, args.account_id).apply(
                lambda parts: json.dumps(_reports_bucket_policy(parts[0], parts[1]))
            ),
            opts=self.child(depends_on=plans),
        )
        return bucket.bucket


def _reports_bucket_policy(bucket_arn: str, account: str) -> dict:
    reports_role = (
        f"arn:aws:iam::{account}:role/aws-service-role/reports.backup.amazonaws.com/AWSServiceRoleForBackupReports"
    )
    return bucket_policy(
        bucket_arn,
        {
            "Sid": "BackupAuditManagerReports",
            "Effect": "Allow",
            "Principal": {"AWS": reports_role},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/*",
            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
        },
    )
