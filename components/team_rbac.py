"""Namespace edit access for people that cannot read Secrets: a ClusterRole like Kubernetes' `edit` minus
`secrets` (and minus exec/attach/port-forward into running pods), bound per namespace to a Kubernetes group that
the EKS access entries carry (`kubernetes_groups`) instead of the managed AmazonEKSEditPolicy, which can read and
write Secrets (https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html: "If the
permissions in the access policies don't meet your needs, create Kubernetes RBAC objects and specify group names
for your access entries").
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, field_validator

from components.base import ComponentArgs, PlatformComponent

GROUP = "platform-edit-no-secrets"
ALL = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]
READ = ["get", "list", "watch"]
# (API groups, resources, verbs). No `secrets`, no `pods/exec`, `pods/attach`, `pods/portforward`, no RBAC objects.
RULES: list[tuple[list[str], list[str], list[str]]] = [
    ([""], ["pods", "services", "configmaps", "persistentvolumeclaims", "replicationcontrollers",
            "replicationcontrollers/scale", "serviceaccounts", "endpoints"], ALL),
    ([""], ["pods/log", "pods/status", "events", "limitranges", "resourcequotas", "namespaces"], READ),
    (["apps"], ["deployments", "deployments/scale", "deployments/rollback", "replicasets", "replicasets/scale",
                "statefulsets", "statefulsets/scale", "daemonsets", "controllerrevisions"], ALL),
    (["batch"], ["jobs", "cronjobs"], ALL),
    (["autoscaling"], ["horizontalpodautoscalers"], ALL),
    (["policy"], ["poddisruptionbudgets"], ALL),
    (["networking.k8s.io"], ["networkpolicies", "ingresses"], ALL),
    (["discovery.k8s.io"], ["endpointslices"], READ),
    (["metrics.k8s.io"], ["pods"], READ),
]  # fmt: skip


class EditWithoutSecretsArgs(ComponentArgs):
    """Args of `EditWithoutSecrets`."""

    namespaces: list[str] = Field(..., min_length=1, description="Namespaces the group may edit.")
    group: str = Field(GROUP, pattern=r"^[a-z0-9:-]{1,63}$", description="Kubernetes group of the access entries.")

    @field_validator("group")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        # EKS rejects access-entry groups with these prefixes.
        if value.startswith(("system:", "eks:", "aws:", "amazon:", "iam:")):
            raise ValueError(f"group '{value}' uses a prefix EKS reserves")
        return value


class EditWithoutSecrets(PlatformComponent):
    """The ClusterRole and one RoleBinding per namespace (a ClusterRole bound by RoleBindings grants nothing outside
    those namespaces). Outputs: `cluster_role_name`."""

    def __init__(
        self,
        name: str,
        args: EditWithoutSecretsArgs,
        provider: k8s.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("platform:compute:EditWithoutSecrets", name, opts)
        labels = {"app.kubernetes.io/part-of": "devtools-platform"}
        role = k8s.rbac.v1.ClusterRole(
            self.cname("role"),
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.group, labels=labels),
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(api_groups=groups, resources=resources, verbs=verbs)
                for groups, resources, verbs in RULES
            ],
            opts=self.child(provider=provider),
        )
        for namespace in sorted(args.namespaces):
            k8s.rbac.v1.RoleBinding(
                self.cname(f"binding-{namespace}"),
                metadata=k8s.meta.v1.ObjectMetaArgs(name=args.group, namespace=namespace, labels=labels),
                role_ref=k8s.rbac.v1.RoleRefArgs(
                    api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=role.metadata.name
                ),
                subjects=[
                    k8s.rbac.v1.SubjectArgs(kind="Group", name=args.group, api_group="rbac.authorization.k8s.io")
                ],
                opts=self.child(provider=provider),
            )
        self.cluster_role_name = role.metadata.name
        self.register_outputs({"clusterRoleName": self.cluster_role_name})
