"""EKS, load balancer and EC2/VPC rules."""

from __future__ import annotations

from .engine import Resource, depends_on, get, is_true, items, of_type, resource_rule, stack_rule

EKS_CLUSTER = "aws:eks/cluster:Cluster"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
ALB_TYPES = (LOAD_BALANCER, "aws:alb/loadBalancer:LoadBalancer")
LISTENER_TYPES = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
WAF_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
SUBNET = "aws:ec2/subnet:Subnet"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"
NACL_RULE = "aws:ec2/networkAclRule:NetworkAclRule"
NACL = "aws:ec2/networkAcl:NetworkAcl"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
CODEBUILD_PROJECT = "aws:codebuild/project:Project"
NODE_CLASS = "kubernetes:eks.amazonaws.com/v1:NodeClass"

# Oldest Kubernetes minor version in EKS standard support (update when AWS ends standard support for it).
EKS_MIN_SUPPORTED_VERSION = (1, 31)
# ELB security policies that allow only TLS 1.2+ with forward-secret ciphers (AWS "recommended" set).
RECOMMENDED_SSL_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
)
# Interface endpoints the nodes need so that image pulls and EC2 API calls stay inside the VPC.
REQUIRED_ENDPOINT_SUFFIXES = {"ec2": "EC2.10", "ecr.api": "EC2.55", "ecr.dkr": "EC2.56"}


# --- EKS ---------------------------------------------------------------------------------------------------------


@resource_rule(
    "eks-private-endpoint",
    types=[EKS_CLUSTER],
    enforcement="advisory",
    controls=["EKS.1"],
    description="The EKS API endpoint is private only.",
    reason="The cluster API is reached through the VPC; advisory because platform:compute.publicAccessCidrs may "
    "deliberately open it to a few CIDRs (eks-no-open-endpoint forbids 0.0.0.0/0).",
)
def eks_private_endpoint(res: Resource):
    if get(res.props, "vpcConfig.endpointPublicAccess", True) is not False:
        yield "vpcConfig.endpointPublicAccess is not false: make the API endpoint private"
    if get(res.props, "vpcConfig.endpointPrivateAccess") is not True:
        yield "vpcConfig.endpointPrivateAccess is not true"


@resource_rule(
    "eks-no-open-endpoint",
    types=[EKS_CLUSTER],
    enforcement="mandatory",
    controls=["EKS.1"],
    description="A public EKS API endpoint, if any, is limited to named CIDRs (never 0.0.0.0/0).",
    reason="An endpoint open to the internet invites credential stuffing against the cluster API.",
)
def eks_no_open_endpoint(res: Resource):
    if get(res.props, "vpcConfig.endpointPublicAccess", True) is False:
        return
    cidrs = items(res.props, "vpcConfig.publicAccessCidrs") or ["0.0.0.0/0"]
    if "0.0.0.0/0" in cidrs:
        yield "the public API endpoint is open to 0.0.0.0/0: set publicAccessCidrs or disable public access"


def _admits_https(rule: Resource) -> bool:
    protocol = str(get(rule.props, "ipProtocol", ""))
    if protocol == "-1":
        return True
    return protocol == "tcp" and get(rule.props, "fromPort", 0) <= 443 <= get(rule.props, "toPort", -1)


@stack_rule(
    "eks-api-reachable-by-deploy",
    types=[EKS_CLUSTER],
    enforcement="mandatory",
    description="A private EKS API admits, on 443, a deploy runner inside the cluster's subnets (CodeBuild runner "
    "of platform:deploy) or the declared self-hosted runners' security group.",
    reason="Previews and deploys of Kubernetes objects talk to the API from the runner; a private endpoint without "
    "a runner in its VPC makes the first `up` time out and every later preview fail (docs/ci.md).",
)
def eks_api_reachable_by_deploy(resources: list[Resource]):
    by_urn = {r.urn: r for r in resources if r.urn}
    projects = list(of_type(resources, CODEBUILD_PROJECT))
    ingress = [r for r in of_type(resources, SG_INGRESS) if _admits_https(r)]
    for cluster in of_type(resources, EKS_CLUSTER):
        if get(cluster.props, "vpcConfig.endpointPublicAccess", True) is not False:
            continue  # public endpoint: `infra check` holds platform:deploy.runnerCidrs inside publicAccessCidrs
        deps = set(cluster.dependencies)
        control_plane = {u for u in deps if u in by_urn and by_urn[u].type == SECURITY_GROUP}
        subnets = {u for u in deps if u in by_urn and by_urn[u].type == SUBNET}
        runner_sgs = {
            u
            for project in projects
            if get(project.props, "vpcConfig") and subnets & set(project.dependencies)
            for u in project.dependencies
            if u in by_urn and by_urn[u].type == SECURITY_GROUP
        }
        doors = [
            rule
            for rule in ingress
            if control_plane & set(rule.dependencies)
            and (
                runner_sgs & set(rule.dependencies)
                or (
                    get(rule.props, "tags.platform:deploy-runner") == "self-hosted"
                    and get(rule.props, "referencedSecurityGroupId")
                )
            )
        ]
        if not doors:
            yield (
                cluster,
                "the API endpoint is private but no deploy runner in the cluster's subnets is admitted on 443: set "
                "platform:deploy.runner (codebuild, or self-hosted with its security group)",
            )


def _version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in str(text).split(".")[:2])
    except ValueError:
        return ()


@resource_rule(
    "eks-supported-version",
    types=[EKS_CLUSTER],
    enforcement="advisory",
    controls=["EKS.2"],
    description="EKS runs a Kubernetes version in standard support (>= EKS_MIN_SUPPORTED_VERSION, now 1.31).",
    reason="Extended support costs 6x and delays security fixes; advisory because upgrades are planned changes.",
)
def eks_supported_version(res: Resource):
    version = get(res.props, "version")
    if version is None:
        return  # EKS picks its current default version
    if _version(version) < EKS_MIN_SUPPORTED_VERSION:
        yield f"Kubernetes version {version} is out of standard support: upgrade"


@resource_rule(
    "eks-secrets-encryption",
    types=[EKS_CLUSTER],
    enforcement="mandatory",
    controls=["EKS.3"],
    description="EKS encrypts Kubernetes secrets with a KMS key (envelope encryption).",
    reason="Database and Redis credentials are stored as Kubernetes secrets.",
)
def eks_secrets_encryption(res: Resource):
    resources = items(res.props, "encryptionConfig.resources")
    if "secrets" not in resources or not get(res.props, "encryptionConfig.provider.keyArn"):
        yield "encryptionConfig does not encrypt 'secrets' with a KMS key"


@resource_rule(
    "eks-audit-logging",
    types=[EKS_CLUSTER],
    enforcement="mandatory",
    controls=["EKS.8"],
    description="EKS sends control-plane audit logs to CloudWatch.",
    reason="Who changed what in the cluster must be traceable.",
)
def eks_audit_logging(res: Resource):
    if "audit" not in items(res.props, "enabledClusterLogTypes"):
        yield "enabledClusterLogTypes does not include 'audit'"


@resource_rule(
    "eks-node-class-hardened",
    types=[NODE_CLASS],
    enforcement="mandatory",
    controls=["EC2.3"],
    description="EKS Auto Mode NodeClasses encrypt the node volume with a customer managed key and name their "
    "security groups and subnets explicitly (by id).",
    reason="Auto Mode enforces IMDSv2 (hop limit 1) and no SSH itself; what remains ours is the volume key and that "
    "nodes carry exactly the security group the data tier admits, in the private subnets.",
)
def eks_node_class_hardened(res: Resource):
    if not get(res.props, "spec.ephemeralStorage.kmsKeyID"):
        yield "spec.ephemeralStorage.kmsKeyID is not set (node volumes would use the AWS managed key)"
    for key in ("securityGroupSelectorTerms", "subnetSelectorTerms"):
        terms = items(res.props, f"spec.{key}")
        if not terms or any(not get(term, "id") for term in terms):
            yield f"spec.{key} does not select by id (tag/name selectors can pick up other groups or subnets)"


# --- Load balancers ----------------------------------------------------------------------------------------------


def _is_application(res: Resource) -> bool:
    return get(res.props, "loadBalancerType", "application") == "application"


@resource_rule(
    "alb-drop-invalid-headers",
    types=ALB_TYPES,
    enforcement="mandatory",
    controls=["ELB.4"],
    description="Application load balancers drop invalid HTTP header fields.",
    reason="Protects the services behind the ALB from header smuggling.",
)
def alb_drop_invalid_headers(res: Resource):
    if _is_application(res) and get(res.props, "dropInvalidHeaderFields") is not True:
        yield "dropInvalidHeaderFields is not true"


@resource_rule(
    "alb-access-logs",
    types=ALB_TYPES,
    enforcement="mandatory",
    controls=["ELB.5"],
    description="Load balancer access logging is enabled.",
    reason="Needed to investigate incidents and for the traffic-shift evidence in DR drills.",
)
def alb_access_logs(res: Resource):
    if get(res.props, "accessLogs.enabled") is not True or not get(res.props, "accessLogs.bucket"):
        yield "accessLogs is not enabled with a bucket"


@resource_rule(
    "alb-deletion-protection",
    types=ALB_TYPES,
    enforcement="mandatory",
    controls=["ELB.6"],
    description="Load balancers have deletion protection.",
    reason="Deleting the ALB changes its DNS name and takes the region out of rotation.",
)
def alb_deletion_protection(res: Resource):
    if get(res.props, "enableDeletionProtection") is not True:
        yield "enableDeletionProtection is not true"


@resource_rule(
    "alb-desync-mitigation",
    types=ALB_TYPES,
    enforcement="mandatory",
    controls=["ELB.12"],
    description="Application load balancers use defensive or strictest desync mitigation.",
    reason="Mitigates HTTP request smuggling.",
)
def alb_desync_mitigation(res: Resource):
    mode = get(res.props, "desyncMitigationMode", "defensive")
    if _is_application(res) and mode not in ("defensive", "strictest"):
        yield f"desyncMitigationMode is '{mode}', use 'defensive' or 'strictest'"


@resource_rule(
    "alb-multi-az",
    types=ALB_TYPES,
    enforcement="mandatory",
    controls=["ELB.13"],
    description="Load balancers span at least two Availability Zones.",
    reason="An AZ outage must not take the region down.",
)
def alb_multi_az(res: Resource):
    subnets = items(res.props, "subnets") or items(res.props, "subnetMappings")
    if len(subnets) < 2:
        yield f"load balancer is in {len(subnets)} subnet(s): use at least two Availability Zones"


@resource_rule(
    "alb-listener-tls",
    types=LISTENER_TYPES,
    enforcement="mandatory",
    controls=["ELB.1", "ELB.17"],
    description="HTTPS listeners use a recommended TLS 1.2+ security policy; HTTP listeners only redirect to HTTPS.",
    reason="Clients and CloudFront reach the ALB over the internet.",
)
def alb_listener_tls(res: Resource):
    protocol = get(res.props, "protocol", "HTTP")
    if protocol in ("HTTPS", "TLS"):
        policy = get(res.props, "sslPolicy")
        if policy not in RECOMMENDED_SSL_POLICIES and not str(policy).startswith("ELBSecurityPolicy-TLS13-"):
            yield f"sslPolicy '{policy}' is not a recommended TLS 1.2+ policy (use ELBSecurityPolicy-TLS13-1-2-2021-06)"
    elif protocol == "HTTP":
        actions = items(res.props, "defaultActions")
        redirect = all(
            get(action, "type") == "redirect" and get(action, "redirect.protocol") == "HTTPS" for action in actions
        )
        if not actions or not redirect:
            yield "HTTP listener does not redirect to HTTPS"


@stack_rule(
    "alb-waf",
    types=ALB_TYPES,
    enforcement="advisory",
    controls=["ELB.16"],
    description="Internet-facing application load balancers are associated with a WAFv2 web ACL.",
    reason="Advisory: the ALB is already behind CloudFront's WAF; a regional web ACL "
    "(platform:edge.waf.regionalAcl) also covers direct-to-origin traffic.",
)
def alb_waf(resources: list[Resource]):
    associations = list(of_type(resources, WAF_ASSOCIATION))
    for lb in of_type(resources, *ALB_TYPES):
        if get(lb.props, "internal") is True or not _is_application(lb):
            continue
        if not any(depends_on(assoc, lb) for assoc in associations):
            yield lb, "internet-facing ALB has no WebAclAssociation"


# --- EC2 / VPC ---------------------------------------------------------------------------------------------------


@resource_rule(
    "vpc-default-sg-closed",
    types=[DEFAULT_SG],
    enforcement="mandatory",
    controls=["EC2.2"],
    description="The VPC default security group allows no inbound or outbound traffic.",
    reason="Anything launched without an explicit security group must be isolated.",
)
def vpc_default_sg_closed(res: Resource):
    for direction in ("ingress", "egress"):
        if items(res.props, direction):
            yield f"default security group has {direction} rules: remove them"


@stack_rule(
    "vpc-flow-logs",
    types=[VPC],
    enforcement="mandatory",
    controls=["EC2.6"],
    description="Every VPC has flow logs.",
    reason="Network forensics; required by the security team.",
)
def vpc_flow_logs(resources: list[Resource]):
    flows = list(of_type(resources, FLOW_LOG))
    for vpc in of_type(resources, VPC):
        if not any(depends_on(flow, vpc) for flow in flows):
            yield vpc, "VPC has no FlowLog"


@stack_rule(
    "vpc-private-endpoints",
    types=[VPC],
    enforcement="advisory",
    controls=list(REQUIRED_ENDPOINT_SUFFIXES.values()),
    description="Every VPC has interface endpoints for EC2, ECR API and ECR Docker registry.",
    reason="Keeps node bootstrap and image pulls off the NAT gateways; advisory (cost/availability, not exposure).",
)
def vpc_private_endpoints(resources: list[Resource]):
    endpoints = list(of_type(resources, VPC_ENDPOINT))
    for vpc in of_type(resources, VPC):
        services = {str(get(e.props, "serviceName", "")) for e in endpoints if depends_on(e, vpc)}
        for suffix, control in REQUIRED_ENDPOINT_SUFFIXES.items():
            if not any(service.endswith("." + suffix) for service in services):
                yield vpc, f"no VPC endpoint for {suffix} ({control})"


@resource_rule(
    "subnet-no-auto-public-ip",
    types=[SUBNET],
    enforcement="mandatory",
    controls=["EC2.15"],
    description="Subnets do not assign public IPv4 addresses on launch.",
    reason="Nodes are private; only the ALB and NAT gateways have public addresses.",
)
def subnet_no_auto_public_ip(res: Resource):
    if is_true(get(res.props, "mapPublicIpOnLaunch")):
        yield "mapPublicIpOnLaunch is true"


def _launch_template_findings(props) -> list[str]:
    found = []
    if get(props, "metadataOptions.httpTokens") != "required":
        found.append("metadataOptions.httpTokens is not 'required' (IMDSv2)")
    for nic in items(props, "networkInterfaces"):
        if is_true(get(nic, "associatePublicIpAddress")):
            found.append("a network interface has associatePublicIpAddress true")
    for mapping in items(props, "blockDeviceMappings"):
        ebs = get(mapping, "ebs")
        if ebs is not None and not is_true(get(ebs, "encrypted")):
            found.append(f"EBS volume {get(mapping, 'deviceName', '?')} is not encrypted")
    return found


@resource_rule(
    "ec2-launch-template-hardened",
    types=[LAUNCH_TEMPLATE],
    enforcement="mandatory",
    controls=["EC2.170", "EC2.25", "EC2.3"],
    description="Launch templates require IMDSv2, assign no public IPs and encrypt EBS volumes.",
    reason="Pods must not reach node credentials through IMDSv1; nodes are private; data at rest is encrypted.",
)
def ec2_launch_template_hardened(res: Resource):
    yield from _launch_template_findings(res.props)


@resource_rule(
    "ec2-instance-hardened",
    types=[INSTANCE],
    enforcement="mandatory",
    controls=["EC2.8", "EC2.9", "EC2.3"],
    description="EC2 instances require IMDSv2, have no public IPv4 address and encrypt their root volume.",
    reason="Same as launch templates, for instances created directly.",
)
def ec2_instance_hardened(res: Resource):
    if get(res.props, "metadataOptions.httpTokens") != "required":
        yield "metadataOptions.httpTokens is not 'required' (IMDSv2)"
    if is_true(get(res.props, "associatePublicIpAddress")):
        yield "associatePublicIpAddress is true"
    if get(res.props, "rootBlockDevice") is not None and not is_true(get(res.props, "rootBlockDevice.encrypted")):
        yield "rootBlockDevice is not encrypted"


ADMIN_PORTS = (22, 3389)


def _nacl_entry_opens_admin(entry, egress_key: str = "egress") -> str | None:
    if is_true(get(entry, egress_key)) or get(entry, "ruleAction", get(entry, "action")) != "allow":
        return None
    cidr = get(entry, "cidrBlock") or get(entry, "ipv6CidrBlock")
    if cidr not in ("0.0.0.0/0", "::/0"):
        return None
    protocol = str(get(entry, "protocol", "-1"))
    low, high = get(entry, "fromPort", 0), get(entry, "toPort", 65535)
    if protocol in ("-1", "all") or any(low <= port <= high for port in ADMIN_PORTS):
        return f"allows {cidr} to ports {low}-{high} (includes 22/3389)"
    return None


@resource_rule(
    "nacl-no-public-admin-ports",
    types=[NACL_RULE, NACL],
    enforcement="mandatory",
    controls=["EC2.21"],
    description="Network ACLs do not allow ingress from 0.0.0.0/0 or ::/0 to SSH (22) or RDP (3389).",
    reason="Nodes are managed through SSM / EKS, never SSH from the internet.",
)
def nacl_no_public_admin_ports(res: Resource):
    entries = [res.props] if res.type == NACL_RULE else [dict(e, egress=False) for e in items(res.props, "ingresses")]
    for entry in entries:
        problem = _nacl_entry_opens_admin(entry)
        if problem:
            yield f"network ACL entry {problem}"
