"""Shared pieces of the bad-config tests: edits of a stack file's `platform:*` sections and the one assertion
every bad input must satisfy (the error names the file and the key, says what is allowed and how to fix it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.config.errors import ConfigError
from infra.config.fleet import load_fleet

PRIMARY = "Pulumi.us-east-1.yaml"
SECONDARY = "Pulumi.eu-west-1.yaml"
Edit = Callable[[dict[str, Any]], None]


def set_key(section: str, path: str, value: Any) -> Edit:
    """An edit that sets `platform:<section>` `<path>` (dotted; digits index lists) to `value`."""

    def edit(config: dict[str, Any]) -> None:
        node = config.setdefault(f"platform:{section}", {})
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return edit


def combine(*edits: Edit) -> Edit:
    """One edit applying several."""

    def edit(config: dict[str, Any]) -> None:
        for one in edits:
            one(config)

    return edit


def assert_config_issue(root: Path, file: str, key: str, words: str) -> None:
    """Loading the stack files in `root` fails with an issue for `file` and `key` whose text contains `words`;
    every such issue is one paragraph and carries a fix."""
    with pytest.raises(ConfigError) as caught:
        load_fleet(root)
    matching = [i for i in caught.value.issues if i.file == file and i.key == key]
    assert matching, f"no issue for {file} {key}: {caught.value}"
    assert words in str(caught.value)
    assert all("\n" not in issue.render() and issue.fix for issue in matching)
