"""The offline plan document: the shape `python -m infra plan --json` writes (see docs/offline-plan.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class PlannedResource:
    """One registration the program made: what the engine would receive."""

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    provider: str | None
    inputs: dict[str, Any]
    dependencies: list[str]
    # Resource options the engine receives: protect, retainOnDelete, ignoreChanges, deleteBeforeReplace.
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "provider": self.provider,
            "inputs": self.inputs,
            "dependencies": self.dependencies,
            "options": self.options,
        }


@dataclass
class Plan:
    """The synthesized stack: resources in registration order and resolved stack outputs."""

    project: str
    stack: str
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [r.to_dict() for r in self.resources],
            "outputs": self.outputs,
            "regions": self.regions(),
        }

    def regions(self) -> dict[str, Any]:
        """Where the stack's AWS resources are created (`infra/plan/regions.py`): derived, not stored."""
        from infra.plan.regions import region_audit

        return region_audit(self.resources, self.outputs.get("region"))

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        return cls(
            project=data["project"],
            stack=data["stack"],
            resources=[PlannedResource(**r) for r in data["resources"]],
            outputs=data["outputs"],
        )

    # Query helpers used by tests, the policy pack, the DR emulator and the benchmark.
    def of_type(self, typ: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str, name: str | None = None) -> PlannedResource:
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {typ}{' named ' + name if name else ''}, found {len(found)}")
        return found[0]

    def by_urn(self) -> dict[str, PlannedResource]:
        return {r.urn: r for r in self.resources}

    def children(self, urn: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.parent == urn]
