"""Physical names: `<prefix>-<environment>-<region code>-<thing>`, short enough for AWS's tightest limits."""

from __future__ import annotations

_AREA = {"us": "us", "eu": "eu", "ap": "ap", "ca": "ca", "sa": "sa", "me": "me", "af": "af", "il": "il", "mx": "mx"}
_DIRECTION = {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c",
              "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}  # fmt: skip


def region_code(region: str) -> str:
    """`us-east-1` -> `use1`, `eu-west-1` -> `euw1`, `ap-southeast-2` -> `apse2`."""
    area, direction, number = region.split("-")
    return f"{_AREA.get(area, area)}{_DIRECTION.get(direction, direction[:2])}{number}"


def name_prefix(prefix: str, environment: str, region: str) -> str:
    """The prefix every physical name of a region stack starts with, e.g. `devtools-prod-use1`."""
    return f"{prefix}-{environment}-{region_code(region)}"


def physical_name(base: str, thing: str, max_len: int = 63) -> str:
    """`<base>-<thing>` cut to `max_len` (AWS limits: ALB/target group 32, ElastiCache 40, RDS 63)."""
    name = f"{base}-{thing}"
    return name[:max_len].rstrip("-")


def active_region_parameter(prefix: str, environment: str) -> str:
    """The SSM parameter holding the active (writer) Region; the same name in every Region of the fleet."""
    return f"/{prefix}/{environment}/dr/active-region"
