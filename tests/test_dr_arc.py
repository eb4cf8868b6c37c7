"""`drill --executor arc`: the stacks' ARC Region switch plan, started and followed by the drill, in the emulator's
ARC Region switch extension (infra/dr/emulator/arc.py) over the same emulated services the drill uses."""

from __future__ import annotations

import copy
import json
import logging
import time

import botocore.exceptions
import jsonschema
import pytest

from infra.dr.arc_executor import ArcEngine
from infra.dr.drill import Aws
from infra.dr.emulator import CREDENTIALS, Emulator
from infra.dr.emulator.arc_seed import register_plans
from infra.dr.emulator.outage import endpoint_region
from infra.dr.emulator.seed import seed, snapshot
from infra.dr.runner import SCHEMA_PATH
from tests.test_dr_drill import PRIMARY, SECONDARY, STEPS, Env

SCHEMA = json.loads(SCHEMA_PATH.read_text())
ARC_STEPS = ("approve", "prewarm-capacity", "aurora-switch", "redis-promote", "traffic-shift", "reconcile-iac")


@pytest.fixture(scope="module")
def emulator():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with Emulator() as emu:
        emu.drill_aws = Aws(
            emu.endpoint,
            CREDENTIALS,
            dns_server=emu.dns_address,
            hooks=(emu.outages.attach,),
            max_attempts=1,
            endpoints=emu.endpoints,
        )
        yield emu


def _seed(emu, stack_plans):
    emu.reset()
    outputs = seed(emu, stack_plans, PRIMARY)
    register_plans(emu, stack_plans, outputs)
    return outputs, emu.save()


@pytest.fixture(scope="module")
def seeded(emulator, arc_plans):
    return _seed(emulator, arc_plans)


class ArcEnv(Env):
    def drill(self, *args, executor="arc", **kw):
        return super().drill(*args, executor=executor, **kw)

    def arc(self, region: str = SECONDARY):
        return self.emu.client("arc-region-switch", region)

    @property
    def plan_arn(self) -> str:
        return self.outputs[SECONDARY]["regionSwitchPlanArn"]


@pytest.fixture
def env(emulator, seeded, tmp_path, monkeypatch):
    monkeypatch.setenv("DR_EMULATOR_TRANSITION_SECONDS", "0.03")
    outputs, saved = seeded
    emulator.restore(saved)
    return ArcEnv(emulator, copy.deepcopy(outputs), tmp_path)


def test_a_planned_switchover_run_by_the_plan_gives_the_drills_report(env):
    result = env.drill("planned")
    report = result.report
    assert result.exit_code == 0, report["error"]
    jsonschema.validate(report, SCHEMA)
    assert env.state() == (SECONDARY, SECONDARY, SECONDARY)  # Aurora writer, Redis primary, DNS answer
    assert env.parameters() == {PRIMARY: SECONDARY, SECONDARY: SECONDARY}  # the plan's knob Lambda wrote both
    assert report["executor"] == "arc" and report["outcome"] == "passed"
    execution = report["arcExecution"]
    assert execution["executionState"] == "completed" and execution["mode"] == "graceful"
    assert execution["executionRegion"] == SECONDARY  # started in the recovery Region's data plane
    by_name = {s["name"]: s for s in report["steps"]}
    # the drill's steps plus ARC's approval, each with ARC's own times for the steps the plan ran
    assert set(by_name) == set(STEPS) | {"approve"}
    for name in ARC_STEPS:
        assert by_name[name]["outcome"] == "done" and by_name[name]["executor"] == "arc", name
        assert by_name[name]["requestIds"] == [execution["executionId"]]
        assert by_name[name]["startedAt"] <= by_name[name]["endedAt"]
    assert by_name["verify"]["outcome"] == "done" and "executor" not in by_name["verify"]
    assert by_name["prewarm-capacity"]["after"] == ["approve"]  # ARC's order, not the drill's
    assert report["rto"]["passed"] is True and report["rto"]["seconds"] is not None
    assert report["rto"]["modeled"]["traffic"]["mechanism"] == "plan-health-check"
    assert report["rpo"] == {**report["rpo"], "seconds": 0, "passed": True}
    # the plan's EKS step pre-warmed the target: ready pods at least the source's
    before, after = report["capacity"]["before"], report["capacity"]["after"]
    assert all(after[n]["readyReplicas"] > before[n]["readyReplicas"] for n in before)
    # the records keep their weights (the plan's health checks hold traffic) until the next deploy: said so
    assert env.primary_record() == PRIMARY
    assert any("still carry the weights" in p for p in report["pending"])


def test_an_unplanned_failover_under_a_us_east_1_outage_uses_only_the_surviving_region(env):
    env.take_down(PRIMARY)
    result = env.drill("unplanned", accept_data_loss=True)
    report = result.report
    assert result.exit_code == 0, report["error"]
    jsonschema.validate(report, SCHEMA)
    assert report["final"]["auroraWriterRegion"] == SECONDARY
    assert report["final"]["redisPrimaryRegion"] == SECONDARY
    assert report["final"]["trafficRegion"] == SECONDARY
    assert report["arcExecution"]["mode"] == "ungraceful"
    assert report["outage"]["sentToFailedRegion"] == 0 and report["outage"]["requestsToFailedRegion"] > 0
    assert any(c.startswith("arc-region-switch control plane (CreatePlan") for c in report["outage"]["cut"])
    # the plan's knob Lambda wrote the survivor; the failed Region's copy is reported for a later run
    assert env.parameters() == {PRIMARY: PRIMARY, SECONDARY: SECONDARY}
    assert list(report["final"]["activeRegionKnobUnreachable"]) == [PRIMARY]
    assert report["final"]["activeRegionKnob"] == SECONDARY


def test_the_arc_control_plane_is_cut_with_us_east_1_but_its_data_plane_is_regional():
    assert endpoint_region("arc-region-switch", "eu-west-1", "GetPlan") == "us-east-1"
    assert endpoint_region("arc-region-switch", "eu-west-1", "CreatePlan") == "us-east-1"
    assert endpoint_region("arc-region-switch", "eu-west-1", "StartPlanExecution") == "eu-west-1"
    assert endpoint_region("arc-region-switch", "eu-west-1", "GetPlanExecution") == "eu-west-1"


def test_records_not_on_the_plans_health_checks_are_refused_before_any_write(emulator, plans, tmp_path, monkeypatch):
    """Stacks deployed without `platform:dr.regionSwitch.healthCheckId`: the plan's traffic step would set health
    checks no record reads, and traffic would stay while Aurora and Redis move. Refused, exit 3, nothing changed."""
    monkeypatch.setenv("DR_EMULATOR_TRANSITION_SECONDS", "0.03")
    outputs, _ = _seed(emulator, plans)
    env = ArcEnv(emulator, outputs, tmp_path)
    before = snapshot(emulator, outputs, PRIMARY)
    result = env.drill("planned")
    assert result.exit_code == 3
    assert "does not use the plan's health check" in result.report["error"]
    assert "platform:dr.regionSwitch.healthCheckId" in result.report["error"]
    assert snapshot(emulator, outputs, PRIMARY) == before
    assert env.arc().list_plan_executions(planArn=env.plan_arn)["items"] == []


def test_a_rerun_follows_the_execution_still_running_instead_of_starting_another(env):
    """Interrupted after StartPlanExecution (e.g. Ctrl-C while the plan waits for its approval): the re-run
    approves and follows that execution."""
    settings = env.settings("planned")
    engine = ArcEngine([], settings, lambda *a: None, lambda: None, env.aws(), env.plan_arn, "earlier-drill")
    started = env.arc().start_plan_execution(
        planArn=env.plan_arn, targetRegion=SECONDARY, action="activate", mode="graceful", comment=engine._comment()
    )["executionId"]
    result = env.drill("planned")
    assert result.exit_code == 0, result.report["error"]
    assert result.report["arcExecution"]["executionId"] == started
    assert len(env.arc().list_plan_executions(planArn=env.plan_arn)["items"]) == 1


def test_the_emulated_service_keeps_aws_rules(env):
    arc = env.arc()
    first = arc.start_plan_execution(planArn=env.plan_arn, targetRegion=SECONDARY, action="activate")
    with pytest.raises(botocore.exceptions.ClientError) as busy:  # one active execution per plan
        arc.start_plan_execution(planArn=env.plan_arn, targetRegion=SECONDARY, action="activate")
    assert busy.value.response["Error"]["Code"] == "IllegalStateException"
    execution = first["executionId"]
    for _ in range(100):
        found = arc.get_plan_execution(planArn=env.plan_arn, executionId=execution)
        if found["executionState"] == "pendingManualApproval":
            break
        time.sleep(0.02)
    assert {s["name"]: s["status"] for s in found["stepStates"]} == {"approve": "pendingApproval"}
    arc.approve_plan_execution_step(planArn=env.plan_arn, executionId=execution, stepName="approve", approval="decline")
    for _ in range(100):
        found = arc.get_plan_execution(planArn=env.plan_arn, executionId=execution)
        if found["executionState"] != "pendingManualApproval":
            break
        time.sleep(0.02)
    assert found["executionState"] == "pausedByFailedStep"
    events = arc.list_plan_execution_events(planArn=env.plan_arn, executionId=execution)["items"]
    assert [e["type"] for e in events][-2:] == ["stepFailed", "executionPaused"]
    with pytest.raises(botocore.exceptions.ClientError) as bad:
        arc.start_plan_execution(planArn=env.plan_arn, targetRegion="ap-southeast-2", action="activate")
    assert bad.value.response["Error"]["Code"] == "IllegalArgumentException"
    assert env.state()[0] == PRIMARY  # a declined approval switched nothing


def test_a_declined_or_failed_execution_fails_the_drill(env, monkeypatch):
    """The plan's Aurora step cannot finish (the secondary is not healthy): the execution pauses at the failed
    step and the drill reports it failed with where to look, never an RTO as passing."""
    from infra.dr.emulator import arc_blocks

    def broken(self, step, cfg):
        raise arc_blocks.StepError("GlobalClusterNotFoundFault")

    monkeypatch.setattr(arc_blocks.Execution, "_aurora", broken)
    result = env.drill("planned")
    assert result.exit_code == 1
    assert "pausedByFailedStep" in result.report["error"] and "list-plan-execution-events" in result.report["error"]
    by_name = {s["name"]: s for s in result.report["steps"]}
    assert by_name["aurora-switch"]["outcome"] == "failed"
    assert result.report["rto"]["passed"] is False


def test_the_cli_runs_the_unplanned_failover_through_the_plan_under_the_outage(
    plans, arc_plans, tmp_path, capsys, monkeypatch
):
    """The command of the runbook, as typed (minus the re-plan, which tests/test_dr_cli.py covers)."""
    from infra.cli import main
    from infra.dr.emulator import arc_seed
    from tests.test_dr_cli import _reuse_session_plans

    _reuse_session_plans(monkeypatch, plans)
    monkeypatch.setattr(arc_seed, "with_plan_health_checks", lambda root, p, factory: arc_plans)
    argv = ["drill", "unplanned", "--from", "us-east-1", "--to", "eu-west-1", "--local", "--execute"]
    argv += ["--accept-data-loss", "--region-outage", "us-east-1", "--executor", "arc", "--no-replan"]
    code = main([*argv, "--reports-dir", str(tmp_path / "reports"), "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    assert code == 0, out
    report = json.loads((tmp_path / "r.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["executor"] == "arc" and report["arcExecution"]["executionState"] == "completed"
    assert report["final"]["trafficRegion"] == "eu-west-1" and report["outage"]["sentToFailedRegion"] == 0
    assert "RTO modeled" in out and "approve" in out


def test_the_report_has_the_drill_executors_shape(env, emulator, seeded):
    """`--executor arc` follows the plan "to the same report": the same keys, steps and final state as the drill's
    own run of the same switchover (plus the plan's approval and its execution)."""
    by_arc = env.drill("planned").report
    emulator.restore(seeded[1])
    by_drill = env.drill("planned", executor="drill").report
    assert by_drill["outcome"] == by_arc["outcome"] == "passed"
    assert set(by_arc) == set(by_drill) | {"arcExecution"}
    assert by_arc["final"] == by_drill["final"]
    assert [s["name"] for s in by_arc["steps"] if s["name"] != "approve"] == [s["name"] for s in by_drill["steps"]]
    assert by_arc["rto"].keys() == by_drill["rto"].keys() and by_arc["rpo"] == by_drill["rpo"]
