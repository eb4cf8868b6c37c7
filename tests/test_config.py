"""Stack-config validation: every bad input names the stack file, the key path and what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra.config.errors import ConfigError
from infra.config.fleet import load_fleet
from infra.config.loader import load_stack_file, parse_stack_config
from infra.plan.runner import REPO_ROOT
from tests.config_cases import PRIMARY, SECONDARY, assert_config_issue


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """An edit that sets `platform:<top>.<a>.<b>` (dotted under the top-level key) to `value`."""

    def edit(config: dict[str, Any]) -> None:
        top, *rest = path.split(".")
        key = f"platform:{top}"
        if not rest:
            config[key] = value
            return
        node = config[key]
        for part in rest[:-1]:
            node = node.setdefault(part, {})
        node[rest[-1]] = value

    return edit


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def edit(config: dict[str, Any]) -> None:
        top, *rest = path.split(".")
        if not rest:
            del config[f"platform:{top}"]
            return
        node = config[f"platform:{top}"]
        for part in rest[:-1]:
            node = node[part]
        del node[rest[-1]]

    return edit


def test_real_stack_files_are_valid():
    fleet = load_fleet(REPO_ROOT)
    assert fleet.primary == "us-east-1"
    assert fleet.secondaries() == ["eu-west-1"]
    assert fleet.stacks["us-east-1"].network.az_count == 3


# (stack edited, edit, file named, key named, words in the message)
BAD = [
    ("us-east-1", _set("network.azCount", "three"), PRIMARY, "platform:network.azCount", "integer"),
    ("us-east-1", _set("network.cidrr", "10.0.0.0/16"), PRIMARY, "platform:network.cidrr", "not a known setting"),
    ("us-east-1", _set("regon", "us-east-1"), PRIMARY, "platform:regon", "allowed keys here"),
    ("us-east-1", _set("network.cidr", "10.0.0.300/16"), PRIMARY, "platform:network.cidr", "not a valid IPv4 CIDR"),
    ("us-east-1", _set("network.cidr", "8.8.0.0/16"), PRIMARY, "platform:network.cidr", "not a private"),
    ("eu-west-1", _set("network.cidr", "10.10.128.0/17"), SECONDARY, "platform:network.cidr", "overlaps"),
    ("us-east-1", _set("network.azCount", 1), PRIMARY, "platform:network.azCount", "2 to 6 AZs"),
    ("us-east-1", _set("region", "us-east-9"), PRIMARY, "platform:region", "not an AWS Region"),
    ("eu-west-1", _set("partnerStack", "ap-south-1"), SECONDARY, "platform:partnerStack", "Pulumi.ap-south-1.yaml"),
    ("eu-west-1", _set("role", "primary"), SECONDARY, "platform:role", "exactly one stack must have role 'primary'"),
    ("us-east-1", _set("role", "leader"), PRIMARY, "platform:role", "'primary' or 'secondary'"),
    ("us-east-1", _delete("tags.owner"), PRIMARY, "platform:tags.owner", "required but missing"),
    ("eu-west-1", _set("region", "eu-west-2"), SECONDARY, "platform:region", "stack is named 'eu-west-1'"),
    ("us-east-1", _set("network.flowLogs.retentionDays", 42), PRIMARY, "platform:network.flowLogs.retentionDays",
     "retention values"),
    ("us-east-1", _set("network.natGateways", "none"), PRIMARY, "platform:network.natGateways", "'perAz' or 'single'"),
    ("eu-west-1", _set("activeRegion", "ap-south-1"), SECONDARY, "platform:activeRegion", "which no stack serves"),
    ("us-east-1", _set("activeRegion", "eu-west-1"), PRIMARY, "platform:activeRegion", "stacks disagree"),
    ("us-east-1", _set("tags.team", "devtools<sre>"), PRIMARY, "platform:tags.team", "AWS tag value rules"),
    ("us-east-1", _set("network.availabilityZones", ["eu-west-1a", "eu-west-1b", "eu-west-1c"]), PRIMARY,
     "platform", "is not an AZ of us-east-1"),
    ("us-east-1", _set("network.subnetSizes", {"public": 17, "private": 17, "database": 17}), PRIMARY,
     "platform:network", "needs"),
    ("eu-west-1", _set("partnerStack", "eu-west-1"), SECONDARY, "platform:partnerStack", "names the stack itself"),
    ("us-east-1", _set("environment", "Prod_1"), PRIMARY, "platform:environment", "pattern"),
]  # fmt: skip


@pytest.mark.parametrize(("stack", "edit", "file", "key", "words"), BAD, ids=[f"{b[3]}:{b[4]}" for b in BAD])
def test_bad_config_names_file_and_key(write_stacks, stack, edit, file, key, words):
    assert_config_issue(write_stacks({stack: edit}), file, key, words)


def test_missing_partner_file(write_stacks):
    root = write_stacks(drop=("us-east-1",))
    with pytest.raises(ConfigError) as caught:
        load_fleet(root)
    text = str(caught.value)
    assert "Pulumi.eu-west-1.yaml: key 'platform:partnerStack'" in text and "Pulumi.us-east-1.yaml" in text


def test_broken_yaml_names_the_file(write_stacks):
    root = write_stacks()
    (root / PRIMARY).write_text("config:\n  platform:region: [unclosed\n")
    with pytest.raises(
        ConfigError,
        match=r"Pulumi\.us-east-1\.yaml: line 3, column 1: not valid YAML: .* flow "
        r"sequence that starts at line 2, column 20",
    ):
        load_stack_file(root / PRIMARY)


def test_secure_values_are_accepted_as_secrets():
    raw = {
        "region": "us-east-1",
        "role": "primary",
        "partnerStack": "eu-west-1",
        "tags": {"costCenter": "c", "businessUnit": "b", "team": "t", "owner": "o"},
        "network": {"cidr": "10.0.0.0/16"},
    }
    cfg = parse_stack_config(raw, PRIMARY)
    assert cfg.network.zone_names("us-east-1") == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert cfg.network.interface_endpoints[:3] == ["ec2", "ecr.api", "ecr.dkr"]


def test_schema_covers_every_platform_key():
    from infra.config.schema import stack_file_schema

    schema = stack_file_schema()
    keys = set(schema["properties"]["config"]["properties"])
    assert {"platform:region", "platform:role", "platform:partnerStack", "platform:network", "platform:tags"} <= keys
    assert "platform:region" in schema["properties"]["config"]["required"]


def test_real_stack_files_validate_against_the_schema():
    import jsonschema
    import yaml

    schema = __import__("infra.config.schema", fromlist=["x"]).stack_file_schema()
    for path in REPO_ROOT.glob("Pulumi.*.yaml"):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"config": {"platform:regionn": "x"}}, schema)


def test_configuration_reference_is_in_sync():
    """docs/configuration.md is exactly what `python -m infra config-docs` prints (regenerate after config changes)."""
    from infra.config.reference import configuration_reference

    committed = (REPO_ROOT / "docs" / "configuration.md").read_text()
    assert committed.rstrip("\n") == configuration_reference().rstrip("\n"), (
        "run: python -m infra config-docs > docs/configuration.md"
    )
    assert " at 0x" not in committed  # no memory addresses: the file is the same on every run
