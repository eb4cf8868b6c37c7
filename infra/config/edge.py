"""Edge section (`platform:edge`): CloudFront (TTLs, TLS, logging, geo restriction) and the CLOUDFRONT WAF."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import ConfigModel
from infra.config.errors import ConfigFix
from infra.config.network import LogRetentionDays
from infra.config.shared import DNS_LABEL_FIX

ONE_YEAR = 31_536_000
# AWS WAF rate-based rules: limit 10..2e9 requests per evaluation window; window one of these (seconds).
WAF_RATE_LIMIT_MIN = 10
WAF_RATE_LIMIT_MAX = 2_000_000_000
WAF_EVALUATION_WINDOWS = (60, 120, 300, 600)
# Managed rule groups a rule can be switched to count-only for (names as AWS publishes them).
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesLinuxRuleSet",
    "AWSManagedRulesBotControlRuleSet",
)
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_WAF_LOG_GROUP = re.compile(r"^aws-waf-logs-[\w.\-/#]{1,499}$")
_FIREHOSE_ARN = re.compile(r"^arn:aws[a-z-]*:firehose:us-east-1:\d{12}:deliverystream/aws-waf-logs-[\w.-]+$")
_S3_ARN = re.compile(r"^arn:aws[a-z-]*:s3:::aws-waf-logs-[a-z0-9.-]+$")
_LOGS_ARN = re.compile(r"^arn:aws[a-z-]*:logs:us-east-1:\d{12}:log-group:aws-waf-logs-[\w.\-/#]+$")


def _country_codes(value: list[str]) -> list[str]:
    """`value` if every entry is an ISO 3166-1 alpha-2 code, else a ConfigFix (geo restriction and WAF geo match)."""
    bad = [c for c in value if not _COUNTRY.match(c)]
    if bad:
        raise ConfigFix(
            f"{bad} are not ISO 3166-1 alpha-2 country codes",
            "use two upper-case letters per country, e.g. [KP, IR]",
        )
    return value


class CacheConfig(ConfigModel):
    """Seed 000 CDN TTLs: static assets 1 year, API responses 5 minutes, user-specific content not cached."""

    static_ttl_seconds: int = Field(ONE_YEAR, ge=1, le=ONE_YEAR, description="TTL of static assets (1 year).")
    api_ttl_seconds: int = Field(300, ge=1, le=ONE_YEAR, description="TTL of cacheable API responses (5 minutes).")
    static_path_patterns: list[str] = Field(
        default_factory=lambda: ["/static/*", "/assets/*"], description="Paths served with the static-assets policy."
    )
    api_path_patterns: list[str] = Field(
        default_factory=lambda: ["/api/public/*"],
        description=(
            "Paths of cacheable (GET/HEAD) API responses; everything else (user-specific) is never cached and "
            "reaches the origin with every method."
        ),
    )

    @field_validator("static_path_patterns", "api_path_patterns")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if not pattern.startswith("/") or len(pattern) > 255:
                raise ConfigFix(
                    f"path pattern '{pattern[:60]}' does not start with '/' or is longer than 255 characters",
                    "start each pattern with '/' and keep it to 255 characters, e.g. /static/*",
                )
        return value

    @model_validator(mode="after")
    def _disjoint(self) -> CacheConfig:
        both = set(self.static_path_patterns) & set(self.api_path_patterns)
        if both:
            raise ConfigFix(
                f"path patterns {sorted(both)} are both static and API",
                f"list {sorted(both)} in staticPathPatterns or in apiPathPatterns, not in both",
            )
        return self


class GeoRestrictionConfig(ConfigModel):
    """CloudFront geo restriction (ISO 3166-1 alpha-2 codes)."""

    type: Literal["none", "blacklist", "whitelist"] = Field(
        "none", description="`none`, `blacklist` (deny the list) or `whitelist` (allow only the list)."
    )
    locations: list[str] = Field(default_factory=list, description="Country codes, e.g. [KP, IR].")

    @field_validator("locations")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        return _country_codes(value)

    @model_validator(mode="after")
    def _consistent(self) -> GeoRestrictionConfig:
        if self.type == "none" and self.locations:
            raise ConfigFix(
                "locations are given but type is 'none'",
                "set type: blacklist (deny these countries) or type: whitelist (allow only these), or remove locations",
            )
        if self.type != "none" and not self.locations:
            raise ConfigFix(
                f"type '{self.type}' needs at least one country code in locations",
                "add country codes to locations (e.g. [KP, IR]), or set type: none",
            )
        return self


class WafConfig(ConfigModel):
    """The CLOUDFRONT-scope web ACL (always in us-east-1)."""

    rate_limit: int = Field(
        6000,
        description=(
            f"Requests per client IP per evaluation window before blocking (AWS: {WAF_RATE_LIMIT_MIN}.."
            f"{WAF_RATE_LIMIT_MAX}). Seed per-user 1000/min x 5 min x 1.2 burst = 6000 per 300 s."
        ),
    )
    rate_limit_window_seconds: int = Field(
        300, description=f"Rate-limit evaluation window in seconds, one of {list(WAF_EVALUATION_WINDOWS)}."
    )
    bot_control: bool = Field(False, description="Add AWSManagedRulesBotControlRuleSet (extra per-request cost).")
    bot_control_level: Literal["COMMON", "TARGETED"] = Field("COMMON", description="Bot Control inspection level.")
    count_only: list[str] = Field(
        default_factory=list,
        description=f"Managed rule groups to run in count mode (tuning), from {list(MANAGED_RULE_GROUPS)}.",
    )
    blocked_countries: list[str] = Field(
        default_factory=list, description="Country codes the web ACL blocks (geo-match rule)."
    )
    allow_cidrs: list[str] = Field(
        default_factory=list, description="CIDRs always allowed (evaluated first), e.g. corporate egress."
    )
    deny_cidrs: list[str] = Field(default_factory=list, description="CIDRs always blocked.")
    log_destination_arn: str | None = Field(
        None,
        description=(
            "Where WAF logs go: a Firehose (to the SIEM), S3 bucket or CloudWatch log group ARN in us-east-1 whose "
            "name starts with `aws-waf-logs-`. Default: a log group created by the platform."
        ),
    )
    log_retention_days: LogRetentionDays = Field(365, description="Retention of the platform-created WAF log group.")
    regional_acl: bool = Field(
        False,
        description=(
            "Also attach a REGIONAL web ACL (same rules, every stack) to the region's ALB: protects the ALB's "
            "direct name too (defense in depth; WAF charges per web ACL and request)."
        ),
    )

    @field_validator("rate_limit")
    @classmethod
    def _rate(cls, value: int) -> int:
        if not WAF_RATE_LIMIT_MIN <= value <= WAF_RATE_LIMIT_MAX:
            raise ConfigFix(
                f"is outside what AWS WAF accepts for a rate-based rule ({WAF_RATE_LIMIT_MIN}..{WAF_RATE_LIMIT_MAX})",
                f"use {WAF_RATE_LIMIT_MIN} to {WAF_RATE_LIMIT_MAX} requests per window",
            )
        return value

    @field_validator("rate_limit_window_seconds")
    @classmethod
    def _window(cls, value: int) -> int:
        if value not in WAF_EVALUATION_WINDOWS:
            raise ConfigFix(
                "is not a WAF evaluation window", f"use one of {', '.join(map(str, WAF_EVALUATION_WINDOWS))} (seconds)"
            )
        return value

    @field_validator("count_only")
    @classmethod
    def _groups(cls, value: list[str]) -> list[str]:
        bad = [g for g in value if g not in MANAGED_RULE_GROUPS]
        if bad:
            raise ConfigFix(
                f"{bad} are not managed rule groups of this web ACL", f"use names from {', '.join(MANAGED_RULE_GROUPS)}"
            )
        return value

    @field_validator("blocked_countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        return _country_codes(value)

    @field_validator("allow_cidrs", "deny_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                net = ipaddress.ip_network(cidr, strict=True)
            except ValueError as exc:
                raise ConfigFix(
                    f"'{cidr}' is not a CIDR ({exc})",
                    "write a network address and a prefix with zero host bits, e.g. 203.0.113.0/24",
                ) from None
            if net.version != 4:
                raise ConfigFix(
                    f"'{cidr}' is an IPv6 CIDR; the web ACL has one IPv4 IP set per list",
                    "list only IPv4 CIDRs, e.g. 203.0.113.0/24",
                )
        return value

    @field_validator("log_destination_arn")
    @classmethod
    def _destination(cls, value: str | None) -> str | None:
        if value is not None and not any(p.match(value) for p in (_FIREHOSE_ARN, _S3_ARN, _LOGS_ARN)):
            raise ConfigFix(
                "is not a WAF log destination: WAF logs go only to a Firehose stream or a CloudWatch log group in "
                "us-east-1 (CLOUDFRONT scope) or an S3 bucket, named aws-waf-logs-*",
                "use arn:aws:firehose:us-east-1:<account>:deliverystream/aws-waf-logs-<name>, "
                "arn:aws:s3:::aws-waf-logs-<bucket> or arn:aws:logs:us-east-1:<account>:log-group:aws-waf-logs-<name>; "
                "or remove logDestinationArn for a platform-created log group",
            )
        return value

    @model_validator(mode="after")
    def _overlap(self) -> WafConfig:
        allow = [ipaddress.ip_network(c) for c in self.allow_cidrs]
        for cidr in self.deny_cidrs:
            net = ipaddress.ip_network(cidr)
            overlapping = [str(a) for a in allow if net.overlaps(a)]
            if overlapping:
                raise ConfigFix(
                    f"deny CIDR {cidr} overlaps the allow CIDRs {overlapping}; the allow rule would win silently",
                    f"remove {cidr} from denyCidrs or {overlapping} from allowCidrs, so no address is in both",
                )
        return self


class OriginVerifyConfig(ConfigModel):
    """The secret header CloudFront adds to every origin request; each regional ALB forwards only requests that
    carry it (everything else gets 403). Values are generated in the primary stack; secondaries read them."""

    header_name: str = Field(
        "X-Origin-Verify",
        pattern=r"^X-[A-Za-z0-9-]{1,60}$",
        description="Name of the custom origin header (an `X-` header CloudFront may add); same in every stack.",
    )
    generation: int = Field(
        1,
        ge=1,
        description=(
            "Rotation counter (primary's stack file): +1 rotates one value with no downtime. Three values are "
            "accepted at any time (retiring, sent, staged); CloudFront sends the one staged by the previous "
            "rotation, which every ALB has accepted since its last deploy."
        ),
    )

    @field_validator("header_name")
    @classmethod
    def _addable(cls, value: str) -> str:
        # CloudFront cannot add these as custom origin headers ("Custom headers that CloudFront can't add to origin
        # requests", https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/add-origin-custom-headers.html).
        lower = value.lower()
        if lower.startswith(("x-amz-", "x-edge-")) or lower in ("x-cache", "x-forwarded-proto", "x-real-ip"):
            raise ConfigFix(
                f"'{value}' is a header CloudFront cannot add to origin requests",
                "use another X- header, e.g. X-Origin-Verify (not X-Amz-*, X-Edge-*, X-Cache, X-Forwarded-Proto or "
                "X-Real-IP)",
            )
        return value


class EdgeConfig(ConfigModel):
    """CloudFront in front of the regional ALBs, owned by the primary stack (ignored on secondaries)."""

    enabled: bool = Field(
        True,
        description=(
            "Build CloudFront + WAF (primary stack only) and lock every ALB to CloudFront (origin-facing prefix "
            "list + origin header); same in every stack. Off: the ALBs take `compute.alb.ingressCidrs` directly."
        ),
    )
    domain_label: str = Field("api", description="Public name `<label>.<zone>` (CloudFront alias).")
    certificate_region: str = Field(
        "us-east-1", description="Region of the CloudFront certificate; CloudFront accepts only us-east-1."
    )
    price_class: Literal["PriceClass_All", "PriceClass_200", "PriceClass_100"] = Field(
        "PriceClass_All", description="Edge locations used (All: global developer population)."
    )
    hsts_max_age_seconds: int = Field(
        ONE_YEAR * 2, ge=ONE_YEAR, description="Strict-Transport-Security max-age (at least 1 year)."
    )
    origin_read_timeout_seconds: int = Field(60, ge=1, le=180, description="Origin response timeout (seconds).")
    failover_status_codes: list[int] = Field(
        default_factory=lambda: [500, 502, 503, 504],
        description="Origin status codes that make CloudFront retry on the failover origin (GET/HEAD/OPTIONS).",
    )
    log_retention_days: int = Field(365, ge=1, description="Days CloudFront access logs are kept in S3.")
    cache: CacheConfig = Field(default_factory=CacheConfig)  # type: ignore[arg-type]
    geo_restriction: GeoRestrictionConfig = Field(default_factory=GeoRestrictionConfig)  # type: ignore[arg-type]
    waf: WafConfig = Field(default_factory=WafConfig)  # type: ignore[arg-type]
    origin_verify: OriginVerifyConfig = Field(default_factory=OriginVerifyConfig)  # type: ignore[arg-type]

    @field_validator("certificate_region")
    @classmethod
    def _cert_region(cls, value: str) -> str:
        if value != "us-east-1":
            raise ConfigFix(
                f"'{value}': CloudFront only uses ACM certificates from us-east-1 (whatever the primary Region is)",
                "use us-east-1",
            )
        return value

    @field_validator("domain_label")
    @classmethod
    def _label(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", value):
            raise ConfigFix(f"'{value}' is not a DNS label", DNS_LABEL_FIX)
        return value

    @field_validator("failover_status_codes")
    @classmethod
    def _codes(cls, value: list[int]) -> list[int]:
        allowed = (400, 403, 404, 416, 500, 502, 503, 504)
        bad = [c for c in value if c not in allowed]
        if bad or not value:
            raise ConfigFix(
                f"origin-group failover does not accept the status codes {bad}" if bad else "lists no status code",
                f"use at least one of {', '.join(map(str, allowed))}",
            )
        return value
