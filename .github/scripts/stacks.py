"""Print the stacks of this repository for GitHub Actions matrices (`>> "$GITHUB_OUTPUT"`).

One stack per `Pulumi.<stack>.yaml` file; `platform:role` says which one is the primary. Output lines:
    stacks=["us-east-1", "eu-west-1"]      every stack, primary first
    primary=us-east-1
    secondaries=["eu-west-1"]
Usage: python .github/scripts/stacks.py [ROOT]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

_ROLE = re.compile(r"^\s+platform:role:\s*[\"']?(primary|secondary)[\"']?\s*(#.*)?$", re.MULTILINE)


def stack_roles(root: Path) -> dict[str, str]:
    roles = {}
    for path in sorted(root.glob("Pulumi.*.yaml")):
        stack = path.name[len("Pulumi.") : -len(".yaml")]
        match = _ROLE.search(path.read_text())
        if not match:
            raise SystemExit(f"{path.name}: no 'platform:role: primary|secondary' line")
        roles[stack] = match.group(1)
    return roles


def outputs(root: Path) -> dict[str, str]:
    roles = stack_roles(root)
    primaries = [s for s, role in roles.items() if role == "primary"]
    if len(primaries) != 1:
        raise SystemExit(f"expected exactly one primary stack, found {primaries or 'none'}")
    secondaries = [s for s, role in roles.items() if role == "secondary"]
    return {
        "stacks": json.dumps([primaries[0], *secondaries]),
        "primary": primaries[0],
        "secondaries": json.dumps(secondaries),
    }


if __name__ == "__main__":
    for key, value in outputs(Path(sys.argv[1] if len(sys.argv) > 1 else ".")).items():
        print(f"{key}={value}")
