"""A private, encrypted EKS cluster with managed node groups, core add-ons, access entries and a k8s provider."""

from __future__ import annotations

import json
from typing import Literal

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict, Field, model_validator

from components.base import ComponentArgs, Input, PlatformComponent
from components.eks_access import AccessGrant, add_access_grant
from components.kms import KmsKey, KmsKeyArgs

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
# Add-ons that must exist before nodes can become Ready (networking, service proxy, credentials agent).
_BEFORE_NODES = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
_MANAGED = "arn:aws:iam::aws:policy/"


class NodePool(BaseModel):
    """One managed node group. Sizes are validated (`min <= desired <= max`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(..., description="Pool name (suffix of the node group name).")
    pool: Literal["system", "application"] = Field(..., description="`system` pools are tainted CriticalAddonsOnly.")
    instance_types: list[str] = Field(..., min_length=1, description="EC2 instance types.")
    min_size: int = Field(..., ge=0)
    desired_size: int = Field(..., ge=0)
    max_size: int = Field(..., ge=1)
    capacity_type: Literal["ON_DEMAND", "SPOT"] = Field("ON_DEMAND")
    ami_type: str = Field("AL2023_x86_64_STANDARD", description="EKS AMI type.")
    root_volume_gib: int = Field(100, ge=20, description="Encrypted gp3 root volume size.")

    @model_validator(mode="after")
    def _sizes(self) -> NodePool:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(f"node pool {self.name}: need min <= desired <= max")
        return self


class EksClusterArgs(ComponentArgs):
    """Args of `EksCluster`. Defaults: private endpoint only, all log types, secrets envelope-encrypted, API auth."""

    cluster_name: str = Field(..., pattern=r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$", description="EKS cluster name.")
    version: str = Field(..., pattern=r"^1\.\d{2}$", description="Kubernetes version, e.g. 1.33.")
    account_id: Input = Field(..., description="AWS account id (KMS key policy).")
    vpc_id: Input = Field(..., description="VPC of the cluster.")
    subnet_ids: Input = Field(..., description="Private subnets (control-plane ENIs and nodes), >= 2 AZs.")
    public_access_cidrs: list[str] = Field(
        default_factory=list, description="Empty (default): no public endpoint. Never 0.0.0.0/0."
    )
    log_retention_days: int = Field(365, description="Control-plane log group retention.")
    addon_versions: dict[str, str] = Field(..., description="EKS add-on name -> version.")
    node_pools: list[NodePool] = Field(..., min_length=1, description="Managed node groups.")
    metadata_hop_limit: Literal[1, 2] = Field(1, description="IMDSv2 hop limit (1 keeps pods off node creds).")
    access_grants: list[AccessGrant] = Field(default_factory=list, description="Access entries + policies.")
    deletion_protection: bool = Field(True, description="EKS cluster deletion protection.")

    @model_validator(mode="after")
    def _no_open_endpoint(self) -> EksClusterArgs:
        if any(cidr.endswith("/0") for cidr in self.public_access_cidrs):
            raise ValueError("public_access_cidrs must not contain a /0 (the API would be open to the internet)")
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
    `node_group_names`, `node_groups` ({pool name: NodeGroup}), `provider` (kubernetes)."""

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

        # Control-plane role: AmazonEKSClusterPolicy + use of the secrets CMK.
        self.cluster_role = aws.iam.Role(
            self.cname("cluster-role"),
            name=f"{cname}-cluster",
            assume_role_policy=_trust("eks.amazonaws.com", tag_session=True),
            tags=self.tagged(args.tags, f"{cname}-cluster"),
            opts=self.child(),
        )
        cluster_attach = aws.iam.RolePolicyAttachment(
            self.cname("cluster-policy"),
            role=self.cluster_role.name,
            policy_arn=_MANAGED + "AmazonEKSClusterPolicy",
            opts=self.child(),
        )
        kms_policy = aws.iam.RolePolicy(
            self.cname("cluster-kms"),
            role=self.cluster_role.id,
            policy=self.key.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                                "Resource": arn,
                            }
                        ],
                    }
                )
            ),
            opts=self.child(),
        )

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
                # No implicit creator admin: the deploy role gets cluster admin through its own access entry
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
            bootstrap_self_managed_addons=False,
            deletion_protection=args.deletion_protection,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            tags=self.tagged(args.tags, cname),
            opts=self.child(depends_on=[self.log_group, cluster_attach, kms_policy]),
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

        # Node role: join the cluster, pull images, run the VPC CNI; SSM instead of SSH.
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
            for policy in (
                "AmazonEKSWorkerNodePolicy",
                "AmazonEC2ContainerRegistryReadOnly",
                "AmazonEKS_CNI_Policy",
                "AmazonSSMManagedInstanceCore",
            )
        ]

        addons_before = [self._addon(args, addon) for addon in _BEFORE_NODES if addon in args.addon_versions]

        self.node_groups: dict[str, aws.eks.NodeGroup] = {}
        for pool in args.node_pools:
            self.node_groups[pool.name] = self._node_group(args, pool, node_attachments, addons_before)
        self.node_group_names = pulumi.Output.all(*[ng.node_group_name for ng in self.node_groups.values()])

        # EBS CSI controller credentials through EKS Pod Identity.
        self.ebs_csi_role = aws.iam.Role(
            self.cname("ebs-csi-role"),
            name=f"{cname}-ebs-csi",
            assume_role_policy=_trust("pods.eks.amazonaws.com", tag_session=True),
            tags=self.tagged(args.tags, f"{cname}-ebs-csi"),
            opts=self.child(),
        )
        aws.iam.RolePolicyAttachment(
            self.cname("ebs-csi-policy"),
            role=self.ebs_csi_role.name,
            policy_arn=_MANAGED + "service-role/AmazonEBSCSIDriverPolicy",
            opts=self.child(),
        )
        nodes = list(self.node_groups.values())
        self.addons = {addon.addon_name: addon for addon in addons_before}
        for addon in args.addon_versions:
            if addon not in _BEFORE_NODES:
                self.addons[addon] = self._addon(args, addon, depends_on=nodes)

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
            opts=self.child(depends_on=[*nodes, *deploy_access]),
        )

        self.cluster_name = self.cluster.name
        self.endpoint = self.cluster.endpoint
        self.node_security_group_id = self.node_security_group.id
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "endpoint": self.endpoint,
                "nodeSecurityGroupId": self.node_security_group_id,
                "clusterSecurityGroupId": self.cluster_security_group_id,
                "nodeGroupNames": self.node_group_names,
            }
        )

    def _addon(
        self, args: EksClusterArgs, addon: str, depends_on: list[pulumi.Resource] | None = None
    ) -> aws.eks.Addon:
        extra: dict = {}
        if addon == "vpc-cni":
            # Enforce Kubernetes NetworkPolicies with the VPC CNI's network policy agent.
            extra["configuration_values"] = json.dumps({"enableNetworkPolicy": "true"})
        if addon == "aws-ebs-csi-driver":
            extra["pod_identity_associations"] = [
                aws.eks.AddonPodIdentityAssociationArgs(
                    role_arn=self.ebs_csi_role.arn, service_account="ebs-csi-controller-sa"
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
            opts=self.child(depends_on=depends_on or []),
            **extra,
        )

    def _node_group(
        self,
        args: EksClusterArgs,
        pool: NodePool,
        attachments: list[pulumi.Resource],
        addons: list[pulumi.Resource],
    ) -> aws.eks.NodeGroup:
        ng_name = f"{args.cluster_name}-{pool.name}"
        template = aws.ec2.LaunchTemplate(
            self.cname(f"lt-{pool.name}"),
            region=args.region,
            name=ng_name,
            description=f"Nodes of {ng_name}: IMDSv2 only, encrypted root volume, no SSH key",
            update_default_version=True,
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=args.metadata_hop_limit,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        encrypted="true",
                        volume_size=pool.root_volume_gib,
                        volume_type="gp3",
                        delete_on_termination="true",
                    ),
                )
            ],
            # Only the node SG (its rules admit the control plane); EKS adds no SG when the template lists one.
            vpc_security_group_ids=[self.node_security_group.id],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=self.tagged(args.tags, ng_name))
                for kind in ("instance", "volume", "network-interface")
            ],
            tags=self.tagged(args.tags, ng_name),
            opts=self.child(),
        )
        taints = []
        if pool.pool == "system":
            taints = [aws.eks.NodeGroupTaintArgs(key="CriticalAddonsOnly", value="true", effect="NO_SCHEDULE")]
        return aws.eks.NodeGroup(
            self.cname(f"ng-{pool.name}"),
            region=args.region,
            cluster_name=self.cluster.name,
            node_group_name=ng_name,
            node_role_arn=self.node_role.arn,
            subnet_ids=args.subnet_ids,
            version=self.cluster.version,
            ami_type=pool.ami_type,
            capacity_type=pool.capacity_type,
            instance_types=list(pool.instance_types),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=pool.min_size, desired_size=pool.desired_size, max_size=pool.max_size
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable_percentage=33),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            labels={"platform/pool": pool.pool, "platform/node-group": pool.name},
            taints=taints,
            tags=self.tagged(args.tags, ng_name),
            # The cluster autoscaler owns desired size after creation.
            opts=self.child(depends_on=[*attachments, *addons], ignore_changes=["scalingConfig.desiredSize"]),
        )

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
