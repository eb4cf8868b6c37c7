"""Deploy tier: where CI previews and deploys this stack from (the in-VPC runner) and the CI roles' EKS access.

See docs/ci.md, "Where a stack is deployed from". The runner lives in the stack's own VPC and Region, so no stack
depends on another Region to be deployed (static stability).
"""

from __future__ import annotations

from typing import Any

import pulumi

from components.deploy_runner import DeployRunner, DeployRunnerArgs
from components.eks_access import AccessGrant
from infra.config.deploy import DeployConfig
from infra.config.reachability import runner_project_name
from stacks.context import RegionContext


def ci_access_grants(deploy: DeployConfig | None) -> list[AccessGrant]:
    """Preview role: read-only (AmazonEKSViewPolicy, no Secrets); deploy role: cluster admin.

    pulumi-kubernetes previews with a server-side dry run, which Kubernetes authorizes like the real write; when
    that is forbidden it falls back to a client-side diff (pulumi/pulumi-kubernetes#2419, #2213), so a read-only
    preview role works and can never change the cluster.
    """
    if deploy is None:
        return []
    grants = []
    if deploy.preview_role_arn:
        grants.append(
            AccessGrant(key="ci-preview", principal_arn=deploy.preview_role_arn, policy="AmazonEKSViewPolicy")
        )
    if deploy.deploy_role_arn:
        grants.append(
            AccessGrant(
                key="ci-deploy",
                principal_arn=deploy.deploy_role_arn,
                policy="AmazonEKSClusterAdminPolicy",
                needed_by_deploy=True,
            )
        )
    return grants


def build_deploy(ctx: RegionContext, network: Any, compute: Any) -> DeployRunner | None:
    """The runner this stack's CI jobs use (codebuild / self-hosted); nothing for github-hosted."""
    deploy = ctx.cfg.deploy
    pulumi.export("deployRunner", deploy.runner if deploy else None)
    if deploy is None or deploy.runner == "github-hosted":
        return None
    runner = DeployRunner(
        "deploy-runner",
        DeployRunnerArgs(
            region=ctx.region,
            name_prefix=ctx.base,
            tags=ctx.tags,
            kind=deploy.runner,
            project_name=runner_project_name(ctx.base),
            account_id=ctx.account_id,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            cluster_security_group_id=compute.cluster.cluster_security_group_id,
            repository_url=deploy.repository_url,
            connection_arn=deploy.code_connection_arn,
            workflow_names=list(deploy.workflow_names),
            actor_ids=list(deploy.allowed_actor_ids),
            compute_type=deploy.compute_type,
            image=deploy.image,
            build_timeout_minutes=deploy.build_timeout_minutes,
            runner_security_group_id=deploy.self_hosted_security_group_id,
        ),
        opts=ctx.opts(),
    )
    if runner.project_name is not None:
        pulumi.export("deployRunnerProject", runner.project_name)
    pulumi.export("deployRunnerSecurityGroupId", runner.security_group_id)
    return runner
