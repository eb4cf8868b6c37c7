"""What the offline plan's invokes see of the live account: SSM parameters per Region.

The program reads the active-region knob from SSM in its own Region (stacks/active_region.py). Offline, the
`aws:ssm/getParametersByPath` invoke is answered from an observed state: none (a first deploy: no parameter), an
explicit map (`--observed-state FILE`, JSON `{region: {name: value}}`), or an AWS endpoint such as the drill's
emulator, so "plan after a drill" sees what a real deploy would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from infra.config.errors import ConfigError, ConfigIssue
from infra.plan.fakes import ACCOUNT_ID


class Observed(Protocol):
    def parameters(self, region: str) -> dict[str, str]:
        """Every SSM parameter name -> value in `region`."""
        ...


@dataclass(frozen=True)
class StaticObserved:
    """An explicit map `{region: {parameter name: value}}` (empty: nothing deployed yet)."""

    by_region: dict[str, dict[str, str]] = field(default_factory=dict)

    def parameters(self, region: str) -> dict[str, str]:
        return dict(self.by_region.get(region, {}))

    @classmethod
    def from_file(cls, path: Path) -> StaticObserved:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError([ConfigIssue(str(path), "-", f"cannot read observed state: {exc}.", _FIX)]) from None
        ok = isinstance(data, dict) and all(
            isinstance(v, dict) and all(isinstance(n, str) and isinstance(x, str) for n, x in v.items())
            for v in data.values()
        )
        if not ok:
            raise ConfigError([ConfigIssue(str(path), "-", "is not a map of region -> {name: value}.", _FIX)])
        return cls(data)


_FIX = 'write JSON like {"eu-west-1": {"/devtools/prod/dr/active-region": "eu-west-1"}}'


@dataclass
class EndpointObserved:
    """SSM as an AWS endpoint answers it (the drill's emulator; read once per Region)."""

    endpoint: str | None
    credentials: dict[str, str] = field(default_factory=dict)
    _cache: dict[str, dict[str, str]] = field(default_factory=dict)

    def parameters(self, region: str) -> dict[str, str]:
        if region not in self._cache:
            import boto3

            ssm = boto3.client("ssm", region_name=region, endpoint_url=self.endpoint, **self.credentials)
            found: dict[str, str] = {}
            for page in ssm.get_paginator("describe_parameters").paginate():
                names = [p["Name"] for p in page["Parameters"]]
                for start in range(0, len(names), 10):  # GetParameters takes at most 10 names
                    for p in ssm.get_parameters(Names=names[start : start + 10])["Parameters"]:
                        found[p["Name"]] = p["Value"]
            self._cache[region] = found
        return self._cache[region]


def parameters_by_path(observed: Observed, region: str, args: dict[str, Any]) -> dict[str, Any]:
    """The `aws:ssm/getParametersByPath` answer: direct children of `path` (all descendants if recursive)."""
    path = str(args.get("path", "")).rstrip("/")
    recursive = bool(args.get("recursive"))
    hits = sorted(
        (name, value)
        for name, value in observed.parameters(region).items()
        if name.startswith(path + "/") and (recursive or "/" not in name[len(path) + 1 :])
    )
    return {
        "id": path,
        "path": args.get("path"),
        "recursive": recursive,
        "region": region,
        "withDecryption": args.get("withDecryption"),
        "arns": [f"arn:aws:ssm:{region}:{ACCOUNT_ID}:parameter{n}" for n, _ in hits],
        "names": [n for n, _ in hits],
        "types": ["String" for _ in hits],
        "values": [v for _, v in hits],
    }
