"""Compute tier: EKS Auto Mode cluster, node pools, add-ons, access entries, k8s provider and the regional ALB."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from components.alb import RegionalAlb, RegionalAlbArgs
from components.eks import CLUSTER_POLICIES, METRICS_SERVER_VALUES, EksCluster, EksClusterArgs
from components.eks_access import AccessGrant
from components.node_pools import AutoModePool
from infra.config.compute import CORE_ADDONS, DEFAULT_ADDON_VERSIONS

CLUSTER = "aws:eks/cluster:Cluster"
NODE_CLASS = "kubernetes:eks.amazonaws.com/v1:NodeClass"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
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
            AutoModePool(name="system", pool="system", instance_types=["m6i.large"], cpu_limit=8, memory_limit_gib=32),
            AutoModePool(
                name="app",
                pool="application",
                instance_types=["m6i.4xlarge"],
                capacity_types=["spot", "on-demand"],
                cpu_limit=480,
                memory_limit_gib=1920,
                disruption_budget="2",
            ),
        ],
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


def test_auto_mode_enabled_without_built_in_pools(eks_plan):
    cluster = eks_plan.one(CLUSTER).inputs
    # EKS requires compute, block storage and load balancing to be enabled together for Auto Mode.
    assert cluster["computeConfig"] == {"enabled": True, "nodePools": []}
    assert cluster["storageConfig"] == {"blockStorage": {"enabled": True}}
    assert cluster["kubernetesNetworkConfig"]["elasticLoadBalancing"] == {"enabled": True}
    assert cluster["bootstrapSelfManagedAddons"] is False
    attached = {
        a.inputs["policyArn"].rsplit("/", 1)[-1]
        for a in eks_plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.name.startswith("eks-cluster-")
    }
    assert attached == set(CLUSTER_POLICIES)
    kms = json.loads(eks_plan.one("aws:iam/rolePolicy:RolePolicy", "eks-cluster-kms").inputs["policy"])
    grants = next(st for st in kms["Statement"] if "kms:CreateGrant" in st["Action"])
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    # no managed node groups or launch templates any more: Auto Mode launches every node
    assert not eks_plan.of_type("aws:eks/nodeGroup:NodeGroup")
    assert not eks_plan.of_type("aws:ec2/launchTemplate:LaunchTemplate")


def test_node_classes_keep_the_node_guarantees(eks_plan):
    classes = {c.inputs["metadata"]["name"]: c.inputs["spec"] for c in eks_plan.of_type(NODE_CLASS)}
    assert set(classes) == {"system", "app"}
    node_sg = eks_plan.one("aws:ec2/securityGroup:SecurityGroup", "eks-node-sg")
    assert node_sg.inputs["name"] == "t-prod-euw1-eks-nodes"
    key = eks_plan.one(CLUSTER).inputs["encryptionConfig"]["provider"]["keyArn"]
    role = eks_plan.one("aws:iam/role:Role", "eks-node-role").inputs["name"]
    for spec in classes.values():
        # the data tier admits exactly this SG; volumes encrypted with the cluster CMK; private subnets only
        assert len(spec["securityGroupSelectorTerms"]) == 1
        assert spec["securityGroupSelectorTerms"][0]["id"].startswith("sg-")
        assert spec["ephemeralStorage"]["kmsKeyID"] == key and spec["ephemeralStorage"]["size"] == "100Gi"
        assert spec["subnetSelectorTerms"] == [{"id": s} for s in ("subnet-a", "subnet-b", "subnet-c")]
        assert spec["role"] == role
    # Auto Mode nodes join through an EC2 access entry with the Auto node policy; the node role cannot SSM/SSH
    entry = next(e for e in eks_plan.of_type("aws:eks/accessEntry:AccessEntry") if e.inputs["type"] == "EC2")
    assert entry.name == "eks-access-nodes"
    node_policies = {
        a.inputs["policyArn"].rsplit("/", 1)[-1]
        for a in eks_plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.name.startswith("eks-node-")
    }
    assert node_policies == {"AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryPullOnly"}
    # NetworkPolicies are enforced only once Auto Mode's controller is enabled
    cm = eks_plan.one("kubernetes:core/v1:ConfigMap").inputs
    assert cm["metadata"] == {"name": "amazon-vpc-cni", "namespace": "kube-system"}
    assert cm["data"] == {"enable-network-policy-controller": "true"}


def test_node_pools_limits_disruption_and_system_split(eks_plan):
    pools = {p.inputs["metadata"]["name"]: p.inputs["spec"] for p in eks_plan.of_type(NODE_POOL)}
    app, system = pools["app"], pools["system"]
    assert app["limits"] == {"cpu": "480", "memory": "1920Gi"}
    assert app["disruption"] == {
        "consolidationPolicy": "WhenEmptyOrUnderutilized",
        "consolidateAfter": "10m",
        "budgets": [{"nodes": "2"}],
    }
    req = {r["key"]: r["values"] for r in app["template"]["spec"]["requirements"]}
    assert req == {
        "node.kubernetes.io/instance-type": ["m6i.4xlarge"],
        "karpenter.sh/capacity-type": ["spot", "on-demand"],
    }
    assert app["template"]["spec"]["nodeClassRef"] == {"group": "eks.amazonaws.com", "kind": "NodeClass", "name": "app"}
    assert app["template"]["metadata"]["labels"]["platform/pool"] == "application"
    assert "taints" not in app["template"]["spec"]
    assert system["template"]["spec"]["taints"] == [
        {"key": "CriticalAddonsOnly", "value": "true", "effect": "NoSchedule"}
    ]
    assert system["template"]["metadata"]["labels"]["platform/pool"] == "system"
    assert system["template"]["spec"]["expireAfter"] == "336h"


def test_addons_metrics_server_ha_on_system_pool_and_cloudwatch_with_pod_identity(eks_plan):
    addons = {a.inputs["addonName"]: a for a in eks_plan.of_type(ADDON)}
    assert set(addons) == set(CORE_ADDONS)
    assert all(a.inputs["addonVersion"] == DEFAULT_ADDON_VERSIONS[n] for n, a in addons.items())
    values = json.loads(addons["metrics-server"].inputs["configurationValues"])
    assert values == METRICS_SERVER_VALUES
    assert values["replicas"] == 2 and values["podDisruptionBudget"] == {"enabled": True, "minAvailable": 1}
    assert values["nodeSelector"] == {"platform/pool": "system"}
    assert values["tolerations"][0]["key"] == "CriticalAddonsOnly"
    # pods need nodes: both add-ons wait for the NodePools
    pools = {p.urn for p in eks_plan.of_type(NODE_POOL)}
    component = next(r.urn for r in eks_plan.resources if r.type == "platform:compute:NodePools")
    for addon in addons.values():
        assert component in addon.dependencies or pools <= set(addon.dependencies)
    cw = addons["amazon-cloudwatch-observability"].inputs["podIdentityAssociations"][0]
    assert cw["serviceAccount"] == "cloudwatch-agent" and cw["roleArn"].endswith("-cloudwatch")


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
    assert len(eks_plan.of_type("aws:eks/accessEntry:AccessEntry")) == 3  # two people + the nodes


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


def test_node_pools_must_be_one_system_and_one_application():
    pool = AutoModePool(name="ax", pool="application", instance_types=["m6i.large"], cpu_limit=8, memory_limit_gib=32)
    with pytest.raises(ValidationError, match="exactly one `system` and one `application`"):
        _eks_args(node_pools=[pool, pool.model_copy(update={"name": "ay"})])


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
        target_port=8080,
        deregistration_delay_seconds=45,
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
    # pod IPs (any node the autoscaler launches), health-checked on the pods' own port
    assert tg["port"] == 8080 and tg["targetType"] == "ip" and tg["ipAddressType"] == "ipv4"
    assert tg["healthCheck"]["path"] == "/healthz" and tg["healthCheck"]["port"] == "traffic-port"
    assert tg["deregistrationDelay"] == 45
    assert not alb_plan.of_type("aws:autoscaling/attachment:Attachment")


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


def test_alb_security_groups_https_in_pod_port_out(alb_plan):
    ingress = {r.name: r.inputs for r in alb_plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")}
    assert ingress["alb-sg-https-0"]["fromPort"] == 443 and ingress["alb-sg-https-0"]["toPort"] == 443
    to_nodes = ingress["alb-targets-from-alb"]
    assert to_nodes["securityGroupId"] == "sg-nodes" and to_nodes["fromPort"] == to_nodes["toPort"] == 8080


def test_alb_rejects_weak_tls_policy():
    with pytest.raises(ValidationError, match=r"TLS 1\.2"):
        _alb_args(ssl_policy="ELBSecurityPolicy-2016-08")


# --- The real stacks ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["us-east-1", "eu-west-1"])
def test_stack_cluster_and_node_pools(plans, stack):
    plan = plans[stack]
    cluster = plan.one(CLUSTER).inputs
    assert cluster["encryptionConfig"]["resources"] == ["secrets"]
    assert len(cluster["enabledClusterLogTypes"]) == 5
    assert cluster["vpcConfig"]["endpointPrivateAccess"] is True
    assert cluster["accessConfig"]["authenticationMode"] == "API"
    assert cluster["computeConfig"]["enabled"] is True
    pools = plan.of_type(NODE_POOL)
    assert {p.inputs["spec"]["template"]["metadata"]["labels"]["platform/pool"] for p in pools} == {
        "system",
        "application",
    }
    assert plan.outputs["eksClusterName"] == cluster["name"]
    assert sorted(plan.outputs["eksNodePoolNames"]) == sorted(p.inputs["metadata"]["name"] for p in pools)
    # every node of every pool carries the SG the data tier admits
    node_sg = plan.outputs["eksNodeSecurityGroupId"]
    assert node_sg.startswith("sg-")
    for node_class in plan.of_type(NODE_CLASS):
        assert node_class.inputs["spec"]["securityGroupSelectorTerms"] == [{"id": node_sg}]
    assert not plan.of_type("aws:eks/nodeGroup:NodeGroup")


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
def test_stack_alb_routes_https_to_the_api_pods(plans, stack):
    plan = plans[stack]
    lb = plan.one("aws:lb/loadBalancer:LoadBalancer")
    assert lb.inputs["region"] == stack and lb.inputs["internal"] is False
    assert lb.inputs["enableDeletionProtection"] is True and lb.inputs["dropInvalidHeaderFields"] is True
    listener = plan.one("aws:lb/listener:Listener", "alb-https").inputs
    assert listener["protocol"] == "HTTPS" and listener["certificateArn"].startswith(f"arn:aws:acm:{stack}:")
    tg = plan.one("aws:lb/targetGroup:TargetGroup")
    api = next(
        d.inputs for d in plan.of_type("kubernetes:apps/v1:Deployment") if d.inputs["metadata"]["name"] == "claude-api"
    )
    port = api["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
    assert tg.inputs["targetType"] == "ip" and tg.inputs["port"] == port
    # the binding that registers every API pod, whichever node Auto Mode put it on
    binding = plan.one("kubernetes:eks.amazonaws.com/v1:TargetGroupBinding").inputs
    assert binding["metadata"]["namespace"] == "claude-api"
    assert set(binding["spec"]) == {"serviceRef", "targetGroupARN", "targetType"}  # no `networking`: SGs in Pulumi
    assert binding["spec"]["serviceRef"] == {"name": "claude-api", "port": 80} and binding["spec"]["targetType"] == "ip"
    assert binding["spec"]["targetGroupARN"].startswith(f"arn:aws:elasticloadbalancing:{stack}:")
    assert ":targetgroup/" + tg.inputs["name"] + "/" in binding["spec"]["targetGroupARN"]
    # the ALB reaches the pods' port on the node SG (pods use their node's ENIs)
    rule = plan.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "alb-targets-from-alb").inputs
    assert rule["securityGroupId"] == plan.outputs["eksNodeSecurityGroupId"] and rule["fromPort"] == port
    assert not plan.of_type("aws:autoscaling/attachment:Attachment")
    assert plan.outputs["albDnsName"].endswith(f".{stack}.elb.amazonaws.com")
    assert plan.outputs["albZoneId"].startswith("Z") and plan.outputs["albArn"].startswith(
        "arn:aws:elasticloadbalancing:"
    )
