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
from infra.config.errors import ConfigFix
from infra.config.shared import check_role_arn

RunnerKind = Literal["codebuild", "self-hosted", "github-hosted"]

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
        return None if value is None else check_role_arn(value)

    @field_validator("code_connection_arn")
    @classmethod
    def _connection(cls, value: str | None) -> str | None:
        if value is not None and not _CONNECTION_ARN.match(value):
            raise ConfigFix(
                f"'{value}' is not a CodeConnections connection ARN",
                "write arn:aws:codeconnections:<region>:<12-digit account>:connection/<uuid> "
                "(`aws codeconnections list-connections` shows it)",
            )
        return value

    @field_validator("repository_url")
    @classmethod
    def _repository(cls, value: str | None) -> str | None:
        if value is not None and not _REPOSITORY_URL.match(value):
            raise ConfigFix(
                f"'{value}' is not a GitHub repository URL",
                "write https://github.com/<owner>/<repo>, e.g. https://github.com/acme/platform",
            )
        return value

    @field_validator("compute_type")
    @classmethod
    def _compute(cls, value: str) -> str:
        if value not in COMPUTE_TYPES:
            raise ConfigFix(f"'{value}' is not a CodeBuild compute type", f"use one of {', '.join(COMPUTE_TYPES)}")
        return value

    @field_validator("self_hosted_security_group_id")
    @classmethod
    def _sg(cls, value: str | None) -> str | None:
        if value is not None and not _SECURITY_GROUP.match(value):
            raise ConfigFix(
                f"'{value}' is not a security group id",
                "write sg- and 8 to 17 lower-case hex digits, e.g. sg-0123456789abcdef0",
            )
        return value

    @field_validator("self_hosted_labels", "workflow_names")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        for label in value:
            if not _LABEL.match(label):
                raise ConfigFix(
                    f"'{label}' is not a runner label / workflow name",
                    "use 1-100 letters, digits and _ . : - (no spaces)",
                )
        return value

    @field_validator("allowed_actor_ids")
    @classmethod
    def _actors(cls, value: list[str]) -> list[str]:
        for actor in value:
            if not actor.isdigit():
                raise ConfigFix(
                    f"'{actor}' is not a GitHub account id",
                    "use the numeric id (digits only), which `gh api users/<login> -q .id` prints",
                )
        return value

    @model_validator(mode="after")
    def _kind_needs(self) -> DeployConfig:
        if self.runner == "codebuild" and (self.repository_url is None or self.code_connection_arn is None):
            missing = [
                f"{key}: {form}"
                for key, value, form in (
                    ("repositoryUrl", self.repository_url, "https://github.com/<owner>/<repo>"),
                    ("codeConnectionArn", self.code_connection_arn, "arn:aws:codeconnections:<region>:<account>:"
                     "connection/<uuid>"),
                )
                if value is None
            ]  # fmt: skip
            raise ConfigFix(
                "runner 'codebuild' needs repositoryUrl and codeConnectionArn (the CodeBuild project clones the "
                "repository and registers runners through that connection)",
                f"add {' and '.join(missing)}, or choose runner: self-hosted or github-hosted",
            )
        if self.runner == "self-hosted" and (not self.self_hosted_labels or not self.self_hosted_security_group_id):
            raise ConfigFix(
                "runner 'self-hosted' needs selfHostedLabels and selfHostedSecurityGroupId",
                "add selfHostedLabels: [<runs-on label>, ...] and selfHostedSecurityGroupId: sg-<id> of your "
                "in-VPC runners, or choose runner: codebuild",
            )
        if self.runner == "github-hosted" and not self.runner_cidrs:
            raise ConfigFix(
                "runner 'github-hosted' needs runnerCidrs; shared GitHub-hosted runners have no fixed ranges",
                "add runnerCidrs: [<egress CIDR>, ...] (your larger runners' static IPs, also inside "
                "compute.publicAccessCidrs), or choose runner: codebuild",
            )
        return self
