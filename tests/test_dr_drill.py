"""DR drill against the embedded emulator (moto server over real HTTP + the documented extensions).

One emulator per module; every test resets it and seeds it again from the stacks' offline plans. Until the data
tier exports its outputs, the missing Aurora/Redis outputs are filled with synthetic values (same names as the
contract in docs/stack-outputs.md), so the drill always runs against the real plans' EKS, Route 53 and lock table.
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import botocore.exceptions
import jsonschema
import pytest
import yaml

from infra.dr.drill import FAIL_AFTER_ENV, Aws, DrillLock, DrillSettings, Refusal, Topology
from infra.dr.emulator import CREDENTIALS, Emulator
from infra.dr.emulator.seed import seed, snapshot
from infra.dr.reconcile import LocalKnob, replacements
from infra.dr.runner import SCHEMA_PATH, check_request, run_drill
from infra.dr.steps import LAG_METRIC
from infra.plan.model import Plan
from infra.plan.runner import REPO_ROOT

PRIMARY, SECONDARY = "us-east-1", "eu-west-1"
STEPS = (
    "precheck-aurora",
    "precheck-redis",
    "precheck-eks",
    "prewarm-capacity",
    "aurora-switch",
    "redis-promote",
    "traffic-shift",
    "verify",
    "reconcile-iac",
)
SCHEMA = json.loads(SCHEMA_PATH.read_text())


@pytest.fixture(scope="module")
def emulator():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with Emulator() as emu:
        yield emu


@pytest.fixture(scope="module")
def dr_plans(plans) -> dict[str, Plan]:
    """The real plans: the emulator is seeded from the data tier's own planned outputs."""
    return plans


@pytest.fixture
def env(emulator, dr_plans, tmp_path, monkeypatch):
    monkeypatch.setenv("DR_EMULATOR_TRANSITION_SECONDS", "0.03")
    monkeypatch.delenv(FAIL_AFTER_ENV, raising=False)
    emulator.reset()
    outputs = seed(emulator, dr_plans, PRIMARY)
    return Env(emulator, outputs, tmp_path)


class Env:
    def __init__(self, emu: Emulator, outputs, tmp: Path):
        self.emu, self.outputs, self.tmp = emu, outputs, tmp
        self.knobs: dict[str, LocalKnob] = {}

    def knob(self, target: str) -> LocalKnob:
        # one temp copy of the stack files per target region, kept across re-runs (resume)
        if target not in self.knobs:
            self.knobs[target] = LocalKnob(REPO_ROOT, [PRIMARY, SECONDARY], target)
        return self.knobs[target]

    def drill(self, kind="planned", source=PRIMARY, target=SECONDARY, execute=True, **kw):
        settings = DrillSettings(
            kind=kind, source=source, target=target, execute=execute, poll_seconds=0.01, step_timeout_seconds=10, **kw
        )
        check_request(settings, [PRIMARY, SECONDARY])
        return run_drill(
            settings,
            Topology(self.outputs, PRIMARY),
            Aws(self.emu.endpoint, CREDENTIALS),
            self.knob(target),
            "local",
            reports_dir=self.tmp / "reports",
        )

    def state(self):
        """(Aurora writer region, Redis primary region, api-origin answer region)."""
        rds = self.emu.client("rds", PRIMARY)
        gc = rds.describe_global_clusters()["GlobalClusters"][0]
        writer_arn = next(m["DBClusterArn"] for m in gc["GlobalClusterMembers"] if m["IsWriter"])
        writer = next(r for r, o in self.outputs.items() if o["auroraClusterArn"] == writer_arn)
        ds = self.emu.client("elasticache", PRIMARY).describe_global_replication_groups(ShowMemberInfo=True)
        redis = next(
            m["ReplicationGroupRegion"] for m in ds["GlobalReplicationGroups"][0]["Members"] if m["Role"] == "PRIMARY"
        )
        records = self.emu.client("route53", PRIMARY).list_resource_record_sets(
            HostedZoneId=self.outputs[PRIMARY]["hostedZoneId"]
        )["ResourceRecordSets"]
        origin = self.outputs[PRIMARY]["apiOriginName"].rstrip(".") + "."
        primary_record = [r for r in records if r["Name"] == origin and r.get("Failover") == "PRIMARY"]
        return writer, redis, primary_record[0]["SetIdentifier"] if len(primary_record) == 1 else None

    def desired(self, region: str) -> dict[str, int]:
        out = self.outputs[region]
        eks = self.emu.client("eks", region)
        return {
            n: eks.describe_nodegroup(clusterName=out["eksClusterName"], nodegroupName=n)["nodegroup"]["scalingConfig"][
                "desiredSize"
            ]
            for n in out["eksNodeGroupNames"]
        }


def assert_on(env: Env, region: str) -> None:
    assert env.state() == (region, region, region)


# ------------------------------------------------------------------------------------------------ happy paths
def test_planned_switchover_moves_everything_and_prewarms(env):
    source_capacity = env.desired(PRIMARY)
    before = env.desired(SECONDARY)
    assert before != source_capacity, "fixture: the warm standby must be smaller than the primary"
    result = env.drill("planned")
    assert result.exit_code == 0, result.report["error"]
    assert_on(env, SECONDARY)
    after = env.desired(SECONDARY)
    for name, desired in after.items():
        twin = name.replace(env.outputs[SECONDARY]["eksClusterName"], env.outputs[PRIMARY]["eksClusterName"])
        assert desired >= source_capacity[twin]
    report = result.report
    jsonschema.validate(report, SCHEMA)
    assert report["outcome"] == "passed"
    assert report["rpo"]["seconds"] == 0 and report["rpo"]["passed"] is True
    assert report["rto"]["seconds"] is not None and report["rto"]["passed"] is True
    assert report["final"] == {
        "auroraWriterRegion": SECONDARY,
        "redisPrimaryRegion": SECONDARY,
        "trafficRegion": SECONDARY,
        "activeRegionKnob": SECONDARY,
    }
    steps = {s["name"]: s for s in report["steps"]}
    assert list(steps) == list(STEPS)
    assert all(s["outcome"] == "done" for s in steps.values())
    assert steps["aurora-switch"]["requestIds"] and steps["redis-promote"]["requestIds"]
    assert json.loads(result.path.read_text())["drillId"] == report["drillId"]


def test_unplanned_failover_reports_rpo_from_replication_lag(env):
    result = env.drill("unplanned", accept_data_loss=True)
    assert result.exit_code == 0, result.report["error"]
    assert_on(env, SECONDARY)
    jsonschema.validate(result.report, SCHEMA)
    assert result.report["rpo"]["seconds"] == pytest.approx(0.15)  # the seeded AuroraGlobalDBReplicationLag


def test_failback_returns_to_the_primary(env):
    assert env.drill("planned").exit_code == 0
    result = env.drill("failback", source=SECONDARY, target=PRIMARY)
    assert result.exit_code == 0, result.report["error"]
    assert_on(env, PRIMARY)
    jsonschema.validate(result.report, SCHEMA)


def test_dry_run_changes_nothing(env):
    before = json.dumps(snapshot(env.emu, env.outputs, PRIMARY), default=str, sort_keys=True)
    result = env.drill("planned", execute=False)
    after = json.dumps(snapshot(env.emu, env.outputs, PRIMARY), default=str, sort_keys=True)
    assert result.exit_code == 0
    assert before == after
    assert [s["outcome"] for s in result.report["steps"]] == ["planned"] * len(STEPS)
    assert all(s["calls"] and s["why"] for s in result.report["steps"])
    assert not env.knob(SECONDARY).done()
    jsonschema.validate(result.report, SCHEMA)


# ------------------------------------------------------------------------------------------------ refusals
@pytest.mark.parametrize(
    ("kind", "source", "target", "message"),
    [
        ("planned", PRIMARY, PRIMARY, "current writer"),
        ("planned", PRIMARY, "ap-south-1", "unknown region --to ap-south-1"),
        ("planned", "mars-1", SECONDARY, "unknown region --from mars-1"),
        ("unplanned", PRIMARY, SECONDARY, "--accept-data-loss"),
    ],
)
def test_request_refusals(kind, source, target, message):
    settings = DrillSettings(kind=kind, source=source, target=target, execute=True)
    with pytest.raises(Refusal, match=message.replace("-", r"\-")):
        check_request(settings, [PRIMARY, SECONDARY])


def test_refuses_when_target_already_writer(env):
    assert env.drill("planned").exit_code == 0
    result = env.drill("planned")
    assert result.exit_code == 3 and "already the current writer" in result.report["error"]


def test_refuses_unhealthy_secondary(env):
    env.emu.client("rds", SECONDARY).stop_db_cluster(
        DBClusterIdentifier=env.outputs[SECONDARY]["auroraClusterIdentifier"]
    )
    result = env.drill("planned")
    assert result.exit_code == 3 and "unhealthy" in result.report["error"]
    assert_on(env, PRIMARY)


def test_refuses_planned_when_lag_above_budget(env):
    from datetime import UTC, datetime

    env.emu.client("cloudwatch", SECONDARY).put_metric_data(
        Namespace=LAG_METRIC[0],
        MetricData=[
            {
                "MetricName": LAG_METRIC[1],
                "Dimensions": [
                    {"Name": "DBClusterIdentifier", "Value": env.outputs[SECONDARY]["auroraClusterIdentifier"]}
                ],
                "Timestamp": datetime.now(UTC),
                "Value": 90_000.0,
            }
        ],
    )
    result = env.drill("planned")
    assert result.exit_code == 3 and "above the RPO budget" in result.report["error"]
    assert_on(env, PRIMARY)
    # an unplanned failover still goes (and reports the lag as RPO, failing the budget)
    result = env.drill("unplanned", accept_data_loss=True)
    assert_on(env, SECONDARY)
    assert result.report["rpo"]["seconds"] == 90 and result.report["rpo"]["passed"] is False
    assert result.exit_code == 1


def test_refuses_missing_outputs(env):
    del env.outputs[SECONDARY]["auroraClusterArn"]
    result = env.drill("planned")
    assert result.exit_code == 3
    assert "stack eu-west-1: output 'auroraClusterArn'" in result.report["error"]


def test_failback_must_target_the_primary(env):
    result = env.drill("failback", source=PRIMARY, target=SECONDARY)
    assert result.exit_code == 3 and "failback returns to the primary" in result.report["error"]


# ------------------------------------------------------------------------------------------------ safety
@pytest.mark.parametrize("step", STEPS)
def test_failure_after_each_step_then_rerun_finishes(env, monkeypatch, step):
    monkeypatch.setenv(FAIL_AFTER_ENV, step)
    first = env.drill("planned")
    assert first.exit_code == 1 and "injected failure" in first.report["error"]
    monkeypatch.delenv(FAIL_AFTER_ENV)
    second = env.drill("planned")
    assert_on(env, SECONDARY)
    assert env.knob(SECONDARY).done()
    if step == "reconcile-iac":  # everything was already done: nothing left to switch
        assert second.exit_code == 3 and "already the current writer" in second.report["error"]
    else:
        assert second.exit_code == 0, second.report["error"]
        outcomes = {s["name"]: s["outcome"] for s in second.report["steps"]}
        if step in ("aurora-switch", "traffic-shift"):
            assert outcomes[step] == "already-done"


def test_lock_blocks_a_concurrent_drill_and_can_be_broken(env):
    table = env.outputs[SECONDARY]["drLockTableName"]
    other = DrillLock(Aws(env.emu.endpoint, CREDENTIALS), SECONDARY, table, "other-drill", "planned by someone else")
    other.acquire()
    result = env.drill("planned")
    assert result.exit_code == 3 and "another drill holds the lock" in result.report["error"]
    assert_on(env, PRIMARY)
    result = env.drill("planned", break_lock=True)
    assert result.exit_code == 0
    items = env.emu.client("dynamodb", SECONDARY).scan(TableName=table)["Items"]
    assert items == []  # released on exit


def test_emulator_extensions_follow_aws_errors(env):
    rds = env.emu.client("rds", PRIMARY)
    gid = env.outputs[PRIMARY]["auroraGlobalClusterIdentifier"]
    with pytest.raises(botocore.exceptions.ClientError, match="InvalidDBClusterStateFault"):
        rds.switchover_global_cluster(
            GlobalClusterIdentifier=gid, TargetDbClusterIdentifier=env.outputs[PRIMARY]["auroraClusterArn"]
        )
    with pytest.raises(botocore.exceptions.ClientError, match="InvalidParameterCombination"):
        rds.failover_global_cluster(
            GlobalClusterIdentifier=gid, TargetDbClusterIdentifier=env.outputs[SECONDARY]["auroraClusterArn"]
        )
    with pytest.raises(botocore.exceptions.ClientError, match="GlobalClusterNotFoundFault"):
        rds.switchover_global_cluster(GlobalClusterIdentifier="nope", TargetDbClusterIdentifier="x")
    resp = rds.failover_global_cluster(
        GlobalClusterIdentifier=gid,
        TargetDbClusterIdentifier=env.outputs[SECONDARY]["auroraClusterArn"],
        AllowDataLoss=True,
    )
    assert resp["GlobalCluster"]["FailoverState"]["IsDataLossAllowed"] is True
    assert resp["GlobalCluster"]["Status"] == "failing-over"


# ------------------------------------------------------------------------------------------------ IaC reconcile
def test_local_knob_writes_the_active_region_into_temp_copies():
    knob = LocalKnob(REPO_ROOT, [PRIMARY, SECONDARY], SECONDARY)
    assert not knob.done()
    knob.apply()
    assert knob.done()
    assert knob.dir != REPO_ROOT
    repo_file = yaml.safe_load((REPO_ROOT / f"Pulumi.{PRIMARY}.yaml").read_text())
    assert "platform:activeRegion" not in repo_file["config"]  # the repo's own files are never edited


def test_replanning_with_new_active_region_replaces_no_data_resource(plans, flipped_plans):
    replanned = flipped_plans
    assert replanned[PRIMARY].outputs["writerRegion"] == SECONDARY
    assert replacements(plans, replanned) == []
    # and the check can fail: a renamed data resource is reported
    broken = copy.deepcopy(replanned)
    table = broken[SECONDARY].of_type("aws:dynamodb/table:Table")[0]
    table.inputs["name"] = "renamed"
    assert any("input 'name' changes" in p for p in replacements(plans, broken))


class _RegionDown(Aws):
    """Regional services of `down` fail to connect, as during a regional outage (Route 53 is global; see the
    runbook's known limits for its control plane)."""

    def __init__(self, endpoint, down):
        super().__init__(endpoint, CREDENTIALS)
        self.down = down

    def __call__(self, service, region):
        if region == self.down and service != "route53":
            return Aws("http://127.0.0.1:9", CREDENTIALS)(service, region)  # nothing listens on port 9
        return super().__call__(service, region)


def test_unplanned_failover_works_with_the_source_region_down(env):
    settings = DrillSettings(
        kind="unplanned", source=PRIMARY, target=SECONDARY, execute=True, accept_data_loss=True, poll_seconds=0.01
    )
    result = run_drill(
        settings, Topology(env.outputs, PRIMARY), _RegionDown(env.emu.endpoint, PRIMARY), env.knob(SECONDARY), "local"
    )
    assert result.exit_code == 0, result.report["error"]
    assert_on(env, SECONDARY)
    # the source's capacity was unreadable: every target group was pre-warmed to its max size
    assert result.report["capacity"]["source"] is None
    for name, cfg in result.report["capacity"]["before"].items():
        assert result.report["capacity"]["after"][name]["desiredSize"] == cfg["maxSize"]
