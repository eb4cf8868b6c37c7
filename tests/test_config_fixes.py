"""Every rule of the config models' own validators ends its error with a concrete "Fix:": the range, the allowed
values, or which keys to change and how (issue #16, item 6), never the generic hint pydantic's own errors fall back to.

One bad case per `raise ConfigFix` in infra/config (tests/config_fix_cases.py); `test_every_custom_rule_has_a_case`
keeps that table complete.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from infra.cli import main
from infra.config.fleet import fleet_issues, load_fleet
from infra.plan.runner import REPO_ROOT
from tests.config_cases import PRIMARY, fix_sites, model_issues, set_key
from tests.config_fix_cases import CASES

GENERIC = "give it a value this rule allows"


@pytest.mark.parametrize(("edit", "key", "words"), CASES, ids=[f"{c[1]}:{c[2][:40]}" for c in CASES])
def test_custom_rule_fix_says_what_to_write(edit, key, words):
    issues = [issue for issue in model_issues(edit) if issue.key == key]
    assert issues, f"no issue for {key}: {[i.render() for i in model_issues(edit)]}"
    issue = issues[0]
    assert GENERIC not in issue.fix, issue.render()
    assert words in issue.fix, issue.render()
    assert issue.render().endswith(f" Fix: {issue.fix}") and issue.fix.endswith(".")
    assert words not in issue.message, "the message says what is wrong, the fix what to write instead"


def _raise_sites() -> set[tuple[str, int]]:
    sites = set()
    for path in sorted((REPO_ROOT / "infra" / "config").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                name = getattr(node.exc.func, "id", "")
                assert name != "ValueError", f"{path.name}:{node.lineno}: raise ConfigFix(message, fix) instead"
                if name == "ConfigFix":
                    assert len(node.exc.args) == 2, f"{path.name}:{node.lineno}: give ConfigFix a message and a fix"
                    sites.add((Path(path).name, node.lineno))
    return sites


def test_every_custom_rule_has_a_case():
    """Each `raise ConfigFix` in infra/config is reached by a case above, and no rule raises a bare ValueError
    (whose "Fix:" could only be the generic hint)."""
    reached = set().union(*(fix_sites(edit) for edit, _, _ in CASES))
    missing = sorted(_raise_sites() - reached)
    assert not missing, f"add a case to CASES for each of {missing}"


def test_check_prints_the_rule_s_fix(write_stacks, capsys):
    """`python -m infra check` shows the same fix (the case from issue #16: azCount 9, the rule is 2-6)."""
    root = write_stacks({"us-east-1": set_key("network", "azCount", 9)})
    assert main(["--root", str(root), "check"]) == 2
    assert (
        f"{PRIMARY}: key 'platform:network.azCount': a highly available VPC needs 2 to 6 AZs (got 9). "
        "Fix: use an azCount from 2 to 6 (the seed uses 3), or remove `azCount` to use the default (3)."
    ) in capsys.readouterr().err


# Rules between stack files (infra/config/fleet.py): (stack edited or added, its new values, key, words of the fix);
# "eu-central-1" is a third stack made from eu-west-1's settings.
FLEET_CASES = [
    ("eu-west-1", {"partner_stack": "eu-west-1"}, "platform:partnerStack", "name another stack: one of"),
    ("eu-central-1", {"partner_stack": "eu-west-1"}, "platform:partnerStack", "set partnerStack: us-east-1"),
    ("eu-west-1", {"role": "primary", "partner_stack": "us-east-1"}, "platform:partnerStack",
     "name a secondary stack (its DR target): one of eu-central-1"),
    ("eu-west-1", {"environment": "staging"}, "platform:environment",
     "set the same platform:environment in every stack file (the primary's is 'prod')"),
]  # fmt: skip


@pytest.mark.parametrize(("stack", "values", "key", "words"), FLEET_CASES)
def test_fleet_rule_fix_says_what_to_write(stack, values, key, words):
    stacks = dict(load_fleet(REPO_ROOT).stacks)
    stacks["eu-central-1"] = stacks["eu-west-1"].model_copy(update={"region": "eu-central-1"})
    stacks[stack] = stacks[stack].model_copy(update=values)
    fixes = [issue.fix for issue in fleet_issues(stacks) if issue.key == key]
    assert any(words in fix for fix in fixes), fixes
