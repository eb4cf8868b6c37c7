"""The root model of one stack file: every `platform:*` key of `Pulumi.<stack>.yaml`.

Each tier adds its own section model (in its own module under infra/config) as one field here.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from infra.config.backup import BackupConfig
from infra.config.base import ConfigModel
from infra.config.compute import ComputeConfig
from infra.config.cost import CostConfig
from infra.config.data import DataConfig
from infra.config.deploy import DeployConfig
from infra.config.dr import DrConfig
from infra.config.edge import EdgeConfig
from infra.config.errors import ConfigFix
from infra.config.network import NetworkConfig
from infra.config.observability import ObservabilityConfig
from infra.config.protection import ProtectionConfig
from infra.config.regions import AWS_REGIONS, region_fix
from infra.config.shared import CostTagsConfig, NamingConfig, Role
from infra.config.traffic import TrafficConfig
from infra.config.workloads import WorkloadsConfig

NAMESPACE = "platform"
# In an image repository, `{region}` is this stack's Region: a stack file copied to a new Region pulls from that
# Region's registry (ECR replication keeps the repositories there), never across Regions.
REGION_PLACEHOLDER = "{region}"


class StackConfig(ConfigModel):
    """All settings of one region stack, read once from the `platform` config namespace."""

    region: str = Field(..., description="AWS Region of this stack; the stack is named after it.")
    role: Role = Field(..., description="`primary` (owns global resources) or `secondary`.")
    partner_stack: str = Field(
        ...,
        description="Stack this one pairs with: for a secondary the primary; for the primary its DR target.",
    )
    environment: str = Field(
        "prod", pattern=r"^[a-z][a-z0-9-]{1,15}$", description="Environment name used in names and tags."
    )
    active_region: str | None = Field(
        None,
        description=(
            "Override of the active (writer) Region: Aurora writer, Redis primary, traffic, warm capacity. Leave "
            "unset: the program reads the SSM parameter `/<naming.prefix>/<environment>/dr/active-region` in the "
            "stack's own Region (written by the DR drill; absent on a first deploy: the primary's region). When set, "
            "it wins over the parameter (logged on every deploy); set the same value in every stack file."
        ),
    )
    pulumi_org: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Override of the Pulumi organization in StackReference names. Default: the organization the "
        "engine runs under (`pulumi.get_organization()`: your Pulumi Cloud org, `organization` on a self-managed "
        "backend), so the names always resolve where the stacks live.",
    )
    naming: NamingConfig = Field(default_factory=NamingConfig)  # type: ignore[arg-type]
    tags: CostTagsConfig
    network: NetworkConfig
    data: DataConfig = Field(default_factory=DataConfig)  # type: ignore[arg-type]
    compute: ComputeConfig = Field(default_factory=ComputeConfig)  # type: ignore[arg-type]
    workloads: WorkloadsConfig = Field(default_factory=WorkloadsConfig)  # type: ignore[arg-type]
    traffic: TrafficConfig = Field(default_factory=TrafficConfig)  # type: ignore[arg-type]
    dr: DrConfig = Field(default_factory=DrConfig)  # type: ignore[arg-type]
    edge: EdgeConfig = Field(default_factory=EdgeConfig)  # type: ignore[arg-type]
    backup: BackupConfig = Field(default_factory=BackupConfig)  # type: ignore[arg-type]
    observability: ObservabilityConfig = Field(default_factory=ObservabilityConfig)  # type: ignore[arg-type]
    cost: CostConfig = Field(default_factory=CostConfig)  # type: ignore[arg-type]
    deploy: DeployConfig | None = Field(
        None,
        description="Where CI previews and deploys this stack (runner) and the CI roles' EKS access; required by "
        "`infra check` (docs/ci.md).",
    )
    protection: ProtectionConfig = Field(default_factory=ProtectionConfig)  # type: ignore[arg-type]

    @model_validator(mode="before")
    @classmethod
    def _registry_in_region(cls, data: object) -> object:
        region = data.get("region") if isinstance(data, dict) else None
        workloads = data.get("workloads") if isinstance(data, dict) else None
        services = workloads.get("services") if isinstance(workloads, dict) else None
        if not isinstance(region, str) or not isinstance(services, list):
            return data
        resolved = [
            {**svc, "image": svc["image"].replace(REGION_PLACEHOLDER, region)}
            if isinstance(svc, dict) and isinstance(svc.get("image"), str)
            else svc
            for svc in services
        ]
        return {**data, "workloads": {**workloads, "services": resolved}}

    @field_validator("region", "active_region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is not None and value not in AWS_REGIONS:
            raise ConfigFix(f"'{value}' is not an AWS Region code", region_fix(value))
        return value

    @model_validator(mode="after")
    def _azs_in_region(self) -> StackConfig:
        for zone in self.network.zone_names(self.region):
            if not zone.startswith(self.region) or len(zone) != len(self.region) + 1:
                raise ConfigFix(
                    f"network.availabilityZones entry '{zone}' is not an AZ of {self.region}",
                    f"list AZs of {self.region} ({self.region}a, {self.region}b, ...) in network.availabilityZones, "
                    "or remove it to use the first azCount of them",
                )
        return self

    # Derived values used by the composition (kept here so that every tier agrees on them).
    @property
    def is_primary(self) -> bool:
        return self.role == "primary"

    def writer_region(self, primary_region: str) -> str:
        """The writer Region the stack file alone implies: the override if set, else the primary's region (the live
        value, the SSM parameter, is read at deploy time by stacks/active_region.py)."""
        return self.active_region or primary_region
