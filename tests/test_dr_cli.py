"""`python -m infra drill` end to end (CLI parsing, refusals, the --local path with its own emulator)."""

from __future__ import annotations

import json

import jsonschema

from infra.cli import main
from infra.dr.drill import REGION_OUTPUTS
from infra.dr.runner import SCHEMA_PATH


def test_same_region_is_refused(capsys):
    code = main(["drill", "planned", "--from", "us-east-1", "--to", "us-east-1", "--local"])
    assert code == 3
    assert "refused: --from and --to are both us-east-1" in capsys.readouterr().err


def test_unknown_region_is_refused(capsys):
    code = main(["drill", "planned", "--from", "us-east-1", "--to", "ap-south-1", "--local"])
    assert code == 3
    assert "refused: unknown region --to ap-south-1" in capsys.readouterr().err


def test_unplanned_execute_without_confirmation_is_refused(capsys):
    code = main(["drill", "unplanned", "--from", "us-east-1", "--to", "eu-west-1", "--local", "--execute"])
    assert code == 3
    assert "--accept-data-loss" in capsys.readouterr().err


def test_local_planned_drill_end_to_end(plans, tmp_path, capsys, monkeypatch):
    """The acceptance command: exits 0, the writer moves, and no temp copy of the stack files is left behind."""
    import tempfile

    _reuse_session_plans(monkeypatch, plans)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
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
    assert list(tmp_path.glob("dr-*")) == []  # neither stack-file copies nor the re-plan's fresh copy


def _reuse_session_plans(monkeypatch, plans) -> None:
    """The stack files are the repo's: the session's plans are what `--local` would plan again (saves ~30 s)."""
    from infra.plan.runner import Planner

    original = Planner.plan

    def plan(self, stack, *a, **kw):
        return plans[stack] if not a and not kw else original(self, stack, *a, **kw)

    monkeypatch.setattr(Planner, "plan", plan)


def test_unplanned_failover_with_us_east_1_down_end_to_end(plans, tmp_path, capsys, monkeypatch):
    """Issue 15's acceptance command: exit 0, writer, Redis and traffic in eu-west-1, nothing sent to us-east-1."""
    _reuse_session_plans(monkeypatch, plans)
    report_file = tmp_path / "report.json"
    argv = ["drill", "unplanned", "--from", "us-east-1", "--to", "eu-west-1", "--local", "--execute"]
    argv += ["--accept-data-loss", "--region-outage", "us-east-1", "--no-replan"]
    code = main([*argv, "--reports-dir", str(tmp_path / "reports"), "--json", str(report_file)])
    out = capsys.readouterr().out
    report = json.loads(report_file.read_text())
    jsonschema.validate(report, json.loads(SCHEMA_PATH.read_text()))
    assert code == 0, out
    # the active-region parameter could not be written in us-east-1: reported, and the operator is told to re-run
    assert list(report["final"].pop("activeRegionKnobUnreachable")) == ["us-east-1"]
    assert "active-region parameter not written in us-east-1" in out
    assert report["final"] == {
        "auroraWriterRegion": "eu-west-1",
        "redisPrimaryRegion": "eu-west-1",
        "trafficRegion": "eu-west-1",
        "activeRegionKnob": "eu-west-1",
    }
    assert report["outage"]["region"] == "us-east-1" and report["outage"]["sentToFailedRegion"] == 0
    assert report["outage"]["requestsToFailedRegion"] > 0
    assert "route53 (global)" in report["outage"]["cut"]
    assert report["rpo"]["seconds"] is not None and report["rto"]["seconds"] is not None
    assert report["rto"]["modeled"]["seconds"] > report["rto"]["seconds"]
    assert "RTO modeled for AWS" in out and "emulated outage of us-east-1" in out


def test_planned_switchover_with_us_east_1_down_is_refused(plans, tmp_path, capsys, monkeypatch):
    _reuse_session_plans(monkeypatch, plans)
    argv = ["drill", "planned", "--from", "us-east-1", "--to", "eu-west-1", "--local", "--region-outage", "us-east-1"]
    code = main([*argv, "--reports-dir", str(tmp_path / "reports"), "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    assert code == 3, out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["outcome"] == "refused" and "needs every Region healthy" in report["error"]
    assert report["steps"] == []


def test_region_outage_needs_local(capsys):
    code = main(["drill", "unplanned", "--from", "us-east-1", "--to", "eu-west-1", "--region-outage", "us-east-1"])
    assert code == 2
    assert "--local" in capsys.readouterr().err


def test_drill_toward_the_current_writer_exits_3_on_a_fresh_emulator(plans, tmp_path, capsys, monkeypatch):
    _reuse_session_plans(monkeypatch, plans)
    argv = ["drill", "planned", "--from", "eu-west-1", "--to", "us-east-1", "--local"]
    code = main([*argv, "--reports-dir", str(tmp_path / "reports")])
    assert code == 3
    assert "already the current writer" in capsys.readouterr().err


def test_latency_routing_is_refused_before_planning_or_any_write(tmp_path, capsys):
    """A routing policy with no record state to shift: exit 3 from the stack files alone (no emulator, no plan)."""
    from infra.plan.runner import REPO_ROOT

    for name in ("Pulumi.yaml", "Pulumi.us-east-1.yaml", "Pulumi.eu-west-1.yaml"):
        text = (REPO_ROOT / name).read_text()
        if name != "Pulumi.yaml":
            assert "routingPolicy: failover" in text
            text = text.replace("routingPolicy: failover", "routingPolicy: latency")
        (tmp_path / name).write_text(text)
    argv = ["--root", str(tmp_path), "drill", "planned", "--from", "us-east-1", "--to", "eu-west-1", "--local"]
    code = main([*argv, "--execute", "--reports-dir", str(tmp_path / "reports")])
    captured = capsys.readouterr()
    out, err = captured.out, captured.err  # refusals on stderr, with the progress lines
    assert code == 3, out + err
    assert "routingPolicy is 'latency'" in err and "planning" not in out + err and "emulator" not in out + err
