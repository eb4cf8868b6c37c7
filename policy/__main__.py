"""Pulumi policy pack `platform-aws-fsbp`: `pulumi preview --policy-pack policy`.

Pulumi runs this file from the `policy/` directory (runpy with this directory first on sys.path, `__name__ ==
"__main__"`) in the pack's own virtualenv (`policy/venv`, from `policy/requirements.txt`). The rules live next to it
in `rules/` and import nothing outside this directory, so the pack is self-contained; the repository's offline
check (`python -m infra plan <stack> --policy`) imports the very same functions as `policy.rules`.

Each rule becomes one policy named after the rule id: resource rules -> `ResourceValidationPolicy`, stack rules
(a bucket needs its public access block, a VPC its flow log, ...) -> `StackValidationPolicy`.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

from pulumi_policy import (  # noqa: E402
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyPack,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from rules import RULES, Resource, Rule, UnknownValue, normalize  # noqa: E402

PACK_NAME = "platform-aws-fsbp"
LEVELS = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}


def _framework(rule: Rule) -> PolicyComplianceFramework | None:
    if not rule.controls:
        return None
    return PolicyComplianceFramework(
        name="AWS Foundational Security Best Practices", version="1.0.0", reference=", ".join(rule.controls)
    )


def _common(rule: Rule) -> dict:
    return {
        "name": rule.id,
        "description": _description(rule),
        "enforcement_level": LEVELS[rule.enforcement],
        "framework": _framework(rule),
        "tags": ["fsbp" if rule.controls else "platform"],
    }


def _description(rule: Rule) -> str:
    controls = f" [{', '.join(rule.controls)}]" if rule.controls else " [platform invariant]"
    return f"{rule.description}{controls} Why: {rule.reason}"


def resource_policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation) -> None:
        if not rule.applies_to(args.resource_type):
            return
        resource = Resource(args.resource_type, normalize(args.props), args.urn, args.name)
        try:
            messages = rule.check_resource(resource)
        except UnknownValue:
            return  # not known during preview: evaluated again by `pulumi up`
        for message in messages:
            report_violation(f"{rule.id}: {message}")

    return ResourceValidationPolicy(validate=validate, **_common(rule))


def _stack_resource(policy_resource) -> Resource:
    return Resource(
        policy_resource.resource_type,
        normalize(policy_resource.props),
        policy_resource.urn,
        policy_resource.name,
        tuple(dep.urn for dep in (policy_resource.dependencies or [])),
    )


def stack_policy(rule: Rule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation) -> None:
        resources = [_stack_resource(r) for r in args.resources]
        try:
            found = rule.check_stack(resources)
        except UnknownValue:
            return
        for resource, message in found:
            report_violation(f"{rule.id}: {message}", resource.urn or None)

    return StackValidationPolicy(validate=validate, **_common(rule))


def build_policies() -> list:
    return [stack_policy(rule) if rule.stack_check else resource_policy(rule) for rule in RULES.values()]


POLICIES = build_policies()

if __name__ == "__main__":
    PolicyPack(
        name=PACK_NAME,
        description="AWS Foundational Security Best Practices for the platform's resources, plus platform invariants.",
        policies=POLICIES,
        enforcement_level=EnforcementLevel.ADVISORY,
    )
