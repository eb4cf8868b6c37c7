"""Can the place a stack is deployed from reach that stack's Kubernetes API? (`infra check` and `pulumi up`)

The Kubernetes provider talks to the cluster API during `preview` (server-side dry run, or a read of the live
object) and `up`. With `compute.publicAccessCidrs: []` the endpoint is private: only addresses inside the VPC (or
networks connected to it) reach it (https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html).
So a stack with a private API must be deployed from a runner in its VPC, and a public endpoint must list the
runners' egress CIDRs. These rules are per stack; the mandatory policy rule `eks-api-reachable-by-deploy` checks
the same from the synthesized resources.
"""

from __future__ import annotations

import ipaddress

from infra.config.errors import ConfigIssue
from infra.config.loader import stack_file_name
from infra.config.stack import StackConfig
from infra.naming import name_prefix

# What `runs-on` a GitHub-hosted job uses; a job of a private-API stack must never get one of these.
GITHUB_HOSTED_LABELS = ("ubuntu-latest", "ubuntu-24.04", "ubuntu-22.04", "ubuntu-24.04-arm", "ubuntu-22.04-arm")


def is_private_api(cfg: StackConfig) -> bool:
    return not cfg.compute.public_access_cidrs


def deploy_location_issues(stack: str, cfg: StackConfig) -> list[ConfigIssue]:
    """Problems that make this stack's cluster API unreachable from where its CI jobs run."""
    file = stack_file_name(stack)
    deploy = cfg.deploy
    if deploy is None:
        return [
            ConfigIssue(
                file,
                "platform:deploy",
                "is missing: the workflows cannot know where to preview and deploy this stack from"
                + (" and its cluster API is private (compute.publicAccessCidrs: [])." if is_private_api(cfg) else "."),
                "add platform:deploy with runner: codebuild, repositoryUrl, codeConnectionArn, previewRoleArn and "
                "deployRoleArn (see docs/ci.md, 'Where a stack is deployed from').",
            )
        ]
    issues: list[ConfigIssue] = []
    if deploy.runner == "github-hosted":
        if is_private_api(cfg):
            issues.append(
                ConfigIssue(
                    file,
                    "platform:deploy.runner",
                    "is 'github-hosted' but the cluster API is private (compute.publicAccessCidrs: []): a "
                    "GitHub-hosted runner is outside the VPC, so every preview and the first Kubernetes resource "
                    "of `up` would time out.",
                    "use runner: codebuild (a runner in this stack's VPC) or self-hosted; or open the endpoint to "
                    "the runners' fixed egress CIDRs in compute.publicAccessCidrs.",
                )
            )
        else:
            allowed = [ipaddress.ip_network(c) for c in cfg.compute.public_access_cidrs]
            outside = [c for c in deploy.runner_cidrs if not any(ipaddress.ip_network(c).subnet_of(a) for a in allowed)]
            if outside:
                issues.append(
                    ConfigIssue(
                        file,
                        "platform:deploy.runnerCidrs",
                        f"{outside} are not inside compute.publicAccessCidrs {list(cfg.compute.public_access_cidrs)}: "
                        "the runners could not reach the cluster API.",
                        "add these CIDRs to platform:compute.publicAccessCidrs, or use runner: codebuild.",
                    )
                )
    for key, value in (("previewRoleArn", deploy.preview_role_arn), ("deployRoleArn", deploy.deploy_role_arn)):
        if value is None:
            issues.append(
                ConfigIssue(
                    file,
                    f"platform:deploy.{key}",
                    "is missing: without an EKS access entry the CI role cannot read (preview) or change (deploy) the "
                    "cluster's Kubernetes objects.",
                    "set it to the role ARN in the repository variable "
                    + ("AWS_PREVIEW_ROLE_ARN." if key == "previewRoleArn" else "AWS_DEPLOY_ROLE_ARN."),
                )
            )
    return issues


def runs_on(stack: str, cfg: StackConfig, job: str) -> list[str]:
    """The `runs-on` labels of one stack's `job` (preview/deploy), as a template for the workflow's `format()`.

    CodeBuild routes a queued job to a project by the label `codebuild-<project>-<run id>-<attempt>`; the extra
    per-job label keeps two jobs of one run from taking each other's runner
    (https://docs.aws.amazon.com/codebuild/latest/userguide/sample-github-action-runners-update-labels.html).
    `{0}`/`{1}` are filled by the job itself with `github.run_id`/`github.run_attempt`, so a re-run of one job
    asks for its own attempt's runner.
    """
    deploy = cfg.deploy
    if deploy is None or deploy.runner == "github-hosted":
        return ["ubuntu-latest"]
    if deploy.runner == "self-hosted":
        return ["self-hosted", *deploy.self_hosted_labels]
    project = runner_project_name(name_prefix(cfg.naming.prefix, cfg.environment, cfg.region))
    return [f"codebuild-{project}-{{0}}-{{1}}", f"{job}-{stack}"]


def runner_project_name(base: str) -> str:
    """Name of the CodeBuild runner project of a stack (also in its `deployRunnerProject` output)."""
    return f"{base}-deploy-runner"
