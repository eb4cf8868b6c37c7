"""Workloads tier: seed 001's application services on the regional EKS cluster, one `Workload` per service.

A stack that does not hold the writer (warm standby) runs every service with replicas and HPA minimum scaled by
`platform:workloads.warmStandbyFactor`; the HPA maximum stays at the seed value so it can absorb a failover.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.db_bootstrap import DbBootstrap, DbBootstrapArgs
from components.db_bootstrap_sql import DbRole
from components.team_rbac import GROUP as EDIT_GROUP
from components.team_rbac import EditWithoutSecrets, EditWithoutSecretsArgs
from components.workload import Workload, WorkloadArgs
from infra.config.workloads import ServiceConfig, WorkloadsConfig
from stacks.compute import access_grants
from stacks.context import RegionContext
from stacks.data import Data

AURORA_PORT = 5432
PRE_STOP_MARGIN_SECONDS = 10
REDIS_PORT = 6379


@dataclass
class Workloads:
    """The services of this stack, by service name."""

    services: dict[str, Workload] = field(default_factory=dict)
    standby: bool = False
    bootstrap: DbBootstrap | None = None


def data_settings(data: Data) -> dict[str, Any]:
    """ConfigMap entries from the data tier: endpoints, ports, and how to authenticate. No credentials at all.

    Writes go to `AURORA_GLOBAL_WRITER_ENDPOINT`, the global database's writer endpoint: AWS repoints it at the
    writer after a switchover or failover, so no configuration changes when the writer moves. Reads go to this
    Region's `AURORA_READER_ENDPOINT`. `AURORA_WRITER_ENDPOINT` is this Region's cluster endpoint (writable only
    while this Region holds the writer; Aurora global write forwarding is off). Redis has no global endpoint: see
    docs/data-tier.md ("Following the writer"). Both stores use IAM authentication: the service signs a 15-minute
    token with its Pod Identity credentials for every new connection (`DB_AUTH=iam`, `REDIS_AUTH=iam`).
    """
    return {
        "AURORA_PORT": str(AURORA_PORT),
        "REDIS_PORT": str(REDIS_PORT),
        "REDIS_TLS": "true",
        "DB_AUTH": "iam",
        "DB_SSLMODE": "verify-full",
        "DB_NAME": "postgres",
        "REDIS_AUTH": "iam",
        "AURORA_GLOBAL_WRITER_ENDPOINT": data.aurora_global_writer_endpoint,
        "AURORA_WRITER_ENDPOINT": data.aurora_endpoint,
        "AURORA_READER_ENDPOINT": data.aurora_reader_endpoint,
        "REDIS_CONFIGURATION_ENDPOINT": data.redis_configuration_endpoint,
    }


def data_access_policy(ctx: RegionContext, svc: ServiceConfig, data: Data) -> pulumi.Output[str] | None:
    """The service's IAM policy: `rds-db:connect` as its own PostgreSQL role on this Region's cluster and
    `elasticache:Connect` as its own cache user on this Region's group. Nothing else (least privilege).

    Resource formats: arn:aws:rds-db:<region>:<account>:dbuser:<cluster resource id>/<db user> and the replication
    group + user ARNs (docs/security.md cites the AWS references)."""
    redis_user_arn = data.redis_user_arns.get(svc.name)
    if svc.db_user is None and redis_user_arn is None:
        return None
    parts = {
        "account": ctx.account_id,
        "resource_id": data.aurora_cluster_resource_id,
        "group_arn": data.redis_replication_group_arn,
        "user_arn": redis_user_arn if redis_user_arn is not None else "",
    }

    def document(values: dict[str, str]) -> str:
        statements = []
        if svc.db_user is not None:
            statements.append({
                "Sid": "ConnectAsOwnDatabaseRole", "Effect": "Allow", "Action": "rds-db:connect",
                "Resource": f"arn:aws:rds-db:{ctx.region}:{values['account']}:dbuser:{values['resource_id']}/"
                            f"{svc.db_user}",
            })  # fmt: skip
        if values["user_arn"]:
            statements.append({
                "Sid": "ConnectAsOwnCacheUser", "Effect": "Allow", "Action": "elasticache:Connect",
                "Resource": [values["group_arn"], values["user_arn"]],
            })  # fmt: skip
        return json.dumps({"Version": "2012-10-17", "Statement": statements})

    return pulumi.Output.all(**parts).apply(document)


def workload_args(
    ctx: RegionContext,
    cfg: WorkloadsConfig,
    svc: ServiceConfig,
    standby: bool,
    cluster_name: Any,
    data: Data,
    target_group_arn: Any = None,
) -> WorkloadArgs:
    """The `Workload` inputs of one service for this stack (pure: the tests call it directly)."""
    vpc_cidr = ctx.cfg.network.cidr
    by_name = {other.name: other for other in cfg.services}
    config = data_settings(data)
    config.update({"SERVICE_NAME": svc.name, "AWS_REGION": ctx.region, "WRITER_REGION": ctx.writer_region})
    if svc.db_user is not None:
        config["DB_USERNAME"] = svc.db_user
    if svc.name in data.redis_user_ids:
        config["REDIS_USERNAME"] = data.redis_user_ids[svc.name]
        config["REDIS_KEY_PREFIX"] = f"{svc.cache_prefix}:"
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
        target_group_arn=target_group_arn if svc.public else None,
        # The ALB drains a deregistered pod for deregistrationDelaySeconds; the pod keeps serving a little longer
        # (controller reaction + ALB propagation) before it gets SIGTERM.
        pre_stop_seconds=ctx.cfg.compute.alb.deregistration_delay_seconds + PRE_STOP_MARGIN_SECONDS
        if svc.public
        else 0,
        ingress_namespaces=sorted({by_name[name].ns for name in svc.allowed_from}),
        # ALB IP-target traffic arrives from the ALB nodes' addresses in the VPC's public subnets.
        ingress_cidrs=[vpc_cidr] if svc.public else [],
        egress_services=sorted({(other.ns, other.port) for other in cfg.services if svc.name in other.allowed_from}),
        # Aurora, Redis and the VPC interface endpoints (STS, ECR, CloudWatch Logs) all live inside the VPC.
        egress_cidr_ports=[(vpc_cidr, AURORA_PORT), (vpc_cidr, REDIS_PORT), (vpc_cidr, 443)],
        config_data=config,
        cluster_name=cluster_name,
        role_policy_json=data_access_policy(ctx, svc, data),
    )


def build_workloads(ctx: RegionContext, compute: Any, data: Data) -> Workloads:
    """One `Workload` per configured service on this region's cluster (explicit Kubernetes provider)."""
    cfg = ctx.cfg.workloads
    standby = not ctx.is_writer
    result = Workloads(standby=standby)
    for svc in cfg.services:
        result.services[svc.name] = Workload(
            svc.name,
            workload_args(ctx, cfg, svc, standby, compute.cluster_name, data, compute.target_group_arn),
            provider=compute.k8s_provider,
            opts=ctx.opts(),
        )
    if ctx.is_writer:
        result.bootstrap = build_db_bootstrap(ctx, compute, data)
    edit_namespaces = sorted({
        ns for grant in access_grants(ctx.cfg.compute, cfg.namespaces) if EDIT_GROUP in grant.kubernetes_groups
        for ns in grant.namespaces or []
    })  # fmt: skip
    if edit_namespaces:
        # RoleBindings live in the services' namespaces: create them after the namespaces.
        EditWithoutSecrets(
            "team-edit",
            EditWithoutSecretsArgs(region=ctx.region, name_prefix=ctx.base, tags=ctx.tags, namespaces=edit_namespaces),
            provider=compute.k8s_provider,
            opts=ctx.opts(depends_on=[w.namespace for w in result.services.values()]),
        )
    # What the DR pre-warm scales in this cluster (ARC Region switch's EKS step takes the same list): every
    # service's Deployment and HPA, the writer's HPA floor (the knob-driven value the next deploy keeps) and the
    # pod size (checked against the NodePool limits).
    pulumi.export(
        "eksWorkloads",
        [
            {
                "service": svc.name,
                "namespace": svc.ns,
                "deployment": svc.name,
                "hpa": svc.name,
                "writerMinReplicas": svc.min_replicas,
                "writerReplicas": svc.instances,
                "maxReplicas": svc.max_replicas,
                "cpu": svc.cpu,
                "memoryGib": svc.memory_gib,
            }
            for svc in cfg.services
        ],
    )
    return result


def build_db_bootstrap(ctx: RegionContext, compute: Any, data: Data) -> DbBootstrap:
    """The roles-and-grants Job. Only the writer Region runs it: the global secondary is read-only and receives
    roles and grants by replication. After a switchover the active-region knob moves it with the writer."""
    cfg = ctx.cfg.workloads
    boot = cfg.db_bootstrap
    return DbBootstrap(
        "db-bootstrap",
        DbBootstrapArgs(
            region=ctx.region,
            name_prefix=ctx.base,
            tags=ctx.tags,
            namespace=boot.namespace,
            image=boot.image_ref,
            cluster_name=compute.cluster_name,
            account_id=ctx.account_id,
            master_secret_name=data.aurora_master_secret_name,
            # the primary's secret uses the Aurora CMK; the replica uses the partner Region's AWS-managed key
            master_secret_kms_key_arn=data.aurora.kms_key_arn if ctx.cfg.is_primary else None,
            writer_endpoint=data.aurora_endpoint,
            vpc_cidr=ctx.cfg.network.cidr,
            schemas=list(boot.schemas),
            roles=[DbRole(name=svc.db_user, grants=dict(svc.database.grants)) for svc in cfg.services if svc.db_user],
        ),
        provider=compute.k8s_provider,
        opts=ctx.opts(),
    )
