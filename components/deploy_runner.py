"""Where CI reaches a private EKS API from: a CodeBuild-hosted GitHub Actions runner in the stack's own VPC.

AWS CodeBuild runs a GitHub Actions job when the repository's `workflow_job` webhook says a job was queued with
the label `codebuild-<project>-<run id>-<attempt>` (webhook filter `EVENT = WORKFLOW_JOB_QUEUED`,
https://docs.aws.amazon.com/codebuild/latest/userguide/action-runner.html and
https://docs.aws.amazon.com/codebuild/latest/userguide/github-webhook.html). With a VPC configuration the build
container gets an ENI in the private subnets (https://docs.aws.amazon.com/codebuild/latest/userguide/vpc-support.html),
so the job reaches the private cluster endpoint; the runner's own security group is admitted to the control-plane
security group on 443 and nowhere else. The job still assumes the preview/deploy role through GitHub OIDC: the
project's service role only writes logs and creates the build ENI.

`kind="self-hosted"` admits the security group of runners you operate in the VPC instead (no CodeBuild project).
"""

from __future__ import annotations

import json
from typing import Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, model_validator

from components.base import ComponentArgs, Input, PlatformComponent
from components.kms import KmsKey, KmsKeyArgs


class DeployRunnerArgs(ComponentArgs):
    """Args of `DeployRunner`."""

    kind: Literal["codebuild", "self-hosted"] = Field("codebuild", description="Runner the component provisions.")
    project_name: str = Field(..., pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{1,149}$", description="CodeBuild project.")
    account_id: Input = Field(..., description="AWS account id (role trust condition, key and ENI policies).")
    vpc_id: Input = Field(..., description="VPC of the cluster.")
    subnet_ids: Input = Field(..., description="Private subnets with a route to the NAT (GitHub, PyPI, AWS APIs).")
    cluster_security_group_id: Input = Field(..., description="Security group of the EKS control-plane ENIs.")
    repository_url: str | None = Field(None, description="https://github.com/<owner>/<repo> (codebuild).")
    connection_arn: str | None = Field(None, description="CodeConnections connection to GitHub (codebuild).")
    workflow_names: list[str] = Field(default_factory=list, description="Workflows allowed to start the runner.")
    actor_ids: list[str] = Field(default_factory=list, description="GitHub account ids allowed; empty = any.")
    compute_type: str = Field("BUILD_GENERAL1_MEDIUM", description="CodeBuild compute type.")
    image: str = Field("aws/codebuild/standard:7.0", description="CodeBuild image.")
    build_timeout_minutes: int = Field(120, ge=5, le=2160, description="Longest job.")
    log_retention_days: int = Field(365, description="Runner log retention.")
    runner_security_group_id: Input = Field(None, description="Your runners' security group (self-hosted).")

    @model_validator(mode="after")
    def _complete(self) -> DeployRunnerArgs:
        if self.kind == "codebuild" and not (self.repository_url and self.connection_arn and self.workflow_names):
            raise ValueError("a codebuild runner needs repository_url, connection_arn and workflow_names")
        if self.kind == "self-hosted" and self.runner_security_group_id is None:
            raise ValueError("a self-hosted runner needs runner_security_group_id")
        return self


def _name_pattern(names: list[str]) -> str:
    """Anchored regex for the webhook's WORKFLOW_NAME / ACTOR_ACCOUNT_ID filters (names are validated)."""
    return "^(" + "|".join(names) + ")$"


class DeployRunner(PlatformComponent):
    """Outputs: `security_group_id`, `project_name` (None for self-hosted), `role_arn`, `label_prefix`."""

    def __init__(self, name: str, args: DeployRunnerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:deploy:DeployRunner", name, opts)
        region = args.region
        self.project_name: pulumi.Output[str] | None = None
        self.role_arn: pulumi.Output[str] | None = None
        self.label_prefix: str | None = None
        if args.kind == "codebuild":
            self.security_group_id = self._codebuild(args)
        else:
            self.security_group_id = pulumi.Output.from_input(args.runner_security_group_id)
        # The one door into the cluster API for CI: 443 from the runner's security group only.
        self.api_ingress = aws.vpc.SecurityGroupIngressRule(
            self.cname("api-ingress"),
            region=region,
            security_group_id=args.cluster_security_group_id,
            referenced_security_group_id=self.security_group_id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="CI deploy runner to the Kubernetes API",
            tags=self.tagged(args.tags, f"{args.project_name}-api", **{"platform:deploy-runner": args.kind}),
            opts=self.child(),
        )
        self.register_outputs(
            {
                "securityGroupId": self.security_group_id,
                "projectName": self.project_name,
                "roleArn": self.role_arn,
                "labelPrefix": self.label_prefix,
            }
        )

    def _codebuild(self, args: DeployRunnerArgs) -> pulumi.Output[str]:
        region, project = args.region, args.project_name
        sg = aws.ec2.SecurityGroup(
            self.cname("sg"),
            region=region,
            name=project,
            description=f"CodeBuild GitHub Actions runner {project}",
            vpc_id=args.vpc_id,
            tags=self.tagged(args.tags, project),
            opts=self.child(),
        )
        # HTTPS out only: GitHub (job control, checkout), PyPI, Pulumi Cloud, AWS APIs and the cluster API.
        # DNS goes to the VPC resolver, which security groups do not filter.
        aws.vpc.SecurityGroupEgressRule(
            self.cname("egress-https"),
            region=region,
            security_group_id=sg.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            description="HTTPS to GitHub, package registries and AWS APIs (via NAT / endpoints)",
            tags=self.tagged(args.tags, f"{project}-egress"),
            opts=self.child(),
        )
        key = KmsKey(
            self.cname("kms"),
            KmsKeyArgs(
                region=region,
                name_prefix=args.name_prefix,
                tags=args.tags,
                purpose="deploy-runner",
                account_id=args.account_id,
                service_principals=[f"logs.{region}.amazonaws.com"],
            ),
            opts=self.child(),
        )
        log_name = f"/aws/codebuild/{project}"
        logs = aws.cloudwatch.LogGroup(
            self.cname("logs"),
            region=region,
            name=log_name,
            retention_in_days=args.log_retention_days,
            kms_key_id=key.arn,
            tags=self.tagged(args.tags, log_name),
            opts=self.child(),
        )
        role = aws.iam.Role(
            self.cname("role"),
            name=project,
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(_trust),
            tags=self.tagged(args.tags, project),
            opts=self.child(),
        )
        aws.iam.RolePolicy(
            self.cname("role-policy"),
            role=role.id,
            policy=pulumi.Output.all(logs.arn, args.subnet_ids, args.account_id).apply(
                lambda parts: _service_policy(parts[0], parts[1], parts[2], region, args.connection_arn or "")
            ),
            opts=self.child(),
        )
        codebuild = aws.codebuild.Project(
            self.cname("project"),
            region=region,
            name=project,
            description="GitHub Actions runner for this stack's preview and deploy jobs (private EKS API)",
            service_role=role.arn,
            build_timeout=args.build_timeout_minutes,
            queued_timeout=60,
            concurrent_build_limit=4,
            encryption_key=key.arn,
            source=aws.codebuild.ProjectSourceArgs(
                type="GITHUB",
                location=args.repository_url,
                git_clone_depth=1,
                auth=aws.codebuild.ProjectSourceAuthArgs(type="CODECONNECTIONS", resource=args.connection_arn),
            ),
            artifacts=aws.codebuild.ProjectArtifactsArgs(type="NO_ARTIFACTS"),
            environment=aws.codebuild.ProjectEnvironmentArgs(
                type="LINUX_CONTAINER",
                compute_type=args.compute_type,
                image=args.image,
                image_pull_credentials_type="CODEBUILD",
                privileged_mode=False,
            ),
            vpc_config=aws.codebuild.ProjectVpcConfigArgs(
                vpc_id=args.vpc_id, subnets=args.subnet_ids, security_group_ids=[sg.id]
            ),
            logs_config=aws.codebuild.ProjectLogsConfigArgs(
                cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(
                    status="ENABLED", group_name=log_name
                ),
                s3_logs=aws.codebuild.ProjectLogsConfigS3LogsArgs(status="DISABLED"),
            ),
            tags=self.tagged(args.tags, project),
            opts=self.child(depends_on=[logs]),
        )
        flt = aws.codebuild.WebhookFilterGroupFilterArgs
        filters = [
            flt(type="EVENT", pattern="WORKFLOW_JOB_QUEUED"),
            flt(type="WORKFLOW_NAME", pattern=_name_pattern(args.workflow_names)),
        ]
        if args.actor_ids:
            filters.append(flt(type="ACTOR_ACCOUNT_ID", pattern=_name_pattern(args.actor_ids)))
        aws.codebuild.Webhook(
            self.cname("webhook"),
            region=region,
            project_name=codebuild.name,
            build_type="BUILD",
            filter_groups=[aws.codebuild.WebhookFilterGroupArgs(filters=filters)],
            opts=self.child(),
        )
        self.project_name = codebuild.name
        self.role_arn = role.arn
        self.label_prefix = f"codebuild-{project}"
        return sg.id


def _trust(account_id: str) -> str:
    # Confused-deputy guard: only CodeBuild acting for this account may assume the role.
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "codebuild.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                }
            ],
        }
    )


def _service_policy(log_arn: str, subnet_ids: list[str], account_id: str, region: str, connection: str) -> str:
    """Logs, the build ENI in our subnets (https://docs.aws.amazon.com/codebuild/latest/userguide/
    auth-and-access-control-iam-identity-based-access-control.html#customer-managed-policies-example-create-vpc-network-interface)
    and the GitHub connection token (https://docs.aws.amazon.com/codebuild/latest/userguide/connections-github-app.html).
    """
    subnets = [f"arn:aws:ec2:{region}:{account_id}:subnet/{s}" for s in subnet_ids]
    statements = [
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": f"{log_arn}:*"},
        {
            "Effect": "Allow",
            "Action": [
                "ec2:CreateNetworkInterface",
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DeleteNetworkInterface",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeVpcs",
            ],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Action": "ec2:CreateNetworkInterfacePermission",
            "Resource": f"arn:aws:ec2:{region}:{account_id}:network-interface/*",
            "Condition": {"StringEquals": {"ec2:Subnet": subnets, "ec2:AuthorizedService": "codebuild.amazonaws.com"}},
        },
        {
            "Effect": "Allow",
            "Action": [
                "codeconnections:GetConnection",
                "codeconnections:GetConnectionToken",
                "codeconnections:UseConnection",
                "codestar-connections:GetConnection",
                "codestar-connections:GetConnectionToken",
                "codestar-connections:UseConnection",
            ],
            "Resource": connection,
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})
