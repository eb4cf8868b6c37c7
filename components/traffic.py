"""One region's share of global traffic: Route 53 health check on its ALB, its records, and the health alarm."""

from __future__ import annotations

from typing import Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, model_validator

from components.base import ComponentArgs, Input, PlatformComponent

# `failover` for any number of Regions: weighted records, the active Region's weight FAILOVER_ACTIVE_WEIGHT and
# every other Region's 0. Route 53 considers zero-weight records only when every non-zero record is unhealthy, and
# answers as if all were healthy when none is (the same fallback as a failover PRIMARY), so this is active-passive
# failover with no limit on the number of Regions: Route 53 failover proper allows exactly one PRIMARY and one
# SECONDARY per name. https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-how-route-53-chooses-records
FAILOVER_ACTIVE_WEIGHT = 100


class RegionalTrafficArgs(ComponentArgs):
    """Args of `RegionalTraffic`.

    `is_active` is the single knob the DR program flips (through the active-region SSM parameter): it decides which
    record carries the failover weight (the others 0), which gets the heavier weight and which answers the
    geolocation default.
    """

    zone_id: Input = Field(..., description="Hosted zone of both names.")
    regional_name: str = Field(..., description="This region's own name, e.g. `api-eu-west-1.example.com`.")
    api_origin_name: str = Field(
        ..., description="The routed name shared by all regions, e.g. `api-origin.example.com`."
    )
    alb_dns_name: Input = Field(..., description="DNS name of this region's ALB (alias target, health-check target).")
    alb_zone_id: Input = Field(..., description="Canonical hosted zone id of the ALB (alias target zone).")
    routing_policy: Literal["failover", "weighted", "latency", "geolocation"] = Field(
        "failover", description="Routing policy of the `api_origin_name` record set."
    )
    is_active: bool = Field(True, description="This region is the active one (failover / active weight).")
    active_weight: int = Field(70, ge=0, le=255, description="Weight when active (weighted routing).")
    standby_weight: int = Field(30, ge=0, le=255, description="Weight when not active (weighted routing).")
    geolocations: list[str] = Field(
        default_factory=list, description="Continent / country codes this region answers (geolocation routing)."
    )
    health_check_path: str = Field("/healthz", description="HTTPS path the Route 53 checkers request.")
    health_check_port: int = Field(443, description="HTTPS port.")
    health_check_interval: Literal[10, 30] = Field(10, description="Seconds between checks (10 = fast).")
    health_check_failure_threshold: int = Field(3, ge=1, le=10, description="Failures before unhealthy.")
    health_check_regions: list[str] = Field(
        default_factory=lambda: ["us-east-1", "us-west-2", "eu-west-1"],
        min_length=3,
        description="Route 53 checker Regions (at least 3).",
    )
    health_check_search_string: str | None = Field(None, description="Body must contain this (HTTPS_STR_MATCH).")
    control_health_check_id: str | None = Field(
        None,
        pattern=r"^[0-9a-zA-Z-]{1,64}$",
        description=(
            "A health check an ARC Region switch plan controls for this Region's api-origin record set: the record "
            "then answers while this AND the endpoint check are healthy (a CALCULATED check of both)."
        ),
    )

    @model_validator(mode="after")
    def _policy_inputs(self) -> RegionalTrafficArgs:
        if self.routing_policy == "geolocation" and not self.geolocations and not self.is_active:
            raise ValueError(
                f"geolocation routing: {self.region} answers no location and is not the active region "
                "(default '*'); give it locations"
            )
        if self.routing_policy == "weighted" and self.active_weight == 0 and self.standby_weight == 0:
            raise ValueError("weighted routing with both weights 0 sends no traffic anywhere")
        return self

    @property
    def weight(self) -> int:
        if self.routing_policy == "failover":
            return FAILOVER_ACTIVE_WEIGHT if self.is_active else 0
        return self.active_weight if self.is_active else self.standby_weight


class RegionalTraffic(PlatformComponent):
    """Health check + `api-<region>` alias + this region's `api-origin` record(s).

    Outputs: `health_check_id` (the endpoint check), `record_health_check_id` (what the api-origin record uses: the
    endpoint check, or the CALCULATED one with the Region switch plan's), `regional_record_name`, `api_origin_name`,
    `routing_policy`. The alarm on the health check belongs to the observability tier (it pages through that tier's
    critical topic in us-east-1).
    """

    def __init__(self, name: str, args: RegionalTrafficArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:traffic:RegionalTraffic", name, opts)
        base, tags = args.name_prefix, args.tags
        self.health_check = aws.route53.HealthCheck(
            self.cname("health"),
            type="HTTPS_STR_MATCH" if args.health_check_search_string else "HTTPS",
            fqdn=args.alb_dns_name,
            port=args.health_check_port,
            resource_path=args.health_check_path,
            search_string=args.health_check_search_string,
            request_interval=args.health_check_interval,
            failure_threshold=args.health_check_failure_threshold,
            regions=args.health_check_regions,
            measure_latency=True,
            enable_sni=True,
            tags=self.tagged(tags, f"{base}-api-health"),
            opts=self.child(),
        )
        alias = [
            aws.route53.RecordAliasArgs(name=args.alb_dns_name, zone_id=args.alb_zone_id, evaluate_target_health=True)
        ]
        # The region's own name: always answers with this region (drills, direct checks, CloudFront's failover origin).
        self.regional_record = aws.route53.Record(
            self.cname("regional"),
            zone_id=args.zone_id,
            name=args.regional_name,
            type="A",
            aliases=alias,
            opts=self.child(),
        )
        # Region switch's Route53HealthCheck step moves traffic only through health checks that Region switch creates
        # and the records reference (https://docs.aws.amazon.com/r53recovery/latest/dg/route53-health-check-block.html);
        # a record has one health check, so the endpoint check and the plan's are combined: healthy only if both are.
        self.record_health_check = self.health_check
        if args.control_health_check_id:
            self.record_health_check = aws.route53.HealthCheck(
                self.cname("health-and-plan"),
                type="CALCULATED",
                child_healthchecks=[self.health_check.id, args.control_health_check_id],
                child_health_threshold=2,
                tags=self.tagged(tags, f"{base}-api-health-and-region-switch"),
                opts=self.child(),
            )
        self.origin_records = [self._origin_record(args, alias, location) for location in self._locations(args)]
        self.health_check_id: pulumi.Output[str] = self.health_check.id
        self.record_health_check_id: pulumi.Output[str] = self.record_health_check.id
        self.regional_record_name = pulumi.Output.from_input(args.regional_name)
        self.api_origin_name = pulumi.Output.from_input(args.api_origin_name)
        self.routing_policy = pulumi.Output.from_input(args.routing_policy)
        self.register_outputs(
            {
                "health_check_id": self.health_check_id,
                "record_health_check_id": self.record_health_check_id,
                "regional_record_name": self.regional_record_name,
                "api_origin_name": self.api_origin_name,
                "routing_policy": self.routing_policy,
            }
        )

    @staticmethod
    def _locations(args: RegionalTrafficArgs) -> list[str | None]:
        if args.routing_policy != "geolocation":
            return [None]
        return [*args.geolocations, *(["*"] if args.is_active else [])]

    def _origin_record(
        self, args: RegionalTrafficArgs, alias: list[aws.route53.RecordAliasArgs], location: str | None
    ) -> aws.route53.Record:
        policy: dict[str, object] = {}
        if args.routing_policy in ("failover", "weighted"):
            policy["weighted_routing_policies"] = [aws.route53.RecordWeightedRoutingPolicyArgs(weight=args.weight)]
        elif args.routing_policy == "latency":
            policy["latency_routing_policies"] = [aws.route53.RecordLatencyRoutingPolicyArgs(region=args.region)]
        else:
            geo = _geo(location or "*")
            policy["geolocation_routing_policies"] = [aws.route53.RecordGeolocationRoutingPolicyArgs(**geo)]
        suffix = "origin" if location is None else f"origin-{'default' if location == '*' else location.lower()}"
        set_identifier = (
            args.region if location is None else f"{args.region}-{'default' if location == '*' else location}"
        )
        return aws.route53.Record(
            self.cname(suffix),
            zone_id=args.zone_id,
            name=args.api_origin_name,
            type="A",
            set_identifier=set_identifier,
            health_check_id=self.record_health_check.id,
            aliases=alias,
            opts=self.child(),
            **policy,  # type: ignore[arg-type]
        )


def _geo(location: str) -> dict[str, str]:
    """Route 53 geolocation fields for a continent code, `*`, or a country code."""
    if location == "*":
        return {"country": "*"}
    if location in ("AF", "AN", "AS", "EU", "NA", "OC", "SA"):
        return {"continent": location}
    return {"country": location}
