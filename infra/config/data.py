"""Data section (`platform:data`): Aurora PostgreSQL global database and ElastiCache Redis (Global Datastore)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from infra.config.aws_values import (
    AURORA_POSTGRES_CLASSES,
    ELASTICACHE_MIN_WINDOW_MINUTES,
    ELASTICACHE_NODE_TYPES,
    RDS_MIN_WINDOW_MINUTES,
    check_class,
    daily_overlaps_weekly,
    daily_span,
    weekly_span,
    widened,
)
from infra.config.base import ConfigModel
from infra.config.errors import ConfigFix
from infra.config.network import LogRetentionDays

# Aurora PostgreSQL major.minor versions accepted for a global database (seed: PostgreSQL 15+).
AURORA_POSTGRES_VERSIONS = ("15.10", "15.12", "16.6", "16.8", "17.4")
# Node families ElastiCache Global Datastore supports (M5/M6g/M7g/R5/R6g/R7g, large and up).
GLOBAL_DATASTORE_FAMILIES = ("m5", "m6g", "m7g", "r5", "r6g", "r7g")
_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
_DAY_TIME = r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d"
_MAINT = re.compile(rf"^{_DAY_TIME}-{_DAY_TIME}$")


def _daily_window(value: str) -> str:
    if not _WINDOW.match(value):
        raise ConfigFix(f"'{value}' is not a daily window", "write hh:mm-hh:mm in UTC, e.g. 03:00-04:00")
    return value


def _weekly_window(value: str) -> str:
    if not _MAINT.match(value):
        raise ConfigFix(
            f"'{value}' is not a weekly window", "write ddd:hh:mm-ddd:hh:mm in UTC (mon..sun), e.g. sun:05:00-sun:06:00"
        )
    return value


# Daily (backup / snapshot) and weekly (maintenance) windows in the form RDS and ElastiCache accept, UTC.
DailyWindow = Annotated[str, AfterValidator(_daily_window)]
WeeklyWindow = Annotated[str, AfterValidator(_weekly_window)]


# pgaudit.log classes (https://github.com/pgaudit/pgaudit#pgauditlog).
PgauditClass = Literal["ddl", "role", "write", "read", "function", "misc", "misc_set", "all"]


class ReaderScalingConfig(ConfigModel):
    """Aurora reader auto scaling (Application Auto Scaling on `rds:cluster:ReadReplicaCount`)."""

    min_readers: int = Field(2, ge=0, le=15, description="Minimum Aurora Replicas kept by auto scaling.")
    max_readers: int = Field(5, ge=1, le=15, description="Maximum Aurora Replicas auto scaling may add.")
    target_cpu_percent: int = Field(70, ge=10, le=90, description="Target average reader CPU (seed: 70%).")

    @model_validator(mode="after")
    def _order(self) -> ReaderScalingConfig:
        if self.min_readers > self.max_readers:
            raise ConfigFix(
                f"minReaders {self.min_readers} is above maxReaders {self.max_readers}",
                f"keep minReaders <= maxReaders: lower minReaders to at most {self.max_readers} or raise maxReaders "
                f"to at least {self.min_readers}",
            )
        return self


class AuroraConfig(ConfigModel):
    """The Aurora PostgreSQL global database and this region's cluster."""

    engine_version: str = Field("16.6", description=f"Aurora PostgreSQL version; one of {AURORA_POSTGRES_VERSIONS}.")
    writer_instance_class: str = Field("db.r6g.8xlarge", description="Instance class of the writer (seed).")
    reader_instance_class: str = Field("db.r6g.4xlarge", description="Instance class of the readers (seed).")
    readers: int = Field(2, ge=1, le=15, description="Readers in this region (primary seed: 2; secondary >= 1).")
    backup_retention_days: int = Field(35, description="Automated backup / PITR retention, 1-35 days (seed: 35).")
    backup_window: DailyWindow = Field("03:00-04:00", description="Preferred daily backup window (UTC, hh:mm-hh:mm).")
    maintenance_window: WeeklyWindow = Field("sun:05:00-sun:06:00", description="Preferred maintenance window (UTC).")
    storage_encrypted: bool = Field(
        True,
        description="Encrypt storage with this region's CMK. Turning it off is for disposable test stacks only: the "
        "policy pack's mandatory rds-storage-encrypted rule fails such a stack, and it cannot be turned on later "
        "without a restore.",
    )
    deletion_protection: bool = Field(True, description="Deletion protection; turn off only explicitly.")
    skip_final_snapshot: bool = Field(False, description="Skip the final snapshot on delete; only explicitly.")
    monitoring_interval: Literal[1, 5, 10, 15, 30, 60] = Field(15, description="Enhanced monitoring seconds.")
    slow_query_ms: int = Field(500, ge=0, description="log_min_duration_statement: log queries slower than this.")
    rpo_budget_seconds: int = Field(60, ge=1, description="RPO budget for replication lag (seed: 1 minute).")
    pgaudit_log: list[PgauditClass] = Field(
        default_factory=lambda: ["ddl", "role"],
        min_length=1,
        description="pgaudit.log statement classes (DDL and role/grant changes by default; `write`/`read` are heavy).",
    )
    log_retention_days: LogRetentionDays = Field(
        365, description="Retention of the exported `postgresql` log (pgaudit, slow queries) in CloudWatch Logs."
    )
    master_secret_rotation_days: int = Field(
        30, ge=1, le=365, description="Rotate the master secret every N days (Secrets Manager, in-VPC Lambda)."
    )
    reader_scaling: ReaderScalingConfig = Field(default_factory=ReaderScalingConfig)  # type: ignore[arg-type]

    @field_validator("engine_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value not in AURORA_POSTGRES_VERSIONS:
            raise ConfigFix(
                f"'{value}' is not a supported Aurora PostgreSQL version",
                f'use one of {", ".join(AURORA_POSTGRES_VERSIONS)} (quoted in YAML, e.g. "16.6")',
            )
        return value

    @field_validator("writer_instance_class", "reader_instance_class")
    @classmethod
    def _klass(cls, value: str) -> str:
        what = "a memory-optimized Aurora PostgreSQL class"
        return check_class(value, "db", AURORA_POSTGRES_CLASSES, what, "db.r6g.4xlarge")

    @model_validator(mode="after")
    def _windows(self) -> AuroraConfig:
        # RDS: both windows at least 30 minutes and not overlapping (infra/config/aws_values.py has the source).
        for key, length in (
            ("backupWindow", daily_span(self.backup_window)[1]),
            ("maintenanceWindow", weekly_span(self.maintenance_window)[1]),
        ):
            if length < RDS_MIN_WINDOW_MINUTES:
                window = self.backup_window if key == "backupWindow" else self.maintenance_window
                raise ConfigFix(
                    f"{key} is {length} minutes; RDS needs at least {RDS_MIN_WINDOW_MINUTES}",
                    f"widen {key} to at least {RDS_MIN_WINDOW_MINUTES} minutes, e.g. "
                    f"{widened(window, RDS_MIN_WINDOW_MINUTES)}",
                )
        if daily_overlaps_weekly(self.backup_window, self.maintenance_window):
            raise ConfigFix(
                f"backupWindow {self.backup_window} overlaps maintenanceWindow {self.maintenance_window}; RDS "
                "refuses overlapping windows",
                "move one so that the daily backupWindow misses maintenanceWindow on its day, e.g. backupWindow "
                "03:00-04:00 with maintenanceWindow sun:05:00-sun:06:00",
            )
        return self

    @field_validator("backup_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if not 1 <= value <= 35:
            raise ConfigFix("Aurora keeps automated backups 1 to 35 days", "use 1 to 35 days (the seed uses 35)")
        return value

    @model_validator(mode="after")
    def _scaling_minimum_within_readers(self) -> AuroraConfig:
        # Auto scaling adds replicas of the WRITER's class to reach its minimum: keep the minimum within the
        # configured readers so the steady state runs readerInstanceClass (docs/data-tier.md).
        if self.reader_scaling.min_readers > self.readers:
            raise ConfigFix(
                f"readerScaling.minReaders {self.reader_scaling.min_readers} is above readers {self.readers}: auto "
                f"scaling would add {self.reader_scaling.min_readers - self.readers} replica(s) of the writer's class "
                f"({self.writer_instance_class})",
                f"keep readerScaling.minReaders <= readers: raise readers to {self.reader_scaling.min_readers} or "
                f"lower readerScaling.minReaders to {self.readers}",
            )
        return self


class RedisConfig(ConfigModel):
    """ElastiCache for Redis OSS, cluster mode enabled, joined to a Global Datastore."""

    engine_version: Literal["7.1", "7.0"] = Field("7.1", description="Redis OSS engine version.")
    node_type: str = Field("cache.r7g.xlarge", description="Node type (seed ~32 GB: r7g.xlarge = 26.3 GiB).")
    shards: int = Field(3, ge=1, le=500, description="Node groups (shards); seed: 3.")
    replicas_per_shard: int = Field(2, ge=1, le=5, description="Replicas per shard; seed 3 x (1+2) = 9 nodes.")
    global_datastore: bool = Field(True, description="Join the cross-region Global Datastore.")
    transit_encryption: bool = Field(
        True, description="TLS in transit (required: clients authenticate as per-service IAM users, which needs TLS)."
    )
    snapshot_retention_days: int = Field(7, ge=0, le=35, description="Daily automatic snapshots kept (days).")
    snapshot_window: DailyWindow = Field("04:00-05:00", description="Daily snapshot window (UTC).")
    maintenance_window: WeeklyWindow = Field("sun:06:00-sun:07:00", description="Maintenance window (UTC).")
    maxmemory_policy: Literal["allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-ttl"] = Field(
        "allkeys-lru", description="Eviction policy (seed: least recently used)."
    )
    slow_log_retention_days: LogRetentionDays = Field(
        365, description="Slow-log retention in CloudWatch Logs (FSBP CloudWatch.16: at least a year)."
    )

    @field_validator("node_type")
    @classmethod
    def _node(cls, value: str) -> str:
        return check_class(value, "cache", ELASTICACHE_NODE_TYPES, "an ElastiCache node type", "cache.r7g.xlarge")

    @model_validator(mode="after")
    def _aws_rules(self) -> RedisConfig:
        family = self.node_type.split(".")[1]
        size = self.node_type.split(".")[2]
        if self.global_datastore and (family not in GLOBAL_DATASTORE_FAMILIES or size in ("micro", "small", "medium")):
            raise ConfigFix(
                f"nodeType {self.node_type}: Global Datastore supports only {', '.join(GLOBAL_DATASTORE_FAMILIES)} "
                "nodes of size large or bigger",
                f"use cache.<family>.<size> with a family from {', '.join(GLOBAL_DATASTORE_FAMILIES)} and size large "
                "or bigger (e.g. cache.r7g.xlarge), or set globalDatastore: false",
            )
        for key, length in (
            ("snapshotWindow", daily_span(self.snapshot_window)[1]),
            ("maintenanceWindow", weekly_span(self.maintenance_window)[1]),
        ):
            if length < ELASTICACHE_MIN_WINDOW_MINUTES:
                window = self.snapshot_window if key == "snapshotWindow" else self.maintenance_window
                raise ConfigFix(
                    f"{key} is {length} minutes; ElastiCache needs at least {ELASTICACHE_MIN_WINDOW_MINUTES}",
                    f"widen {key} to at least {ELASTICACHE_MIN_WINDOW_MINUTES} minutes, e.g. "
                    f"{widened(window, ELASTICACHE_MIN_WINDOW_MINUTES)}",
                )
        if not self.transit_encryption:
            raise ConfigFix(
                "transitEncryption must be true: the services authenticate as IAM-enabled ElastiCache users, which "
                "ElastiCache accepts only over TLS (and a Global Datastore replicates only over TLS)",
                "set transitEncryption: true (the default)",
            )
        return self


class DataConfig(ConfigModel):
    """Aurora and Redis settings of this region."""

    aurora: AuroraConfig = Field(default_factory=AuroraConfig)  # type: ignore[arg-type]
    redis: RedisConfig = Field(default_factory=RedisConfig)  # type: ignore[arg-type]
