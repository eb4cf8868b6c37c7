"""Regenerate `taggable.py` from the installed pulumi-aws SDK: `python -m policy.rules.taggable_gen`."""

from __future__ import annotations

import re
from pathlib import Path

_TOKEN = re.compile(r"super\(\w+, __self__\)\.__init__\(\s*'(aws:[^']+)'")
_TAGS_INPUT = re.compile(r"^\s+tags: pulumi\.Input\[", re.MULTILINE)


def taggable_types(sdk_root: Path) -> list[str]:
    """Resource type tokens whose input args class (the first class in the module) has a `tags` field."""
    found = set()
    for path in sorted(sdk_root.rglob("*.py")):
        source = path.read_text()
        match = _TOKEN.search(source)
        if match and _TAGS_INPUT.search(source.split("class _", 1)[0]):
            found.add(match.group(1))
    return sorted(found)


def render(types: list[str]) -> str:
    head = [
        '"""AWS resource types whose inputs accept `tags` (pulumi-aws 7.51.1).',
        "",
        "Generated from the installed SDK: every resource class whose input arguments have a `tags` field.",
        "Regenerate with `python -m policy.rules.taggable_gen` after a pulumi-aws upgrade.",
        '"""',
        "",
        "TAGGABLE_TYPES = frozenset(",
        "    {",
    ]
    return "\n".join([*head, *(f'        "{t}",' for t in types), "    }", ")", ""])


if __name__ == "__main__":
    import pulumi_aws

    target = Path(__file__).with_name("taggable.py")
    target.write_text(render(taggable_types(Path(pulumi_aws.__file__).parent)))
    print(f"wrote {target}")
