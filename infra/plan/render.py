"""Human-readable views of a plan: the component tree, counts by type, outputs, and snapshot diffs."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from infra.plan.model import Plan


def render_plan(plan: Plan, console: Console) -> None:
    """Print the resource tree (component -> children), counts by type and the stack outputs."""
    tree = Tree(f"[bold]{plan.project}/{plan.stack}[/] ({len(plan.resources)} resources)")
    nodes = {}
    for resource in plan.resources:
        label = f"{resource.name} [dim]{resource.type}[/]"
        if not resource.custom:
            label = f"[bold cyan]{resource.name}[/] [dim]{resource.type}[/]"
        parent = nodes.get(resource.parent, tree) if resource.parent else tree
        nodes[resource.urn] = parent.add(label)
    console.print(tree)

    counts = Table(title="Resources by type")
    counts.add_column("type")
    counts.add_column("count", justify="right")
    for typ, count in sorted(Counter(r.type for r in plan.resources).items()):
        counts.add_row(typ, str(count))
    counts.add_row("[bold]total[/]", f"[bold]{len(plan.resources)}[/]")
    console.print(counts)

    render_regions(plan, console)

    outputs = Table(title="Stack outputs")
    outputs.add_column("name")
    outputs.add_column("value", overflow="fold")
    for name, value in plan.outputs.items():
        # Values are data, not markup: `[secret]` must print as is.
        outputs.add_row(name, escape(value if isinstance(value, str) else json.dumps(value)))
    console.print(outputs)
    capacity = plan.outputs.get("computeCapacity")
    if isinstance(capacity, dict):
        from infra.capacity import PoolCapacity, capacity_line

        fields = {k: v for k, v in capacity.items() if k in PoolCapacity.__dataclass_fields__}
        console.print(escape(capacity_line(PoolCapacity(**fields))))


def render_regions(plan: Plan, console: Console) -> None:
    """Regions the stack creates resources in, and the global control planes a change to them needs."""
    audit = plan.regions()
    table = Table(title=f"Regions of {plan.stack} (resources by Region; global services by control plane)")
    table.add_column("where")
    table.add_column("resources", justify="right")
    table.add_column("note")
    for region, count in audit["regional"].items():
        note = "this stack's Region" if region == audit["stackRegion"] else "[red]another Region[/]"
        table.add_row(region, str(count), note)
    for service, info in audit["global"].items():
        table.add_row(f"{service} (global)", str(info["resources"]), f"control plane in {info['controlPlaneRegion']}")
    console.print(table)


@dataclass
class PlanDiff:
    """Resources added, removed or changed (with the changed input keys) between two plans."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)  # stack outputs added, removed or changed

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.outputs)


def diff_plans(old: Plan, new: Plan) -> PlanDiff:
    """Compare two plans resource by resource (by URN)."""
    before, after = old.by_urn(), new.by_urn()
    result = PlanDiff(added=sorted(set(after) - set(before)), removed=sorted(set(before) - set(after)))
    for urn in sorted(set(before) & set(after)):
        a, b = before[urn].inputs, after[urn].inputs
        keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        if before[urn].provider != after[urn].provider:
            keys.append("(provider)")
        if keys:
            result.changed[urn] = keys
    names = set(old.outputs) | set(new.outputs)
    result.outputs = sorted(n for n in names if old.outputs.get(n, _ABSENT) != new.outputs.get(n, _ABSENT))
    return result


_ABSENT = object()


def render_diff(diff: PlanDiff, console: Console, base: str = "the base") -> None:
    """Print a diff the way a reviewer reads a preview: + added, - removed, ~ changed keys."""
    if diff.empty:
        console.print(f"No changes against {escape(base)}.")
        return
    console.print(f"Changes against {escape(base)}:")
    for urn in diff.added:
        console.print(f"[green]+ {escape(urn)}[/]")
    for urn in diff.removed:
        console.print(f"[red]- {escape(urn)}[/]")
    for urn, keys in diff.changed.items():
        console.print(f"[yellow]~ {escape(urn)}[/] ({escape(', '.join(keys))})")
    for name in diff.outputs:
        console.print(f"[yellow]~ output {escape(name)}[/]")
    console.print(
        f"{len(diff.added)} to add, {len(diff.changed)} to change, {len(diff.removed)} to remove, "
        f"{len(diff.outputs)} output(s) changed."
    )
