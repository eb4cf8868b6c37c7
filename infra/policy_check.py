"""The policy pack's rules on an offline plan: `python -m infra plan <stack> --policy`.

The same rule functions as `pulumi preview --policy-pack policy` (policy/rules), evaluated on the synthesized
resources' inputs. Exit status: 1 when any mandatory rule is violated, else 0 (advisory findings are printed).
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from infra.plan.model import Plan
from policy.rules import Finding, Resource, evaluate, normalize


def plan_resources(plan: Plan) -> list[Resource]:
    """The plan's registrations as the rules see them (inputs normalized, `[unknown]` -> UNKNOWN)."""
    return [
        Resource(r.type, normalize(r.inputs), r.urn, r.name, tuple(r.dependencies)) for r in plan.resources if r.custom
    ]


def check_plan(plan: Plan) -> list[Finding]:
    return evaluate(plan_resources(plan))


def mandatory_violations(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.evaluated and f.enforcement == "mandatory"]


def report_policy(plan: Plan, console: Console) -> int:
    """Print a table of findings; 1 on any mandatory violation, else 0."""
    findings = check_plan(plan)
    violations = [f for f in findings if f.evaluated]
    skipped = [f for f in findings if not f.evaluated]
    order = {"mandatory": 0, "advisory": 1}
    violations.sort(key=lambda f: (order[f.enforcement], f.rule.id, f.resource.name if f.resource else ""))
    mandatory = mandatory_violations(findings)
    if violations or skipped:
        table = Table(title=f"Policy findings: {plan.stack}")
        for column in ("enforcement", "rule", "controls", "resource", "message"):
            table.add_column(column, overflow="fold")
        for finding in violations:
            color = "red" if finding.enforcement == "mandatory" else "yellow"
            table.add_row(
                f"[{color}]{finding.enforcement}[/]",
                finding.rule.id,
                ", ".join(finding.rule.controls) or "platform",
                _label(finding),
                finding.message,
            )
        for finding in skipped:
            table.add_row("[dim]not evaluated[/]", finding.rule.id, "", _label(finding), finding.message)
        console.print(table)
    from policy.rules import RULES

    console.print(
        f"policy: {len(RULES)} rules on {len(plan.resources)} resources of {plan.stack}: "
        f"{len(mandatory)} mandatory violation(s), {len(violations) - len(mandatory)} advisory, "
        f"{len(skipped)} not evaluated (unknown values)."
    )
    if mandatory:
        rules = sorted({f.rule.id for f in mandatory})
        from infra.console import error

        error(
            f"policy check failed on {plan.stack}: mandatory rule(s) violated: {', '.join(rules)}.",
            "change the resources the findings above name (docs/policy.md lists each rule and what it requires).",
        )
        return 1
    return 0


def _label(finding: Finding) -> str:
    if finding.resource is None:
        return "(stack)"
    return f"{finding.resource.name} ({finding.resource.type.rsplit(':', 1)[-1]})"


def rule_status(plans: dict[str, Plan]) -> dict[str, str]:
    """Per rule: how the real stacks fare ("pass", "advisory finding on ...", "VIOLATED on ...", "no resource yet")."""
    from policy.rules import RULES

    findings = {stack: check_plan(plan) for stack, plan in plans.items()}
    present = {r.type for plan in plans.values() for r in plan.resources}
    status = {}
    for rule_id, rule in RULES.items():
        hits = sorted({stack for stack, found in findings.items() for f in found if f.rule.id == rule_id})
        if hits:
            word = "VIOLATED" if rule.enforcement == "mandatory" else "advisory finding"
            status[rule_id] = f"{word} on {', '.join(hits)}"
        elif not present & set(rule.types):
            status[rule_id] = "no such resource in the stacks yet"
        else:
            status[rule_id] = "pass"
    return status


def markdown_table(plans: dict[str, Plan]) -> str:
    """The control -> rule -> enforcement -> status table of docs/policy.md."""
    from policy.rules import RULES

    status = rule_status(plans)
    rows = []
    for rule_id, rule in RULES.items():
        for control in rule.controls or ("platform",):
            rows.append((control, rule_id, rule.enforcement, status[rule_id], rule.description))

    def key(row):
        control = row[0]
        service, _, number = control.partition(".")
        return (control == "platform", service, int(number) if number.isdigit() else 0, row[1])

    lines = ["| control | rule | enforcement | status (real stacks) | requires |", "|---|---|---|---|---|"]
    lines += [f"| {c} | `{r}` | {e} | {s} | {d} |" for c, r, e, s, d in sorted(rows, key=key)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m infra.policy_check  -> the table for docs/policy.md
    from infra.plan.runner import REPO_ROOT, Planner

    planner = Planner(REPO_ROOT)
    print(markdown_table({stack: planner.plan(stack) for stack in sorted(planner.fleet.stacks)}), end="")
