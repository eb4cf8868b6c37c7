"""DNS tier: the hosted zone (primary creates or adopts it, secondaries read it) and the regional ALB certificate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.certificate import DnsValidatedCertificate, DnsValidatedCertificateArgs
from components.dns_query_log import QUERY_LOG_REGION, DnsQueryLog, DnsQueryLogArgs
from components.hosted_zone import HostedZone, HostedZoneArgs
from stacks.context import RegionContext


@dataclass
class Dns:
    """What later tiers read from the DNS tier (see docs/stack-outputs.md)."""

    zone_id: pulumi.Output[str]
    zone_name: pulumi.Output[str]
    alb_certificate_arn: pulumi.Output[str]
    regional_name: str
    api_origin_name: str
    zone: Any = None
    certificate: Any = None


def build_dns(ctx: RegionContext) -> Dns:
    """Zone (primary: create or adopt `existingZoneId`; secondary: the primary's) + this region's ALB certificate."""
    cfg = ctx.cfg.traffic
    zone = None
    if ctx.cfg.is_primary:
        if cfg.existing_zone_id:
            zone_id: pulumi.Output[str] = pulumi.Output.from_input(cfg.existing_zone_id)
        else:
            zone = HostedZone(
                "zone",
                HostedZoneArgs(region=ctx.region, name_prefix=ctx.base, tags=ctx.tags, zone_name=cfg.zone_name),
                opts=ctx.opts(),
            )
            zone_id = zone.zone_id
            pulumi.export("hostedZoneNameServers", zone.name_servers)
        zone_name: pulumi.Output[str] = pulumi.Output.from_input(cfg.zone_name)
        if cfg.query_logging and ctx.region == QUERY_LOG_REGION:
            # The zone's owner logs its queries; a primary elsewhere would need us-east-1's control plane.
            query_log = DnsQueryLog(
                "dns-query-log",
                DnsQueryLogArgs(
                    region=ctx.region, name_prefix=ctx.base, tags=ctx.tags, zone_id=zone_id,
                    zone_name=cfg.zone_name, account_id=ctx.account_id, retention_days=cfg.query_log_retention_days,
                ),
                opts=ctx.opts(),
            )  # fmt: skip
            pulumi.export("dnsQueryLogGroupName", query_log.log_group_name)
    else:
        zone_id = ctx.from_primary("hostedZoneId")
        zone_name = ctx.from_primary("hostedZoneName")
    regional_name = cfg.regional_name(ctx.region)
    # api-origin is on every Region's certificate and its validation CNAME is the same for all of them: the primary
    # (which owns the zone) owns that record, the secondaries validate against it (docs/edge-and-traffic.md).
    shared = {} if ctx.cfg.is_primary else {cfg.api_origin_name: ctx.from_primary("apiOriginValidationFqdn")}
    certificate = DnsValidatedCertificate(
        "alb-cert",
        DnsValidatedCertificateArgs(
            region=ctx.region,
            name_prefix=ctx.base,
            tags=ctx.tags,
            domain_name=regional_name,
            subject_alternative_names=[cfg.api_origin_name],
            zone_id=zone_id,
            external_validations=shared,
        ),
        opts=ctx.opts(),
    )
    if ctx.cfg.is_primary:
        pulumi.export("apiOriginValidationFqdn", certificate.validation_fqdns[cfg.api_origin_name])
    pulumi.export("hostedZoneId", zone_id)
    pulumi.export("hostedZoneName", zone_name)
    return Dns(
        zone_id=zone_id,
        zone_name=zone_name,
        alb_certificate_arn=certificate.certificate_arn,
        regional_name=regional_name,
        api_origin_name=cfg.api_origin_name,
        zone=zone,
        certificate=certificate,
    )
