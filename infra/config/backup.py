"""Backup section (`platform:backup`): AWS Backup vaults, vault lock, plan rules, restore testing and reports.

The defaults are the seed's backup strategy (docs/backup.md, "Seed to AWS mapping"). Everything AWS Backup would
reject at deploy time (or accept and then fail every job for) is a config error here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import ConfigModel
from infra.config.cron import CronExpression
from infra.config.errors import ConfigFix

# AWS Backup limits (Backup API reference: Lifecycle, PutBackupVaultLockConfiguration, BackupRuleInput).
MAX_RETENTION_DAYS = 36500  # 100 years
CONTINUOUS_MAX_RETENTION_DAYS = 35  # continuous backup / PITR window
COLD_STORAGE_MIN_DAYS = 90  # a recovery point stays in cold storage at least 90 days
VAULT_LOCK_MIN_CHANGEABLE_DAYS = 3  # 72-hour cooling-off period before a compliance lock is immutable
MIN_START_WINDOW_MINUTES = 60
# Vault events that still produce notifications (the API also lists deprecated ones such as BACKUP_JOB_FAILED that
# never fire: failed backup jobs arrive as BACKUP_JOB_COMPLETED with a non-COMPLETED State).
VAULT_EVENTS = (
    "BACKUP_JOB_STARTED",
    "BACKUP_JOB_COMPLETED",
    "COPY_JOB_STARTED",
    "COPY_JOB_SUCCESSFUL",
    "COPY_JOB_FAILED",
    "RESTORE_JOB_STARTED",
    "RESTORE_JOB_COMPLETED",
    "RECOVERY_POINT_MODIFIED",
    "S3_BACKUP_OBJECT_FAILED",
    "S3_RESTORE_OBJECT_FAILED",
    "CONTINUOUS_BACKUP_INTERRUPTED",
)
REPORT_TEMPLATES = ("BACKUP_JOB_REPORT", "COPY_JOB_REPORT", "RESTORE_JOB_REPORT")


class BackupRuleConfig(ConfigModel):
    """One backup plan rule: when it runs, how long recovery points live, and whether they are copied."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$", description="Rule name (unique).")
    schedule: CronExpression = Field(
        ..., description="AWS cron expression in UTC, e.g. `cron(0 0/6 * * ? *)` (every 6 h)."
    )
    retention_days: int = Field(
        ...,
        ge=1,
        le=MAX_RETENTION_DAYS,
        description=f"Days a recovery point is kept (1-{MAX_RETENTION_DAYS}; continuous rules at most "
        f"{CONTINUOUS_MAX_RETENTION_DAYS}).",
    )
    cold_storage_after_days: int | None = Field(
        None,
        ge=1,
        le=MAX_RETENTION_DAYS,
        description="Move recovery points of resource types that support it to cold storage after this many days; "
        f"retention must then be at least {COLD_STORAGE_MIN_DAYS} days longer. AWS ignores it for other types "
        "(Aurora snapshots: docs/backup.md).",
    )
    continuous: bool = Field(
        False,
        description="Continuous backup (point-in-time restore) for resource types that support it (Aurora, RDS, S3).",
    )
    copy_to_partner: bool = Field(True, description="Copy each recovery point to the partner region's copy vault.")
    copy_retention_days: int | None = Field(
        None,
        ge=1,
        le=MAX_RETENTION_DAYS,
        description="Retention of the partner-region copies; default: the rule's retentionDays.",
    )
    start_window_minutes: int = Field(
        MIN_START_WINDOW_MINUTES, ge=MIN_START_WINDOW_MINUTES, le=720, description="Minutes a job may wait to start."
    )
    completion_window_minutes: int = Field(
        720, ge=120, le=10080, description="Minutes a started job may run before AWS Backup cancels it."
    )

    @model_validator(mode="after")
    def _lifecycle(self) -> BackupRuleConfig:
        if self.continuous:
            if self.retention_days > CONTINUOUS_MAX_RETENTION_DAYS:
                raise ConfigFix(
                    f"rule '{self.name}': continuous backup keeps at most {CONTINUOUS_MAX_RETENTION_DAYS} days "
                    f"(retentionDays is {self.retention_days})",
                    f"set retentionDays to 1-{CONTINUOUS_MAX_RETENTION_DAYS} in rule '{self.name}', or set "
                    "continuous: false",
                )
            if self.cold_storage_after_days is not None:
                raise ConfigFix(
                    f"rule '{self.name}': continuous backups cannot move to cold storage",
                    f"remove coldStorageAfterDays from rule '{self.name}', or set continuous: false",
                )
        cold = self.cold_storage_after_days
        if cold is not None:
            for label, days in (("retentionDays", self.retention_days), ("copyRetentionDays", self.copy_days)):
                if days < cold + COLD_STORAGE_MIN_DAYS:
                    latest = days - COLD_STORAGE_MIN_DAYS
                    raise ConfigFix(
                        f"rule '{self.name}': coldStorageAfterDays {cold} is too late for {label} {days}: recovery "
                        f"points stay at least {COLD_STORAGE_MIN_DAYS} days in cold storage",
                        f"keep coldStorageAfterDays + {COLD_STORAGE_MIN_DAYS} <= {label} in rule '{self.name}': "
                        + (f"set coldStorageAfterDays to at most {latest}, or " if latest >= 1 else "")
                        + f"raise {label} to at least {cold + COLD_STORAGE_MIN_DAYS}"
                        + (" (or remove coldStorageAfterDays)" if latest < 1 else ""),
                    )
        return self

    @property
    def copy_days(self) -> int:
        return self.copy_retention_days or self.retention_days


class VaultLockConfig(ConfigModel):
    """AWS Backup Vault Lock on this region's vault and on its copy vault in the partner region."""

    enabled: bool = Field(True, description="Apply a vault lock (recommended; the policy pack warns without one).")
    mode: Literal["governance", "compliance"] = Field(
        "governance",
        description="`governance`: the lock can be removed by IAM principals allowed to. `compliance`: after "
        "changeableForDays the lock can never be changed or removed, not even by AWS (irreversible).",
    )
    min_retention_days: int = Field(
        7, ge=1, le=MAX_RETENTION_DAYS, description="Backup and copy jobs with a shorter retention fail."
    )
    max_retention_days: int = Field(
        2555, ge=1, le=MAX_RETENTION_DAYS, description="Backup and copy jobs with a longer retention fail (7 years)."
    )
    changeable_for_days: int | None = Field(
        None,
        ge=VAULT_LOCK_MIN_CHANGEABLE_DAYS,
        le=MAX_RETENTION_DAYS,
        description=f"Compliance mode only: grace period (>= {VAULT_LOCK_MIN_CHANGEABLE_DAYS} days) after which "
        "the lock is immutable.",
    )
    acknowledge_irreversible: bool = Field(
        False,
        description="Must be true to use compliance mode: confirms that the lock and its retention bounds become "
        "permanent once changeableForDays have passed.",
    )

    @model_validator(mode="after")
    def _mode(self) -> VaultLockConfig:
        if self.min_retention_days > self.max_retention_days:
            raise ConfigFix(
                f"minRetentionDays {self.min_retention_days} is above maxRetentionDays {self.max_retention_days}",
                f"keep minRetentionDays <= maxRetentionDays: lower minRetentionDays to at most "
                f"{self.max_retention_days} or raise maxRetentionDays to at least {self.min_retention_days}",
            )
        if self.mode == "compliance":
            if not self.acknowledge_irreversible:
                raise ConfigFix(
                    "compliance mode is irreversible after changeableForDays and acknowledgeIrreversible is not true",
                    "set acknowledgeIrreversible: true to confirm, or use mode: governance",
                )
            if self.changeable_for_days is None:
                raise ConfigFix(
                    "compliance mode needs changeableForDays",
                    f"add changeableForDays: <days>, {VAULT_LOCK_MIN_CHANGEABLE_DAYS} to {MAX_RETENTION_DAYS} "
                    "(the grace period before the lock is immutable)",
                )
        elif self.changeable_for_days is not None:
            raise ConfigFix(
                "changeableForDays turns the lock into compliance mode, but mode is governance",
                "remove changeableForDays to keep governance mode, or set mode: compliance and "
                "acknowledgeIrreversible: true",
            )
        return self


class RestoreTestingConfig(ConfigModel):
    """Automated restore testing of the Aurora recovery points (seed: weekly)."""

    enabled: bool = Field(True, description="Create the restore testing plan and its Aurora selection.")
    schedule: CronExpression = Field("cron(0 5 ? * SAT *)", description="AWS cron expression (UTC); seed: weekly.")
    start_window_hours: int = Field(24, ge=1, le=168, description="Hours a restore test may wait to start.")
    selection_window_days: int = Field(
        7, ge=1, le=365, description="Pick recovery points created within this many days."
    )
    algorithm: Literal["LATEST_WITHIN_WINDOW", "RANDOM_WITHIN_WINDOW"] = Field(
        "LATEST_WITHIN_WINDOW", description="Which recovery point in the window is restored."
    )
    recovery_point_types: list[Literal["SNAPSHOT", "CONTINUOUS"]] = Field(
        default_factory=lambda: ["SNAPSHOT"], min_length=1, description="Recovery point types to test."
    )
    validation_window_hours: int = Field(
        2, ge=0, le=168, description="Hours the restored cluster is kept for validation before it is deleted."
    )


class BackupReportConfig(ConfigModel):
    """Backup Audit Manager report plans delivered to an encrypted S3 bucket in this region."""

    enabled: bool = Field(True, description="Create the report bucket and report plans.")
    templates: list[str] = Field(
        default_factory=lambda: ["BACKUP_JOB_REPORT", "COPY_JOB_REPORT", "RESTORE_JOB_REPORT"],
        min_length=1,
        description=f"One report plan per template; allowed: {list(REPORT_TEMPLATES)}.",
    )
    formats: list[Literal["CSV", "JSON"]] = Field(
        default_factory=lambda: ["CSV", "JSON"], min_length=1, description="Report file formats."
    )
    retention_days: int = Field(
        2555, ge=30, le=MAX_RETENTION_DAYS, description="Days report files are kept in the bucket (7 years)."
    )

    @field_validator("templates")
    @classmethod
    def _templates(cls, value: list[str]) -> list[str]:
        bad = [t for t in value if t not in REPORT_TEMPLATES]
        if bad:
            raise ConfigFix(f"unknown report templates {bad}", f"use templates from {', '.join(REPORT_TEMPLATES)}")
        twice = sorted({t for t in value if value.count(t) > 1})
        if twice:
            raise ConfigFix(f"lists the report templates {twice} more than once", "list each template once")
        return value


def _seed_rules() -> list[BackupRuleConfig]:
    return [
        BackupRuleConfig(name="every-6h", schedule="cron(0 0/6 * * ? *)", retention_days=35),
        BackupRuleConfig(name="continuous-pitr", schedule="cron(0 1 * * ? *)", retention_days=35, continuous=True),
        BackupRuleConfig(name="daily", schedule="cron(0 2 * * ? *)", retention_days=365, cold_storage_after_days=90),
        BackupRuleConfig(
            name="monthly-compliance", schedule="cron(0 3 1 * ? *)", retention_days=2555, cold_storage_after_days=90
        ),
    ]


class BackupConfig(ConfigModel):
    """AWS Backup for this region: vault (CMK), vault lock, plan, selections, notifications, restore tests, reports."""

    enabled: bool = Field(True, description="Build the backup tier in this stack.")
    tier: str = Field(
        "critical",
        pattern=r"^[a-z][a-z0-9-]{0,31}$",
        description="Resources tagged `backup-tier=<tier>` are selected (Aurora; the Redis groups carry the tag too, "
        "but AWS Backup does not support ElastiCache).",
    )
    rules: list[BackupRuleConfig] = Field(
        default_factory=_seed_rules,
        min_length=1,
        description="Plan rules (seed: every 6 h / 35 d, continuous PITR 35 d, daily / 1 y with cold storage after "
        "90 d, monthly 7-year compliance copies).",
    )
    vault_lock: VaultLockConfig = Field(default_factory=VaultLockConfig)  # type: ignore[arg-type]
    notification_events: list[str] = Field(
        default_factory=lambda: [
            "BACKUP_JOB_COMPLETED",
            "COPY_JOB_FAILED",
            "RESTORE_JOB_COMPLETED",
            "CONTINUOUS_BACKUP_INTERRUPTED",
        ],
        min_length=1,
        description="Vault events sent to the tier's SNS topic; failed backup jobs arrive as BACKUP_JOB_COMPLETED "
        f"with a failed State (subscribers filter on it). Allowed: {list(VAULT_EVENTS)}.",
    )
    restore_testing: RestoreTestingConfig = Field(default_factory=RestoreTestingConfig)  # type: ignore[arg-type]
    reports: BackupReportConfig = Field(default_factory=BackupReportConfig)  # type: ignore[arg-type]

    @field_validator("notification_events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        bad = [e for e in value if e not in VAULT_EVENTS]
        if bad:
            raise ConfigFix(f"unsupported vault events {bad}", f"use events from {', '.join(VAULT_EVENTS)}")
        return value

    @model_validator(mode="after")
    def _rules(self) -> BackupConfig:
        names = [r.name for r in self.rules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigFix(
                f"rule names must be unique; duplicated: {duplicates}",
                f"give every rule in rules its own name (rename all but one rule named {duplicates[0]})",
            )
        continuous = [r.name for r in self.rules if r.continuous]
        if len(continuous) > 1:
            raise ConfigFix(
                f"rules {continuous} are all continuous; AWS Backup allows one continuous rule per resource",
                "keep continuous: true on one rule and set continuous: false on the others",
            )
        lock = self.vault_lock
        if lock.enabled:
            for rule in self.rules:
                for label, days in (("retentionDays", rule.retention_days), ("copyRetentionDays", rule.copy_days)):
                    if label == "copyRetentionDays" and not rule.copy_to_partner:
                        continue
                    if not lock.min_retention_days <= days <= lock.max_retention_days:
                        raise ConfigFix(
                            f"rule '{rule.name}': {label} {days} is outside the vault lock's "
                            f"{lock.min_retention_days}..{lock.max_retention_days} days; AWS Backup fails such jobs",
                            f"set {label} of rule '{rule.name}' within {lock.min_retention_days}.."
                            f"{lock.max_retention_days}, or widen vaultLock.minRetentionDays / maxRetentionDays to "
                            f"include {days}",
                        )
        return self
