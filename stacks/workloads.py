"""Workloads tier: seed 001's application services on the regional EKS cluster, one `Workload` per service.

A stack that does not hold the writer (warm standby) runs every service with replicas and HPA minimum scaled by
`platform:workloads.warmStandbyFactor`; the HPA maximum stays at the seed value so it can absorb a failover.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.workload import Workload, WorkloadArgs
from infra.config.workloads import ServiceConfig, WorkloadsConfig
from stacks.context import RegionContext
from stacks.data import Data

AURORA_PORT = 5432
REDIS_PORT = 6379


@dataclass
class Workloads:
    """The services of this stack, by service name."""

    services: dict[str, Workload] = field(default_factory=dict)
    standby: bool = False


def data_settings(data: Data) -> tuple[dict[str, Any], dict[str, Any]]:
    """(ConfigMap entries, Secret entries) from the data tier: endpoints in the ConfigMap, credentials secret.

    Applications connect to this region's endpoints; the writer endpoint only accepts writes in the writer region
    (Aurora global write forwarding is off), which is why `WRITER_REGION` is in the ConfigMap too.
    """
    config: dict[str, Any] = {
        "AURORA_PORT": str(AURORA_PORT),
        "REDIS_PORT": str(REDIS_PORT),
        "REDIS_TLS": "true",
        "AURORA_WRITER_ENDPOINT": data.aurora_endpoint,
        "AURORA_READER_ENDPOINT": data.aurora_reader_endpoint,
        "REDIS_CONFIGURATION_ENDPOINT": data.redis_configuration_endpoint,
    }
    secrets = {
        "DB_USERNAME": data.aurora_master_username,
        "DB_PASSWORD": data.aurora_master_password,
        "REDIS_AUTH_TOKEN": data.redis_auth_token,
    }
    return config, {key: pulumi.Output.secret(value) for key, value in secrets.items() if value is not None}


def workload_args(
    ctx: RegionContext, cfg: WorkloadsConfig, svc: ServiceConfig, standby: bool, cluster_name: Any, data: Data
) -> WorkloadArgs:
    """The `Workload` inputs of one service for this stack (pure: the tests call it directly)."""
    vpc_cidr = ctx.cfg.network.cidr
    by_name = {other.name: other for other in cfg.services}
    config, secrets = data_settings(data)
    config.update({"SERVICE_NAME": svc.name, "AWS_REGION": ctx.region, "WRITER_REGION": ctx.writer_region})
    return WorkloadArgs(
        region=ctx.region,
        name_prefix=ctx.base,
        tags=ctx.tags,
        service=svc.name,
        namespace=svc.ns,
        image=svc.image_ref,
        replicas=cfg.scaled(svc.instances, standby),
        cpu=svc.cpu,
        memory_gib=svc.memory_gib,
        min_replicas=cfg.scaled(svc.min_replicas, standby),
        max_replicas=svc.max_replicas,
        metric=svc.metric,
        target_utilization=svc.target_utilization,
        scale_up_stabilization_seconds=svc.scale_up_stabilization_seconds,
        scale_down_stabilization_seconds=svc.scale_down_stabilization_seconds,
        port=svc.port,
        health_path=svc.health_path,
        readiness_path=svc.readiness_path,
        pdb_max_unavailable=svc.pdb_max_unavailable,
        node_port=ctx.cfg.compute.alb.node_port if svc.public else None,
        ingress_namespaces=sorted({by_name[name].ns for name in svc.allowed_from}),
        # NodePort traffic from the ALB arrives from VPC addresses (ALB nodes, kube-proxy SNAT on the nodes).
        ingress_cidrs=[vpc_cidr] if svc.public else [],
        egress_services=sorted({(other.ns, other.port) for other in cfg.services if svc.name in other.allowed_from}),
        # Aurora, Redis and the VPC interface endpoints (STS, ECR, CloudWatch Logs) all live inside the VPC.
        egress_cidr_ports=[(vpc_cidr, AURORA_PORT), (vpc_cidr, REDIS_PORT), (vpc_cidr, 443)],
        config_data=config,
        secret_data=secrets,
        cluster_name=cluster_name,
    )


def build_workloads(ctx: RegionContext, compute: Any, data: Data) -> Workloads:
    """One `Workload` per configured service on this region's cluster (explicit Kubernetes provider)."""
    cfg = ctx.cfg.workloads
    standby = not ctx.is_writer
    result = Workloads(standby=standby)
    for svc in cfg.services:
        result.services[svc.name] = Workload(
            svc.name,
            workload_args(ctx, cfg, svc, standby, compute.cluster_name, data),
            provider=compute.k8s_provider,
            opts=ctx.opts(),
        )
    return result
