"""Config mistakes that plain YAML loading and permissive models let through: each is refused with the file, the
key and a fix, and no error ever echoes a credential."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.cli import main
from infra.config.errors import ConfigError
from infra.config.fleet import load_fleet
from infra.config.loader import parse_stack_config, platform_keys, read_stack_file
from infra.plan.runner import REPO_ROOT
from tests.config_cases import PRIMARY, SECONDARY, Edit, assert_config_issue, set_key

FAKE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"  # AWS's documented example access key id
FAKE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _raw_copy(tmp_path: Path, file: str, edit) -> Path:
    """Copy the real stack files and edit one as text (what YAML dumping cannot express: a key given twice)."""
    for path in REPO_ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    target = tmp_path / file
    target.write_text(edit(target.read_text()))
    return tmp_path


# ---- the YAML document ------------------------------------------------------------------------------------------
RAW_CASES = [
    (lambda t: t.replace("    azCount: 3\n", "    azCount: 3\n    azCount: 2\n"), "azCount", "given twice"),
    (lambda t: t.replace("  platform:tags:", "  platform:environment: staging\n  platform:tags:"),
     "platform:environment", "given twice"),
    (lambda t: t.replace("  platform:network:", "  platfrom:network:"), "platfrom:network", "did you mean 'platform'"),
    (lambda t: t.replace("  platform:role: primary", "  role: primary\n  platform:role: primary"), "role",
     "write it as 'platform:role'"),
    (lambda t: t + "confg:\n  platform:region: us-east-1\n", "confg", "did you mean 'config'"),
    (lambda t: t.replace("    prefix: devtools\n", "    prefix: devtools\n  aws:secretKey: " + FAKE_SECRET + "\n"),
     "aws:secretKey", "pulumi config set --secret aws:secretKey"),
    (lambda t: t.replace("      readers: 2\n", "      readers: 2\n      writer_instance_class: db.r6g.4xlarge\n"),
     "platform:data.aurora.writerInstanceClass", "given twice, as 'writerInstanceClass' and 'writer_instance_class'"),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "key", "words"), RAW_CASES)
def test_document_mistakes_are_refused(tmp_path, edit, key, words):
    root = _raw_copy(tmp_path, PRIMARY, edit)
    assert_config_issue(root, PRIMARY, key, words)


def test_duplicate_key_names_both_lines(tmp_path):
    twice = "      shards: 3\n      shards: 6\n"
    root = _raw_copy(tmp_path, SECONDARY, lambda t: t.replace("      shards: 3\n", twice))
    with pytest.raises(ConfigError) as caught:
        load_fleet(root)
    (issue,) = caught.value.issues
    lines = (root / SECONDARY).read_text().splitlines()
    first, again = (n + 1 for n, line in enumerate(lines) if line.strip().startswith("shards:"))
    assert f"line {first} and line {again}" in issue.message


def test_credential_shaped_value_is_refused_and_never_echoed(tmp_path, capsys):
    root = _raw_copy(tmp_path, PRIMARY, lambda t: t.replace("    team: devtools-sre\n", f"    team: {FAKE_KEY_ID}\n"))
    assert main(["--root", str(root), "check"]) == 2
    err = capsys.readouterr().err
    assert "platform:tags.team" in err and "plaintext secret" in err
    assert FAKE_KEY_ID not in err


def test_yaml_syntax_errors_never_echo_a_credential(tmp_path):
    broken = f"    team: {FAKE_KEY_ID}: [\n"
    root = _raw_copy(tmp_path, PRIMARY, lambda t: t.replace("    team: devtools-sre\n", broken))
    with pytest.raises(ConfigError) as caught:
        load_fleet(root)
    assert "not valid YAML" in str(caught.value) and FAKE_KEY_ID not in str(caught.value)


def test_model_errors_never_echo_a_secret_value():
    """A credential in a field the strict pass does not know (here: the zone name) is redacted by the model error."""
    raw = platform_keys(read_stack_file(REPO_ROOT / PRIMARY))
    raw["traffic"] = {**raw["traffic"], "zoneName": f"{FAKE_KEY_ID}.example.com"}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(raw, PRIMARY)
    assert FAKE_KEY_ID not in str(caught.value) and "[redacted]" in str(caught.value)


def test_rule_errors_never_echo_a_secret_value():
    """A rule over a whole section quotes its values (here: two backup rules given the same credential-shaped name);
    neither its message nor its fix shows the credential."""
    raw = platform_keys(read_stack_file(REPO_ROOT / PRIMARY))
    rules = [{**rule, "name": FAKE_KEY_ID} if i < 2 else rule for i, rule in enumerate(raw["backup"]["rules"])]
    raw["backup"] = {**raw["backup"], "rules": rules}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(raw, PRIMARY)
    (issue,) = caught.value.issues
    assert issue.key == "platform:backup" and "[redacted]" in issue.message and "[redacted]" in issue.fix
    assert FAKE_KEY_ID not in str(caught.value)


def test_secure_values_and_boolean_token_switches_pass():
    """`secure:` values are what Pulumi expects; `redis.authToken: true` is a switch, not a secret."""
    from infra.config.strict import config_issues

    config = {"aws:secretKey": {"secure": "AAABAJ..."}, "platform:data": {"redis": {"authToken": True}}}
    assert config_issues(PRIMARY, config) == []


# ---- values AWS would reject (infra/config/aws_values.py) ---------------------------------------------------------
def _data(path: str, value) -> Edit:
    return set_key("data", path, value)


AWS_CASES = [
    (_data("aurora.writerInstanceClass", "db.r6g.9xlarge"), "platform:data.aurora.writerInstanceClass", "sizes"),
    (_data("aurora.readerInstanceClass", "db.m6g.large"), "platform:data.aurora.readerInstanceClass",
     "family 'm6g' is not documented"),
    (_data("aurora.backupWindow", "03:00-03:20"), "platform:data.aurora", "at least 30"),
    (_data("aurora.maintenanceWindow", "sun:03:30-sun:04:30"), "platform:data.aurora", "overlaps"),
    (_data("aurora.maintenanceWindow", "sat:23:50-sun:00:10"), "platform:data.aurora", "at least 30"),
    (_data("redis.nodeType", "cache.r7g.3xlarge"), "platform:data.redis.nodeType", "sizes"),
    (_data("redis.snapshotWindow", "04:00-04:30"), "platform:data.redis", "at least 60"),
    (_data("redis.maintenanceWindow", "sun:06:00-sun:06:30"), "platform:data.redis", "at least 60"),
    (set_key("compute", "nodePools.1.instanceTypes", ["m7g.4xlarge", "m7i.4xlarge"]), "platform:compute.nodePools[1]",
     "mix Graviton"),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "key", "words"), AWS_CASES)
def test_values_aws_rejects_are_refused(write_stacks, edit, key, words):
    root = write_stacks({"us-east-1": edit})
    assert_config_issue(root, PRIMARY, key, words)


def test_backup_window_overlap_across_midnight_of_the_week():
    from infra.config.aws_values import daily_overlaps_weekly

    assert daily_overlaps_weekly("23:30-00:30", "mon:00:00-mon:01:00")  # Sunday's backup runs into Monday
    assert daily_overlaps_weekly("23:30-00:30", "sun:23:00-mon:00:00")  # the week wraps
    assert not daily_overlaps_weekly("03:00-04:00", "sun:05:00-sun:06:00")
