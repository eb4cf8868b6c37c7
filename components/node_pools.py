"""EKS Auto Mode node pools: one `eks.amazonaws.com/v1` NodeClass + one `karpenter.sh/v1` NodePool per pool.

Auto Mode's node autoscaler (managed Karpenter) launches nodes for pending pods within each NodePool's `limits` and
consolidates them when load drops, at most `disruption_budget` nodes at a time. The NodeClass is where the node
guarantees live: our node security group (the one the data tier admits), the private subnets, the node volume
encrypted with the cluster CMK, tags. IMDSv2 with hop limit 1 and no SSH/SSM access are enforced by Auto Mode itself
and cannot be changed (EKS user guide, "Learn about Amazon EKS Auto Mode managed instances").
"""

from __future__ import annotations

from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict, Field

from components.base import ComponentArgs, Input, PlatformComponent

NODECLASS_API = "eks.amazonaws.com/v1"
NODEPOOL_API = "karpenter.sh/v1"
SYSTEM_TAINT = {"key": "CriticalAddonsOnly", "value": "true", "effect": "NoSchedule"}
POOL_LABEL = "platform/pool"


class AutoModePool(BaseModel):
    """One node pool (validated further by the config model: instance shape, limits)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(..., pattern=r"^[a-z][a-z0-9-]{1,30}$", description="NodeClass/NodePool name (not `default`).")
    pool: Literal["system", "application"] = Field(..., description="`system` pools are tainted CriticalAddonsOnly.")
    instance_types: list[str] = Field(..., min_length=1, description="Allowed EC2 instance types.")
    capacity_types: list[Literal["on-demand", "spot"]] = Field(default_factory=lambda: ["on-demand"], min_length=1)
    cpu_limit: int = Field(..., ge=1, description="NodePool limits.cpu (vCPUs).")
    memory_limit_gib: int = Field(..., ge=1, description="NodePool limits.memory (GiB).")
    ephemeral_storage_gib: int = Field(100, ge=20, description="Node volume size (GiB), encrypted.")
    consolidate_after: str = Field("10m", pattern=r"^[0-9]+(s|m|h)$", description="Consolidation delay.")
    disruption_budget: str = Field("10%", pattern=r"^([0-9]+|[0-9]{1,2}%)$", description="Nodes disrupted at once.")
    expire_after_hours: int = Field(336, ge=24, le=504, description="Node lifetime (Auto Mode maximum 21 days).")


class NodePoolsArgs(ComponentArgs):
    """Args of `NodePools`."""

    pools: list[AutoModePool] = Field(..., min_length=1, description="The pools.")
    node_role_name: Input = Field(..., description="IAM role (name) of the nodes; has an EC2 access entry.")
    subnet_ids: Input = Field(..., description="Private subnets the nodes are placed in.")
    security_group_id: Input = Field(..., description="The node security group (the data tier admits it).")
    kms_key_arn: Input = Field(..., description="CMK encrypting the node volumes.")
    network_policy: bool = Field(True, description="Enable Auto Mode's network policy controller (ConfigMap).")


def node_class_spec(
    pool: AutoModePool, role: str, subnets: list[str], sg: str, key: str, tags: dict[str, str]
) -> dict[str, Any]:
    return {
        "role": role,
        "subnetSelectorTerms": [{"id": subnet} for subnet in subnets],
        "securityGroupSelectorTerms": [{"id": sg}],
        "snatPolicy": "Random",
        # Namespaces without policies (kube-system, amazon-cloudwatch) stay open; every workload namespace has
        # its own default-deny NetworkPolicy.
        "networkPolicy": "DefaultAllow",
        "networkPolicyEventLogs": "Disabled",
        "ephemeralStorage": {
            "size": f"{pool.ephemeral_storage_gib}Gi",
            "iops": 3000,
            "throughput": 125,
            "kmsKeyID": key,
        },
        "tags": dict(tags),
    }


def node_pool_spec(pool: AutoModePool) -> dict[str, Any]:
    template: dict[str, Any] = {
        "nodeClassRef": {"group": "eks.amazonaws.com", "kind": "NodeClass", "name": pool.name},
        "requirements": [
            {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": list(pool.instance_types)},
            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": list(pool.capacity_types)},
        ],
        "expireAfter": f"{pool.expire_after_hours}h",
    }
    if pool.pool == "system":
        template["taints"] = [dict(SYSTEM_TAINT)]
    return {
        "template": {
            "metadata": {"labels": {POOL_LABEL: pool.pool, "platform/node-pool": pool.name}},
            "spec": template,
        },
        "disruption": {
            "consolidationPolicy": "WhenEmptyOrUnderutilized",
            "consolidateAfter": pool.consolidate_after,
            "budgets": [{"nodes": pool.disruption_budget}],
        },
        "limits": {"cpu": str(pool.cpu_limit), "memory": f"{pool.memory_limit_gib}Gi"},
    }


class NodePools(PlatformComponent):
    """Outputs: `names` (NodePool names), `node_pools` ({name: CustomResource}), `node_classes`."""

    def __init__(
        self, name: str, args: NodePoolsArgs, provider: k8s.Provider, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("platform:compute:NodePools", name, opts)

        def k8s_opts(**kwargs: Any) -> pulumi.ResourceOptions:
            return self.child(provider=provider, **kwargs)

        dependencies: list[pulumi.Resource] = []
        if args.network_policy:
            # EKS Auto Mode enforces NetworkPolicies only once this ConfigMap enables its controller (EKS user
            # guide, "Use Network Policies with EKS Auto Mode").
            dependencies.append(
                k8s.core.v1.ConfigMap(
                    self.cname("network-policy"),
                    metadata=k8s.meta.v1.ObjectMetaArgs(name="amazon-vpc-cni", namespace="kube-system"),
                    data={"enable-network-policy-controller": "true"},
                    opts=k8s_opts(),
                )
            )
        self.node_classes: dict[str, k8s.apiextensions.CustomResource] = {}
        self.node_pools: dict[str, k8s.apiextensions.CustomResource] = {}
        for pool in args.pools:
            spec = pulumi.Output.all(args.node_role_name, args.subnet_ids, args.security_group_id, args.kms_key_arn)
            node_class = k8s.apiextensions.CustomResource(
                self.cname(f"class-{pool.name}"),
                api_version=NODECLASS_API,
                kind="NodeClass",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=pool.name),
                spec=spec.apply(
                    lambda v, pool=pool: node_class_spec(
                        pool, v[0], list(v[1]), v[2], v[3], self.tagged(args.tags, f"{args.name_prefix}-{pool.name}")
                    )
                ),
                opts=k8s_opts(depends_on=dependencies),
            )
            self.node_classes[pool.name] = node_class
            self.node_pools[pool.name] = k8s.apiextensions.CustomResource(
                self.cname(f"pool-{pool.name}"),
                api_version=NODEPOOL_API,
                kind="NodePool",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=pool.name, labels={POOL_LABEL: pool.pool}),
                spec=node_pool_spec(pool),
                opts=k8s_opts(depends_on=[node_class]),
            )
        self.names = [pool.name for pool in args.pools]
        self.register_outputs({"names": self.names})
