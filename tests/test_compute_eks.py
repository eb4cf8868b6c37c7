"""Compute tier: EKS cluster, node groups, add-ons, access entries, k8s provider and the regional ALB."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from components.alb import RegionalAlb, RegionalAlbArgs
from components.eks import EksCluster, EksClusterArgs, NodePool
from components.eks_access import AccessGrant
from infra.config.compute import CORE_ADDONS, DEFAULT_ADDON_VERSIONS

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ADDON = "aws:eks/addon:Addon"


def _eks_args(**overrides) -> EksClusterArgs:
    values = dict(
        region="eu-west-1",
        name_prefix="t-prod-euw1",
        tags={"team": "t"},
        cluster_name="t-prod-euw1-eks",
        version="1.33",
        account_id="111122223333",
        vpc_id="vpc-1",
        subnet_ids=["subnet-a", "subnet-b", "subnet-c"],
        log_retention_days=90,
        addon_versions=dict(DEFAULT_ADDON_VERSIONS),
        node_pools=[
            NodePool(
                name="system", pool="system", instance_types=["m6i.large"], min_size=2, desired_size=2, max_size=4
            ),
            NodePool(
                name="app",
                pool="application",
                instance_types=["m6i.4xlarge"],
                min_size=3,
                desired_size=4,
                max_size=30,
                capacity_type="SPOT",
            ),
        ],
        metadata_hop_limit=1,
        access_grants=[
            AccessGrant(
                key="admin-0",
                principal_arn="arn:aws:iam::111122223333:role/admin",
                policy="AmazonEKSClusterAdminPolicy",
            ),
            AccessGrant(
                key="dev-0",
                principal_arn="arn:aws:iam::111122223333:role/dev",
                policy="AmazonEKSViewPolicy",
                namespaces=["claude-api"],
            ),
        ],
    )
    values.update(overrides)
    return EksClusterArgs(**values)


@pytest.fixture(scope="module")
def eks_plan():
    from infra.plan.runner import synthesize

    return synthesize("unit", {}, program=lambda: EksCluster("eks", _eks_args()))


def test_cluster_private_encrypted_logged_api_auth(eks_plan):
    cluster = eks_plan.one(CLUSTER).inputs
    assert cluster["version"] == "1.33"
    assert cluster["region"] == "eu-west-1"
    assert cluster["vpcConfig"]["endpointPrivateAccess"] is True
    assert cluster["vpcConfig"]["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in cluster["vpcConfig"]
    assert cluster["encryptionConfig"]["resources"] == ["secrets"]
    key_arn = cluster["encryptionConfig"]["provider"]["keyArn"]
    assert key_arn.startswith("arn:aws:kms:eu-west-1:")
    assert sorted(cluster["enabledClusterLogTypes"]) == sorted(
        ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    )
    assert cluster["accessConfig"]["authenticationMode"] == "API"
    logs = eks_plan.one("aws:cloudwatch/logGroup:LogGroup").inputs
    assert logs["name"] == "/aws/eks/t-prod-euw1-eks/cluster" and logs["retentionInDays"] == 90
    assert logs["kmsKeyId"].startswith("arn:aws:kms:")


def test_public_endpoint_only_with_cidrs_and_never_open():
    from infra.plan.runner import synthesize

    plan = synthesize("unit", {}, program=lambda: EksCluster("eks", _eks_args(public_access_cidrs=["198.51.100.0/24"])))
    vpc = plan.one(CLUSTER).inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True and vpc["publicAccessCidrs"] == ["198.51.100.0/24"]
    with pytest.raises(ValidationError, match="/0"):
        _eks_args(public_access_cidrs=["0.0.0.0/0"])


def test_launch_templates_imdsv2_encrypted_no_ssh(eks_plan):
    templates = eks_plan.of_type(LAUNCH_TEMPLATE)
    assert len(templates) == 2
    for lt in templates:
        meta = lt.inputs["metadataOptions"]
        assert meta["httpTokens"] == "required" and meta["httpPutResponseHopLimit"] == 1
        ebs = lt.inputs["blockDeviceMappings"][0]["ebs"]
        assert ebs["encrypted"] == "true" and ebs["volumeType"] == "gp3"
        assert "keyName" not in lt.inputs
    node_sg = eks_plan.one("aws:ec2/securityGroup:SecurityGroup", "eks-node-sg")
    assert node_sg.inputs["name"] == "t-prod-euw1-eks-nodes"
    assert all(len(lt.inputs["vpcSecurityGroupIds"]) == 1 for lt in templates)
    assert all(lt.inputs["vpcSecurityGroupIds"][0].startswith("sg-") for lt in templates)


def test_node_groups_sizes_capacity_and_template(eks_plan):
    groups = {ng.inputs["nodeGroupName"]: ng.inputs for ng in eks_plan.of_type(NODE_GROUP)}
    assert set(groups) == {"t-prod-euw1-eks-system", "t-prod-euw1-eks-app"}
    app = groups["t-prod-euw1-eks-app"]
    assert app["scalingConfig"] == {"minSize": 3, "desiredSize": 4, "maxSize": 30}
    assert app["capacityType"] == "SPOT" and app["instanceTypes"] == ["m6i.4xlarge"]
    assert "remoteAccess" not in app
    assert app["launchTemplate"]["id"].startswith("lt-")
    system = groups["t-prod-euw1-eks-system"]
    assert system["taints"] == [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}]


def test_core_addons_with_versions_and_ordering(eks_plan):
    addons = {a.inputs["addonName"]: a for a in eks_plan.of_type(ADDON)}
    assert set(addons) == set(CORE_ADDONS)
    assert all(a.inputs["addonVersion"] == DEFAULT_ADDON_VERSIONS[n] for n, a in addons.items())
    node_groups = {ng.urn for ng in eks_plan.of_type(NODE_GROUP)}
    # CoreDNS and the EBS CSI controller need nodes; the CNI must exist before nodes join.
    assert node_groups <= set(addons["coredns"].dependencies)
    assert addons["vpc-cni"].urn in set(eks_plan.of_type(NODE_GROUP)[0].dependencies)
    assert json.loads(addons["vpc-cni"].inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}
    ebs = addons["aws-ebs-csi-driver"].inputs["podIdentityAssociations"][0]
    assert ebs["serviceAccount"] == "ebs-csi-controller-sa" and ebs["roleArn"].endswith("-ebs-csi")


def test_access_entries_map_policies_and_scopes(eks_plan):
    policies = {
        p.inputs["principalArn"]: p.inputs
        for p in eks_plan.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    }
    admin = policies["arn:aws:iam::111122223333:role/admin"]
    assert admin["policyArn"].endswith("/AmazonEKSClusterAdminPolicy") and admin["accessScope"] == {"type": "cluster"}
    dev = policies["arn:aws:iam::111122223333:role/dev"]
    assert dev["policyArn"].endswith("/AmazonEKSViewPolicy")
    assert dev["accessScope"] == {"type": "namespace", "namespaces": ["claude-api"]}
    assert len(eks_plan.of_type("aws:eks/accessEntry:AccessEntry")) == 2


def test_kubernetes_provider_uses_exec_token(eks_plan):
    provider = eks_plan.one("pulumi:providers:kubernetes")
    raw = provider.inputs["kubeconfig"]
    kubeconfig = json.loads(raw)
    user = kubeconfig["users"][0]["user"]
    assert "token" not in user and "client-key-data" not in user
    assert user["exec"]["command"] == "aws"
    assert user["exec"]["args"][:2] == ["eks", "get-token"] and "eu-west-1" in user["exec"]["args"]
    assert kubeconfig["clusters"][0]["cluster"]["server"].startswith("https://")


def test_node_sg_admits_control_plane_and_itself(eks_plan):
    rules = {r.name: r.inputs for r in eks_plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")}
    assert rules["eks-cluster-from-node"]["fromPort"] == 443
    assert {"eks-node-self", "eks-node-from-cluster"} <= set(rules)


def test_node_pool_sizes_validated():
    with pytest.raises(ValidationError, match="min <= desired <= max"):
        NodePool(name="x", pool="application", instance_types=["m6i.large"], min_size=5, desired_size=2, max_size=4)


# --- ALB -------------------------------------------------------------------------------------------------------


def _alb_args(**overrides) -> RegionalAlbArgs:
    values = dict(
        region="us-east-1",
        name_prefix="t-prod-use1",
        tags={"team": "t"},
        account_id="111122223333",
        vpc_id="vpc-1",
        subnet_ids=["subnet-a", "subnet-b"],
        certificate_arn="arn:aws:acm:us-east-1:111122223333:certificate/abc",
        target_security_group_id="sg-nodes",
        target_port=30080,
        target_autoscaling_group_names=["asg-1", "asg-2"],
    )
    values.update(overrides)
    return RegionalAlbArgs(**values)


@pytest.fixture(scope="module")
def alb_plan():
    from infra.plan.runner import synthesize

    return synthesize("unit", {}, program=lambda: RegionalAlb("alb", _alb_args()))


def test_alb_internet_facing_hardened(alb_plan):
    lb = alb_plan.one("aws:lb/loadBalancer:LoadBalancer").inputs
    assert lb["internal"] is False and lb["loadBalancerType"] == "application"
    assert lb["enableDeletionProtection"] is True and lb["dropInvalidHeaderFields"] is True
    assert lb["accessLogs"]["enabled"] is True
    listener = alb_plan.one("aws:lb/listener:Listener").inputs
    assert listener["protocol"] == "HTTPS" and listener["port"] == 443
    assert listener["sslPolicy"].startswith("ELBSecurityPolicy-TLS13-1-2")
    assert listener["certificateArn"] == "arn:aws:acm:us-east-1:111122223333:certificate/abc"
    tg = alb_plan.one("aws:lb/targetGroup:TargetGroup").inputs
    assert tg["port"] == 30080 and tg["targetType"] == "instance" and tg["healthCheck"]["path"] == "/healthz"
    attachments = alb_plan.of_type("aws:autoscaling/attachment:Attachment")
    assert sorted(a.inputs["autoscalingGroupName"] for a in attachments) == ["asg-1", "asg-2"]


def test_alb_log_bucket_encrypted_private_and_writable_by_elb(alb_plan):
    sse = alb_plan.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    pab = alb_plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(
        pab[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    policy = json.loads(alb_plan.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    allow = policy["Statement"][0]
    assert allow["Principal"] == {"AWS": "arn:aws:iam::127311923021:root"}  # ELB account of us-east-1
    assert allow["Resource"].endswith("/alb/AWSLogs/111122223333/*")
    assert policy["Statement"][1]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_alb_security_groups_https_in_nodeport_out(alb_plan):
    ingress = {r.name: r.inputs for r in alb_plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")}
    assert ingress["alb-sg-https-0"]["fromPort"] == 443 and ingress["alb-sg-https-0"]["toPort"] == 443
    to_nodes = ingress["alb-targets-from-alb"]
    assert to_nodes["securityGroupId"] == "sg-nodes" and to_nodes["fromPort"] == 30080


def test_alb_rejects_weak_tls_policy():
    with pytest.raises(ValidationError, match=r"TLS 1\.2"):
        _alb_args(ssl_policy="ELBSecurityPolicy-2016-08")


# --- The real stacks ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["us-east-1", "eu-west-1"])
def test_stack_cluster_and_node_groups(plans, stack):
    plan = plans[stack]
    cluster = plan.one(CLUSTER).inputs
    assert cluster["encryptionConfig"]["resources"] == ["secrets"]
    assert len(cluster["enabledClusterLogTypes"]) == 5
    assert cluster["vpcConfig"]["endpointPrivateAccess"] is True
    assert cluster["accessConfig"]["authenticationMode"] == "API"
    groups = plan.of_type(NODE_GROUP)
    assert len(groups) >= 2
    assert {g.inputs["labels"]["platform/pool"] for g in groups} == {"system", "application"}
    assert plan.outputs["eksClusterName"] == cluster["name"]
    assert sorted(plan.outputs["eksNodeGroupNames"]) == sorted(g.inputs["nodeGroupName"] for g in groups)
    assert plan.outputs["eksNodeSecurityGroupId"].startswith("sg-")


@pytest.mark.parametrize("stack", ["us-east-1", "eu-west-1"])
def test_stack_seed_roles_mapped_to_access_policies(plans, stack):
    policies = {
        p.inputs["principalArn"].rsplit("/", 1)[-1]: p.inputs
        for p in plans[stack].of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    }
    assert policies["devtools-enterprise-admin"]["accessScope"] == {"type": "cluster"}
    assert policies["devtools-business-unit-admin"]["policyArn"].endswith("/AmazonEKSAdminPolicy")
    assert policies["devtools-developer"]["policyArn"].endswith("/AmazonEKSViewPolicy")
    scoped = policies["devtools-developer"]["accessScope"]
    assert scoped["type"] == "namespace"
    assert sorted(scoped["namespaces"]) == ["analytics", "audit-logging", "claude-api", "user-management"]
    # team leads and senior developers edit without Secrets: a Kubernetes group, no managed edit policy
    entries = {
        e.inputs["principalArn"].rsplit("/", 1)[-1]: e.inputs
        for e in plans[stack].of_type("aws:eks/accessEntry:AccessEntry")
    }
    for role in ("devtools-team-lead", "devtools-senior-developer"):
        assert role not in policies
        assert entries[role]["kubernetesGroups"] == ["platform-edit-no-secrets"]


@pytest.mark.parametrize("stack", ["us-east-1", "eu-west-1"])
def test_stack_every_kubernetes_resource_uses_the_cluster_provider(plans, stack):
    plan = plans[stack]
    provider = plan.one("pulumi:providers:kubernetes")
    k8s = [r for r in plan.resources if r.custom and r.type.startswith("kubernetes:")]
    assert k8s
    assert all(r.provider == provider.urn for r in k8s)


@pytest.mark.parametrize("stack", ["us-east-1", "eu-west-1"])
def test_stack_alb_routes_https_to_the_api_nodeport(plans, stack):
    plan = plans[stack]
    lb = plan.one("aws:lb/loadBalancer:LoadBalancer")
    assert lb.inputs["region"] == stack and lb.inputs["internal"] is False
    assert lb.inputs["enableDeletionProtection"] is True and lb.inputs["dropInvalidHeaderFields"] is True
    listener = plan.one("aws:lb/listener:Listener", "alb-https").inputs
    assert listener["protocol"] == "HTTPS" and listener["certificateArn"].startswith(f"arn:aws:acm:{stack}:")
    api = next(
        s.inputs for s in plan.of_type("kubernetes:core/v1:Service") if s.inputs["metadata"]["name"] == "claude-api"
    )
    assert plan.one("aws:lb/targetGroup:TargetGroup").inputs["port"] == api["spec"]["ports"][0]["nodePort"]
    app_groups = [g for g in plan.of_type(NODE_GROUP) if g.inputs["labels"]["platform/pool"] == "application"]
    assert len(plan.of_type("aws:autoscaling/attachment:Attachment")) == len(app_groups)
    assert plan.outputs["albDnsName"].endswith(f".{stack}.elb.amazonaws.com")
    assert plan.outputs["albZoneId"].startswith("Z") and plan.outputs["albArn"].startswith(
        "arn:aws:elasticloadbalancing:"
    )
