"""The platform's public Route 53 hosted zone (owned by the primary stack)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
from pydantic import Field

from components.base import ComponentArgs, PlatformComponent


class HostedZoneArgs(ComponentArgs):
    """Args of `HostedZone`. `region` is recorded for naming only: Route 53 is a global service."""

    zone_name: str = Field(..., description="Domain of the zone, e.g. `devtools.example.com`.")
    comment: str = Field("Managed by the platform (Pulumi)", description="Zone comment.")
    force_destroy: bool = Field(False, description="Delete foreign records on destroy (off: never lose records).")


class HostedZone(PlatformComponent):
    """A public hosted zone. Outputs: `zone_id`, `zone_name`, `name_servers` (delegate the domain to these)."""

    def __init__(self, name: str, args: HostedZoneArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:dns:HostedZone", name, opts)
        self.zone = aws.route53.Zone(
            self.cname("zone"),
            name=args.zone_name,
            comment=args.comment,
            force_destroy=args.force_destroy,
            tags=self.tagged(args.tags, args.zone_name),
            opts=self.child(),
        )
        self.zone_id: pulumi.Output[str] = self.zone.zone_id
        self.zone_name: pulumi.Output[str] = pulumi.Output.from_input(args.zone_name)
        self.name_servers: pulumi.Output[list[str]] = self.zone.name_servers
        self.register_outputs({"zone_id": self.zone_id, "zone_name": self.zone_name, "name_servers": self.name_servers})
