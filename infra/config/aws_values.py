"""What AWS accepts, kept as data with its source: instance classes, node types and window rules the config
models check before a deploy gets as far as an API error.

The lists are the documented ones at the time of writing; a class AWS adds later is refused until it is added
here (the error says so). Update them from the sources named beside each table.
"""

from __future__ import annotations

import re

from infra.config.errors import ConfigFix

# Aurora PostgreSQL DB instance classes (memory-optimized and x2g; burstable db.t* excluded for production, and
# db.serverless is a different capacity model). Source: Aurora User Guide, "Supported DB engines for DB instance
# classes", https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.DBInstanceClass.SupportAurora.html
_SIZES_16 = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
AURORA_POSTGRES_CLASSES: dict[str, tuple[str, ...]] = {
    "r5": (*_SIZES_16, "24xlarge"),
    "r6g": _SIZES_16,
    "r6i": (*_SIZES_16, "24xlarge", "32xlarge"),
    "r7g": _SIZES_16,
    "r7i": (*_SIZES_16, "24xlarge", "48xlarge"),
    "r8g": (*_SIZES_16, "24xlarge", "48xlarge"),
    "x2g": _SIZES_16,
}

# ElastiCache (Redis OSS) node types. Source: ElastiCache User Guide, "Supported node types",
# https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheNodes.SupportedTypes.html
_SIZES_24 = ("large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge")
ELASTICACHE_NODE_TYPES: dict[str, tuple[str, ...]] = {
    "m5": _SIZES_24,
    "m6g": _SIZES_16,
    "m7g": _SIZES_16,
    "r5": _SIZES_24,
    "r6g": _SIZES_16,
    "r6gd": _SIZES_16[1:],
    "r7g": _SIZES_16,
    "t3": ("micro", "small", "medium"),
    "t4g": ("micro", "small", "medium"),
}

# Minimum window lengths in minutes.
# RDS CreateDBCluster: PreferredBackupWindow and PreferredMaintenanceWindow "must be at least 30 minutes" and "must
# not conflict" with each other (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html).
# ElastiCache: "The minimum maintenance window is a 60 minute period" (API_CreateReplicationGroup,
# PreferredMaintenanceWindow); "The minimum snapshot window is a 60 minute period" (terraform-provider-aws
# website/docs/r/elasticache_cluster.html.markdown, snapshot_window).
RDS_MIN_WINDOW_MINUTES = 30
ELASTICACHE_MIN_WINDOW_MINUTES = 60

# EKS managed node groups: the AMI type fixes the CPU architecture, and EKS rejects an instance type of the other
# one. Graviton (arm64) families carry a `g` right after the generation digit (m7g, c6gn, r7gd, t4g, im4gn):
# EC2 "Instance type naming conventions", https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html
ARM_AMI_TYPES = ("AL2023_ARM_64_STANDARD", "BOTTLEROCKET_ARM_64")
_GRAVITON = re.compile(r"^[a-z]+\d+g")

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def check_class(value: str, prefix: str, table: dict[str, tuple[str, ...]], what: str, example: str) -> str:
    """`value` (e.g. `db.r6g.4xlarge`) if `table` has it, else a ConfigFix naming the families or sizes there are;
    `what` has its article."""
    parts = value.split(".")
    if len(parts) != 3 or parts[0] != prefix:
        raise ConfigFix(f"'{value}' is not {what}", f"write {prefix}.<family>.<size>, e.g. {example}")
    family, size = parts[1], parts[2]
    if family not in table:
        raise ConfigFix(
            f"'{value}': family '{family}' is not documented for {what}",
            f"use a family from {', '.join(sorted(table))} ({prefix}.<family>.<size>, e.g. {example})",
        )
    if size not in table[family]:
        raise ConfigFix(
            f"'{value}': {size} is not one of the {prefix}.{family} sizes",
            f"use a size from {', '.join(table[family])} ({prefix}.{family}.<size>)",
        )
    return value


def is_graviton(instance_type: str) -> bool:
    return bool(_GRAVITON.match(instance_type))


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def daily_span(window: str) -> tuple[int, int]:
    """`hh:mm-hh:mm` as (start, length) in minutes; a window may run past midnight."""
    start, end = (_minutes(part) for part in window.split("-"))
    return start, (end - start) % (24 * 60)


def weekly_span(window: str) -> tuple[int, int]:
    """`ddd:hh:mm-ddd:hh:mm` as (start minute of the week, length) in minutes."""
    start_text, end_text = window.split("-")

    def minute_of_week(text: str) -> int:
        day, rest = text.split(":", 1)
        return _DAYS.index(day) * 24 * 60 + _minutes(rest)

    start, end = minute_of_week(start_text), minute_of_week(end_text)
    return start, (end - start) % (7 * 24 * 60)


def widened(window: str, minutes: int) -> str:
    """`window` (daily `hh:mm-hh:mm` or weekly `ddd:hh:mm-ddd:hh:mm`) ending `minutes` after its start: the example in
    the fix of a window that is too short."""
    weekly = window.count(":") == 4
    start = weekly_span(window)[0] if weekly else daily_span(window)[0]
    end = (start + minutes) % ((7 if weekly else 1) * 24 * 60)

    def text(minute: int) -> str:
        day = f"{_DAYS[minute // (24 * 60)]}:" if weekly else ""
        return f"{day}{minute // 60 % 24:02d}:{minute % 60:02d}"

    return f"{text(start)}-{text(end)}"


def daily_overlaps_weekly(daily: str, weekly: str) -> bool:
    """Whether a daily window (every day of the week) overlaps a weekly one."""
    week = 7 * 24 * 60
    d_start, d_len = daily_span(daily)
    w_start, w_len = weekly_span(weekly)
    for day in range(7):
        start = day * 24 * 60 + d_start
        for shift in (-week, 0, week):  # either window may wrap past the end of the week
            if start < w_start + shift + w_len and w_start + shift < start + d_len:
                return True
    return False
