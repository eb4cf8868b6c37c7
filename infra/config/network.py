"""Network section (`platform:network`): the regional VPC over several AZs."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from infra.config.base import ConfigModel
from infra.config.errors import ConfigFix

# CloudWatch Logs accepts only these retention values (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


def _log_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ConfigFix(
            "is not one of the CloudWatch Logs retention values",
            f"use one of {', '.join(map(str, LOG_RETENTION_DAYS))} (days)",
        )
    return value


# A CloudWatch Logs retention in days: every section's log-retention field uses this type.
LogRetentionDays = Annotated[int, AfterValidator(_log_retention)]

# Interface endpoints a private EKS node group needs to join the cluster and pull images without NAT.
# secretsmanager: the master-secret rotation Lambda and the DB bootstrap Job run in private subnets.
DEFAULT_INTERFACE_ENDPOINTS = ("ec2", "ecr.api", "ecr.dkr", "sts", "logs", "elasticloadbalancing", "secretsmanager")


class FlowLogsConfig(ConfigModel):
    """VPC flow logs to an encrypted CloudWatch Logs group."""

    retention_days: LogRetentionDays = Field(365, description="Log retention; one of the CloudWatch Logs values.")
    traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = Field("ALL", description="Which traffic to log.")


class SubnetSizesConfig(ConfigModel):
    """Prefix length of each subnet tier (one subnet per AZ per tier)."""

    public: int = Field(22, ge=16, le=28, description="Public subnets (ALB, NAT): /22 = 1019 usable IPs.")
    private: int = Field(19, ge=16, le=28, description="Private subnets (EKS nodes and pods): /19 = 8187 IPs.")
    database: int = Field(22, ge=16, le=28, description="Isolated database subnets (Aurora, Redis).")


class NetworkConfig(ConfigModel):
    """The regional VPC: CIDR, AZs, NAT layout, flow logs and VPC endpoints."""

    cidr: str = Field(..., description="VPC IPv4 CIDR (RFC 1918), /16 to /20; must not overlap other stacks.")
    az_count: int = Field(3, description="Number of Availability Zones (2-6); the seed asks for 3.")
    availability_zones: list[str] | None = Field(
        None, description="Explicit AZ names; default: the first `azCount` of <region>a, b, c, ..."
    )
    nat_gateways: Literal["perAz", "single"] = Field(
        "perAz", description="`perAz` (HA, default) or `single` (cheaper, one AZ's NAT is a SPOF)."
    )
    subnet_sizes: SubnetSizesConfig = Field(default_factory=SubnetSizesConfig)  # type: ignore[arg-type]
    flow_logs: FlowLogsConfig = Field(default_factory=FlowLogsConfig)  # type: ignore[arg-type]
    interface_endpoints: list[str] = Field(
        default_factory=lambda: list(DEFAULT_INTERFACE_ENDPOINTS),
        description="Interface endpoint service suffixes (com.amazonaws.<region>.<name>).",
    )
    gateway_endpoints: list[Literal["s3", "dynamodb"]] = Field(
        default_factory=lambda: ["s3"], description="Gateway endpoints attached to private route tables."
    )

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            raise ConfigFix(
                f"'{value}' is not a valid IPv4 CIDR block ({exc})",
                "write a network address and a prefix with zero host bits, /16 to /20, e.g. 10.20.0.0/16",
            ) from None
        if not network.is_private:
            raise ConfigFix(
                f"'{value}' is not a private (RFC 1918) range",
                "use a /16 to /20 inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 that no other stack uses",
            )
        if not 16 <= network.prefixlen <= 20:
            example = (
                network.supernet(new_prefix=20) if network.prefixlen > 20 else next(network.subnets(new_prefix=16))
            )
            raise ConfigFix(
                f"'{value}' has prefix /{network.prefixlen}; AWS VPCs take /16 to /28, the subnet tiers need /16-/20",
                f"use a prefix from /16 to /20, e.g. {example}",
            )
        return value

    @field_validator("az_count")
    @classmethod
    def _az_count(cls, value: int) -> int:
        if not 2 <= value <= 6:
            raise ConfigFix("a highly available VPC needs 2 to 6 AZs", "use an azCount from 2 to 6 (the seed uses 3)")
        return value

    @field_validator("interface_endpoints")
    @classmethod
    def _endpoints(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name or not all(part.isalnum() or part == "-" for part in name.replace(".", "")):
                raise ConfigFix(
                    f"'{name}' is not an endpoint service suffix",
                    "write the part after com.amazonaws.<region>. (letters, digits, '-', '.'), e.g. ecr.api or sts",
                )
        twice = sorted({name for name in value if value.count(name) > 1})
        if twice:
            raise ConfigFix(
                f"lists the endpoints {twice} more than once", f"list each endpoint once: drop the extra {twice}"
            )
        return value

    @model_validator(mode="after")
    def _fits(self) -> NetworkConfig:
        if self.availability_zones is not None and len(self.availability_zones) != self.az_count:
            listed = len(self.availability_zones)
            raise ConfigFix(
                f"availabilityZones lists {listed} AZs but azCount is {self.az_count}",
                "make them agree: "
                + (f"set azCount to {listed} or " if 2 <= listed <= 6 else "")
                + f"list exactly {self.az_count} names in availabilityZones (or remove availabilityZones)",
            )
        vpc = ipaddress.IPv4Network(self.cidr)
        sizes = self.subnet_sizes
        for tier, prefix in (("public", sizes.public), ("private", sizes.private), ("database", sizes.database)):
            if prefix <= vpc.prefixlen:
                raise ConfigFix(
                    f"subnetSizes.{tier} /{prefix} is not smaller than the VPC /{vpc.prefixlen}",
                    f"set subnetSizes.{tier} to a longer prefix than the cidr's /{vpc.prefixlen} "
                    f"(/{vpc.prefixlen + 1} to /28), or widen cidr",
                )
        needed = sum(2 ** (32 - p) for p in (sizes.public, sizes.private, sizes.database)) * self.az_count
        if needed > vpc.num_addresses:
            widest = 32 - (needed - 1).bit_length()  # the prefix of the smallest block holding `needed`
            raise ConfigFix(
                f"{self.az_count} AZs x (public /{sizes.public} + private /{sizes.private} + database "
                f"/{sizes.database}) needs {needed} addresses but {self.cidr} has {vpc.num_addresses}",
                "make them fit: longer subnetSizes prefixes (each +1 halves that tier), a lower azCount"
                + (f", or a cidr of /{widest} or wider (down to /16)" if widest >= 16 else ""),
            )
        return self

    def zone_names(self, region: str) -> list[str]:
        """The AZ names the VPC spans, in order."""
        if self.availability_zones:
            return list(self.availability_zones)
        return [f"{region}{chr(ord('a') + i)}" for i in range(self.az_count)]
