"""What every tier of a region stack shares: config, names, tags, the AWS provider and the partner reference."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.config.fleet import stack_files
from infra.config.stack import StackConfig
from infra.naming import name_prefix
from infra.tags import standard_tags
from stacks.active_region import ActiveRegion, resolve_active_region

PROJECT_DIR_ENV = "PLATFORM_PROJECT_DIR"


def stack_reference_name(cfg: StackConfig, stack: str) -> str:
    """`<org>/<project>/<stack>` with the organization the engine runs under, unless `platform:pulumiOrg` overrides.

    On Pulumi Cloud that is the stack's organization; a self-managed (DIY) backend names it `organization`
    (https://www.pulumi.com/docs/reference/pkg/nodejs/pulumi/pulumi/functions/automation.fullyQualifiedStackName.html),
    so one program resolves on both. The workflows build the same names (.github/scripts/stacks.py).
    """
    org = cfg.pulumi_org or pulumi.get_organization()
    return f"{org}/{pulumi.get_project()}/{stack}"


@dataclass
class RegionContext:
    """Built once per stack run and handed to each tier builder in order."""

    cfg: StackConfig
    stack: str
    base: str
    tags: dict[str, str]
    aws_provider: aws.Provider
    account_id: pulumi.Output[str]
    primary_stack: str
    primary: pulumi.StackReference | None
    active: ActiveRegion

    @classmethod
    def create(cls, cfg: StackConfig, stack: str) -> RegionContext:
        tags = standard_tags(cfg)
        # One explicit provider per stack; resources also carry the v7 per-resource `region`. Default tags are a
        # catch-all for anything created outside our components (components tag explicitly as well).
        provider = aws.Provider(
            "aws",
            region=cfg.region,
            default_tags=aws.ProviderDefaultTagsArgs(tags=tags),
        )
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider))
        primary_stack = stack if cfg.is_primary else cfg.partner_stack
        primary = None
        if not cfg.is_primary:
            primary = pulumi.StackReference("primary", stack_name=stack_reference_name(cfg, primary_stack))
        active = resolve_active_region(cfg, primary_stack, provider)
        return cls(
            cfg=cfg,
            stack=stack,
            base=name_prefix(cfg.naming.prefix, cfg.environment, cfg.region),
            tags=tags,
            aws_provider=provider,
            account_id=identity.account_id,
            primary_stack=primary_stack,
            primary=primary,
            active=active,
        )

    @property
    def region(self) -> str:
        return self.cfg.region

    @property
    def fleet_regions(self) -> list[str]:
        """Every Region of the fleet: one stack file per Region in the project directory (stacks are named after
        their Region, `infra check` enforces it), so a new Region's file reaches the other stacks' next deploy with
        no edit to theirs. The project directory is this program's (`pulumi up` runs it from there); the offline
        planner points `PLATFORM_PROJECT_DIR` at the stack files it plans."""
        root = Path(os.environ.get(PROJECT_DIR_ENV) or Path(__file__).resolve().parents[1])
        return sorted({*stack_files(root), self.region, self.primary_region, self.cfg.partner_stack})

    @property
    def primary_region(self) -> str:
        """Stacks are named after their region (enforced by `infra check`), so the primary's stack name is it."""
        return self.primary_stack

    @property
    def writer_region(self) -> str:
        """The region holding the writer now (the active-region knob): drives every role-dependent setting."""
        return self.active.region

    @property
    def is_writer(self) -> bool:
        return self.writer_region == self.region

    def opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a top-level component of this stack (explicit AWS provider)."""
        return pulumi.ResourceOptions(providers=[self.aws_provider], **kwargs)

    def from_primary(self, output_name: str) -> pulumi.Output[Any]:
        """A required output of the primary stack (secondaries only); a missing one fails the deploy."""
        if self.primary is None:
            raise RuntimeError(f"stack {self.stack} is the primary; it has no primary StackReference")
        return self.primary.require_output(output_name)
