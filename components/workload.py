"""One application service on EKS: namespace, identity, config, Deployment, Service, HPA, PDB, NetworkPolicies.

Every Kubernetes resource uses the explicit provider passed in `provider` (built from the cluster's outputs).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Literal

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pydantic import Field, field_validator, model_validator

from components.base import ComponentArgs, Input, PlatformComponent

_DNS_LABEL = r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
_ENV_KEY = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# EKS Pod Identity agent (link-local) that hands out the service account's role credentials.
POD_IDENTITY_AGENT = "169.254.170.23/32"
UID = 10001
READINESS_GATE_LABEL = "eks.amazonaws.com/pod-readiness-gate-inject"
TGB_API = "eks.amazonaws.com/v1"  # Auto Mode's TargetGroupBinding (upstream controller: elbv2.k8s.aws/v1beta1)

# Trust policy of a role that EKS Pod Identity hands to a service account.
POD_IDENTITY_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }
)


def pod_identity_role(owner: PlatformComponent, role_name: str, tags: dict[str, str]) -> aws.iam.Role:
    """`<owner>-role`: the IAM role EKS Pod Identity hands to the owner's service account."""
    return aws.iam.Role(
        owner.cname("role"),
        name=role_name,
        assume_role_policy=POD_IDENTITY_TRUST,
        tags=owner.tagged(tags, role_name),
        opts=owner.child(),
    )


def pod_identity_service_account(
    owner: PlatformComponent,
    *,
    role: aws.iam.Role,
    role_name: str,
    region: Input,
    cluster_name: Input,
    namespace: str,
    metadata: k8s.meta.v1.ObjectMetaArgs,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> tuple[k8s.core.v1.ServiceAccount, aws.eks.PodIdentityAssociation]:
    """`<owner>-sa` (no automounted token) and `<owner>-pod-identity` binding it to `role`."""
    account = k8s.core.v1.ServiceAccount(
        owner.cname("sa"), metadata=metadata, automount_service_account_token=False, opts=opts
    )
    association = aws.eks.PodIdentityAssociation(
        owner.cname("pod-identity"),
        region=region,
        cluster_name=cluster_name,
        namespace=namespace,
        service_account=metadata.name,
        role_arn=role.arn,
        tags=owner.tagged(tags, f"{role_name}-pod-identity"),
        opts=owner.child(depends_on=[account]),
    )
    return account, association


def dns_egress() -> k8s.networking.v1.NetworkPolicyEgressRuleArgs:
    """Egress to CoreDNS in kube-system (UDP and TCP 53)."""
    np = k8s.networking.v1
    return np.NetworkPolicyEgressRuleArgs(
        to=[
            np.NetworkPolicyPeerArgs(
                namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                    match_labels={"kubernetes.io/metadata.name": "kube-system"}
                ),
                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"k8s-app": "kube-dns"}),
            )
        ],
        ports=[np.NetworkPolicyPortArgs(protocol=proto, port=53) for proto in ("UDP", "TCP")],
    )


class WorkloadArgs(ComponentArgs):
    """Args of `Workload`. Defaults are the restricted profile: non-root, read-only root FS, no capabilities."""

    service: str = Field(..., pattern=_DNS_LABEL, description="Service name (labels, object names).")
    namespace: str = Field(..., pattern=_DNS_LABEL, description="Namespace created for the service.")
    image: str = Field(..., description="Image reference with an immutable tag or a digest (never `latest`).")
    replicas: int = Field(..., ge=1, description="Initial replicas (the HPA owns the count afterwards).")
    cpu: float = Field(..., gt=0, description="vCPU per pod (requests = limits: Guaranteed QoS).")
    memory_gib: float = Field(..., gt=0, description="Memory GiB per pod (requests = limits).")
    min_replicas: int = Field(..., ge=1, description="HPA minimum.")
    max_replicas: int = Field(..., ge=1, description="HPA maximum.")
    metric: Literal["cpu", "memory"] = Field("cpu", description="HPA resource metric.")
    target_utilization: int = Field(70, ge=1, le=100, description="HPA target average utilization (%).")
    scale_up_stabilization_seconds: int = Field(0, ge=0, le=3600, description="HPA scale-up window.")
    scale_down_stabilization_seconds: int = Field(300, ge=0, le=3600, description="HPA scale-down window.")
    port: int = Field(8080, ge=1024, le=65535, description="Container port (unprivileged).")
    health_path: str = Field("/healthz", description="Liveness and startup probe path.")
    readiness_path: str = Field("/ready", description="Readiness probe path.")
    pdb_max_unavailable: str = Field("10%", description="PodDisruptionBudget maxUnavailable (count or percent).")
    target_group_arn: Input | None = Field(
        None, description="Bind the Service's pods to this IP target group (EKS Auto Mode TargetGroupBinding)."
    )
    pre_stop_seconds: int = Field(
        0, ge=0, le=600, description="preStop sleep: keep serving while the load balancer drains the pod."
    )
    shutdown_seconds: int = Field(30, ge=1, le=600, description="Time the app gets after SIGTERM.")
    node_selector: dict[str, str] = Field(
        default_factory=lambda: {"platform/pool": "application"}, description="Nodes the pods run on."
    )
    ingress_namespaces: list[str] = Field(default_factory=list, description="Namespaces allowed to call the service.")
    ingress_cidrs: list[str] = Field(
        default_factory=list,
        description="CIDRs allowed to reach the port (e.g. the VPC for the ALB's IP-target traffic).",
    )
    egress_services: list[tuple[str, int]] = Field(
        default_factory=list, description="(namespace, port) of services this one calls."
    )
    egress_cidr_ports: list[tuple[str, int]] = Field(
        default_factory=list, description="(CIDR, TCP port) allowed out, e.g. the data tier (5432, 6379), 443."
    )
    config_data: dict[str, Input] = Field(default_factory=dict, description="ConfigMap entries (env vars).")
    secret_data: dict[str, Input] = Field(
        default_factory=dict,
        description="Secret entries, mounted read-only as files under `secret_mount_path` (never env vars); pass "
        "Pulumi secrets, they stay secret. Prefer IAM authentication: the platform's services need none.",
    )
    secret_mount_path: str = Field("/var/run/secrets/platform", pattern=r"^/", description="Secret files directory.")
    cluster_name: Input = Field(..., description="EKS cluster (pod identity association).")
    role_policy_json: Input | None = Field(None, description="Inline IAM policy of the service's role (optional).")

    @field_validator("image")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if "@sha256:" in value:
            return value
        tail = value.rsplit("/", 1)[-1]
        if ":" not in tail or tail.rsplit(":", 1)[1].lower() == "latest":
            raise ValueError(f"image '{value}' must be pinned to an immutable tag or digest (not `latest`)")
        return value

    @field_validator("config_data", "secret_data")
    @classmethod
    def _env_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        bad = [key for key in value if not _ENV_KEY.match(key)]
        if bad:
            raise ValueError(f"keys must be environment variable names (A-Z, 0-9, _): {bad}")
        return value

    @model_validator(mode="after")
    def _bounds(self) -> WorkloadArgs:
        if not self.min_replicas <= self.replicas <= self.max_replicas:
            raise ValueError(f"{self.service}: need min_replicas <= replicas <= max_replicas")
        return self


def quantity_cpu(cpu: float) -> str:
    """Kubernetes CPU quantity: whole cores as '4', fractions in millicores."""
    return str(int(cpu)) if float(cpu).is_integer() else f"{math.ceil(cpu * 1000)}m"


def quantity_memory(gib: float) -> str:
    return f"{int(gib)}Gi" if float(gib).is_integer() else f"{math.ceil(gib * 1024)}Mi"


class Workload(PlatformComponent):
    """Outputs: `namespace`, `service_name`, `role_arn`, `deployment_name`."""

    def __init__(
        self, name: str, args: WorkloadArgs, provider: k8s.Provider, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("platform:workloads:Workload", name, opts)
        svc, ns = args.service, args.namespace
        labels = {"app.kubernetes.io/name": svc, "app.kubernetes.io/part-of": "devtools-platform"}
        selector = {"app.kubernetes.io/name": svc}

        def k8s_opts(**kwargs: Any) -> pulumi.ResourceOptions:
            return self.child(provider=provider, **kwargs)

        # Identity: an IAM role assumed through EKS Pod Identity by the service account.
        role_name = f"{args.name_prefix}-{svc}"[:64]
        self.role = pod_identity_role(self, role_name, args.tags)
        if args.role_policy_json is not None:
            aws.iam.RolePolicy(
                self.cname("role-policy"), role=self.role.id, policy=args.role_policy_json, opts=self.child()
            )

        self.namespace = k8s.core.v1.Namespace(
            self.cname("ns"),
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=ns,
                labels={
                    **labels,
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                    # Auto Mode's load balancer webhook then adds a target-health readiness gate to new pods, so a
                    # rollout waits until the ALB reports each new pod healthy.
                    **({READINESS_GATE_LABEL: "enabled"} if args.target_group_arn is not None else {}),
                },
            ),
            opts=k8s_opts(),
        )
        ns_name = self.namespace.metadata.name

        def meta(obj: str, extra: dict[str, str] | None = None) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(name=obj, namespace=ns_name, labels={**labels, **(extra or {})})

        self.service_account, _ = pod_identity_service_account(
            self, role=self.role, role_name=role_name, region=args.region, cluster_name=args.cluster_name,
            namespace=ns, metadata=meta(svc), tags=args.tags, opts=k8s_opts(),
        )  # fmt: skip
        self.config_map = k8s.core.v1.ConfigMap(
            self.cname("config"),
            metadata=meta(f"{svc}-config"),
            data={key: pulumi.Output.from_input(value).apply(str) for key, value in args.config_data.items()},
            immutable=False,
            opts=k8s_opts(),
        )
        # Credentials are files, not environment variables (env vars leak into child processes, crash dumps and
        # `kubectl describe`); none at all when the service authenticates with IAM tokens.
        self.secret: k8s.core.v1.Secret | None = None
        volumes = [k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="1Gi"))]
        mounts = [k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")]
        if args.secret_data:
            self.secret = k8s.core.v1.Secret(
                self.cname("secret"),
                metadata=meta(f"{svc}-credentials"),
                type="Opaque",
                string_data={key: pulumi.Output.secret(value) for key, value in args.secret_data.items()},
                opts=k8s_opts(additional_secret_outputs=["stringData", "data"]),
            )
            volumes.append(k8s.core.v1.VolumeArgs(
                name="credentials",
                secret=k8s.core.v1.SecretVolumeSourceArgs(secret_name=self.secret.metadata.name, default_mode=0o440),
            ))  # fmt: skip
            mounts.append(k8s.core.v1.VolumeMountArgs(name="credentials", mount_path=args.secret_mount_path,
                                                      read_only=True))  # fmt: skip

        probe = k8s.core.v1.HTTPGetActionArgs
        container = k8s.core.v1.ContainerArgs(
            name=svc,
            image=args.image,
            image_pull_policy="IfNotPresent",
            ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=args.port, protocol="TCP")],
            env_from=[
                k8s.core.v1.EnvFromSourceArgs(
                    config_map_ref=k8s.core.v1.ConfigMapEnvSourceArgs(name=self.config_map.metadata.name)
                ),
            ],
            resources=k8s.core.v1.ResourceRequirementsArgs(
                requests={"cpu": quantity_cpu(args.cpu), "memory": quantity_memory(args.memory_gib)},
                limits={"cpu": quantity_cpu(args.cpu), "memory": quantity_memory(args.memory_gib)},
            ),
            startup_probe=k8s.core.v1.ProbeArgs(
                http_get=probe(path=args.health_path, port="http"), period_seconds=5, failure_threshold=30
            ),
            liveness_probe=k8s.core.v1.ProbeArgs(
                http_get=probe(path=args.health_path, port="http"),
                period_seconds=10,
                timeout_seconds=2,
                failure_threshold=3,
            ),
            readiness_probe=k8s.core.v1.ProbeArgs(
                http_get=probe(path=args.readiness_path, port="http"),
                period_seconds=5,
                timeout_seconds=2,
                failure_threshold=3,
            ),
            security_context=k8s.core.v1.SecurityContextArgs(
                run_as_non_root=True,
                run_as_user=UID,
                run_as_group=UID,
                read_only_root_filesystem=True,
                allow_privilege_escalation=False,
                privileged=False,
                capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
                seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
            ),
            volume_mounts=mounts,
            # Deregistration starts when the pod terminates; it must keep serving until the ALB stopped sending.
            lifecycle=k8s.core.v1.LifecycleArgs(
                pre_stop=k8s.core.v1.LifecycleHandlerArgs(
                    sleep=k8s.core.v1.SleepActionArgs(seconds=args.pre_stop_seconds)
                )
            )
            if args.pre_stop_seconds
            else None,
        )
        spread = [
            k8s.core.v1.TopologySpreadConstraintArgs(
                max_skew=1,
                topology_key="topology.kubernetes.io/zone",
                when_unsatisfiable="DoNotSchedule",
                label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
            ),
            k8s.core.v1.TopologySpreadConstraintArgs(
                max_skew=1,
                topology_key="kubernetes.io/hostname",
                when_unsatisfiable="ScheduleAnyway",
                label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
            ),
        ]
        self.deployment = k8s.apps.v1.Deployment(
            self.cname("deployment"),
            metadata=meta(svc),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=args.replicas,
                revision_history_limit=5,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_surge="25%", max_unavailable=0),
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        service_account_name=self.service_account.metadata.name,
                        automount_service_account_token=False,
                        enable_service_links=False,
                        termination_grace_period_seconds=args.pre_stop_seconds + args.shutdown_seconds,
                        node_selector=dict(args.node_selector),
                        security_context=k8s.core.v1.PodSecurityContextArgs(
                            run_as_non_root=True,
                            run_as_user=UID,
                            run_as_group=UID,
                            fs_group=UID,
                            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
                        ),
                        topology_spread_constraints=spread,
                        containers=[container],
                        volumes=volumes,
                    ),
                ),
            ),
            # The HPA owns the replica count after creation.
            opts=k8s_opts(ignore_changes=["spec.replicas"]),
        )
        service_port = k8s.core.v1.ServicePortArgs(name="http", port=80, target_port="http", protocol="TCP")
        self.service = k8s.core.v1.Service(
            self.cname("service"),
            metadata=meta(svc),
            spec=k8s.core.v1.ServiceSpecArgs(type="ClusterIP", selector=selector, ports=[service_port]),
            opts=k8s_opts(),
        )
        if args.target_group_arn is not None:
            # Auto Mode's load balancer controller registers the Service's ready pod IPs in the (Pulumi-managed)
            # target group and deregisters terminating ones. No `networking` block: the SG rules are in Pulumi.
            k8s.apiextensions.CustomResource(
                self.cname("tgb"),
                api_version=TGB_API,
                kind="TargetGroupBinding",
                metadata=meta(svc),
                spec={
                    "serviceRef": {"name": svc, "port": 80},
                    "targetGroupARN": args.target_group_arn,
                    "targetType": "ip",
                },
                opts=k8s_opts(depends_on=[self.service]),
            )
        metric_target = k8s.autoscaling.v2.MetricTargetArgs(
            type="Utilization", average_utilization=args.target_utilization
        )
        self.hpa = k8s.autoscaling.v2.HorizontalPodAutoscaler(
            self.cname("hpa"),
            metadata=meta(svc),
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name=self.deployment.metadata.name
                ),
                min_replicas=args.min_replicas,
                max_replicas=args.max_replicas,
                metrics=[
                    k8s.autoscaling.v2.MetricSpecArgs(
                        type="Resource",
                        resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(name=args.metric, target=metric_target),
                    )
                ],
                behavior=k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs(
                    scale_up=k8s.autoscaling.v2.HPAScalingRulesArgs(
                        stabilization_window_seconds=args.scale_up_stabilization_seconds
                    ),
                    scale_down=k8s.autoscaling.v2.HPAScalingRulesArgs(
                        stabilization_window_seconds=args.scale_down_stabilization_seconds
                    ),
                ),
            ),
            opts=k8s_opts(),
        )
        max_unavailable: int | str = (
            int(args.pdb_max_unavailable) if args.pdb_max_unavailable.isdigit() else args.pdb_max_unavailable
        )
        self.pdb = k8s.policy.v1.PodDisruptionBudget(
            self.cname("pdb"),
            metadata=meta(svc),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=max_unavailable,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
            ),
            opts=k8s_opts(),
        )
        self._network_policies(args, meta, selector, k8s_opts)

        self.namespace_name = ns_name
        self.service_name = self.service.metadata.name
        self.deployment_name = self.deployment.metadata.name
        self.role_arn = self.role.arn
        self.register_outputs(
            {
                "namespace": self.namespace_name,
                "serviceName": self.service_name,
                "deploymentName": self.deployment_name,
                "roleArn": self.role_arn,
            }
        )

    def _network_policies(self, args: WorkloadArgs, meta: Any, selector: dict[str, str], k8s_opts: Any) -> None:
        np = k8s.networking.v1
        tcp = "TCP"
        k8s.networking.v1.NetworkPolicy(
            self.cname("default-deny"),
            metadata=meta("default-deny"),
            spec=np.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(), policy_types=["Ingress", "Egress"]
            ),
            opts=k8s_opts(),
        )
        app_port = [np.NetworkPolicyPortArgs(protocol=tcp, port=args.port)]
        ingress = []
        if args.ingress_namespaces:
            ingress.append(
                np.NetworkPolicyIngressRuleArgs(
                    from_=[_namespace_peer(ns) for ns in sorted(args.ingress_namespaces)], ports=app_port
                )
            )
        if args.ingress_cidrs:
            ingress.append(
                np.NetworkPolicyIngressRuleArgs(
                    from_=[np.NetworkPolicyPeerArgs(ip_block=np.IPBlockArgs(cidr=c)) for c in args.ingress_cidrs],
                    ports=app_port,
                )
            )
        egress = [
            dns_egress(),
            # AWS credentials from the EKS Pod Identity agent.
            np.NetworkPolicyEgressRuleArgs(
                to=[np.NetworkPolicyPeerArgs(ip_block=np.IPBlockArgs(cidr=POD_IDENTITY_AGENT))],
                ports=[np.NetworkPolicyPortArgs(protocol=tcp, port=80)],
            ),
        ]
        for ns, port in sorted(args.egress_services):
            egress.append(
                np.NetworkPolicyEgressRuleArgs(
                    to=[_namespace_peer(ns)], ports=[np.NetworkPolicyPortArgs(protocol=tcp, port=port)]
                )
            )
        for cidr, port in args.egress_cidr_ports:
            egress.append(
                np.NetworkPolicyEgressRuleArgs(
                    to=[np.NetworkPolicyPeerArgs(ip_block=np.IPBlockArgs(cidr=cidr))],
                    ports=[np.NetworkPolicyPortArgs(protocol=tcp, port=port)],
                )
            )
        k8s.networking.v1.NetworkPolicy(
            self.cname("allow"),
            metadata=meta(f"{args.service}-allow"),
            spec=np.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                policy_types=["Ingress", "Egress"],
                ingress=ingress,
                egress=egress,
            ),
            opts=k8s_opts(),
        )


def _namespace_peer(namespace: str) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    return k8s.networking.v1.NetworkPolicyPeerArgs(
        namespace_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"kubernetes.io/metadata.name": namespace})
    )
