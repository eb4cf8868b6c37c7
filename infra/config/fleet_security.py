"""Fleet rules of issue 17 (docs/security.md): images by digest in production, Route 53 query logging only from a
primary in us-east-1, and no access entry reaching the database bootstrap namespace."""

from __future__ import annotations

from infra.config.errors import ConfigIssue
from infra.config.loader import stack_file_name
from infra.config.stack import StackConfig


def security_issues(stacks: dict[str, StackConfig]) -> list[ConfigIssue]:
    return [*_image_issues(stacks), *_query_log_issues(stacks), *_access_issues(stacks)]


def is_production(cfg: StackConfig) -> bool:
    """Production stacks (environment `prod`, `production`, `prod-eu`, ...) must pull images by digest."""
    return cfg.environment.startswith("prod")


def _image_issues(stacks: dict[str, StackConfig]) -> list[ConfigIssue]:
    """A tag can be re-pushed; only a digest names immutable content. Production stacks must carry digests."""
    issues: list[ConfigIssue] = []
    for name, cfg in sorted(stacks.items()):
        if not is_production(cfg):
            continue
        images = [(f"platform:workloads.services[{i}]", svc.digest) for i, svc in enumerate(cfg.workloads.services)]
        images.append(("platform:workloads.dbBootstrap", cfg.workloads.db_bootstrap.digest))
        for key, digest in images:
            if digest is None:
                issues.append(
                    ConfigIssue(
                        stack_file_name(name),
                        f"{key}.digest",
                        f"is missing: environment '{cfg.environment}' is production and a tag alone is mutable.",
                        "add `digest: sha256:<64 hex>` (e.g. from `aws ecr describe-images` or `docker buildx "
                        "imagetools inspect`); keep `tag` beside it for readability.",
                    )
                )
    return issues


def _query_log_issues(stacks: dict[str, StackConfig]) -> list[ConfigIssue]:
    """Route 53 query logs must go to us-east-1; the zone's owner (the primary) can only log from there."""
    return [
        ConfigIssue(
            stack_file_name(name),
            "platform:traffic.queryLogging",
            f"is true but the primary (the zone's owner) is in {cfg.region}: Route 53 writes query logs only to "
            "a log group in us-east-1, and no stack manages another Region's resources.",
            "set queryLogging: false (and log queries from a us-east-1 stack or the account baseline), or make "
            "the us-east-1 stack the primary.",
        )
        for name, cfg in sorted(stacks.items())
        if cfg.is_primary and cfg.traffic.query_logging and cfg.region != "us-east-1"
    ]


def _access_issues(stacks: dict[str, StackConfig]) -> list[ConfigIssue]:
    """Only the bootstrap Job's identity may use the master secret: no person's access entry reaches its namespace."""
    issues: list[ConfigIssue] = []
    for name, cfg in sorted(stacks.items()):
        bootstrap = cfg.workloads.db_bootstrap.namespace
        for role, access in sorted(cfg.compute.access.items()):
            if bootstrap in (access.namespaces or []):
                issues.append(
                    ConfigIssue(
                        stack_file_name(name),
                        f"platform:compute.access.{role}.namespaces",
                        f"includes '{bootstrap}', the database bootstrap namespace, whose Job reads the master secret.",
                        f"remove '{bootstrap}'; break-glass access goes through the enterprise_admin role.",
                    )
                )
    return issues
