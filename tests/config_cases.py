"""Shared pieces of the bad-config tests: edits of a stack file's `platform:*` sections and the one assertion
every bad input must satisfy (the error names the file and the key, says what is allowed and how to fix it)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from infra.config.errors import ConfigError, ConfigFix, ConfigIssue
from infra.config.fleet import load_fleet
from infra.config.loader import parse_stack_config, platform_keys, read_stack_file
from infra.config.stack import StackConfig
from infra.plan.runner import REPO_ROOT

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


@functools.cache
def _stack_config(file: str) -> dict[str, Any]:
    return read_stack_file(REPO_ROOT / file)


def _edited(edit: Edit, file: str) -> dict[str, Any]:
    config = copy.deepcopy(_stack_config(file))
    edit(config)
    return platform_keys(config)


def model_issues(edit: Edit, file: str = PRIMARY) -> list[ConfigIssue]:
    """The issues of the real stack file `file` after `edit`, from the model parse alone: no YAML reading per case
    (the slow part) and no rules between stack files, so a table of many cases stays fast."""
    try:
        parse_stack_config(_edited(edit, file), file)
    except ConfigError as exc:
        return exc.issues
    return []


def fix_sites(edit: Edit, file: str = PRIMARY) -> set[tuple[str, int]]:
    """(module file name, line) of each `raise ConfigFix` that refused the edited stack file."""
    try:
        StackConfig.model_validate(_edited(edit, file))
    except ValidationError as exc:
        raised = [(error.get("ctx") or {}).get("error") for error in exc.errors()]
        return {_innermost(error) for error in raised if isinstance(error, ConfigFix)}
    return set()


def _innermost(error: BaseException) -> tuple[str, int]:
    tb = error.__traceback__
    assert tb is not None
    while tb.tb_next is not None:
        tb = tb.tb_next
    return Path(tb.tb_frame.f_code.co_filename).name, tb.tb_lineno
