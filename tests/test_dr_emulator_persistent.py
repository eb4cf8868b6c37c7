"""The persistent local emulator (`python -m infra emulator start|status|stop`): state kept between `--local` drills,
so the runbook's sequences planned -> failback and interrupt -> resume work from the CLI."""

from __future__ import annotations

import json
import os

import pytest

from infra.cli import main
from infra.dr.drill import FAIL_AFTER_ENV
from infra.dr.emulator import persistent
from infra.plan.runner import REPO_ROOT

ROOT = ["--root", str(REPO_ROOT)]


@pytest.fixture(scope="module")
def emulator_dir(plans, tmp_path_factory):
    directory = tmp_path_factory.mktemp("emu") / "state"
    old = os.environ.get(persistent.DIR_ENV)
    os.environ[persistent.DIR_ENV] = str(directory)
    state, started = persistent.start(REPO_ROOT, directory, plans=plans)  # the session's plans: no re-planning
    assert started
    try:
        yield directory, state
    finally:
        persistent.stop(directory)
        if old is None:
            os.environ.pop(persistent.DIR_ENV, None)
        else:
            os.environ[persistent.DIR_ENV] = old


def _drill(tmp_path, kind, src, dst, name):
    report = tmp_path / f"{name}.json"
    code = main(
        [
            *ROOT,
            *("drill", kind, "--from", src, "--to", dst, "--local", "--execute", "--no-replan"),
            *("--reports-dir", str(tmp_path / "reports"), "--json", str(report)),
        ]
    )
    return code, json.loads(report.read_text())


def test_status_start_is_idempotent_and_state_file_names_the_endpoint(emulator_dir, capsys):
    directory, state = emulator_dir
    assert main([*ROOT, "emulator", "status"]) == 0
    assert state["endpoint"] in capsys.readouterr().out
    saved = json.loads((directory / persistent.STATE_FILE).read_text())
    assert saved["endpoint"] == state["endpoint"] and saved["pid"] == state["pid"]
    again, started = persistent.start(REPO_ROOT, directory)
    assert not started and again["pid"] == state["pid"]


def test_planned_then_failback_then_interrupt_and_resume(emulator_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("DR_EMULATOR_TRANSITION_SECONDS", "0.03")
    code, report = _drill(tmp_path, "planned", "us-east-1", "eu-west-1", "planned")
    assert code == 0, report["error"]
    final = report["final"]
    assert (final["auroraWriterRegion"], final["redisPrimaryRegion"], final["trafficRegion"]) == ("eu-west-1",) * 3

    # The emulator kept the switch: failback starts from eu-west-1 and ends in us-east-1.
    code, report = _drill(tmp_path, "failback", "eu-west-1", "us-east-1", "failback")
    assert code == 0, report["error"]
    assert report["final"]["auroraWriterRegion"] == "us-east-1"
    assert report["final"]["activeRegionKnob"] == "us-east-1"

    # Killed after the data tier switched: the re-run resumes from AWS's state.
    monkeypatch.setenv(FAIL_AFTER_ENV, "redis-promote")
    code, report = _drill(tmp_path, "planned", "us-east-1", "eu-west-1", "interrupted")
    assert code == 1 and report["outcome"] == "failed"
    monkeypatch.delenv(FAIL_AFTER_ENV)
    code, report = _drill(tmp_path, "planned", "us-east-1", "eu-west-1", "resumed")
    assert code == 0, report["error"]
    outcomes = {s["name"]: s["outcome"] for s in report["steps"]}
    assert outcomes["aurora-switch"] == outcomes["redis-promote"] == "already-done"
    assert outcomes["traffic-shift"] == outcomes["reconcile-iac"] == "done"
    assert report["final"]["trafficRegion"] == "eu-west-1"


def test_stop_ends_the_process_and_removes_the_state(plans, tmp_path):
    directory = tmp_path / "own"
    state, _ = persistent.start(REPO_ROOT, directory, plans=plans)
    assert persistent.status(directory) is not None
    assert persistent.stop(directory) is True
    assert not directory.exists()
    assert not persistent._alive(state["pid"])
    assert persistent.status(directory) is None
    assert persistent.stop(directory) is False
