"""Region audit of a plan: in which AWS Regions a stack creates resources, and which global control planes it uses.

A resource's Region is its pulumi-aws v7 per-resource `region` input, else its provider's `region` (the stack's
explicit provider; children inherit it). Global services have no `region`: their control plane sits in one Region
(us-east-1 in the `aws` partition) and a deploy that changes such a resource needs it. Sources:
https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/global-services.html (IAM, Route 53,
CloudFront, Budgets, Organizations control planes in us-east-1) and botocore's `arc-region-switch` endpoint rules
(plans: control plane in the partition leader). docs/offline-plan.md, "Regions per stack", explains the fields.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

# pulumi-aws module -> (service, control-plane Region). Route 53 Resolver / Profiles are regional (own modules).
GLOBAL_MODULES = {
    "iam": ("iam", "us-east-1"),
    "route53": ("route53", "us-east-1"),
    "cloudfront": ("cloudfront", "us-east-1"),
    "budgets": ("budgets", "us-east-1"),
    "organizations": ("organizations", "us-east-1"),
    "costexplorer": ("cost-explorer", "us-east-1"),
    "arcregionswitch": ("arc-region-switch", "us-east-1"),
    "route53recoverycontrol": ("route53-recovery-control-config", "us-west-2"),
    "shield": ("shield", "us-east-1"),
}
REGIONAL_ROUTE53_TYPES = ("aws:route53/resolver", "aws:route53/profiles")


def _module(typ: str) -> str:
    return typ.split(":")[1].split("/")[0]


def region_audit(resources: list[Any], default_region: str | None = None) -> dict[str, Any]:
    """`{"stackRegion", "regional": {region: count}, "global": {service: {"controlPlaneRegion", "resources"}},
    "crossRegion": {urn: region}}` over the plan's AWS resources (Kubernetes, random, ... are not AWS resources)."""
    providers = {r.urn: r.inputs.get("region") for r in resources if r.type == "pulumi:providers:aws"}
    stack_region = next(iter(providers.values()), None) if len(set(providers.values())) == 1 else None
    stack_region = stack_region or default_region
    regional: Counter[str] = Counter()
    global_counts: Counter[str] = Counter()
    control: dict[str, str] = {}
    placed: dict[str, str] = {}
    for res in resources:
        if not res.custom or not res.type.startswith("aws:"):
            continue
        module = _module(res.type)
        if module in GLOBAL_MODULES and not res.type.startswith(REGIONAL_ROUTE53_TYPES):
            service, region = GLOBAL_MODULES[module]
            global_counts[service] += 1
            control[service] = region
            continue
        region = res.inputs.get("region") or providers.get(res.provider or "") or stack_region
        if region is None:
            raise ValueError(f"{res.urn}: no region input and no provider region")
        regional[region] += 1
        placed[res.urn] = region
    return {
        "stackRegion": stack_region,
        "regional": dict(sorted(regional.items())),
        "global": {s: {"controlPlaneRegion": control[s], "resources": n} for s, n in sorted(global_counts.items())},
        "crossRegion": {urn: region for urn, region in placed.items() if region != stack_region},
    }


def regions_of(resources: list[Any], default_region: str | None = None) -> set[str]:
    """The set of Regions the stack's regional AWS resources are created in."""
    return set(region_audit(resources, default_region)["regional"])
