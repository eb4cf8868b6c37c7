"""A private, encrypted EKS Auto Mode cluster: node pools, add-ons, access entries and a kubernetes provider."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pydantic import Field, model_validator

from components.base import ComponentArgs, Input, PlatformComponent
from components.eks_access import AccessGrant, add_access_grant
from components.kms import KmsKey, KmsKeyArgs
from components.node_pools import AutoModePool, NodePools, NodePoolsArgs

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
_MANAGED = "arn:aws:iam::aws:policy/"
_ACCESS_POLICY = "arn:aws:eks::aws:cluster-access-policy/"
# EKS Auto Mode: the cluster role runs compute, block storage, load balancing and networking for the cluster
# (EKS user guide, "Cluster IAM role" for Auto Mode); the node role only joins and pulls images.
CLUSTER_POLICIES = (
    "AmazonEKSClusterPolicy",
    "AmazonEKSComputePolicy",
    "AmazonEKSBlockStoragePolicy",
    "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingPolicy",
)
NODE_POLICIES = ("AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryPullOnly")
# Add-ons whose pods run on the system pool and therefore wait for the NodePools.
CLOUDWATCH_ADDON = "amazon-cloudwatch-observability"
CLOUDWATCH_SA = ("amazon-cloudwatch", "cloudwatch-agent")


class EksClusterArgs(ComponentArgs):
    """Args of `EksCluster`. Defaults: private endpoint only, all log types, secrets envelope-encrypted, API auth,
    EKS Auto Mode with our own node pools (no built-in pools)."""

    cluster_name: str = Field(..., pattern=r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$", description="EKS cluster name.")
    version: str = Field(..., pattern=r"^1\.\d{2}$", description="Kubernetes version, e.g. 1.33.")
    account_id: Input = Field(..., description="AWS account id (KMS key policy).")
    vpc_id: Input = Field(..., description="VPC of the cluster.")
    subnet_ids: Input = Field(..., description="Private subnets (control-plane ENIs and nodes), >= 2 AZs.")
    public_access_cidrs: list[str] = Field(
        default_factory=list, description="Empty (default): no public endpoint. Never 0.0.0.0/0."
    )
    log_retention_days: int = Field(365, description="Control-plane log group retention.")
    addon_versions: dict[str, str] = Field(..., description="EKS add-on name -> version (metrics-server, ...).")
    node_pools: list[AutoModePool] = Field(..., min_length=2, description="Auto Mode node pools (system + app).")
    access_grants: list[AccessGrant] = Field(default_factory=list, description="Access entries + policies.")
    deletion_protection: bool = Field(True, description="EKS cluster deletion protection.")

    @model_validator(mode="after")
    def _no_open_endpoint(self) -> EksClusterArgs:
        if any(cidr.endswith("/0") for cidr in self.public_access_cidrs):
            raise ValueError("public_access_cidrs must not contain a /0 (the API would be open to the internet)")
        if sorted(p.pool for p in self.node_pools) != ["application", "system"]:
            raise ValueError("node_pools must be exactly one `system` and one `application` pool")
        return self


def _trust(service: str, tag_session: bool = False) -> str:
    actions = ["sts:AssumeRole", "sts:TagSession"] if tag_session else ["sts:AssumeRole"]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": actions}],
        }
    )


class EksCluster(PlatformComponent):
    """Outputs: `cluster_name`, `endpoint`, `node_security_group_id`, `cluster_security_group_id`,
    `node_pools` (NodePools: NodeClass + NodePool per pool), `addons`, `provider` (kubernetes)."""

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:compute:EksCluster", name, opts)
        cname = args.cluster_name
        region = args.region
        self.key = KmsKey(
            self.cname("kms"),
            KmsKeyArgs(
                region=region,
                name_prefix=args.name_prefix,
                tags=args.tags,
                purpose="eks",
                account_id=args.account_id,
                service_principals=[f"logs.{region}.amazonaws.com"],
            ),
            opts=self.child(),
        )
        self.log_group = aws.cloudwatch.LogGroup(
            self.cname("logs"),
            region=region,
            name=f"/aws/eks/{cname}/cluster",
            retention_in_days=args.log_retention_days,
            kms_key_id=self.key.arn,
            tags=self.tagged(args.tags, f"/aws/eks/{cname}/cluster"),
            opts=self.child(),
        )

        # Cluster role: the Auto Mode policies + use of the CMK (secrets envelope encryption and, through grants for
        # AWS resources, the nodes' encrypted EBS volumes; EKS user guide "EBS encryption with a customer managed key
        # for Auto Mode"). The key policy delegates to IAM (root statement), so the role policy is enough.
        self.cluster_role = aws.iam.Role(
            self.cname("cluster-role"),
            name=f"{cname}-cluster",
            assume_role_policy=_trust("eks.amazonaws.com", tag_session=True),
            tags=self.tagged(args.tags, f"{cname}-cluster"),
            opts=self.child(),
        )
        cluster_attachments: list[pulumi.Resource] = [
            aws.iam.RolePolicyAttachment(
                self.cname("cluster-policy" if policy == "AmazonEKSClusterPolicy" else f"cluster-{policy.lower()}"),
                role=self.cluster_role.name,
                policy_arn=_MANAGED + policy,
                opts=self.child(),
            )
            for policy in CLUSTER_POLICIES
        ]
        cluster_attachments.append(
            aws.iam.RolePolicy(
                self.cname("cluster-kms"),
                role=self.cluster_role.id,
                policy=self.key.arn.apply(lambda arn: json.dumps(_cluster_kms_policy(arn))),
                opts=self.child(),
            )
        )

        # Node role (Auto Mode nodes join with an EC2 access entry + AmazonEKSAutoNodePolicy); no SSM, no SSH:
        # Auto Mode instances cannot be logged into at all.
        self.node_role = aws.iam.Role(
            self.cname("node-role"),
            name=f"{cname}-node",
            assume_role_policy=_trust("ec2.amazonaws.com"),
            tags=self.tagged(args.tags, f"{cname}-node"),
            opts=self.child(),
        )
        node_attachments = [
            aws.iam.RolePolicyAttachment(
                self.cname(f"node-{policy.lower()}"),
                role=self.node_role.name,
                policy_arn=_MANAGED + policy,
                opts=self.child(),
            )
            for policy in NODE_POLICIES
        ]

        # Our own control-plane SG (attached to the control-plane ENIs next to the EKS-created cluster SG) and node
        # SG, so that every rule is in code and under the mock runtime nothing depends on AWS-computed SG ids.
        cp_sg_name = f"{cname}-control-plane"
        self.control_plane_security_group = aws.ec2.SecurityGroup(
            self.cname("cp-sg"),
            region=region,
            name=cp_sg_name,
            description=f"EKS control plane ENIs of {cname}",
            vpc_id=args.vpc_id,
            tags=self.tagged(args.tags, cp_sg_name),
            opts=self.child(),
        )
        public = bool(args.public_access_cidrs)
        self.cluster = aws.eks.Cluster(
            self.cname("cluster"),
            region=region,
            name=cname,
            version=args.version,
            role_arn=self.cluster_role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=args.subnet_ids,
                endpoint_private_access=True,
                endpoint_public_access=public,
                public_access_cidrs=list(args.public_access_cidrs) if public else None,
                security_group_ids=[self.control_plane_security_group.id],
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                # No implicit creator admin: the deploy role gets an explicit access entry instead
                # (platform:deploy.deployRoleArn). With both, EKS already holds an entry for that principal and
                # CreateAccessEntry fails with 409 ResourceInUseException (pulumi/pulumi-eks#2373,
                # aws/eks-distro#2805); an explicit entry is also what auditors can read.
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=self.key.arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=list(LOG_TYPES),
            # EKS Auto Mode. The three capabilities must be enabled together (EKS API CreateCluster); no built-in
            # node pools (our NodePools carry the node SG, the CMK and the limits), hence no nodeRoleArn here.
            compute_config=aws.eks.ClusterComputeConfigArgs(enabled=True, node_pools=[]),
            storage_config=aws.eks.ClusterStorageConfigArgs(
                block_storage=aws.eks.ClusterStorageConfigBlockStorageArgs(enabled=True)
            ),
            kubernetes_network_config=aws.eks.ClusterKubernetesNetworkConfigArgs(
                elastic_load_balancing=aws.eks.ClusterKubernetesNetworkConfigElasticLoadBalancingArgs(enabled=True)
            ),
            # Auto Mode requires it off: the networking components are part of the nodes, not self-managed.
            bootstrap_self_managed_addons=False,
            deletion_protection=args.deletion_protection,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            tags=self.tagged(args.tags, cname),
            opts=self.child(depends_on=[self.log_group, *cluster_attachments]),
        )
        self.cluster_security_group_id = self.control_plane_security_group.id

        # Node security group (exported for the data tier): nodes <-> nodes, control plane <-> nodes.
        node_sg_name = f"{cname}-nodes"
        self.node_security_group = aws.ec2.SecurityGroup(
            self.cname("node-sg"),
            region=region,
            name=node_sg_name,
            description=f"EKS worker nodes of {cname}",
            vpc_id=args.vpc_id,
            tags=self.tagged(args.tags, node_sg_name),
            opts=self.child(),
        )
        sg_id = self.node_security_group.id
        aws.vpc.SecurityGroupIngressRule(
            self.cname("node-self"),
            region=region,
            security_group_id=sg_id,
            referenced_security_group_id=sg_id,
            ip_protocol="-1",
            description="Node to node (pods, DNS, kubelet)",
            tags=self.tagged(args.tags, f"{node_sg_name}-self"),
            opts=self.child(),
        )
        aws.vpc.SecurityGroupIngressRule(
            self.cname("node-from-cluster"),
            region=region,
            security_group_id=sg_id,
            referenced_security_group_id=self.cluster_security_group_id,
            ip_protocol="-1",
            description="Control plane to kubelet and webhooks",
            tags=self.tagged(args.tags, f"{node_sg_name}-from-cluster"),
            opts=self.child(),
        )
        aws.vpc.SecurityGroupIngressRule(
            self.cname("cluster-from-node"),
            region=region,
            security_group_id=self.cluster_security_group_id,
            referenced_security_group_id=sg_id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="Nodes to the Kubernetes API",
            tags=self.tagged(args.tags, f"{cname}-cluster-from-nodes"),
            opts=self.child(),
        )
        aws.vpc.SecurityGroupEgressRule(
            self.cname("cluster-to-node"),
            region=region,
            security_group_id=self.cluster_security_group_id,
            referenced_security_group_id=sg_id,
            ip_protocol="-1",
            description="Control plane to kubelet (10250) and admission webhooks",
            tags=self.tagged(args.tags, f"{cname}-cluster-to-nodes"),
            opts=self.child(),
        )
        aws.vpc.SecurityGroupEgressRule(
            self.cname("node-egress"),
            region=region,
            security_group_id=sg_id,
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            description="Nodes to AWS APIs, image registries and the data tier (via NAT / endpoints)",
            tags=self.tagged(args.tags, f"{node_sg_name}-egress"),
            opts=self.child(),
        )

        # Nodes of our NodeClasses join through an EC2 access entry for the node role (EKS creates one only for the
        # built-in pools' role, which we do not use).
        node_entry = aws.eks.AccessEntry(
            self.cname("access-nodes"),
            region=region,
            cluster_name=self.cluster.name,
            principal_arn=self.node_role.arn,
            type="EC2",
            tags=self.tagged(args.tags, f"{cname}-nodes"),
            opts=self.child(depends_on=node_attachments),
        )
        node_access = aws.eks.AccessPolicyAssociation(
            self.cname("access-nodes-policy"),
            region=region,
            cluster_name=self.cluster.name,
            principal_arn=node_entry.principal_arn,
            policy_arn=_ACCESS_POLICY + "AmazonEKSAutoNodePolicy",
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            opts=self.child(),
        )

        # Access entries (components/eks_access.py); the k8s provider waits for the deploying identity's own.
        deploy_access = []
        for grant in args.access_grants:
            tags = self.tagged(args.tags, f"{cname}-{grant.key}")
            association = add_access_grant(self, self._name, region, self.cluster.name, tags, grant)
            if grant.needed_by_deploy:
                deploy_access.append(association)

        self.provider = k8s.Provider(
            self.cname("k8s"),
            kubeconfig=pulumi.Output.all(
                self.cluster.endpoint, self.cluster.certificate_authority.data, self.cluster.name
            ).apply(lambda parts: _kubeconfig(parts[0], parts[1], parts[2], region)),
            enable_server_side_apply=True,
            delete_unreachable=False,
            opts=self.child(depends_on=[self.cluster, *deploy_access]),
        )
        self.node_pools = NodePools(
            self.cname("pools"),
            NodePoolsArgs(
                region=region,
                name_prefix=args.name_prefix,
                tags=args.tags,
                pools=list(args.node_pools),
                node_role_name=self.node_role.name,
                subnet_ids=args.subnet_ids,
                security_group_id=self.node_security_group.id,
                kms_key_arn=self.key.arn,
            ),
            provider=self.provider,
            opts=self.child(depends_on=[node_access]),
        )
        # Add-ons with pods wait for the NodePools (nothing can schedule before).
        self.addons = {
            addon: self._addon(args, addon, depends_on=[self.node_pools]) for addon in sorted(args.addon_versions)
        }

        self.cluster_name = self.cluster.name
        self.endpoint = self.cluster.endpoint
        self.node_security_group_id = self.node_security_group.id
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "endpoint": self.endpoint,
                "nodeSecurityGroupId": self.node_security_group_id,
                "clusterSecurityGroupId": self.cluster_security_group_id,
                "nodePoolNames": self.node_pools.names,
            }
        )

    def _addon(self, args: EksClusterArgs, addon: str, depends_on: list[pulumi.Resource]) -> aws.eks.Addon:
        extra: dict = {}
        if addon == "metrics-server":
            # The HPAs' resource metrics: 2 replicas on different system nodes, a PDB, tolerating the system pool's
            # taint (values of the upstream chart, which the community add-on packages).
            extra["configuration_values"] = json.dumps(METRICS_SERVER_VALUES)
        if addon == CLOUDWATCH_ADDON:
            self.cloudwatch_role = aws.iam.Role(
                self.cname("cloudwatch-role"),
                name=f"{args.cluster_name}-cloudwatch"[:64],
                assume_role_policy=_trust("pods.eks.amazonaws.com", tag_session=True),
                tags=self.tagged(args.tags, f"{args.cluster_name}-cloudwatch"),
                opts=self.child(),
            )
            aws.iam.RolePolicyAttachment(
                self.cname("cloudwatch-policy"),
                role=self.cloudwatch_role.name,
                policy_arn=_MANAGED + "CloudWatchAgentServerPolicy",
                opts=self.child(),
            )
            extra["pod_identity_associations"] = [
                aws.eks.AddonPodIdentityAssociationArgs(
                    role_arn=self.cloudwatch_role.arn, service_account=CLOUDWATCH_SA[1]
                )
            ]
        return aws.eks.Addon(
            self.cname(f"addon-{addon}"),
            region=args.region,
            cluster_name=self.cluster.name,
            addon_name=addon,
            addon_version=args.addon_versions[addon],
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="PRESERVE",
            tags=self.tagged(args.tags, f"{args.cluster_name}-{addon}"),
            opts=self.child(depends_on=depends_on),
            **extra,
        )


METRICS_SERVER_VALUES = {
    "replicas": 2,
    "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
    "nodeSelector": {"platform/pool": "system"},
    "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"}],
    "topologySpreadConstraints": [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "metrics-server"}},
        }
    ],
}


def _cluster_kms_policy(key_arn: str) -> dict:
    use = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": use, "Resource": key_arn},
            {
                "Effect": "Allow",
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": key_arn,
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
        ],
    }


def _kubeconfig(endpoint: str, ca_data: str, cluster_name: str, region: str) -> str:
    """A kubeconfig that authenticates with `aws eks get-token` (short-lived tokens, no static credentials)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}
            ],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        }
    )
