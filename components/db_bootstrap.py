"""The database bootstrap: an in-cluster Job (writer Region only) that creates the schemas, one IAM-authenticated
role per service and its grants, with the master secret readable only by this Job's identity.

Why a Job in the cluster and not a Pulumi PostgreSQL provider or a Lambda: the cluster is private (isolated
subnets, 5432 only from the EKS nodes), so CI cannot reach it; the Job runs where the services run, through the
same security group path, and its script is versioned with the stack (a change makes a new Job). Nothing but this
namespace's service account may read the master secret, and the edit access entries are never scoped to this
namespace (docs/security.md).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pydantic import Field

from components.base import ComponentArgs, Input, PlatformComponent
from components.db_bootstrap_sql import RUN_SH, DbRole, bootstrap_sql
from components.workload import (
    POD_IDENTITY_AGENT,
    UID,
    dns_egress,
    pod_identity_role,
    pod_identity_service_account,
)

PG_PORT = 5432


class DbBootstrapArgs(ComponentArgs):
    """Args of `DbBootstrap`."""

    namespace: str = Field(..., description="Namespace of the Job (no team has access to it).")
    image: str = Field(..., pattern=r"@sha256:[a-f0-9]{64}$", description="Image pinned by digest.")
    cluster_name: Input = Field(..., description="EKS cluster (pod identity association).")
    account_id: Input = Field(..., description="AWS account id (secret ARN in the policy).")
    master_secret_name: str = Field(..., description="Name of the master secret (the primary's or its replica).")
    master_secret_kms_key_arn: Input = Field(None, description="CMK of the secret in this Region, if customer-managed.")
    writer_endpoint: Input = Field(..., description="This Region's cluster (writer) endpoint.")
    vpc_cidr: str = Field(..., description="Egress to Aurora (5432) and the Secrets Manager endpoint (443).")
    schemas: list[str] = Field(..., min_length=1, description="Schemas to create.")
    roles: list[DbRole] = Field(default_factory=list, description="One role per service with its grants.")


class DbBootstrap(PlatformComponent):
    """Outputs: `job_name`, `role_arn`, `sql` (the script, for review)."""

    def __init__(
        self, name: str, args: DbBootstrapArgs, provider: k8s.Provider, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("platform:workloads:DbBootstrap", name, opts)
        ns = args.namespace
        labels = {"app.kubernetes.io/name": "db-bootstrap", "app.kubernetes.io/part-of": "devtools-platform"}
        self.sql = bootstrap_sql(args.schemas, args.roles)

        def k8s_opts(**kwargs: Any) -> pulumi.ResourceOptions:
            return self.child(provider=provider, **kwargs)

        role_name = f"{args.name_prefix}-db-bootstrap"[:64]
        self.role = pod_identity_role(self, role_name, args.tags)
        aws.iam.RolePolicy(
            self.cname("role-policy"),
            role=self.role.id,
            policy=pulumi.Output.all(args.account_id, args.master_secret_kms_key_arn).apply(
                lambda v: json.dumps(self._policy(args, v[0], v[1]))
            ),
            opts=self.child(),
        )
        namespace = k8s.core.v1.Namespace(
            self.cname("ns"),
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ns, labels={
                **labels, "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/warn": "restricted"}),
            opts=k8s_opts(),
        )  # fmt: skip

        def meta(obj: str) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(name=obj, namespace=namespace.metadata.name, labels=labels)

        _, association = pod_identity_service_account(
            self, role=self.role, role_name=role_name, region=args.region, cluster_name=args.cluster_name,
            namespace=ns, metadata=meta("db-bootstrap"), tags=args.tags, opts=k8s_opts(),
        )  # fmt: skip
        script = k8s.core.v1.ConfigMap(
            self.cname("script"),
            metadata=meta("db-bootstrap"),
            data={"bootstrap.sql": self.sql, "run.sh": RUN_SH},
            opts=k8s_opts(),
        )
        self._network_policy(args, meta, labels, k8s_opts)
        # A Job's pod template is immutable: a new script or image is a new Job (name carries their hash).
        digest = hashlib.sha256((self.sql + RUN_SH + args.image).encode()).hexdigest()[:10]
        job = k8s.batch.v1.Job(
            self.cname("job"),
            metadata=meta(f"db-bootstrap-{digest}"),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=6,
                active_deadline_seconds=1800,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=self._pod_spec(args, script.metadata.name),
                ),
            ),
            opts=k8s_opts(depends_on=[association]),
        )
        self.job_name = job.metadata.name
        self.role_arn = self.role.arn
        self.register_outputs({"jobName": self.job_name, "roleArn": self.role_arn})

    @staticmethod
    def _policy(args: DbBootstrapArgs, account: str, key_arn: str | None) -> dict[str, Any]:
        # Secrets Manager appends 6 random characters to a secret's ARN; the replica keeps the name.
        secret_arn = f"arn:aws:secretsmanager:{args.region}:{account}:secret:{args.master_secret_name}-??????"
        statements: list[dict[str, Any]] = [
            {
                "Sid": "ReadTheMasterSecret",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": secret_arn,
            }
        ]
        if key_arn:
            statements.append(
                {
                    "Sid": "DecryptItViaSecretsManager",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": key_arn,
                    "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{args.region}.amazonaws.com"}},
                }
            )
        return {"Version": "2012-10-17", "Statement": statements}  # fmt: skip

    @staticmethod
    def _pod_spec(args: DbBootstrapArgs, script_name: Input) -> k8s.core.v1.PodSpecArgs:
        core = k8s.core.v1
        return core.PodSpecArgs(
            service_account_name="db-bootstrap",
            automount_service_account_token=False,
            restart_policy="OnFailure",
            enable_service_links=False,
            # The application pool: system nodes are tainted CriticalAddonsOnly and this Job has no toleration.
            node_selector={"platform/pool": "application"},
            security_context=core.PodSecurityContextArgs(
                run_as_non_root=True, run_as_user=UID, run_as_group=UID, fs_group=UID,
                seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault")),
            containers=[core.ContainerArgs(
                name="bootstrap",
                image=args.image,
                command=["/bin/sh", "/bootstrap/run.sh"],
                # Where and which secret, not the secret itself: the credentials are read at run time.
                env=[core.EnvVarArgs(name="AWS_REGION", value=args.region),
                     core.EnvVarArgs(name="PGHOST", value=args.writer_endpoint),
                     core.EnvVarArgs(name="MASTER_SECRET_ID", value=args.master_secret_name)],
                resources=core.ResourceRequirementsArgs(requests={"cpu": "100m", "memory": "128Mi"},
                                                        limits={"cpu": "500m", "memory": "256Mi"}),
                security_context=core.SecurityContextArgs(
                    run_as_non_root=True, read_only_root_filesystem=True, allow_privilege_escalation=False,
                    privileged=False, capabilities=core.CapabilitiesArgs(drop=["ALL"]),
                    seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault")),
                volume_mounts=[core.VolumeMountArgs(name="script", mount_path="/bootstrap", read_only=True),
                               core.VolumeMountArgs(name="tmp", mount_path="/tmp")],
            )],
            volumes=[core.VolumeArgs(name="script", config_map=core.ConfigMapVolumeSourceArgs(name=script_name)),
                     # Memory-backed: the pgpass file never touches a node disk.
                     core.VolumeArgs(name="tmp", empty_dir=core.EmptyDirVolumeSourceArgs(medium="Memory",
                                                                                       size_limit="16Mi"))],
        )  # fmt: skip

    def _network_policy(self, args: DbBootstrapArgs, meta: Any, labels: dict[str, str], k8s_opts: Any) -> None:
        np = k8s.networking.v1

        def to(cidr: str, *ports: tuple[str, int]) -> Any:
            return np.NetworkPolicyEgressRuleArgs(
                to=[np.NetworkPolicyPeerArgs(ip_block=np.IPBlockArgs(cidr=cidr))],
                ports=[np.NetworkPolicyPortArgs(protocol=proto, port=port) for proto, port in ports],
            )

        np.NetworkPolicy(
            self.cname("netpol"),
            metadata=meta("db-bootstrap"),
            spec=np.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(),
                policy_types=["Ingress", "Egress"],
                ingress=[],
                egress=[dns_egress(), to(POD_IDENTITY_AGENT, ("TCP", 80)),
                        to(args.vpc_cidr, ("TCP", PG_PORT), ("TCP", 443))],
            ),
            opts=k8s_opts(),
        )  # fmt: skip
