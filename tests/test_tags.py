"""Cost-allocation tags: no taggable AWS resource in either stack lacks the standard tags (with the stack's values)."""

from __future__ import annotations

import json

from infra.config.fleet import load_fleet
from infra.plan.model import Plan, PlannedResource
from infra.plan.runner import REPO_ROOT
from infra.tags import COST_ALLOCATION_KEYS, REQUIRED_TAG_KEYS, standard_tags
from policy.rules.taggable import TAGGABLE_TYPES


def untagged(plan: Plan, expected: dict[str, str]) -> list[str]:
    """`type name: problem` for every taggable resource missing a required tag or carrying another value."""
    problems = []
    for res in plan.resources:
        if res.type not in TAGGABLE_TYPES:
            continue
        tags = res.inputs.get("tags") or {}
        missing = [key for key in REQUIRED_TAG_KEYS if not tags.get(key)]
        # `region` names the owning stack's Region; a resource placed in another Region may name its own instead.
        allowed = {key: {expected[key]} for key in REQUIRED_TAG_KEYS}
        allowed["region"].add(res.inputs.get("region") or expected["region"])
        wrong = [key for key in REQUIRED_TAG_KEYS if tags.get(key) and tags[key] not in allowed[key]]
        if missing or wrong:
            problems.append(f"{res.type} {res.name}: missing {missing}, other value {wrong}")
    return problems


def test_no_taggable_resource_lacks_the_standard_tags(plans):
    fleet = load_fleet(REPO_ROOT)
    for stack, plan in plans.items():
        expected = standard_tags(fleet.stacks[stack])
        taggable = [r for r in plan.resources if r.type in TAGGABLE_TYPES]
        assert len(taggable) > 100, stack  # the check really ran over the stack
        assert untagged(plan, expected) == [], stack


def test_cost_allocation_values_come_from_the_stack_file(plans):
    fleet = load_fleet(REPO_ROOT)
    for stack, plan in plans.items():
        cfg = fleet.stacks[stack]
        topic = next(r for r in plan.of_type("aws:sns/topic:Topic") if r.name == "observability-critical")
        tags = topic.inputs["tags"]
        assert {k: tags[k] for k in COST_ALLOCATION_KEYS} == {
            "cost-center": cfg.tags.cost_center, "business-unit": cfg.tags.business_unit,
            "team": cfg.tags.team, "owner": cfg.tags.owner,
        }  # fmt: skip
        assert tags["region"] == stack  # what the stack-level budget filters on


def test_the_aws_provider_default_tags_are_the_standard_tags_too(plans):
    fleet = load_fleet(REPO_ROOT)
    for stack, plan in plans.items():
        (provider,) = [r for r in plan.resources if r.type == "pulumi:providers:aws"]
        default = provider.inputs["defaultTags"]
        default = json.loads(default) if isinstance(default, str) else default
        assert default["tags"] == standard_tags(fleet.stacks[stack])


def test_the_check_catches_a_missing_and_a_wrong_tag():
    expected = {key: "v" for key in REQUIRED_TAG_KEYS}
    plan = Plan(project="p", stack="s")
    base = dict(urn="u", parent=None, custom=True, provider=None, dependencies=[])
    plan.resources = [
        PlannedResource(type="aws:sns/topic:Topic", name="ok", inputs={"tags": dict(expected)}, **base),
        PlannedResource(type="aws:sns/topic:Topic", name="none", inputs={}, **base),
        PlannedResource(type="aws:sns/topic:Topic", name="wrong", inputs={"tags": {**expected, "team": "x"}}, **base),
        PlannedResource(type="aws:kms/alias:Alias", name="untaggable", inputs={}, **base),
    ]
    problems = untagged(plan, expected)
    assert len(problems) == 2
    assert problems[0].startswith("aws:sns/topic:Topic none: missing ['environment'")
    assert "other value ['team']" in problems[1]
    placed_elsewhere = {**expected, "region": "us-east-1"}
    plan.resources = [
        PlannedResource(
            type="aws:sns/topic:Topic", name="r", inputs={"tags": placed_elsewhere, "region": "us-east-1"}, **base
        ),
        PlannedResource(
            type="aws:sns/topic:Topic", name="x", inputs={"tags": placed_elsewhere, "region": "eu-west-1"}, **base
        ),
    ]
    assert [p.split(":")[2].split()[1] for p in untagged(plan, {**expected, "region": "v"})] == ["x"]
