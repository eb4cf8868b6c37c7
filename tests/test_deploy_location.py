"""Where each stack is previewed and deployed from: the in-VPC runner, the CI roles' EKS access, the refusals.

A private EKS API (`publicAccessCidrs: []`) is unreachable from GitHub-hosted runners; these tests hold the real
stack files to a runner inside each stack's VPC that is admitted to that cluster's API, to access entries for the
preview (read-only) and deploy (cluster admin) roles, and `infra check` / `pulumi up` to refusing a stack whose API
its CI could not reach.
"""

from __future__ import annotations

import json

import pytest

from infra.cli import main
from infra.config.loader import load_stack_file
from infra.config.reachability import deploy_location_issues
from infra.plan.model import Plan
from tests.config_cases import PRIMARY, SECONDARY, assert_config_issue, combine, set_key

STACKS = ("us-east-1", "eu-west-1")
PROJECT = "aws:codebuild/project:Project"
WEBHOOK = "aws:codebuild/webhook:Webhook"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def _deploy_cfg(stack: str):
    from infra.plan.runner import REPO_ROOT

    return load_stack_file(REPO_ROOT / f"Pulumi.{stack}.yaml").deploy


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_runs_its_ci_on_a_runner_inside_its_own_vpc(plans: dict[str, Plan], stack: str):
    plan = plans[stack]
    cluster = plan.one("aws:eks/cluster:Cluster").inputs
    assert cluster["vpcConfig"]["endpointPublicAccess"] is False, "the stack files keep the API private"
    project = plan.one(PROJECT).inputs
    vpc = plan.one("aws:ec2/vpc:Vpc")
    vpc_id = plan.outputs["vpcId"]
    assert project["region"] == stack
    assert project["vpcConfig"]["vpcId"] == vpc_id and vpc.inputs["region"] == stack
    # in the private subnets (the cluster's own, routed through the NAT), never the public or isolated ones
    assert sorted(project["vpcConfig"]["subnets"]) == sorted(plan.outputs["privateSubnetIds"])
    assert project["source"]["type"] == "GITHUB"
    assert project["source"]["auth"] == {"type": "CODECONNECTIONS", "resource": _deploy_cfg(stack).code_connection_arn}
    assert project["environment"]["privilegedMode"] is False
    assert project["name"] == plan.outputs["deployRunnerProject"]
    # the runner's security group is the one admitted to the control plane's security group on 443
    (runner_sg,) = project["vpcConfig"]["securityGroupIds"]
    control_plane_sgs = cluster["vpcConfig"]["securityGroupIds"]
    doors = [
        r.inputs
        for r in plan.of_type(INGRESS)
        if r.inputs["securityGroupId"] in control_plane_sgs and r.inputs.get("referencedSecurityGroupId") == runner_sg
    ]
    (door,) = doors
    assert (door["ipProtocol"], door["fromPort"], door["toPort"]) == ("tcp", 443, 443)


@pytest.mark.parametrize("stack", STACKS)
def test_the_webhook_starts_runners_only_for_queued_jobs_of_our_workflows(plans: dict[str, Plan], stack: str):
    plan = plans[stack]
    webhook = plan.one(WEBHOOK).inputs
    assert webhook["projectName"] == plan.one(PROJECT).inputs["name"]
    (group,) = webhook["filterGroups"]
    filters = {f["type"]: f["pattern"] for f in group["filters"]}
    assert filters["EVENT"] == "WORKFLOW_JOB_QUEUED"
    assert filters["WORKFLOW_NAME"] == "^(pull-request|deploy)$"


@pytest.mark.parametrize("stack", STACKS)
def test_runner_service_role_only_logs_and_creates_its_eni(plans: dict[str, Plan], stack: str):
    plan = plans[stack]
    role = plan.one("aws:iam/role:Role", "deploy-runner-role").inputs
    trust = json.loads(role["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "codebuild.amazonaws.com"} and "aws:SourceAccount" in json.dumps(trust)
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", "deploy-runner-role-policy").inputs["policy"])
    actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not any(a.endswith("*") for a in actions), "no wildcard actions: the job's AWS access comes from OIDC"
    assert not any(a.split(":")[0] in {"eks", "iam", "sts"} for a in actions)
    eni = next(s for s in policy["Statement"] if s["Action"] == "ec2:CreateNetworkInterfacePermission")
    assert eni["Condition"]["StringEquals"]["ec2:AuthorizedService"] == "codebuild.amazonaws.com"
    assert len(eni["Condition"]["StringEquals"]["ec2:Subnet"]) == len(plan.outputs["privateSubnetIds"])
    logs = plan.one("aws:cloudwatch/logGroup:LogGroup", "deploy-runner-logs").inputs
    assert logs["kmsKeyId"] and logs["retentionInDays"] >= 365


@pytest.mark.parametrize("stack", STACKS)
def test_ci_roles_get_access_entries_preview_read_only_deploy_cluster_admin(plans: dict[str, Plan], stack: str):
    plan = plans[stack]
    deploy = _deploy_cfg(stack)
    policies = {a.inputs["principalArn"]: a for a in plan.of_type(ASSOCIATION)}
    preview, admin = policies[deploy.preview_role_arn], policies[deploy.deploy_role_arn]
    assert preview.inputs["policyArn"] == VIEW and preview.inputs["accessScope"] == {"type": "cluster"}
    assert admin.inputs["policyArn"] == ADMIN and admin.inputs["accessScope"] == {"type": "cluster"}
    entries = {e.inputs["principalArn"]: e.inputs for e in plan.of_type("aws:eks/accessEntry:AccessEntry")}
    assert entries[deploy.preview_role_arn]["type"] == entries[deploy.deploy_role_arn]["type"] == "STANDARD"
    # explicit entries instead of the implicit creator admin (both at once is a 409 on CreateAccessEntry)
    access = plan.one("aws:eks/cluster:Cluster").inputs["accessConfig"]
    assert access["bootstrapClusterCreatorAdminPermissions"] is False
    # the Kubernetes provider waits for the deploy role's association, or the first object is refused
    k8s = plan.one("pulumi:providers:kubernetes")
    assert admin.urn in k8s.dependencies and preview.urn not in k8s.dependencies


def _private_but_github_hosted(config: dict) -> None:
    set_key("deploy", "runner", "github-hosted")(config)
    set_key("deploy", "runnerCidrs", ["203.0.113.0/28"])(config)


CASES = [
    ("us-east-1", _private_but_github_hosted, PRIMARY, "platform:deploy.runner", "cluster API is private"),
    ("eu-west-1", combine(_private_but_github_hosted, set_key("compute", "publicAccessCidrs", ["198.51.100.0/24"])),
     SECONDARY, "platform:deploy.runnerCidrs", "not inside compute.publicAccessCidrs"),
    ("eu-west-1", lambda c: c.pop("platform:deploy"), SECONDARY, "platform:deploy", "cluster API is private"),
    ("us-east-1", lambda c: c["platform:deploy"].pop("deployRoleArn"), PRIMARY, "platform:deploy.deployRoleArn",
     "AWS_DEPLOY_ROLE_ARN"),
    ("us-east-1", lambda c: c["platform:deploy"].pop("codeConnectionArn"), PRIMARY, "platform:deploy",
     "needs repositoryUrl and codeConnectionArn"),
    ("us-east-1", set_key("deploy", "runner", "self-hosted"), PRIMARY, "platform:deploy",
     "needs selfHostedLabels and selfHostedSecurityGroupId"),
    ("us-east-1", set_key("deploy", "codeConnectionArn", "arn:aws:iam::123456789012:role/x"), PRIMARY,
     "platform:deploy.codeConnectionArn", "not a CodeConnections connection ARN"),
]  # fmt: skip


@pytest.mark.parametrize(("stack", "edit", "file", "key", "words"), CASES, ids=[c[4] for c in CASES])
def test_check_refuses_a_stack_whose_api_its_ci_cannot_reach(write_stacks, stack, edit, file, key, words):
    assert_config_issue(write_stacks({stack: edit}), file, key, words)


def test_check_exit_code_and_message_for_a_private_api_on_github_hosted_runners(write_stacks, capsys):
    root = write_stacks({"us-east-1": _private_but_github_hosted})
    assert main(["check", "--root", str(root)]) == 2
    err = capsys.readouterr()
    text = err.err + err.out
    assert "Pulumi.us-east-1.yaml: key 'platform:deploy.runner'" in text and "Fix: use runner: codebuild" in text


def test_public_endpoint_covering_the_runner_cidrs_is_accepted(write_stacks):
    from infra.config.fleet import load_fleet

    edit = combine(_private_but_github_hosted, set_key("compute", "publicAccessCidrs", ["203.0.113.0/24"]))
    fleet = load_fleet(write_stacks({"eu-west-1": edit}))
    assert deploy_location_issues("eu-west-1", fleet.stacks["eu-west-1"]) == []


def test_pulumi_up_refuses_the_same_before_registering_anything(write_stacks):
    """The program (what `pulumi up` runs) applies the per-stack rule too, not only `infra check`."""
    from infra.config.loader import read_stack_file
    from infra.plan.recorder import PlatformMocks, RecordingMonitor
    from infra.plan.runner import synthesize

    root = write_stacks({"us-east-1": _private_but_github_hosted})
    monitor = RecordingMonitor(PlatformMocks())
    with pytest.raises(Exception, match=r"platform:deploy\.runner"):
        synthesize("us-east-1", read_stack_file(root / PRIMARY), monitor=monitor)
    assert [r for r in monitor.records if r.custom] == []


@pytest.mark.parametrize("stack", STACKS)
def test_mandatory_policy_rule_holds_on_the_real_plan_and_fails_without_the_runner(plans: dict[str, Plan], stack):
    from infra.policy_check import plan_resources
    from policy.rules import RULES

    rule = RULES["eks-api-reachable-by-deploy"]
    resources = plan_resources(plans[stack])
    assert rule.enforcement == "mandatory" and rule.check_stack(resources) == []
    without_runner = [r for r in resources if "platform:deploy:DeployRunner" not in r.urn]
    assert len(without_runner) < len(resources)
    ((cluster, message),) = rule.check_stack(without_runner)
    assert cluster.type == "aws:eks/cluster:Cluster" and "platform:deploy.runner" in message


def test_api_origin_validation_record_has_exactly_one_owner(plans: dict[str, Plan]):
    """ACM's CNAME for api-origin is the same for every Region's certificate: one record, owned by the primary."""
    primary, secondary = plans["us-east-1"], plans["eu-west-1"]
    record_type = "aws:route53/record:Record"
    validation_names = [
        (stack, r.inputs["name"])
        for stack, plan in plans.items()
        for r in plan.of_type(record_type)
        if r.inputs.get("type") == "CNAME" and ".api-origin." in r.inputs["name"]
    ]
    assert [stack for stack, _ in validation_names] == ["us-east-1"], validation_names
    owned = next(r for r in primary.of_type(record_type) if ".api-origin." in r.inputs["name"])
    assert owned.inputs["allowOverwrite"] is False
    assert primary.outputs["apiOriginValidationFqdn"] == owned.inputs["name"].rstrip(".")
    # the secondary's certificate (which also names api-origin) validates against the primary's record
    cert = secondary.one("aws:acm/certificate:Certificate").inputs
    assert "api-origin." + cert["domainName"].split(".", 1)[1] in cert["subjectAlternativeNames"]
    validation = secondary.one("aws:acm/certificateValidation:CertificateValidation").inputs
    assert primary.outputs["apiOriginValidationFqdn"] in validation["validationRecordFqdns"]
    validation_records = [
        r for p in plans.values() for r in p.of_type(record_type) if r.name.startswith(("alb-cert-", "cdn-cert-"))
    ]
    assert validation_records and all(r.inputs["allowOverwrite"] is False for r in validation_records)


def test_self_hosted_runners_in_the_vpc_are_admitted_by_their_security_group(write_stacks):
    """runner: self-hosted: no CodeBuild project; the declared security group gets the 443 door, which the
    mandatory policy rule accepts, and the workflows route the stack's jobs to the declared labels."""
    from infra.config.fleet import load_fleet
    from infra.config.reachability import runs_on
    from infra.plan.runner import Planner
    from infra.policy_check import plan_resources
    from policy.rules import RULES

    sg = "sg-0123456789abcdef0"
    edit = combine(
        set_key("deploy", "runner", "self-hosted"),
        set_key("deploy", "selfHostedLabels", ["vpc-euw1"]),
        set_key("deploy", "selfHostedSecurityGroupId", sg),
    )
    root = write_stacks({"eu-west-1": edit})
    plan = Planner(root).plan("eu-west-1")
    assert not plan.of_type(PROJECT) and not plan.of_type(WEBHOOK)
    cluster = plan.one("aws:eks/cluster:Cluster").inputs
    (door,) = [
        r.inputs
        for r in plan.of_type(INGRESS)
        if r.inputs.get("referencedSecurityGroupId") == sg
        and r.inputs["securityGroupId"] in cluster["vpcConfig"]["securityGroupIds"]
    ]
    assert (door["fromPort"], door["toPort"], door["tags"]["platform:deploy-runner"]) == (443, 443, "self-hosted")
    assert RULES["eks-api-reachable-by-deploy"].check_stack(plan_resources(plan)) == []
    cfg = load_fleet(root).stacks["eu-west-1"]
    assert runs_on("eu-west-1", cfg, "deploy") == ["self-hosted", "vpc-euw1"]
