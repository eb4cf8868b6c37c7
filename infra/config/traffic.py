"""Traffic section (`platform:traffic`): hosted zone, regional API records, routing policy, health checks."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import ConfigModel
from infra.config.errors import ConfigFix
from infra.config.network import LogRetentionDays
from infra.config.regions import AWS_REGIONS, region_fix
from infra.config.shared import DNS_LABEL_FIX

# Route 53 health checkers run from these Regions (a health check needs at least 3 of them).
HEALTH_CHECKER_REGIONS = (
    "us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1",
    "sa-east-1",
)  # fmt: skip

ROUTING_POLICIES = ("failover", "weighted", "latency", "geolocation")
RoutingPolicy = Literal["failover", "weighted", "latency", "geolocation"]

# Route 53 geolocation: continent codes, `*` (default) or ISO country codes (two upper-case letters).
CONTINENTS = ("AF", "AN", "AS", "EU", "NA", "OC", "SA")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class HealthCheckConfig(ConfigModel):
    """Route 53 HTTPS health check on the regional ALB (through its regional DNS name, SNI on)."""

    path: str = Field("/healthz", pattern=r"^/[\x21-\x7e]{0,254}$", description="Request path, e.g. `/healthz`.")
    port: int = Field(443, ge=1, le=65535, description="HTTPS port of the ALB listener.")
    request_interval: Literal[10, 30] = Field(
        10, description="Seconds between checks: 10 (fast, seed 10 s) or 30 (standard); Route 53 allows only these."
    )
    failure_threshold: int = Field(
        3, ge=1, le=10, description="Consecutive failures before unhealthy (seed: 3 failed checks)."
    )
    regions: list[str] = Field(
        default_factory=lambda: ["us-east-1", "us-west-2", "eu-west-1"],
        description=f"Checker Regions (at least 3) from {list(HEALTH_CHECKER_REGIONS)}.",
    )
    search_string: str | None = Field(
        None, max_length=255, description="Optional string the first 5120 bytes of the body must contain."
    )

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        unknown = [r for r in value if r not in HEALTH_CHECKER_REGIONS]
        if unknown:
            raise ConfigFix(
                f"{unknown} are not Route 53 health-checker Regions",
                f"use Regions from {', '.join(HEALTH_CHECKER_REGIONS)}",
            )
        if len(set(value)) < 3 or len(set(value)) != len(value):
            raise ConfigFix(
                f"lists {len(set(value))} distinct Regions in {len(value)} entries; Route 53 needs at least 3 "
                "distinct health-checker Regions",
                "list at least 3 different Regions, each once, e.g. [us-east-1, us-west-2, eu-west-1]",
            )
        return value

    @property
    def detection_seconds(self) -> int:
        """Worst-case time for Route 53 to mark an endpoint unhealthy (interval x threshold)."""
        return self.request_interval * self.failure_threshold


class WeightsConfig(ConfigModel):
    """Weighted routing: the active region (the active-region knob) and every other region."""

    active: int = Field(70, ge=0, le=255, description="Weight of the active region's record (seed: 70%).")
    standby: int = Field(30, ge=0, le=255, description="Weight of each other region's record (seed: 30%).")

    @model_validator(mode="after")
    def _sensible(self) -> WeightsConfig:
        if self.active == 0 and self.standby == 0:
            raise ConfigFix(
                "weights active and standby are both 0: no record would get traffic",
                "give weights.active a weight from 1 to 255, e.g. active: 70, standby: 30",
            )
        if self.active < self.standby:
            raise ConfigFix(
                f"the active region's weight ({self.active}) is below the standby weight ({self.standby}); "
                "the active region must carry at least as much traffic",
                f"keep weights.active >= weights.standby: raise active to at least {self.standby} or lower standby "
                f"to at most {self.active} (seed: active 70, standby 30)",
            )
        return self


class TrafficConfig(ConfigModel):
    """Route 53: the hosted zone, `api-<region>.<zone>` per region and `api-origin.<zone>` with a routing policy."""

    zone_name: str = Field(
        "devtools.example.com", description="Public hosted zone (domain) of the platform, e.g. `devtools.example.com`."
    )
    existing_zone_id: str | None = Field(
        None,
        pattern=r"^Z[A-Z0-9]{1,31}$",
        description="Adopt this existing public hosted zone (primary only) instead of creating one.",
    )
    api_origin_label: str = Field(
        "api-origin", description="Label of the routed origin name `<label>.<zone>` (CloudFront's origin)."
    )
    regional_label: str = Field("api", description="Label prefix of each region's name `<label>-<region>.<zone>`.")
    routing_policy: RoutingPolicy = Field(
        "failover",
        description=(
            "How `api-origin` picks a region: `failover` (active-passive for any number of regions: the active "
            "region's record weight 100, every other 0, answered only when the active one is unhealthy), `weighted` "
            "(weights.active / weights.standby), `latency`, or `geolocation` (geolocation map + default)."
        ),
    )
    weights: WeightsConfig = Field(default_factory=WeightsConfig)  # type: ignore[arg-type]
    geolocation: dict[str, list[str]] = Field(
        default_factory=dict,
        description=(
            "Geolocation routing: `{region: [continent codes (NA, EU, AS, ...) or ISO country codes]}`. "
            "The active region also answers the default location `*`."
        ),
    )
    health_check: HealthCheckConfig = Field(default_factory=HealthCheckConfig)  # type: ignore[arg-type]
    query_logging: bool = Field(
        True,
        description="Route 53 DNS query logging for the public zone (primary stack; AWS requires the log group in "
        "us-east-1, so a primary in another Region cannot log without another Region's control plane).",
    )
    query_log_retention_days: LogRetentionDays = Field(365, description="Retention of the DNS query log (days).")

    @field_validator("routing_policy", mode="before")
    @classmethod
    def _policy(cls, value: object) -> object:
        if isinstance(value, str) and value not in ROUTING_POLICIES:
            raise ConfigFix(f"'{value}' is not a routing policy", f"use one of {', '.join(ROUTING_POLICIES)}")
        return value

    @field_validator("zone_name")
    @classmethod
    def _zone(cls, value: str) -> str:
        value = value.rstrip(".")
        if not _DOMAIN.match(value):
            raise ConfigFix(
                f"'{value}' is not a lower-case DNS domain name",
                "write lower-case DNS labels joined by '.', ending in a top-level domain, e.g. devtools.example.com",
            )
        return value

    @field_validator("api_origin_label", "regional_label")
    @classmethod
    def _label(cls, value: str) -> str:
        if not _LABEL.match(value):
            raise ConfigFix(f"'{value}' is not a DNS label", DNS_LABEL_FIX)
        return value

    @field_validator("geolocation")
    @classmethod
    def _geo(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        seen: dict[str, str] = {}
        for region, locations in value.items():
            if region not in AWS_REGIONS:
                raise ConfigFix(f"geolocation key '{region}' is not an AWS Region code", region_fix(region))
            for loc in locations:
                if loc == "*":
                    raise ConfigFix(
                        "'*' (default location) is given to the active region automatically",
                        f"remove '*' from geolocation.{region}",
                    )
                if loc not in CONTINENTS and not re.fullmatch(r"[A-Z]{2}", loc):
                    raise ConfigFix(
                        f"'{loc}' is neither a continent code nor an ISO country code",
                        f"use a continent code ({', '.join(CONTINENTS)}) or a two-letter ISO country code "
                        "(e.g. US, DE)",
                    )
                if loc in seen:
                    raise ConfigFix(
                        f"location '{loc}' is mapped to both {seen[loc]} and {region}",
                        f"map '{loc}' to one Region only: remove it from geolocation.{seen[loc]} or "
                        f"geolocation.{region}",
                    )
                seen[loc] = region
        return value

    def regional_name(self, region: str) -> str:
        return f"{self.regional_label}-{region}.{self.zone_name}"

    @property
    def api_origin_name(self) -> str:
        return f"{self.api_origin_label}.{self.zone_name}"
