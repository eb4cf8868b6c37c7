"""EKS access entries: one IAM principal mapped to one EKS access policy (the cluster's only authorization path).

The cluster uses `authenticationMode: API`, so every principal that talks to the Kubernetes API needs an access
entry (https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html) with an associated access policy
(ARNs `arn:aws:eks::aws:cluster-access-policy/<name>`, contents in
https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html). Used for the seed's team roles
(stacks/compute.py) and for the CI roles (stacks/deploy.py: preview read-only, deploy cluster admin).
"""

from __future__ import annotations

from typing import Literal

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict, Field, model_validator

ACCESS_POLICY_ARN_PREFIX = "arn:aws:eks::aws:cluster-access-policy/"

AccessPolicyName = Literal[
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSAdminPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSViewPolicy",
    "AmazonEKSAdminViewPolicy",
]


class AccessGrant(BaseModel):
    """An IAM principal mapped to one EKS access policy, cluster-wide or in some namespaces."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(..., pattern=r"^[a-z0-9-]{1,60}$", description="Stable logical-name suffix.")
    principal_arn: str = Field(..., description="IAM role ARN.")
    policy: AccessPolicyName | None = Field(
        ..., description="EKS access policy name; None = Kubernetes RBAC only (via `kubernetes_groups`)."
    )
    namespaces: list[str] | None = Field(None, description="None = cluster scope; else these namespaces.")
    kubernetes_groups: list[str] = Field(
        default_factory=list, description="Kubernetes groups of the entry, bound by RoleBindings (custom RBAC)."
    )
    needed_by_deploy: bool = Field(
        False,
        description="The deploying identity's own grant: the Kubernetes provider waits for it, or the first "
        "Kubernetes object of a new cluster would be refused (401) before the association exists.",
    )

    @model_validator(mode="after")
    def _some_access(self) -> AccessGrant:
        if self.policy is None and not self.kubernetes_groups:
            raise ValueError(f"access grant {self.key}: set an access policy or kubernetes_groups")
        return self

    @property
    def policy_arn(self) -> str | None:
        return ACCESS_POLICY_ARN_PREFIX + self.policy if self.policy else None


def add_access_grant(
    owner: pulumi.ComponentResource,
    logical_prefix: str,
    region: str,
    cluster_name: pulumi.Input[str],
    tags: dict[str, str],
    grant: AccessGrant,
) -> pulumi.Resource:
    """Create the access entry (+ policy association) of `grant` as children of `owner`; returns the last of them
    (what a consumer of the grant must wait for).

    Logical names `<prefix>-access-<key>` / `<prefix>-access-<key>-policy` are a public contract (renames need
    aliases).
    """
    entry = aws.eks.AccessEntry(
        f"{logical_prefix}-access-{grant.key}",
        region=region,
        cluster_name=cluster_name,
        principal_arn=grant.principal_arn,
        type="STANDARD",
        kubernetes_groups=list(grant.kubernetes_groups) or None,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=owner),
    )
    if grant.policy_arn is None:
        return entry
    scope = (
        aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster")
        if grant.namespaces is None
        else aws.eks.AccessPolicyAssociationAccessScopeArgs(type="namespace", namespaces=list(grant.namespaces))
    )
    return aws.eks.AccessPolicyAssociation(
        f"{logical_prefix}-access-{grant.key}-policy",
        region=region,
        cluster_name=cluster_name,
        principal_arn=entry.principal_arn,
        policy_arn=grant.policy_arn,
        access_scope=scope,
        opts=pulumi.ResourceOptions(parent=owner),
    )
