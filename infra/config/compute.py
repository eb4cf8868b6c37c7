"""Compute section (`platform:compute`): the regional EKS cluster, its node pools, add-ons, access and the ALB."""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.capacity import InstanceShape, instance_shape
from infra.config.aws_values import is_graviton
from infra.config.base import ConfigModel
from infra.config.errors import ConfigFix
from infra.config.network import LogRetentionDays
from infra.config.shared import check_role_arn

# EKS Kubernetes versions this platform accepts (standard + extended support at the time of writing) and for
# which the tests can validate manifests offline (kubernetes-validate ships schemas up to 1.37).
SUPPORTED_EKS_VERSIONS = ("1.30", "1.31", "1.32", "1.33", "1.34")

# The five control-plane log types EKS can send to CloudWatch Logs.
CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")

# EKS add-ons every cluster gets. Auto Mode runs the VPC CNI, kube-proxy, CoreDNS, the EBS CSI driver and the Pod
# Identity agent on its nodes itself (docs/compute.md), so they are not add-ons any more; what remains is what the
# HPAs (metrics-server, EKS community add-on) and Container Insights (amazon-cloudwatch-observability) need.
CORE_ADDONS = ("metrics-server", "amazon-cloudwatch-observability")

# Add-on builds (check `aws eks describe-addon-versions --kubernetes-version <v> --addon-name <name>` when upgrading).
DEFAULT_ADDON_VERSIONS = {
    "metrics-server": "v0.8.0-eksbuild.2",
    "amazon-cloudwatch-observability": "v4.5.0-eksbuild.1",
}

# Sized for seed 001's application layer (docs/compute.md, "Capacity model"): 700 vCPU / 1720 GiB of requests at
# every HPA maximum need 48 16-vCPU nodes after reservations and packing; the limits allow 60.
DEFAULT_NODE_POOLS = (
    {"name": "system", "pool": "system", "instance_types": ["m6i.large", "m6a.large"], "cpu_limit": 16,
     "memory_limit_gib": 64},
    {"name": "app", "pool": "application", "instance_types": ["m6i.4xlarge", "m6a.4xlarge", "m7i.4xlarge"],
     "cpu_limit": 960, "memory_limit_gib": 3840},
)  # fmt: skip

# Seed 000's role hierarchy, most to least privileged.
SeedRole = Literal["enterprise_admin", "business_unit_admin", "team_lead", "senior_developer", "developer"]
SEED_ROLES: tuple[str, ...] = ("enterprise_admin", "business_unit_admin", "team_lead", "senior_developer", "developer")

# EC2 instance type names: family (letters+generation digit+attributes) '.' size, e.g. m6i.4xlarge, c7gn.metal.
_INSTANCE_TYPE = re.compile(r"^[a-z]+[0-9][a-z0-9-]*\.(nano|micro|small|medium|large|[0-9]*xlarge|metal(-[0-9]+xl)?)$")
_ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")


class NodePoolConfig(ConfigModel):
    """One EKS Auto Mode node pool: a `karpenter.sh/v1` NodePool and its `eks.amazonaws.com/v1` NodeClass."""

    name: str = Field(..., pattern=r"^[a-z][a-z0-9-]{1,30}$", description="Pool name, e.g. `system`, `app`.")
    pool: Literal["system", "application"] = Field(
        ..., description="`system` (tainted CriticalAddonsOnly, runs add-ons) or `application` (the services)."
    )
    instance_types: list[str] = Field(
        ...,
        min_length=1,
        max_length=20,
        description="EC2 instance types of one shape (same vCPU and memory), c/m/r families, e.g. `m6i.4xlarge`.",
    )
    capacity_types: list[Literal["on-demand", "spot"]] = Field(
        default_factory=lambda: ["on-demand"], min_length=1, description="`on-demand` and/or `spot`."
    )
    cpu_limit: int = Field(..., ge=2, le=100000, description="NodePool `limits.cpu`: vCPUs of all its nodes together.")
    memory_limit_gib: int = Field(..., ge=4, le=400000, description="NodePool `limits.memory` in GiB.")
    ephemeral_storage_gib: int = Field(
        100, ge=20, le=16384, description="Node volume (NodeClass `ephemeralStorage.size`), encrypted with the CMK."
    )
    consolidate_after: str = Field(
        "10m", pattern=r"^[0-9]+(s|m|h)$", description="Wait after a pod change before consolidating (e.g. `10m`)."
    )
    disruption_budget: str = Field(
        "10%", pattern=r"^([0-9]+|[0-9]{1,2}%)$", description="Nodes disrupted at once (count or percent)."
    )
    expire_after_hours: int = Field(
        336, ge=24, le=504, description="Node lifetime; Auto Mode replaces nodes after at most 21 days (504 h)."
    )

    @field_validator("instance_types")
    @classmethod
    def _instance_types(cls, value: list[str]) -> list[str]:
        shapes = set()
        for item in value:
            if not _INSTANCE_TYPE.match(item):
                raise ConfigFix(
                    f"'{item}' is not an EC2 instance type", "write <family>.<size>, e.g. m6i.4xlarge or c7i.large"
                )
            shape = instance_shape(item)
            if shape is None:
                raise ConfigFix(
                    f"'{item}': the capacity model knows c/m/r families of generation 5-8 only",
                    "use a c, m or r type of generation 5-8, size large to 24xlarge (e.g. m6i.4xlarge)",
                )
            shapes.add(shape)
        if len(shapes) != 1:
            first = instance_shape(value[0])
            assert first is not None
            raise ConfigFix(
                f"instance types {value} differ in vCPU/memory",
                f"list types of one shape per pool: only types with {first.vcpus} vCPU and {first.memory_gib:g} GiB "
                f"like {value[0]} (the same size in other families of its letter)",
            )
        return value

    @property
    def shape(self) -> InstanceShape:
        shape = instance_shape(self.instance_types[0])
        assert shape is not None
        return shape

    @model_validator(mode="after")
    def _limits(self) -> NodePoolConfig:
        if self.cpu_limit < self.shape.vcpus or self.memory_limit_gib < self.shape.memory_gib:
            raise ConfigFix(
                f"node pool '{self.name}': cpuLimit {self.cpu_limit} / memoryLimitGib {self.memory_limit_gib} "
                f"cannot hold one {self.instance_types[0]} ({self.shape.vcpus} vCPU, {self.shape.memory_gib:g} GiB)",
                f"raise cpuLimit to at least {self.shape.vcpus} and memoryLimitGib to at least "
                f"{math.ceil(self.shape.memory_gib)} in node pool '{self.name}', or list smaller instanceTypes",
            )
        # Auto Mode picks the AMI per node from its architecture: one pool, one architecture (so the capacity model's
        # single shape and the images' platform hold for every node it may launch; infra/config/aws_values.py).
        if len({is_graviton(t) for t in self.instance_types}) != 1:
            arm = [t for t in self.instance_types if is_graviton(t)]
            x86 = [t for t in self.instance_types if not is_graviton(t)]
            raise ConfigFix(
                f"node pool '{self.name}': instance types {self.instance_types} mix Graviton (arm64) and x86_64",
                f"list one architecture per pool: only Graviton types ({', '.join(arm)}) or only x86_64 types "
                f"({', '.join(x86)})",
            )
        return self


class DaemonsetReserveConfig(ConfigModel):
    """Requests of the DaemonSets on every node (CloudWatch agent, Fluent Bit), kept out of the capacity model."""

    cpu: float = Field(0.5, ge=0, le=16, description="vCPU per node requested by DaemonSets.")
    memory_gib: float = Field(0.75, ge=0, le=64, description="GiB per node requested by DaemonSets.")


class AccessRoleConfig(ConfigModel):
    """IAM roles of one seed role and the namespaces they reach (namespace-scoped roles only)."""

    principal_arns: list[str] = Field(default_factory=list, description="IAM role ARNs of people in this role.")
    namespaces: list[str] | None = Field(
        None, description="Namespaces for namespace-scoped policies; default: every workload namespace."
    )

    @field_validator("principal_arns")
    @classmethod
    def _arns(cls, value: list[str]) -> list[str]:
        return [check_role_arn(arn) for arn in value]


class AlbConfig(ConfigModel):
    """The regional internet-facing ALB in front of the API service."""

    ssl_policy: str = Field(
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        description="ALB TLS policy; must be a TLS 1.2+ policy (name contains TLS13 or TLS-1-2).",
    )
    ingress_cidrs: list[str] = Field(
        default_factory=lambda: ["0.0.0.0/0"],
        description=(
            "CIDRs allowed to reach HTTPS 443 only when `edge.enabled` is false; with CloudFront in front the ALB "
            "admits only CloudFront's origin-facing servers and the Route 53 health checkers."
        ),
    )
    deletion_protection: bool = Field(True, description="ALB deletion protection.")
    idle_timeout_seconds: int = Field(60, ge=1, le=4000, description="ALB idle timeout.")
    access_log_retention_days: int = Field(365, ge=1, le=3650, description="Days access logs are kept in S3.")
    deregistration_delay_seconds: int = Field(
        30, ge=0, le=300, description="Target group deregistration delay; pods sleep longer than this in preStop."
    )
    health_check_path: str = Field("/healthz", pattern=r"^/.*", description="Target group health check path.")

    @field_validator("ssl_policy")
    @classmethod
    def _tls12(cls, value: str) -> str:
        if not re.match(r"^ELBSecurityPolicy-(TLS13-1-[23]-|TLS-1-2-|FS-1-2-)", value):
            raise ConfigFix(
                f"'{value}' is not a TLS 1.2+ ELB policy",
                "use ELBSecurityPolicy-TLS13-1-2-2021-06 or another ELBSecurityPolicy-TLS13-1-2-*, "
                "ELBSecurityPolicy-TLS13-1-3-*, ELBSecurityPolicy-TLS-1-2-* or ELBSecurityPolicy-FS-1-2-* policy",
            )
        return value


class ComputeConfig(ConfigModel):
    """The regional EKS cluster, node pools, add-ons, access entries and the regional ALB."""

    kubernetes_version: str = Field(
        "1.33", description=f"EKS Kubernetes version; one of {', '.join(SUPPORTED_EKS_VERSIONS)}."
    )
    public_access_cidrs: list[str] = Field(
        default_factory=list,
        description="CIDRs allowed to reach a public API endpoint; empty (default) = private endpoint only. "
        "0.0.0.0/0 is never accepted.",
    )
    log_retention_days: LogRetentionDays = Field(
        365, description="Control-plane log retention; a CloudWatch Logs value."
    )
    addon_versions: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_ADDON_VERSIONS),
        description=f"Version of each core add-on ({', '.join(CORE_ADDONS)}), e.g. v1.19.5-eksbuild.1.",
    )
    node_pools: list[NodePoolConfig] = Field(
        default_factory=lambda: [NodePoolConfig(**pool) for pool in DEFAULT_NODE_POOLS],
        min_length=2,
        max_length=2,
        description="EKS Auto Mode node pools: exactly one `system` and one `application` pool.",
    )
    daemonset_reserve: DaemonsetReserveConfig = Field(
        default_factory=DaemonsetReserveConfig,  # type: ignore[arg-type]
        description="Per-node DaemonSet requests the capacity model subtracts.",
    )
    access: dict[SeedRole, AccessRoleConfig] = Field(
        default_factory=dict, description="Seed role -> IAM roles mapped to EKS access policies."
    )
    alb: AlbConfig = Field(default_factory=AlbConfig)  # type: ignore[arg-type]

    @field_validator("kubernetes_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value not in SUPPORTED_EKS_VERSIONS:
            raise ConfigFix(
                f"'{value}' is not a supported EKS version",
                f'use one of {", ".join(SUPPORTED_EKS_VERSIONS)} (quoted in YAML, e.g. "1.33")',
            )
        return value

    @field_validator("public_access_cidrs")
    @classmethod
    def _public_cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                net = ipaddress.ip_network(cidr, strict=True)
            except ValueError as exc:
                raise ConfigFix(
                    f"'{cidr}' is not a CIDR block ({exc})",
                    "write a network address and a prefix with zero host bits, e.g. 198.51.100.0/24",
                ) from None
            if net.prefixlen < 8:
                raise ConfigFix(
                    f"'{cidr}' opens the Kubernetes API to (nearly) the whole internet",
                    "list your office/VPN CIDRs (prefix /8 or longer, e.g. 198.51.100.0/24), or leave "
                    "publicAccessCidrs empty ([]) for a private-only endpoint",
                )
        return value

    @field_validator("addon_versions")
    @classmethod
    def _addons(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [name for name in CORE_ADDONS if name not in value]
        unknown = [name for name in value if name not in CORE_ADDONS]
        if missing or unknown:
            raise ConfigFix(
                f"does not list exactly the core add-ons (missing {missing}, unknown {unknown})",
                "give exactly these add-ons a version each: "
                + ", ".join(f"{name}: {version}" for name, version in DEFAULT_ADDON_VERSIONS.items()),
            )
        for name, version in value.items():
            if not _ADDON_VERSION.match(version):
                raise ConfigFix(
                    f"{name}: '{version}' is not an EKS add-on version",
                    f"write v<major>.<minor>.<patch>-eksbuild.<n>, e.g. {DEFAULT_ADDON_VERSIONS[name]} "
                    f"(`aws eks describe-addon-versions --addon-name {name}` lists them)",
                )
        return value

    @model_validator(mode="after")
    def _cross(self) -> ComputeConfig:
        pools = sorted(pool.pool for pool in self.node_pools)
        if pools != ["application", "system"]:
            raise ConfigFix(
                f"nodePools has the pools {pools}, not one `system` and one `application` pool",
                "give one node pool `pool: system` and the other `pool: application`",
            )
        names = [pool.name for pool in self.node_pools]
        if len(set(names)) != len(names):
            raise ConfigFix(f"nodePools names must be unique (got {names})", "give the two pools different names")
        system = self.node_pool("system")
        if system.cpu_limit < 2 * system.shape.vcpus:
            raise ConfigFix(
                f"nodePools '{system.name}': cpuLimit {system.cpu_limit} allows fewer than 2 nodes; the system pool "
                "runs metrics-server with 2 replicas on different nodes",
                f"raise the system pool's cpuLimit to at least {2 * system.shape.vcpus} "
                f"(2 x {system.shape.vcpus} vCPU of {system.instance_types[0]})",
            )
        return self

    def node_pool(self, pool: str) -> NodePoolConfig:
        return next(p for p in self.node_pools if p.pool == pool)
