"""Network section (`platform:network`): the regional VPC over several AZs."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from infra.config.base import ConfigModel

# CloudWatch Logs accepts only these retention values (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


def _log_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(f"must be one of the CloudWatch Logs retention values {list(LOG_RETENTION_DAYS)}")
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
            raise ValueError(f"'{value}' is not a valid IPv4 CIDR block ({exc})") from None
        if not network.is_private:
            raise ValueError(f"'{value}' is not a private (RFC 1918) range")
        if not 16 <= network.prefixlen <= 20:
            raise ValueError(f"'{value}' has prefix /{network.prefixlen}; AWS VPCs take /16 to /28, we need /16-/20")
        return value

    @field_validator("az_count")
    @classmethod
    def _az_count(cls, value: int) -> int:
        if not 2 <= value <= 6:
            raise ValueError("a highly available VPC needs 2 to 6 AZs (the seed uses 3)")
        return value

    @field_validator("interface_endpoints")
    @classmethod
    def _endpoints(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name or not all(part.isalnum() or part == "-" for part in name.replace(".", "")):
                raise ValueError(f"'{name}' is not an endpoint service suffix such as 'ecr.api'")
        if len(set(value)) != len(value):
            raise ValueError("lists an endpoint twice")
        return value

    @model_validator(mode="after")
    def _fits(self) -> NetworkConfig:
        if self.availability_zones is not None and len(self.availability_zones) != self.az_count:
            raise ValueError(
                f"availabilityZones lists {len(self.availability_zones)} AZs but azCount is {self.az_count}"
            )
        vpc = ipaddress.IPv4Network(self.cidr)
        sizes = self.subnet_sizes
        for tier, prefix in (("public", sizes.public), ("private", sizes.private), ("database", sizes.database)):
            if prefix <= vpc.prefixlen:
                raise ValueError(f"subnetSizes.{tier} /{prefix} is not smaller than the VPC /{vpc.prefixlen}")
        needed = sum(2 ** (32 - p) for p in (sizes.public, sizes.private, sizes.database)) * self.az_count
        if needed > vpc.num_addresses:
            raise ValueError(
                f"{self.az_count} AZs x (public /{sizes.public} + private /{sizes.private} + database "
                f"/{sizes.database}) needs {needed} addresses but {self.cidr} has {vpc.num_addresses}"
            )
        return self

    def zone_names(self, region: str) -> list[str]:
        """The AZ names the VPC spans, in order."""
        if self.availability_zones:
            return list(self.availability_zones)
        return [f"{region}{chr(ord('a') + i)}" for i in range(self.az_count)]
