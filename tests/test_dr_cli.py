"""`python -m infra drill` end to end (CLI parsing, refusals, the --local path with its own emulator)."""

from __future__ import annotations

import json

import jsonschema

from infra.cli import main
from infra.dr.drill import REGION_OUTPUTS
from infra.dr.runner import SCHEMA_PATH


def test_same_region_is_refused(capsys):
    code = main(["drill", "planned", "--from", "us-east-1", "--to", "us-east-1", "--local"])
    assert code != 0
    assert "refused" in capsys.readouterr().out


def test_unknown_region_is_refused(capsys):
    code = main(["drill", "planned", "--from", "us-east-1", "--to", "ap-south-1", "--local"])
    assert code == 3
    assert "unknown region --to ap-south-1" in capsys.readouterr().out


def test_unplanned_execute_without_confirmation_is_refused(capsys):
    code = main(["drill", "unplanned", "--from", "us-east-1", "--to", "eu-west-1", "--local", "--execute"])
    assert code == 3
    assert "--accept-data-loss" in capsys.readouterr().out


def test_local_planned_drill_end_to_end(plans, tmp_path, capsys):
    """The acceptance command: exits 0 once every tier exports its outputs; until then refuses naming them."""
    report_file = tmp_path / "report.json"
    argv = ["drill", "planned", "--from", "us-east-1", "--to", "eu-west-1", "--local", "--execute"]
    code = main([*argv, "--reports-dir", str(tmp_path / "reports"), "--json", str(report_file), "--no-replan"])
    out = capsys.readouterr().out
    report = json.loads(report_file.read_text())
    jsonschema.validate(report, json.loads(SCHEMA_PATH.read_text()))
    assert [k for k in REGION_OUTPUTS if k not in plans["eu-west-1"].outputs] == []
    assert code == 0, out
    assert report["final"]["auroraWriterRegion"] == "eu-west-1"
    assert report["final"]["redisPrimaryRegion"] == "eu-west-1"
    assert report["final"]["trafficRegion"] == "eu-west-1"
    assert "RTO" in out and "RPO" in out
