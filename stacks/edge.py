"""Edge tier (primary stack only): us-east-1 certificate, CLOUDFRONT WAF web ACL and the CloudFront distribution."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.cdn import Cdn, CdnArgs
from components.certificate import DnsValidatedCertificate, DnsValidatedCertificateArgs
from components.kms import KmsKey, KmsKeyArgs
from components.waf import WebAcl, WebAclArgs
from stacks.context import RegionContext
from stacks.origin import OriginLock

# CloudFront is global but its certificate and CLOUDFRONT-scope web ACL must be in us-east-1, whatever the
# primary Region is; the log bucket and log group sit there too.
EDGE_REGION = "us-east-1"


@dataclass
class Edge:
    """Handles of the edge tier."""

    distribution_id: pulumi.Output[str]
    domain_name: pulumi.Output[str]
    web_acl_arn: pulumi.Output[str]
    public_name: str
    cdn: Any = None
    waf: Any = None


def standby_region(ctx: RegionContext) -> str:
    """The pair's non-active region: CloudFront's failover origin (follows the active-region knob)."""
    pair = [ctx.primary_region, ctx.cfg.partner_stack if ctx.cfg.is_primary else ctx.region]
    return pair[1] if ctx.writer_region == pair[0] else pair[0]


def build_edge(ctx: RegionContext, dns: Any, origin: OriginLock | None = None) -> Edge | None:
    """CloudFront + WAF on the primary stack (global resources have one owner); nothing on secondaries."""
    edge_cfg, traffic_cfg = ctx.cfg.edge, ctx.cfg.traffic
    if not ctx.cfg.is_primary or not edge_cfg.enabled:
        return None
    common = {"region": EDGE_REGION, "name_prefix": ctx.base, "tags": ctx.tags}
    public_name = f"{edge_cfg.domain_label}.{traffic_cfg.zone_name}"
    key = KmsKey(
        "edge-logs-key",
        KmsKeyArgs(
            **common,
            purpose="edge-logs",
            account_id=ctx.account_id,
            service_principals=[f"logs.{EDGE_REGION}.amazonaws.com", "delivery.logs.amazonaws.com"],
        ),
        opts=ctx.opts(),
    )
    certificate = DnsValidatedCertificate(
        "cdn-cert",
        DnsValidatedCertificateArgs(**common, domain_name=public_name, zone_id=dns.zone_id),
        opts=ctx.opts(),
    )
    waf_cfg = edge_cfg.waf
    waf = WebAcl(
        "edge-waf",
        WebAclArgs(
            **common,
            scope="CLOUDFRONT",
            rate_limit=waf_cfg.rate_limit,
            rate_limit_window_seconds=waf_cfg.rate_limit_window_seconds,
            bot_control=waf_cfg.bot_control,
            bot_control_level=waf_cfg.bot_control_level,
            count_only=list(waf_cfg.count_only),
            blocked_countries=list(waf_cfg.blocked_countries),
            allow_cidrs=list(waf_cfg.allow_cidrs),
            deny_cidrs=list(waf_cfg.deny_cidrs),
            log_destination_arn=waf_cfg.log_destination_arn,
            log_retention_days=waf_cfg.log_retention_days,
            log_kms_key_arn=key.arn,
        ),
        opts=ctx.opts(),
    )
    cache = edge_cfg.cache
    cdn = Cdn(
        "cdn",
        CdnArgs(
            **common,
            domain_name=public_name,
            certificate_arn=certificate.certificate_arn,
            certificate_region=edge_cfg.certificate_region,
            origin_domain_name=traffic_cfg.api_origin_name,
            failover_origin_domain_name=traffic_cfg.regional_name(standby_region(ctx)),
            web_acl_arn=waf.arn,
            account_id=ctx.account_id,
            log_kms_key_arn=key.arn,
            log_retention_days=edge_cfg.log_retention_days,
            static_ttl_seconds=cache.static_ttl_seconds,
            api_ttl_seconds=cache.api_ttl_seconds,
            static_path_patterns=list(cache.static_path_patterns),
            api_path_patterns=list(cache.api_path_patterns),
            geo_restriction_type=edge_cfg.geo_restriction.type,
            geo_restriction_locations=list(edge_cfg.geo_restriction.locations),
            price_class=edge_cfg.price_class,
            hsts_max_age_seconds=edge_cfg.hsts_max_age_seconds,
            origin_read_timeout_seconds=edge_cfg.origin_read_timeout_seconds,
            failover_status_codes=list(edge_cfg.failover_status_codes),
            zone_id=dns.zone_id,
            origin_header_name=origin.header_name if origin else None,
            origin_header_value=origin.sent_value if origin else None,
        ),
        opts=ctx.opts(),
    )
    pulumi.export("cloudfrontDistributionId", cdn.distribution_id)
    pulumi.export("cloudfrontDomainName", cdn.domain_name)
    pulumi.export("webAclArn", waf.arn)
    pulumi.export("publicApiName", public_name)
    return Edge(
        distribution_id=cdn.distribution_id,
        domain_name=cdn.domain_name,
        web_acl_arn=waf.arn,
        public_name=public_name,
        cdn=cdn,
        waf=waf,
    )
