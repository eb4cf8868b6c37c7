"""Composition of a region stack: the only place that knows both the stack config and the components."""

from __future__ import annotations

import pulumi

from infra.config.errors import ConfigError
from infra.config.loader import load_from_engine
from infra.config.reachability import deploy_location_issues


def main() -> None:
    """The Pulumi program: validate this stack's config once, then build the region stack from it."""
    from stacks.region import build_region_stack

    stack = pulumi.get_stack()
    try:
        cfg = load_from_engine(stack)
        # `pulumi up` refuses what `infra check` refuses about where this stack is deployed from.
        issues = deploy_location_issues(stack, cfg)
        if issues:
            raise ConfigError(issues)
    except ConfigError as exc:
        # RunError prints the message without a Python traceback; nothing has been registered yet.
        raise pulumi.RunError(str(exc)) from None
    build_region_stack(cfg, stack)
