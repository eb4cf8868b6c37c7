"""The active-region knob: which Region holds the writer, read once at program start (docs/dr-runbook.md).

The drill writes `/<prefix>/<environment>/dr/active-region` in every reachable Region; each stack creates that
parameter in its own Region (value ignored after creation) and reads it there only, so a deploy works while any
other Region is down. Precedence: `platform:activeRegion` in the stack file (an explicit override, logged) >
the SSM parameter in this stack's Region > the primary stack's Region (first deploy: no parameter yet).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.config.regions import AWS_REGIONS
from infra.config.stack import StackConfig
from infra.naming import active_region_parameter


@dataclass(frozen=True)
class ActiveRegion:
    """The resolved writer Region and where it came from."""

    region: str
    source: str  # "override" (stack file), "ssm" (the parameter in this Region) or "default" (the primary's Region)
    parameter_name: str
    observed: str | None  # the parameter's value in this Region, None if it does not exist yet


def read_observed(parameter_name: str, region: str, provider: aws.Provider) -> str | None:
    """The parameter's value in `region`, or None if it does not exist.

    `get_parameters_by_path` and not `get_parameter`: GetParameter fails the deploy with ParameterNotFound on a
    missing name (hashicorp/terraform-provider-aws#14777, #18282), GetParametersByPath answers an empty list
    (aws/aws-sdk-js-v3#5928). Synchronous on purpose: every tier needs the answer before it registers anything.
    """
    path = parameter_name.rsplit("/", 1)[0]
    found = aws.ssm.get_parameters_by_path(
        path=path,
        recursive=False,
        with_decryption=False,
        region=region,
        opts=pulumi.InvokeOptions(provider=provider),
    )
    values = dict(zip(found.names or [], found.values or [], strict=False))
    return values.get(parameter_name)


def resolve_active_region(cfg: StackConfig, primary_region: str, provider: aws.Provider) -> ActiveRegion:
    """Read the knob in this stack's own Region and apply the precedence (module docstring)."""
    name = active_region_parameter(cfg.naming.prefix, cfg.environment)
    observed = read_observed(name, cfg.region, provider)
    if observed is not None and observed not in AWS_REGIONS:
        raise pulumi.RunError(
            f"SSM parameter {name} in {cfg.region} holds '{observed}', which is not an AWS Region code. Fix: write "
            f"the writer's Region (re-run the DR drill, or `aws ssm put-parameter --overwrite --region {cfg.region} "
            f"--name {name} --value <region>`), or set platform:activeRegion in Pulumi.{cfg.region}.yaml."
        )
    if cfg.active_region is not None:
        if cfg.active_region != observed:
            pulumi.log.warn(
                f"platform:activeRegion = {cfg.active_region} in the stack file overrides the SSM parameter {name} "
                f"({observed or 'absent'}) in {cfg.region}; remove the override once the drill has written it."
            )
        return ActiveRegion(cfg.active_region, "override", name, observed)
    if observed is not None:
        pulumi.log.info(f"active region {observed} (SSM parameter {name} in {cfg.region})")
        return ActiveRegion(observed, "ssm", name, observed)
    pulumi.log.info(f"active region {primary_region}: SSM parameter {name} absent in {cfg.region} (first deploy)")
    return ActiveRegion(primary_region, "default", name, None)
