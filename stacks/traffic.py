"""Traffic tier: this region's Route 53 health check and records (regional name + its share of `api-origin`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.traffic import RegionalTraffic, RegionalTrafficArgs
from components.waf import WebAcl, WebAclArgs
from stacks.context import RegionContext


@dataclass
class Traffic:
    """What later tiers read from the traffic tier (see docs/stack-outputs.md)."""

    health_check_id: pulumi.Output[str]
    regional_record_name: pulumi.Output[str]
    api_origin_name: pulumi.Output[str]
    routing_policy: str
    component: Any = None


def build_traffic(ctx: RegionContext, dns: Any, compute: Any) -> Traffic | None:
    """Records on `compute.alb_dns_name` / `compute.alb_zone_id`; the active-region knob picks PRIMARY / weights."""
    cfg = ctx.cfg.traffic
    if compute is None or getattr(compute, "alb_dns_name", None) is None:
        pulumi.log.warn("traffic tier skipped: the compute tier built no ALB (no certificate from the DNS tier)")
        return None
    hc = cfg.health_check
    traffic = RegionalTraffic(
        "traffic",
        RegionalTrafficArgs(
            region=ctx.region,
            name_prefix=ctx.base,
            tags=ctx.tags,
            zone_id=dns.zone_id,
            regional_name=dns.regional_name,
            api_origin_name=dns.api_origin_name,
            alb_dns_name=compute.alb_dns_name,
            alb_zone_id=compute.alb_zone_id,
            routing_policy=cfg.routing_policy,
            is_active=ctx.is_writer,
            active_weight=cfg.weights.active,
            standby_weight=cfg.weights.standby,
            geolocations=list(cfg.geolocation.get(ctx.region, [])),
            health_check_path=hc.path,
            health_check_port=hc.port,
            health_check_interval=hc.request_interval,
            health_check_failure_threshold=hc.failure_threshold,
            health_check_regions=list(hc.regions),
            health_check_search_string=hc.search_string,
            control_health_check_id=ctx.cfg.dr.region_switch.health_check_id,
        ),
        opts=ctx.opts(),
    )
    regional_waf = _regional_waf(ctx, compute)
    if regional_waf is not None:
        pulumi.export("regionalWebAclArn", regional_waf.arn)
    pulumi.export("healthCheckId", traffic.health_check_id)
    pulumi.export("originHealthCheckId", traffic.record_health_check_id)
    pulumi.export("regionSwitchHealthCheckId", ctx.cfg.dr.region_switch.health_check_id or "")
    pulumi.export("regionalRecordName", traffic.regional_record_name)
    pulumi.export("apiOriginName", traffic.api_origin_name)
    pulumi.export("routingPolicy", traffic.routing_policy)
    return Traffic(
        health_check_id=traffic.health_check_id,
        regional_record_name=traffic.regional_record_name,
        api_origin_name=traffic.api_origin_name,
        routing_policy=cfg.routing_policy,
        component=traffic,
    )


def _regional_waf(ctx: RegionContext, compute: Any) -> WebAcl | None:
    """Optional REGIONAL web ACL (same rules as the edge) on this region's ALB (`platform:edge.waf.regionalAcl`)."""
    waf_cfg = ctx.cfg.edge.waf
    if not waf_cfg.regional_acl or getattr(compute, "alb_arn", None) is None:
        return None
    return WebAcl(
        "alb-waf",
        WebAclArgs(
            region=ctx.region,
            name_prefix=ctx.base,
            tags=ctx.tags,
            scope="REGIONAL",
            rate_limit=waf_cfg.rate_limit,
            rate_limit_window_seconds=waf_cfg.rate_limit_window_seconds,
            bot_control=waf_cfg.bot_control,
            bot_control_level=waf_cfg.bot_control_level,
            count_only=list(waf_cfg.count_only),
            blocked_countries=list(waf_cfg.blocked_countries),
            allow_cidrs=list(waf_cfg.allow_cidrs),
            deny_cidrs=list(waf_cfg.deny_cidrs),
            log_retention_days=waf_cfg.log_retention_days,
            associate_arns=[compute.alb_arn],
        ),
        opts=ctx.opts(),
    )
