"""Deploy section (`platform:deploy`): where this stack is previewed and deployed from, and the CI roles' access.

A private EKS API (`compute.publicAccessCidrs: []`) is reachable only from inside the stack's VPC, so the workflows
run that stack's preview and deploy jobs on a runner there (docs/ci.md, "Where a stack is deployed from"):
- `codebuild` (default): a CodeBuild-hosted GitHub Actions runner this stack provisions in its own private
  subnets (https://docs.aws.amazon.com/codebuild/latest/userguide/action-runner-overview.html);
- `self-hosted`: runners you operate inside this VPC, selected by labels; their security group is admitted to the
  cluster API;
- `github-hosted`: only with a public endpoint whose `compute.publicAccessCidrs` cover `runnerCidrs` (the fixed
  egress ranges of GitHub larger runners); GitHub's shared runner ranges are too wide to list.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import ConfigModel

RunnerKind = Literal["codebuild", "self-hosted", "github-hosted"]

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
# CodeConnections (formerly CodeStar Connections) connection ARNs; both service prefixes are accepted by CodeBuild.
_CONNECTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$"
)
_REPOSITORY_URL = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_SECURITY_GROUP = re.compile(r"^sg-[0-9a-f]{8,17}$")
_LABEL = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")

# CodeBuild compute types available to runner projects on the Linux container environment.
COMPUTE_TYPES = (
    "BUILD_GENERAL1_SMALL",
    "BUILD_GENERAL1_MEDIUM",
    "BUILD_GENERAL1_LARGE",
    "BUILD_GENERAL1_XLARGE",
    "BUILD_GENERAL1_2XLARGE",
)


def _role_arn(value: str | None) -> str | None:
    if value is not None and not _ROLE_ARN.match(value):
        raise ValueError(f"'{value}' is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)")
    return value


class DeployConfig(ConfigModel):
    """Where CI previews and deploys this stack, and the EKS access of the CI roles."""

    runner: RunnerKind = Field(
        "codebuild",
        description="Where this stack's preview and deploy jobs run: `codebuild` (a runner this stack provisions "
        "in its private subnets), `self-hosted` (your runners in this VPC, by label) or `github-hosted` (public "
        "API endpoint limited to runnerCidrs).",
    )
    repository_url: str | None = Field(
        None,
        description="GitHub repository the runner serves, https://github.com/<owner>/<repo> (codebuild runner).",
    )
    code_connection_arn: str | None = Field(
        None,
        description="AWS CodeConnections connection to GitHub (created once per account in the console, status "
        "AVAILABLE; connections are global, one works in every Region) (codebuild runner).",
    )
    workflow_names: list[str] = Field(
        default_factory=lambda: ["pull-request", "deploy"],
        min_length=1,
        description="`name:` of the workflows whose jobs may start this stack's runner (webhook WORKFLOW_NAME "
        "filter); must match .github/workflows.",
    )
    allowed_actor_ids: list[str] = Field(
        default_factory=list,
        description="GitHub account ids allowed to trigger the runner (webhook ACTOR_ACCOUNT_ID filter); empty = "
        "anyone who can run the workflows.",
    )
    compute_type: str = Field(
        "BUILD_GENERAL1_MEDIUM", description=f"CodeBuild compute type: {', '.join(COMPUTE_TYPES)}."
    )
    image: str = Field(
        "aws/codebuild/standard:7.0",
        pattern=r"^[\w./:-]{3,200}$",
        description="CodeBuild image of the runner (Ubuntu based, so actions/setup-python works).",
    )
    build_timeout_minutes: int = Field(
        120, ge=5, le=2160, description="Longest runner job (a first `up` of a stack takes about an hour)."
    )
    bootstrap: bool = Field(
        False,
        description="This stack's runner does not exist yet (a new Region, or the fleet's first deploy): CI previews "
        "and deploys only the network, the runner and (primary) the hosted zone with `pulumi --target`, from a "
        "GitHub-hosted runner, touching no Kubernetes API. Remove once that deploy succeeded (docs/ci.md).",
    )
    self_hosted_labels: list[str] = Field(
        default_factory=list, description="`runs-on` labels of your in-VPC runners (self-hosted runner)."
    )
    self_hosted_security_group_id: str | None = Field(
        None, description="Security group of your in-VPC runners, admitted to the cluster API on 443 (self-hosted)."
    )
    runner_cidrs: list[str] = Field(
        default_factory=list,
        description="Egress CIDRs of the GitHub-hosted runners (larger runners with static IPs); each must be "
        "inside compute.publicAccessCidrs (github-hosted runner).",
    )
    preview_role_arn: str | None = Field(
        None,
        description="IAM role of pull-request previews (vars.AWS_PREVIEW_ROLE_ARN): EKS access entry with "
        "AmazonEKSViewPolicy (read-only).",
    )
    deploy_role_arn: str | None = Field(
        None,
        description="IAM role of deploys (vars.AWS_DEPLOY_ROLE_ARN): EKS access entry with "
        "AmazonEKSClusterAdminPolicy.",
    )

    @field_validator("preview_role_arn", "deploy_role_arn")
    @classmethod
    def _roles(cls, value: str | None) -> str | None:
        return _role_arn(value)

    @field_validator("code_connection_arn")
    @classmethod
    def _connection(cls, value: str | None) -> str | None:
        if value is not None and not _CONNECTION_ARN.match(value):
            raise ValueError(
                f"'{value}' is not a CodeConnections connection ARN "
                "(arn:aws:codeconnections:<region>:<account>:connection/<uuid>)"
            )
        return value

    @field_validator("repository_url")
    @classmethod
    def _repository(cls, value: str | None) -> str | None:
        if value is not None and not _REPOSITORY_URL.match(value):
            raise ValueError(f"'{value}' is not a GitHub repository URL (https://github.com/<owner>/<repo>)")
        return value

    @field_validator("compute_type")
    @classmethod
    def _compute(cls, value: str) -> str:
        if value not in COMPUTE_TYPES:
            raise ValueError(f"'{value}' is not a CodeBuild compute type; use one of {list(COMPUTE_TYPES)}")
        return value

    @field_validator("self_hosted_security_group_id")
    @classmethod
    def _sg(cls, value: str | None) -> str | None:
        if value is not None and not _SECURITY_GROUP.match(value):
            raise ValueError(f"'{value}' is not a security group id (sg-0123456789abcdef0)")
        return value

    @field_validator("self_hosted_labels", "workflow_names")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        for label in value:
            if not _LABEL.match(label):
                raise ValueError(f"'{label}' is not a runner label / workflow name (letters, digits, _ . : -)")
        return value

    @field_validator("allowed_actor_ids")
    @classmethod
    def _actors(cls, value: list[str]) -> list[str]:
        for actor in value:
            if not actor.isdigit():
                raise ValueError(f"'{actor}' is not a GitHub account id (digits; `gh api users/<login> -q .id`)")
        return value

    @model_validator(mode="after")
    def _kind_needs(self) -> DeployConfig:
        if self.runner == "codebuild" and (self.repository_url is None or self.code_connection_arn is None):
            raise ValueError(
                "runner 'codebuild' needs repositoryUrl and codeConnectionArn (the CodeBuild project clones the "
                "repository and registers runners through that connection)"
            )
        if self.runner == "self-hosted" and (not self.self_hosted_labels or not self.self_hosted_security_group_id):
            raise ValueError("runner 'self-hosted' needs selfHostedLabels and selfHostedSecurityGroupId")
        if self.runner == "github-hosted" and not self.runner_cidrs:
            raise ValueError(
                "runner 'github-hosted' needs runnerCidrs (the runners' fixed egress CIDRs, also listed in "
                "compute.publicAccessCidrs); shared GitHub-hosted runners have no fixed ranges"
            )
        return self
