"""The resource graph of a plan in Graphviz DOT, like `pulumi stack graph` but offline and grouped by component.

Each ComponentResource is a cluster holding its children (the parent tree); each custom resource is a node; an edge
runs from a dependency to the resource that depends on it (the order Pulumi creates them in). An edge to or from
a component is drawn to its cluster (Graphviz compound edges). Edges to a resource's own ancestors (implied by the
nesting) and to explicit providers (almost every resource has one; `provider` in the plan JSON) are left out, and
so is the root stack.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from infra.plan.model import Plan, PlannedResource


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _short_type(typ: str) -> str:
    """`aws:ec2/vpc:Vpc` -> `ec2.Vpc`, `kubernetes:apps/v1:Deployment` -> `apps.Deployment`."""
    parts = typ.split(":")
    if typ.startswith("pulumi:providers:"):
        return f"provider {parts[-1]}"
    if len(parts) == 3:
        return f"{parts[1].split('/')[0]}.{parts[2]}"
    return typ


def to_dot(plan: Plan) -> str:
    """The DOT document of `plan`."""
    ids = {r.urn: f"r{i}" for i, r in enumerate(plan.resources)}
    by_urn = plan.by_urn()
    children: dict[str | None, list[PlannedResource]] = {}
    for r in plan.resources:
        parent = r.parent if r.parent in by_urn else None
        children.setdefault(parent, []).append(r)

    lines = [
        f"digraph {_quote(f'{plan.project}/{plan.stack}')} {{",
        f"  graph [rankdir=LR, compound=true, newrank=true, fontname=Helvetica, fontsize=12, labelloc=t, "
        f"label={_quote(f'{plan.project}/{plan.stack}: {len(plan.resources)} resources (offline plan)')}];",
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname=Helvetica, fontsize=9];',
        '  edge [color="#5b7083", arrowsize=0.6];',
    ]

    def emit(parent: str | None, depth: int) -> None:
        pad = "  " * depth
        for r in children.get(parent, []):
            label = f"{r.name}\\n{_short_type(r.type)}"
            if r.custom:
                shape = ', shape=ellipse, fillcolor="#eeeeee"' if r.type.startswith("pulumi:providers:") else ""
                lines.append(f'{pad}{ids[r.urn]} [label="{label.replace(chr(34), "")}"{shape}];')
                continue
            lines.append(f"{pad}subgraph cluster_{ids[r.urn]} {{")
            lines.append(
                f'{pad}  label={_quote(r.name + " (" + r.type.split(":")[-1] + ")")}; style="rounded,filled"; '
                f'fillcolor="#f3f7fb"; color="#9fb3c8"; fontname="Helvetica-Bold"; fontsize=10;'
            )
            lines.append(f"{pad}  {ids[r.urn]} [shape=point, width=0.01, style=invis];")  # edge anchor
            emit(r.urn, depth + 1)
            lines.append(f"{pad}}}")

    emit(None, 1)

    def ancestors(urn: str) -> set[str]:
        seen: set[str] = set()
        cursor = by_urn[urn].parent
        while cursor in by_urn and cursor not in seen:
            seen.add(cursor)
            cursor = by_urn[cursor].parent
        return seen

    edges: set[tuple[str, str]] = set()
    for r in plan.resources:
        up = ancestors(r.urn)
        for dep in r.dependencies:
            if dep in by_urn and dep != r.urn and dep not in up and r.urn not in ancestors(dep):
                edges.add((dep, r.urn))
    for dep, urn in sorted(edges, key=lambda e: (ids[e[0]], ids[e[1]])):
        attrs = []
        if not by_urn[dep].custom:
            attrs.append(f"ltail=cluster_{ids[dep]}")
        if not by_urn[urn].custom:
            attrs.append(f"lhead=cluster_{ids[urn]}")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {ids[dep]} -> {ids[urn]}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_graph(plan: Plan, path: Path) -> list[Path]:
    """Write DOT to `path` (`.svg` given: DOT beside it); SVG too when Graphviz `dot` is on PATH. Returns the files.

    Asking for `.svg` without Graphviz is an error (FileNotFoundError naming the fix); asking for DOT never needs it.
    """
    dot_path = path.with_suffix(".dot") if path.suffix == ".svg" else path
    svg_path = path if path.suffix == ".svg" else path.with_suffix(".svg")
    dot = shutil.which("dot")
    if path.suffix == ".svg" and dot is None:
        raise FileNotFoundError(
            f"writing {path} needs Graphviz `dot` on PATH (Debian/Ubuntu: apt-get install graphviz); "
            f"or ask for {dot_path.name} (DOT needs nothing)"
        )
    dot_path.parent.mkdir(parents=True, exist_ok=True)
    dot_path.write_text(to_dot(plan))
    written = [dot_path]
    if dot is not None:
        subprocess.run([dot, "-Tsvg", "-o", str(svg_path), str(dot_path)], check=True, timeout=300)
        written.append(svg_path)
    return written
