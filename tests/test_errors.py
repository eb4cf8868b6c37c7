"""One error convention: stack-file mistakes name the file and the position, and "Fix:" says what to write."""

from __future__ import annotations

import pytest

from infra.config.errors import ConfigError
from infra.config.fleet import load_fleet
from infra.config.network import NetworkConfig
from tests.config_cases import PRIMARY, set_key


def _errors(root) -> str:
    with pytest.raises(ConfigError) as caught:
        load_fleet(root)
    return str(caught.value)


def test_yaml_syntax_error_shows_file_line_column_and_the_line(write_stacks):
    root = write_stacks()
    path = root / PRIMARY
    lines = path.read_text().splitlines()
    number = next(i for i, line in enumerate(lines) if line.strip().startswith("engineVersion:"))
    lines[number] = lines[number].replace(": ", ': "', 1)  # an unterminated quote
    path.write_text("\n".join(lines) + "\n")
    text = _errors(root)
    assert f"{PRIMARY}: line {number + 1}, column " in text
    assert f"    {number + 1} | {lines[number]}" in text  # the offending line, then a caret under the column
    assert "^\nFix: correct the syntax" in text


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n"])
def test_empty_stack_file_says_it_is_empty(write_stacks, content):
    root = write_stacks()
    (root / PRIMARY).write_text(content)
    assert _errors(root) == (
        f"{PRIMARY}: the stack file is empty. Fix: copy a stack file of the same role and edit it "
        "(README, Adding a Region), or delete the file."
    )


@pytest.mark.parametrize(
    ("edit", "key", "fix"),
    [
        # a custom rule: its own fix (the range) and the default, not the field's description
        (set_key("network", "azCount", 1), "platform:network.azCount",
         "use an azCount from 2 to 6 (the seed uses 3), or remove `azCount` to use the default (3)."),
        (set_key("network", "flowLogs.trafficType", "SOME"), "platform:network.flowLogs.trafficType",
         "use one of 'ALL', 'ACCEPT' or 'REJECT', or remove `trafficType` to use the default (\"ALL\")."),
        (set_key("network", "subnetSizes.public", 40), "platform:network.subnetSizes.public",
         "use a value from 16 to 28, or remove `public` to use the default (22)."),
        (set_key("network", "subnetSizes.public", "big"), "platform:network.subnetSizes.public",
         "use a whole number from 16 to 28, or remove `public` to use the default (22)."),
    ],
)  # fmt: skip
def test_fix_says_what_to_write(write_stacks, edit, key, fix):
    text = _errors(write_stacks({"us-east-1": edit}))
    line = next(line for line in text.splitlines() if f"key '{key}'" in line)
    assert line.endswith(f"Fix: {fix}"), line
    description = NetworkConfig.model_fields["az_count"].description
    assert description not in text


def test_missing_required_key_says_what_to_add(write_stacks):
    root = write_stacks({"us-east-1": lambda c: c["platform:network"].pop("cidr")})
    text = _errors(root)
    assert "key 'platform:network.cidr': is required but missing. Fix: add `cidr: <value>` (VPC IPv4 CIDR" in text
