"""Compute section (`platform:compute`): the regional EKS cluster, its node pools, add-ons, access and the ALB."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.config.aws_values import ARM_AMI_TYPES, is_graviton
from infra.config.base import ConfigModel
from infra.config.network import LogRetentionDays

# EKS Kubernetes versions this platform accepts (standard + extended support at the time of writing) and for
# which the tests can validate manifests offline (kubernetes-validate ships schemas up to 1.37).
SUPPORTED_EKS_VERSIONS = ("1.30", "1.31", "1.32", "1.33", "1.34")

# The five control-plane log types EKS can send to CloudWatch Logs.
CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")

# Core add-ons every cluster gets (EKS add-on names).
CORE_ADDONS = ("vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "eks-pod-identity-agent")

# Add-on builds for the default Kubernetes version (check `aws eks describe-addon-versions` when upgrading).
DEFAULT_ADDON_VERSIONS = {
    "vpc-cni": "v1.19.5-eksbuild.3",
    "coredns": "v1.12.1-eksbuild.2",
    "kube-proxy": "v1.33.0-eksbuild.2",
    "aws-ebs-csi-driver": "v1.45.0-eksbuild.2",
    "eks-pod-identity-agent": "v1.3.7-eksbuild.2",
}

# Sized for seed 001's application layer: 140 vCPU / 344 GiB of requests at the seed instance counts,
# 700 vCPU at every HPA maximum (16-vCPU nodes: ~12 at baseline, up to 60).
DEFAULT_NODE_GROUPS = (
    {"name": "system", "pool": "system", "instance_types": ["m6i.large", "m6a.large"],
     "min_size": 3, "desired_size": 3, "max_size": 6},
    {"name": "app", "pool": "application", "instance_types": ["m6i.4xlarge", "m6a.4xlarge", "m7i.4xlarge"],
     "min_size": 9, "desired_size": 12, "max_size": 60},
)  # fmt: skip

# Seed 000's role hierarchy, most to least privileged.
SeedRole = Literal["enterprise_admin", "business_unit_admin", "team_lead", "senior_developer", "developer"]
SEED_ROLES: tuple[str, ...] = ("enterprise_admin", "business_unit_admin", "team_lead", "senior_developer", "developer")

# EC2 instance type names: family (letters+generation digit+attributes) '.' size, e.g. m6i.4xlarge, c7gn.metal.
_INSTANCE_TYPE = re.compile(r"^[a-z]+[0-9][a-z0-9-]*\.(nano|micro|small|medium|large|[0-9]*xlarge|metal(-[0-9]+xl)?)$")
_ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


class NodeGroupConfig(ConfigModel):
    """One EKS managed node group (launch template with IMDSv2, encrypted root volume, no SSH)."""

    name: str = Field(..., pattern=r"^[a-z][a-z0-9-]{1,30}$", description="Pool name, e.g. `system`, `app`.")
    pool: Literal["system", "application"] = Field(
        ..., description="`system` (tainted CriticalAddonsOnly, runs add-ons) or `application` (workloads, ALB)."
    )
    instance_types: list[str] = Field(
        ..., min_length=1, max_length=20, description="EC2 instance types, e.g. `m6i.4xlarge` (same vCPU/memory)."
    )
    min_size: int = Field(..., ge=0, le=1000, description="Minimum nodes.")
    desired_size: int = Field(..., ge=0, le=1000, description="Desired nodes at creation (autoscaler owns it after).")
    max_size: int = Field(..., ge=1, le=1000, description="Maximum nodes.")
    capacity_type: Literal["ON_DEMAND", "SPOT"] = Field("ON_DEMAND", description="`ON_DEMAND` or `SPOT`.")
    ami_type: Literal["AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "BOTTLEROCKET_x86_64"] = Field(
        "AL2023_x86_64_STANDARD", description="EKS-optimized AMI family."
    )
    root_volume_gib: int = Field(100, ge=20, le=16384, description="Encrypted gp3 root volume size (GiB).")

    @field_validator("instance_types")
    @classmethod
    def _instance_types(cls, value: list[str]) -> list[str]:
        for item in value:
            if not _INSTANCE_TYPE.match(item):
                raise ValueError(
                    f"'{item}' is not an EC2 instance type; use <family>.<size> such as m6i.4xlarge or c7g.large"
                )
        return value

    @model_validator(mode="after")
    def _sizes(self) -> NodeGroupConfig:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"node group '{self.name}': sizes must satisfy minSize <= desiredSize <= maxSize "
                f"(got {self.min_size} / {self.desired_size} / {self.max_size})"
            )
        # EKS rejects instance types of the other CPU architecture than the AMI type (infra/config/aws_values.py).
        arm = self.ami_type in ARM_AMI_TYPES
        wrong = [t for t in self.instance_types if is_graviton(t) != arm]
        if wrong:
            raise ValueError(
                f"node group '{self.name}': amiType {self.ami_type} is {'arm64' if arm else 'x86_64'} but "
                f"{wrong} {'are not' if arm else 'are'} Graviton (arm64) types; use "
                f"{'AL2023_x86_64_STANDARD' if arm else 'AL2023_ARM_64_STANDARD'} or other instance types"
            )
        return self


class AccessRoleConfig(ConfigModel):
    """IAM roles of one seed role and the namespaces they reach (namespace-scoped roles only)."""

    principal_arns: list[str] = Field(default_factory=list, description="IAM role ARNs of people in this role.")
    namespaces: list[str] | None = Field(
        None, description="Namespaces for namespace-scoped policies; default: every workload namespace."
    )

    @field_validator("principal_arns")
    @classmethod
    def _arns(cls, value: list[str]) -> list[str]:
        for arn in value:
            if not _ROLE_ARN.match(arn):
                raise ValueError(f"'{arn}' is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)")
        return value


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
    node_port: int = Field(30080, ge=30000, le=32767, description="NodePort of the API service the ALB targets.")
    health_check_path: str = Field("/healthz", pattern=r"^/.*", description="Target group health check path.")

    @field_validator("ssl_policy")
    @classmethod
    def _tls12(cls, value: str) -> str:
        if not re.match(r"^ELBSecurityPolicy-(TLS13-1-[23]-|TLS-1-2-|FS-1-2-)", value):
            raise ValueError(
                "must be a TLS 1.2+ ELB policy, e.g. ELBSecurityPolicy-TLS13-1-2-2021-06 or "
                "ELBSecurityPolicy-TLS-1-2-2017-01"
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
    node_groups: list[NodeGroupConfig] = Field(
        default_factory=lambda: [NodeGroupConfig(**group) for group in DEFAULT_NODE_GROUPS],
        min_length=2,
        description="Managed node groups: at least one `system` and one `application` pool.",
    )
    metadata_hop_limit: Literal[1, 2] = Field(
        1, description="IMDSv2 hop limit on nodes: 1 (pods cannot reach node credentials) or 2."
    )
    access: dict[SeedRole, AccessRoleConfig] = Field(
        default_factory=dict, description="Seed role -> IAM roles mapped to EKS access policies."
    )
    alb: AlbConfig = Field(default_factory=AlbConfig)  # type: ignore[arg-type]

    @field_validator("kubernetes_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value not in SUPPORTED_EKS_VERSIONS:
            raise ValueError(f"'{value}' is not a supported EKS version; use one of {list(SUPPORTED_EKS_VERSIONS)}")
        return value

    @field_validator("public_access_cidrs")
    @classmethod
    def _public_cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                net = ipaddress.ip_network(cidr, strict=True)
            except ValueError as exc:
                raise ValueError(f"'{cidr}' is not a CIDR block ({exc})") from None
            if net.prefixlen < 8:
                raise ValueError(
                    f"'{cidr}' opens the Kubernetes API to (nearly) the whole internet; list specific "
                    "office/VPN CIDRs (prefix /8 or longer) or leave empty for a private-only endpoint"
                )
        return value

    @field_validator("addon_versions")
    @classmethod
    def _addons(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [name for name in CORE_ADDONS if name not in value]
        unknown = [name for name in value if name not in CORE_ADDONS]
        if missing or unknown:
            raise ValueError(
                f"must list exactly the core add-ons {list(CORE_ADDONS)} (missing {missing}, unknown {unknown})"
            )
        for name, version in value.items():
            if not _ADDON_VERSION.match(version):
                raise ValueError(f"{name}: '{version}' is not an EKS add-on version like v1.19.5-eksbuild.1")
        return value

    @model_validator(mode="after")
    def _cross(self) -> ComputeConfig:
        kube_proxy = self.addon_versions["kube-proxy"]
        if not kube_proxy.startswith(f"v{self.kubernetes_version}."):
            raise ValueError(
                f"addonVersions.kube-proxy {kube_proxy} does not match kubernetesVersion {self.kubernetes_version}; "
                f"use a v{self.kubernetes_version}.x-eksbuild.N build"
            )
        pools = {group.pool for group in self.node_groups}
        if pools != {"system", "application"}:
            raise ValueError("nodeGroups needs at least one `system` and one `application` pool")
        names = [group.name for group in self.node_groups]
        if len(set(names)) != len(names):
            raise ValueError(f"nodeGroups names must be unique (got {names})")
        return self

    def node_groups_of(self, pool: str) -> list[NodeGroupConfig]:
        return [group for group in self.node_groups if group.pool == pool]
