"""Compute tier: the regional EKS cluster (node pools, add-ons, access entries, k8s provider) and the ALB."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.alb import RegionalAlb, RegionalAlbArgs
from components.eks import EksCluster, EksClusterArgs
from components.eks_access import AccessGrant
from components.eks_logs import AutoModeComputeLogs, AutoModeComputeLogsArgs
from components.node_pools import AutoModePool
from components.origin_lock import OriginLockArgs
from components.team_rbac import GROUP as EDIT_GROUP
from infra.capacity import stack_capacity
from infra.config.compute import ComputeConfig
from stacks.context import RegionContext
from stacks.deploy import ci_access_grants
from stacks.origin import OriginLock

# Seed 000 role hierarchy -> EKS access policy (or None: the `EditWithoutSecrets` RBAC group), namespaced?
# Team leads and senior developers edit their namespaces but must not read Secrets, which AmazonEKSEditPolicy
# allows: they get the platform's ClusterRole through a Kubernetes group instead (docs/security.md).
ROLE_POLICIES: dict[str, tuple[str | None, bool]] = {
    "enterprise_admin": ("AmazonEKSClusterAdminPolicy", False),
    "business_unit_admin": ("AmazonEKSAdminPolicy", True),
    "team_lead": (None, True),
    "senior_developer": (None, True),
    "developer": ("AmazonEKSViewPolicy", True),
}


@dataclass
class Compute:
    """What later tiers read from the compute tier (see docs/stack-outputs.md)."""

    cluster: EksCluster
    cluster_name: pulumi.Output[str]
    node_security_group_id: pulumi.Output[str]
    node_pool_names: list[str]
    k8s_provider: k8s.Provider
    alb_arn: pulumi.Output[str] | None = None
    alb_arn_suffix: pulumi.Output[str] | None = None
    alb_dns_name: pulumi.Output[str] | None = None
    alb_zone_id: pulumi.Output[str] | None = None
    target_group_arn: pulumi.Output[str] | None = None
    target_group_arn_suffix: pulumi.Output[str] | None = None
    alb: Any = None
    node_pool_limit_metric: tuple[str, str] | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def access_grants(cfg: ComputeConfig, default_namespaces: list[str]) -> list[AccessGrant]:
    """Seed roles (with their IAM role ARNs from config) -> access entries + EKS access policies."""
    grants: list[AccessGrant] = []
    for role, access in sorted(cfg.access.items()):
        policy, namespaced = ROLE_POLICIES[role]
        namespaces = (access.namespaces or default_namespaces) if namespaced else None
        for index, arn in enumerate(access.principal_arns):
            grants.append(
                AccessGrant(
                    key=f"{role.replace('_', '-')}-{index}",
                    principal_arn=arn,
                    policy=policy,  # type: ignore[arg-type]
                    namespaces=namespaces,
                    kubernetes_groups=[EDIT_GROUP] if policy is None else [],
                )
            )
    return grants


def build_compute(ctx: RegionContext, network: Any, dns: Any, origin: OriginLock | None = None) -> Compute:
    """Build the EKS cluster (and, given the DNS tier's certificate, the regional ALB); export compute outputs."""
    cfg = ctx.cfg.compute
    workloads_cfg = getattr(ctx.cfg, "workloads", None)
    namespaces = workloads_cfg.namespaces if workloads_cfg is not None else []
    cluster = EksCluster(
        "eks",
        EksClusterArgs(
            region=ctx.region,
            name_prefix=ctx.base,
            tags=ctx.tags,
            cluster_name=f"{ctx.base}-eks",
            version=cfg.kubernetes_version,
            account_id=ctx.account_id,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            public_access_cidrs=list(cfg.public_access_cidrs),
            log_retention_days=cfg.log_retention_days,
            addon_versions=dict(cfg.addon_versions),
            node_pools=[AutoModePool(**pool.model_dump()) for pool in cfg.node_pools],
            access_grants=[*access_grants(cfg, namespaces), *ci_access_grants(ctx.cfg.deploy)],
        ),
        opts=ctx.opts(),
    )
    compute = Compute(
        cluster=cluster,
        cluster_name=cluster.cluster_name,
        node_security_group_id=cluster.node_security_group_id,
        node_pool_names=cluster.node_pools.names,
        k8s_provider=cluster.provider,
    )
    # Auto Mode's compute logs -> the "NodePool limits reached" metric the observability tier alarms on.
    compute_logs = AutoModeComputeLogs(
        "eks-compute-logs",
        AutoModeComputeLogsArgs(
            region=ctx.region,
            name_prefix=ctx.base,
            tags=ctx.tags,
            account_id=ctx.account_id,
            cluster_name=f"{ctx.base}-eks",
            cluster_arn=cluster.cluster.arn,
            kms_key_arn=cluster.key.arn,
            retention_days=cfg.log_retention_days,
        ),
        opts=ctx.opts(),
    )
    compute.node_pool_limit_metric = compute_logs.metric
    certificate_arn = getattr(dns, "alb_certificate_arn", None) if dns is not None else None
    if certificate_arn is not None:
        _build_alb(ctx, cfg, network, cluster, certificate_arn, compute, origin)
    pulumi.export("eksClusterName", compute.cluster_name)
    pulumi.export("eksClusterArn", cluster.cluster.arn)
    pulumi.export("eksNodePoolNames", compute.node_pool_names)
    pulumi.export("eksNodeSecurityGroupId", compute.node_security_group_id)
    # The capacity model's figures for this stack in its current role (docs/compute.md, "Capacity model").
    pulumi.export("computeCapacity", stack_capacity(ctx.cfg, standby=not ctx.is_writer).as_dict())
    return compute


def _build_alb(
    ctx: RegionContext,
    cfg: ComputeConfig,
    network: Any,
    cluster: EksCluster,
    certificate_arn: Any,
    compute: Compute,
    origin: OriginLock | None,
) -> None:
    """The regional entry point: ALB -> the API pods' IPs (registered by Auto Mode through a TargetGroupBinding)."""
    alb_cfg = cfg.alb
    api = next(svc for svc in ctx.cfg.workloads.services if svc.public)
    alb = RegionalAlb(
        "alb",
        RegionalAlbArgs(
            region=ctx.region,
            name_prefix=ctx.base,
            tags=ctx.tags,
            account_id=ctx.account_id,
            vpc_id=network.vpc_id,
            subnet_ids=network.public_subnet_ids,
            certificate_arn=certificate_arn,
            target_security_group_id=cluster.node_security_group_id,
            target_port=api.port,
            deregistration_delay_seconds=alb_cfg.deregistration_delay_seconds,
            health_check_path=alb_cfg.health_check_path,
            ssl_policy=alb_cfg.ssl_policy,
            ingress_cidrs=list(alb_cfg.ingress_cidrs),
            origin_lock=None
            if origin is None
            else OriginLockArgs(
                cloudfront_prefix_list_id=origin.cloudfront_prefix_list_id,
                health_check_prefix_list_id=origin.health_check_prefix_list_id,
                header_name=origin.header_name,
                header_values=origin.accepted_values,
                health_check_path=ctx.cfg.traffic.health_check.path,
            ),
            deletion_protection=alb_cfg.deletion_protection,
            idle_timeout_seconds=alb_cfg.idle_timeout_seconds,
            access_log_retention_days=alb_cfg.access_log_retention_days,
        ),
        opts=ctx.opts(),
    )
    compute.alb = alb
    compute.alb_arn = alb.arn
    compute.alb_arn_suffix = alb.arn_suffix
    compute.alb_dns_name = alb.dns_name
    compute.alb_zone_id = alb.zone_id
    compute.target_group_arn = alb.target_group_arn
    compute.target_group_arn_suffix = alb.target_group_arn_suffix
    pulumi.export("albArn", alb.arn)
    pulumi.export("albDnsName", alb.dns_name)
    pulumi.export("albZoneId", alb.zone_id)
