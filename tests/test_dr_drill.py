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

from infra.config.fleet import load_fleet
from infra.config.loader import read_stack_file
from infra.dr.drill import FAIL_AFTER_ENV, Aws, DrillSettings, Refusal, Topology
from infra.dr.emulator import CREDENTIALS, Emulator
from infra.dr.emulator.seed import seed, snapshot
from infra.dr.kube import kube_for
from infra.dr.lock import FleetLock
from infra.dr.reconcile import SsmKnob, fresh_copy, replacements, writer_facts
from infra.dr.runner import SCHEMA_PATH, check_request, run_drill
from infra.dr.steps import LAG_METRIC
from infra.plan.model import Plan
from infra.plan.recorder import PlatformMocks, RecordingMonitor
from infra.plan.runner import REPO_ROOT, synthesize

PRIMARY, SECONDARY = "us-east-1", "eu-west-1"
HPA_TYPE = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
DEPLOYMENT_TYPE = "kubernetes:apps/v1:Deployment"
NODEPOOL_TYPE = "kubernetes:karpenter.sh/v1:NodePool"
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
        # One set of drill clients for the module (making boto3 clients is the slow part), cut by the current outage;
        # one attempt per request keeps the outage tests fast (the CLI test runs botocore's default 3).
        emu.drill_aws = Aws(
            emu.endpoint, CREDENTIALS, dns_server=emu.dns_address, hooks=(emu.outages.attach,), max_attempts=1
        )
        yield emu


@pytest.fixture(scope="module")
def dr_plans(plans) -> dict[str, Plan]:
    """The real plans: the emulator is seeded from the data tier's own planned outputs."""
    return plans


@pytest.fixture(scope="module")
def seeded(emulator, dr_plans):
    """Seed once per module; every test starts from a restored copy (seeding again takes seconds)."""
    emulator.reset()
    outputs = seed(emulator, dr_plans, PRIMARY)
    return outputs, emulator.save()


@pytest.fixture
def env(emulator, seeded, tmp_path, monkeypatch):
    monkeypatch.setenv("DR_EMULATOR_TRANSITION_SECONDS", "0.03")
    monkeypatch.delenv(FAIL_AFTER_ENV, raising=False)
    outputs, saved = seeded
    emulator.restore(saved)
    return Env(emulator, copy.deepcopy(outputs), tmp_path)


class Env:
    def __init__(self, emu: Emulator, outputs, tmp: Path):
        self.emu, self.outputs, self.tmp = emu, outputs, tmp
        self.outage = None

    def take_down(self, region: str, failure: str = "refused") -> None:
        """An emulated Region outage from now on (its health checks fail; the drill's requests there fail)."""
        self.outage = self.emu.region_outage(region, failure)

    def knob(self, target: str) -> SsmKnob:
        # through the drill's clients: an emulated outage makes that Region's parameter unreachable
        return SsmKnob(self.aws(), Topology(self.outputs, PRIMARY), target)

    def parameters(self) -> dict[str, str | None]:
        """The active-region parameter's value in each Region, read straight from the emulator."""
        values = {}
        for region, out in self.outputs.items():
            found = self.emu.client("ssm", region).get_parameters(Names=[out["activeRegionParameterName"]])
            values[region] = found["Parameters"][0]["Value"] if found["Parameters"] else None
        return values

    def aws(self) -> Aws:
        return self.emu.drill_aws

    def settings(self, kind="planned", source=PRIMARY, target=SECONDARY, execute=True, **kw) -> DrillSettings:
        return DrillSettings(
            kind=kind, source=source, target=target, execute=execute, poll_seconds=0.01, step_timeout_seconds=10, **kw
        )

    def drill(self, kind="planned", source=PRIMARY, target=SECONDARY, execute=True, executor="drill", **kw):
        settings = self.settings(kind, source, target, execute, **kw)
        check_request(settings, [PRIMARY, SECONDARY])
        return run_drill(
            settings,
            Topology(self.outputs, PRIMARY),
            self.aws(),
            self.knob(target),
            "local",
            reports_dir=self.tmp / "reports",
            annotate=(lambda r: r.update(outage=self.outage.summary())) if self.outage else None,
            executor=executor,
        )

    def dns_region(self) -> str | None:
        """The Region DNS answers api-origin with (the emulator's data plane, as users would see it)."""
        found = self.emu.dns.answer(self.outputs[PRIMARY]["apiOriginName"])
        if found is None:
            return None
        for region, out in self.outputs.items():
            regional = self.emu.dns.answer(out["regionalRecordName"])
            if regional and set(regional[0]) & set(found[0]):
                return region
        return None

    def primary_record(self) -> str | None:
        records = self.emu.client("route53", PRIMARY).list_resource_record_sets(
            HostedZoneId=self.outputs[PRIMARY]["hostedZoneId"]
        )["ResourceRecordSets"]
        origin = self.outputs[PRIMARY]["apiOriginName"].rstrip(".") + "."
        # `failover` routing: the active Region's weighted record is the only one with a weight above 0
        primary = [r for r in records if r["Name"] == origin and r.get("Weight", 0) > 0]
        return primary[0]["SetIdentifier"] if len(primary) == 1 else None

    def state(self):
        """(Aurora writer region, Redis primary region, Region DNS answers api-origin with)."""
        rds = self.emu.client("rds", PRIMARY)
        gc = rds.describe_global_clusters()["GlobalClusters"][0]
        writer_arn = next(m["DBClusterArn"] for m in gc["GlobalClusterMembers"] if m["IsWriter"])
        writer = next(r for r, o in self.outputs.items() if o["auroraClusterArn"] == writer_arn)
        ds = self.emu.client("elasticache", PRIMARY).describe_global_replication_groups(ShowMemberInfo=True)
        redis = next(
            m["ReplicationGroupRegion"] for m in ds["GlobalReplicationGroups"][0]["Members"] if m["Role"] == "PRIMARY"
        )
        return writer, redis, self.dns_region()

    def workloads(self, region: str) -> dict[str, dict[str, int]]:
        """HPA floor and Deployment replicas per service, read through the Kubernetes API (the drill's client)."""
        api = kube_for(Aws(self.emu.endpoint, CREDENTIALS), region, self.outputs[region]["eksClusterName"])
        found = {}
        for w in self.outputs[region]["eksWorkloads"]:
            deploy = api.deployment(w["namespace"], w["deployment"])
            found[w["service"]] = {
                "minReplicas": api.hpa(w["namespace"], w["hpa"])["spec"]["minReplicas"],
                "replicas": deploy["spec"]["replicas"],
                "readyReplicas": deploy["status"]["readyReplicas"],
            }
        return found


def assert_on(env: Env, region: str) -> None:
    assert env.state() == (region, region, region)
    if env.outage is None:  # the records too (under the outage the Route 53 API cannot change them)
        assert env.primary_record() == region


# ------------------------------------------------------------------------------------------------ happy paths
def test_planned_switchover_moves_everything_and_prewarms(env):
    source = env.workloads(PRIMARY)
    before = env.workloads(SECONDARY)
    assert all(before[n]["minReplicas"] < source[n]["minReplicas"] for n in source), "fixture: warm standby"
    result = env.drill("planned")
    assert result.exit_code == 0, result.report["error"]
    assert_on(env, SECONDARY)
    after = env.workloads(SECONDARY)
    for name, now in after.items():
        # capacityPercent 100: as many ready pods as the source ran, and the writer's HPA floor (not below it later)
        assert now["readyReplicas"] >= source[name]["replicas"]
        assert now["minReplicas"] == source[name]["minReplicas"]
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
        "activeRegionKnobUnreachable": {},
    }
    assert env.parameters() == {PRIMARY: SECONDARY, SECONDARY: SECONDARY}
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
    # even a dry-run carries the modeled RTO of what it would run (no program time yet)
    modeled = result.report["rto"]["modeled"]
    assert modeled["programOverheadSeconds"] == 0 and modeled["seconds"] == sum(
        t["seconds"] for t in modeled["criticalPath"]
    )


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


def test_planned_refuses_without_lag_datapoints_unless_told(env):
    """Issue 13 item 7: no datapoint is not 'lag 0': refuse (exit 3), or go on with --ignore-missing-metrics."""
    from moto.cloudwatch.models import cloudwatch_backends

    for by_region in cloudwatch_backends.values():  # the secondary publishes nothing (the rest of the state stays)
        for backend in by_region.values():
            backend.metric_data.clear()
    result = env.drill("planned")
    assert result.exit_code == 3, result.report
    assert "no AuroraGlobalDBReplicationLag datapoint" in result.report["error"]
    assert "--ignore-missing-metrics" in result.report["error"]
    assert_on(env, PRIMARY)
    result = env.drill("planned", ignore_missing_metrics=True)
    assert result.exit_code == 0, result.report["error"]
    assert_on(env, SECONDARY)


def test_refuses_missing_outputs(env):
    del env.outputs[SECONDARY]["auroraClusterArn"]
    result = env.drill("planned")
    assert result.exit_code == 3
    assert "stack eu-west-1: output 'auroraClusterArn'" in result.report["error"]


def test_failback_must_target_the_primary(env):
    result = env.drill("failback", source=PRIMARY, target=SECONDARY)
    assert result.exit_code == 3 and "failback returns to the primary" in result.report["error"]


# ------------------------------------------------------------------------------------------------ safety
# (kind, Region under outage): the planned switchover with both Regions up, the unplanned failover with us-east-1 down
SCENARIOS = [("planned", None), ("unplanned", PRIMARY)]


@pytest.mark.parametrize(("kind", "outage"), SCENARIOS, ids=["planned", "unplanned-us-east-1-down"])
@pytest.mark.parametrize("step", STEPS)
def test_failure_after_each_step_then_rerun_finishes(env, monkeypatch, step, kind, outage):
    if outage:
        env.take_down(outage)
    monkeypatch.setenv(FAIL_AFTER_ENV, step)
    first = env.drill(kind, accept_data_loss=True)
    assert first.exit_code == 1 and "injected failure" in first.report["error"]
    assert first.report["rto"]["passed"] is not True and first.report["rto"]["modeled"]["passed"] is False
    monkeypatch.delenv(FAIL_AFTER_ENV)
    second = env.drill(kind, accept_data_loss=True)
    assert_on(env, SECONDARY)
    assert env.knob(SECONDARY).done()
    if step == "reconcile-iac":  # everything was already done: nothing left to switch
        assert second.exit_code == 3 and "already the current writer" in second.report["error"]
    else:
        assert second.exit_code == 0, second.report["error"]
        outcomes = {s["name"]: s["outcome"] for s in second.report["steps"]}
        if step in ("aurora-switch", "traffic-shift"):
            assert outcomes[step] == "already-done"
    if outage:
        jsonschema.validate(second.report, SCHEMA)
        assert second.report["outage"]["sentToFailedRegion"] == 0


def test_lock_blocks_a_concurrent_drill_and_can_be_broken(env):
    tables = {r: o["drLockTableName"] for r, o in env.outputs.items()}
    other = FleetLock(env.aws(), tables, "other-drill", "planned by someone else")
    other.acquire()
    assert sorted(other.held) == sorted([PRIMARY, SECONDARY])
    result = env.drill("planned")
    assert result.exit_code == 3 and "another drill holds the fleet lock" in result.report["error"]
    assert_on(env, PRIMARY)
    result = env.drill("planned", break_lock=True)
    assert result.exit_code == 0
    for region, table in tables.items():
        assert env.emu.client("dynamodb", region).scan(TableName=table)["Items"] == []  # released on exit


def _redis_to(env: Env, region: str) -> None:
    """Half-switched fleet: only the Redis primary is in `region` (both directions then have work to do)."""
    ec = env.emu.client("elasticache", region)
    ec.failover_global_replication_group(
        GlobalReplicationGroupId=env.outputs[PRIMARY]["redisGlobalReplicationGroupId"],
        PrimaryRegion=region,
        PrimaryReplicationGroupId=env.outputs[region]["redisReplicationGroupId"],
    )
    import time

    time.sleep(0.2)


@pytest.mark.parametrize(
    ("directions", "outage"),
    [
        ("same", None),
        ("opposite", None),
        ("same", PRIMARY),
        ("opposite", PRIMARY),
    ],
)
def test_exactly_one_of_two_concurrent_drills_proceeds(env, monkeypatch, directions, outage):
    """The second drill starts while the first one runs (it holds the fleet lock): only the first proceeds."""
    import threading
    import time

    monkeypatch.setenv("DR_EMULATOR_TRANSITION_SECONDS", "1.5")  # the first drill is still running meanwhile
    _redis_to(env, SECONDARY)
    if outage:
        env.take_down(outage)
    kind = "unplanned" if outage else "planned"
    runs = [(kind, PRIMARY, SECONDARY)]
    runs.append(runs[0] if directions == "same" else ("failback", SECONDARY, PRIMARY))
    results: list = [None, None]

    def go(i: int) -> None:
        k, source, target = runs[i]
        results[i] = env.drill(k, source=source, target=target, accept_data_loss=True)

    first = threading.Thread(target=go, args=(0,))
    first.start()
    table = env.emu.client("dynamodb", SECONDARY)  # every drill holds the lock at least in the survivor
    deadline = time.monotonic() + 20
    while not table.scan(TableName=env.outputs[SECONDARY]["drLockTableName"])["Items"]:
        assert time.monotonic() < deadline, "the first drill never took the lock"
        time.sleep(0.01)
    go(1)
    first.join(timeout=60)
    winner, loser = results
    assert (winner.exit_code, loser.exit_code) == (0, 3), [r.report["error"] for r in results]
    if outage and directions == "opposite":  # a drill toward the failed Region is refused before the lock
        assert "unreachable" in loser.report["error"]
    else:
        assert "another drill holds the fleet lock" in loser.report["error"]
    assert not [s for s in loser.report["steps"] if s.get("outcome") == "done"]  # the loser changed nothing
    assert_on(env, SECONDARY)


def test_two_drills_racing_for_the_lock_let_exactly_one_in(env):
    """Started together (barrier): the conditional writes in the same Region order admit exactly one."""
    import threading

    tables = {r: o["drLockTableName"] for r, o in env.outputs.items()}
    locks = [FleetLock(env.aws(), tables, f"drill-{i}", f"drill {i}") for i in range(2)]
    outcomes: list = [None, None]
    barrier = threading.Barrier(2)

    def take(i: int) -> None:
        barrier.wait()
        try:
            locks[i].acquire()
            outcomes[i] = "held"
        except Refusal as exc:
            outcomes[i] = str(exc)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(o == "held" for o in outcomes) == [False, True], outcomes
    winner = locks[outcomes.index("held")]
    assert sorted(winner.held) == sorted(tables)  # the winner holds every Region, the loser none
    assert next(lk for lk in locks if lk is not winner).held == []


def test_a_broken_lock_stops_the_drill_before_its_next_write(env, monkeypatch):
    import threading

    monkeypatch.setenv("DR_EMULATOR_TRANSITION_SECONDS", "0.5")
    tables = {r: o["drLockTableName"] for r, o in env.outputs.items()}
    out: list = []
    thread = threading.Thread(target=lambda: out.append(env.drill("planned")))
    thread.start()
    import time

    deadline = time.monotonic() + 10
    ddb = env.emu.client("dynamodb", SECONDARY)
    while not ddb.scan(TableName=tables[SECONDARY])["Items"] and time.monotonic() < deadline:
        time.sleep(0.01)
    FleetLock(env.aws(), tables, "intruder", "someone with --break-lock").acquire(break_lock=True)
    thread.join(timeout=30)
    result = out[0]
    assert result.exit_code == 1 and "no longer ours" in result.report["error"]
    assert result.report["rto"]["passed"] is not True


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
def test_knob_is_the_ssm_parameter_each_stack_creates_in_its_own_region(plans, env):
    for stack, plan in plans.items():
        param = plan.one("aws:ssm/parameter:Parameter")
        assert param.inputs["region"] == stack and param.inputs["type"] == "String"
        assert param.inputs["name"] == plan.outputs["activeRegionParameterName"] == "/devtools/prod/dr/active-region"
        assert param.inputs["insecureValue"] == PRIMARY == plan.outputs["writerRegion"]  # first deploy: the primary
        assert plan.outputs["activeRegionSource"] == "default"
        assert "platform:activeRegion" not in yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    assert env.parameters() == {PRIMARY: PRIMARY, SECONDARY: PRIMARY}  # seeded as the stacks created it
    knob = env.knob(SECONDARY)
    assert not knob.done()
    knob.apply()
    assert knob.done() and env.parameters() == {PRIMARY: SECONDARY, SECONDARY: SECONDARY}


def test_plan_after_a_local_drill_from_a_fresh_copy_keeps_the_new_writer(env, plans):
    """Issue 13 item 2: a deploy from a clean clone of main after a drill keeps the writer-dependent settings in the
    new Region and replaces no data resource (the plan reads the emulator's SSM, as a deploy reads AWS's)."""
    from components.traffic import FAILOVER_ACTIVE_WEIGHT
    from infra.plan.observed import EndpointObserved
    from infra.plan.runner import Planner

    assert env.drill("planned").exit_code == 0
    planner = Planner(fresh_copy(REPO_ROOT), observed=EndpointObserved(env.emu.endpoint, CREDENTIALS))
    after = {s: planner.plan(s) for s in (PRIMARY, SECONDARY)}
    primary, secondary = writer_facts(after[PRIMARY]), writer_facts(after[SECONDARY])
    assert primary["writerRegion"] == secondary["writerRegion"] == SECONDARY
    # failover routing = weighted records, the active Region's weight FAILOVER_ACTIVE_WEIGHT, the others 0
    assert (primary["route53"], secondary["route53"]) == (0, FAILOVER_ACTIVE_WEIGHT)
    assert primary["cloudfrontFailoverOrigin"] == "api-us-east-1.devtools.example.com"  # the standby is us-east-1
    assert secondary["deploymentReplicas"] > primary["deploymentReplicas"]  # full capacity in eu-west-1
    assert after[SECONDARY].outputs["activeRegionSource"] == "ssm"
    assert replacements(plans, after) == []
    # the same fresh copy against a state where no drill ran keeps the primary (the check can fail)
    untouched = {s: Planner(fresh_copy(REPO_ROOT)).plan(s) for s in (PRIMARY, SECONDARY)}
    assert writer_facts(untouched[SECONDARY])["route53"] == 0


def test_replanning_with_new_active_region_replaces_no_data_resource(plans, flipped_plans):
    replanned = flipped_plans
    assert replanned[PRIMARY].outputs["writerRegion"] == SECONDARY
    assert replacements(plans, replanned) == []
    # and the check can fail: a renamed data resource is reported
    broken = copy.deepcopy(replanned)
    table = broken[SECONDARY].of_type("aws:dynamodb/table:Table")[0]
    table.inputs["name"] = "renamed"
    assert any("input 'name' changes" in p for p in replacements(plans, broken))


# ------------------------------------------------------------------------------------------------ Region outage
def test_outage_cuts_the_region_and_the_global_control_planes_at_the_transport(env):
    from infra.dr.emulator.outage import RegionOutage

    cut = RegionOutage(PRIMARY)
    for service in ("route53", "iam", "cloudfront", "budgets", "organizations", "account", "health", "shield"):
        assert cut.cuts(service, SECONDARY), service  # global services: their control plane is in us-east-1
    assert cut.cuts("rds", PRIMARY) and not cut.cuts("rds", SECONDARY)
    assert cut.cuts("sts", "aws-global") and not cut.cuts("sts", SECONDARY)  # the global STS endpoint only
    assert not RegionOutage(SECONDARY).cuts("route53", PRIMARY)
    assert RegionOutage("us-west-2").cuts("route53-recovery-control-config", SECONDARY)  # ARC's control plane
    env.take_down(PRIMARY)
    aws = env.aws()
    with pytest.raises(botocore.exceptions.EndpointConnectionError):
        aws("iam", SECONDARY).create_role(RoleName="should-not-exist", AssumeRolePolicyDocument="{}")
    with pytest.raises(botocore.exceptions.EndpointConnectionError):
        aws("dynamodb", PRIMARY).list_tables()
    assert aws("dynamodb", SECONDARY).list_tables()["TableNames"]  # the survivor answers
    # nothing reached the emulator: the role was never created
    assert "should-not-exist" not in {r["RoleName"] for r in env.emu.client("iam", SECONDARY).list_roles()["Roles"]}
    summary = env.outage.summary()
    assert summary["requestsToFailedRegion"] >= 2 and summary["sentToFailedRegion"] == 0
    assert {"iam", "dynamodb"} <= set(summary["services"])


@pytest.mark.parametrize("failure", ["refused", "timeout"])
def test_unplanned_failover_with_us_east_1_down_uses_only_the_survivor_and_the_data_plane(env, failure):
    env.take_down(PRIMARY, failure)
    result = env.drill("unplanned", accept_data_loss=True)
    assert result.exit_code == 0, result.report["error"]
    assert_on(env, SECONDARY)
    report = result.report
    jsonschema.validate(report, SCHEMA)
    assert report["final"]["auroraWriterRegion"] == SECONDARY
    assert report["final"]["redisPrimaryRegion"] == SECONDARY
    assert report["final"]["trafficRegion"] == SECONDARY
    assert report["outage"]["requestsToFailedRegion"] > 0 and report["outage"]["sentToFailedRegion"] == 0
    expected = "ConnectTimeoutError" if failure == "timeout" else "EndpointConnectionError"
    assert expected in report["reachability"][PRIMARY]["rds"]
    assert set(report["reachability"]) == {PRIMARY, "route53 API (control plane, us-east-1)"}
    steps = {s["name"]: s for s in report["steps"]}
    assert any(PRIMARY in r for r in steps["precheck-eks"]["skipped"])  # skipped with the reason, not failed
    assert "health-check failover" in steps["traffic-shift"]["skipped"][0]
    assert steps["traffic-shift"]["requestIds"] == []  # no Route 53 API call
    assert report["rto"]["modeled"]["traffic"]["mechanism"] == "health-check"
    assert any("Route 53 records" in p for p in report["pending"])
    assert report["lock"]["heldIn"] == [SECONDARY] and PRIMARY in report["lock"]["unreachable"]
    # the source's capacity was unreadable: every service got the writer's HPA floor and the seed's normal replica
    # count (`instances`, from the outputs), more than the warm standby ran
    assert report["capacity"]["source"] is None
    by_name = {w["service"]: w for w in env.outputs[SECONDARY]["eksWorkloads"]}
    for name, after in report["capacity"]["after"].items():
        assert after["minReplicas"] == by_name[name]["writerMinReplicas"]
        assert (
            after["readyReplicas"] >= by_name[name]["writerReplicas"] > report["capacity"]["before"][name]["replicas"]
        )
    # the records still name us-east-1 PRIMARY: DNS moved by health checks alone
    assert env.primary_record() == PRIMARY
    # the active-region parameter is written where it can be; the unreachable Region is reported
    assert report["final"]["activeRegionKnob"] == SECONDARY
    assert list(report["final"]["activeRegionKnobUnreachable"]) == [PRIMARY]
    assert env.parameters() == {PRIMARY: PRIMARY, SECONDARY: SECONDARY}


def test_a_rerun_after_the_region_recovers_writes_its_stale_active_region_parameter(env):
    """docs/dr-runbook.md "A recovered stale Region": re-running the drill brings the recovered Region's parameter
    in line before its stack is deployed again."""
    env.take_down(PRIMARY)
    assert env.drill("unplanned", accept_data_loss=True).exit_code == 0
    assert env.parameters()[PRIMARY] == PRIMARY  # stale: a deploy of us-east-1 now would claim the writer
    env.emu.outages.current, env.outage = None, None  # the Region is back
    env.emu.health.region_up(PRIMARY)
    again = env.drill("unplanned", accept_data_loss=True)
    assert again.exit_code == 0, again.report["error"]
    assert {s["name"]: s["outcome"] for s in again.report["steps"]}["reconcile-iac"] == "done"
    assert again.report["final"]["activeRegionKnobUnreachable"] == {}
    assert env.parameters() == {PRIMARY: SECONDARY, SECONDARY: SECONDARY}


def test_unplanned_failover_away_from_eu_west_1_uses_the_route53_api_that_still_answers(env):
    assert env.drill("planned").exit_code == 0  # eu-west-1 is the writer now
    env.take_down(SECONDARY)
    result = env.drill("unplanned", source=SECONDARY, target=PRIMARY, accept_data_loss=True)
    assert result.exit_code == 0, result.report["error"]
    assert_on(env, PRIMARY)
    assert env.primary_record() == PRIMARY  # the Route 53 API (us-east-1) answered: the records were updated
    steps = {s["name"]: s for s in result.report["steps"]}
    assert steps["traffic-shift"]["requestIds"] and result.report["rto"]["modeled"]["traffic"]["mechanism"] == (
        "record-update"
    )
    assert set(result.report["reachability"]) == {SECONDARY} and result.report["pending"] == []


@pytest.mark.parametrize("execute", [False, True])
def test_planned_switchover_with_a_region_down_is_refused_before_any_write(env, execute):
    env.take_down(PRIMARY)
    before = json.dumps(snapshot(env.emu, env.outputs, PRIMARY), default=str, sort_keys=True)
    result = env.drill("planned", execute=execute)
    assert result.exit_code == 3
    assert "needs every Region healthy" in result.report["error"] and "unplanned" in result.report["error"]
    assert json.dumps(snapshot(env.emu, env.outputs, PRIMARY), default=str, sort_keys=True) == before
    assert result.report["steps"] == []


def test_the_dns_answer_follows_the_health_checks(env):
    assert env.dns_region() == PRIMARY
    env.take_down(SECONDARY)  # the standby going down changes nothing
    assert env.dns_region() == PRIMARY
    env.emu.health.region_up(SECONDARY)
    env.take_down(PRIMARY)
    import time

    time.sleep(10 * 3 * 0.01 + 0.1)  # interval x threshold, scaled by DR_EMULATOR_TIME_SCALE
    assert env.dns_region() == SECONDARY
    # the Route 53 API (when it answers) reports the same as the checkers
    r53 = env.emu.client("route53", PRIMARY)
    status = r53.get_health_check_status(HealthCheckId=env.outputs[PRIMARY]["healthCheckId"])
    assert all(o["StatusReport"]["Status"].startswith("Failure") for o in status["HealthCheckObservations"])
    status = r53.get_health_check_status(HealthCheckId=env.outputs[SECONDARY]["healthCheckId"])
    assert all(o["StatusReport"]["Status"].startswith("Success") for o in status["HealthCheckObservations"])


# ------------------------------------------------------------------------------------------------ modeled RTO
def test_modeled_rto_adds_documented_aws_durations_to_the_measured_program(env):
    from infra.dr import rto

    result = env.drill("planned")
    modeled = result.report["rto"]["modeled"]
    ops = {t["operation"]: t for t in modeled["criticalPath"]}
    assert "Aurora SwitchoverGlobalCluster" in ops
    assert "Route 53 record change propagation + TTL" in ops  # planned: the records are updated
    assert all(t["source"].startswith("https://") for t in modeled["criticalPath"])
    aws_seconds = sum(t["seconds"] for t in modeled["criticalPath"])
    assert modeled["seconds"] == pytest.approx(modeled["programOverheadSeconds"] + aws_seconds, abs=0.01)
    # the planned window starts at the cut-over: Aurora (the longer of Aurora/Redis) + propagation + TTL
    assert aws_seconds == rto.SECONDS["aurora"] + rto.SECONDS["route53-propagation"] + rto.SECONDS["route53-ttl"]
    assert modeled["passed"] is (modeled["seconds"] <= 300)
    # the seed's 30 s traffic failover is not met through DNS (60 s alias TTL): reported, with the CloudFront read path
    assert modeled["traffic"]["seconds"] == 120 and modeled["traffic"]["passed"] is False
    assert modeled["readPath"]["seconds"] == 15 and modeled["readPath"]["passed"] is True


def test_modeled_unplanned_rto_runs_detection_beside_the_promotion(env):
    from infra.dr import rto

    env.take_down(PRIMARY)
    modeled = env.drill("unplanned", accept_data_loss=True).report["rto"]["modeled"]
    # the catalogue's order: pre-warm, then Aurora beside Redis; health-check detection + TTL (90 s) runs from the
    # start of the window, so it adds nothing after 240 s of pre-warm and promotion
    longest = rto.SECONDS["capacity"] + max(rto.SECONDS["aurora"], rto.SECONDS["redis"])
    assert longest > 30 + rto.SECONDS["route53-ttl"]
    assert modeled["seconds"] == pytest.approx(modeled["programOverheadSeconds"] + longest, abs=0.01)
    assert modeled["path"][-3:] == ["prewarm-capacity", "aurora-switch", "traffic-shift"]
    assert {t["operation"]: t["documented"] for t in modeled["criticalPath"]}["Aurora FailoverGlobalCluster"] is False
    assert modeled["traffic"] == {"mechanism": "health-check", "seconds": 90.0, "budgetSeconds": 30, "passed": False}


def test_model_never_passes_a_failed_drill():
    from infra.dr.rto import model

    steps = [{"name": "traffic-shift", "after": [], "outcome": "done", "seconds": 0.1}]
    kw = dict(
        steps=steps, kind="planned", traffic_mechanism="record-update", scaled_capacity=False,
        detection_seconds=30, cloudfront_attempts=3, cloudfront_timeout_seconds=5, rto_budget=300, traffic_budget=30,
    )  # fmt: skip
    assert model(outcome_failed=False, **kw)["passed"] is True
    failed = model(outcome_failed=True, **kw)
    assert failed["passed"] is False and failed["readPath"]["passed"] is False


def test_cloudfront_origins_use_the_modeled_connection_settings(plans):
    from components.cdn import ORIGIN_CONNECTION_ATTEMPTS, ORIGIN_CONNECTION_TIMEOUT_SECONDS

    distribution = plans[PRIMARY].of_type("aws:cloudfront/distribution:Distribution")[0]
    for origin in distribution.inputs["origins"]:
        assert origin["connectionAttempts"] == ORIGIN_CONNECTION_ATTEMPTS
        assert origin["connectionTimeout"] == ORIGIN_CONNECTION_TIMEOUT_SECONDS


# ------------------------------------------------------------------------------------------------ up-front refusals
@pytest.mark.parametrize("policy", ["latency", "geolocation"])
def test_routing_policy_without_state_to_shift_is_refused_before_anything(env, policy):
    settings = env.settings("planned", routing_policy=policy)
    with pytest.raises(Refusal, match="routingPolicy is"):
        check_request(settings, [PRIMARY, SECONDARY])
    # and from the stacks' outputs, before any AWS write
    before = json.dumps(snapshot(env.emu, env.outputs, PRIMARY), default=str, sort_keys=True)
    env.outputs[SECONDARY]["routingPolicy"] = policy
    result = run_drill(env.settings("planned"), Topology(env.outputs, PRIMARY), env.aws(), env.knob(SECONDARY), "local")
    assert result.exit_code == 3 and "routingPolicy is" in result.report["error"]
    assert json.dumps(snapshot(env.emu, env.outputs, PRIMARY), default=str, sort_keys=True) == before


def test_drill_toward_the_current_writer_is_refused_on_a_fresh_emulator(env):
    result = env.drill("planned", source=SECONDARY, target=PRIMARY)
    assert result.exit_code == 3 and "already the current writer" in result.report["error"]


# ------------------------------------------------------------------------------------- capacity after a drill
class _OptionsMonitor(RecordingMonitor):
    """Also keeps each registration's ignoreChanges (what a `pulumi up` would leave alone)."""

    def __init__(self, mocks):
        super().__init__(mocks)
        self.ignored: dict[str, list[str]] = {}

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        self.ignored[response.urn] = list(request.ignoreChanges)
        return response


def _replan(root: Path, observed=None) -> dict[str, tuple[Plan, dict[str, list[str]]]]:
    fleet = load_fleet(root)
    done: dict[str, tuple[Plan, dict[str, list[str]]]] = {}
    for stack in sorted(fleet.stacks, key=lambda s: not fleet.stacks[s].is_primary):
        cfg = fleet.stacks[stack]
        refs = {} if cfg.is_primary else {cfg.partner_stack: done[cfg.partner_stack][0].outputs}
        monitor = _OptionsMonitor(PlatformMocks(refs, observed))
        plan = synthesize(stack, read_stack_file(root / f"Pulumi.{stack}.yaml"), refs, monitor=monitor)
        done[stack] = (plan, monitor.ignored)
    return done


def test_replanning_both_stacks_after_a_drill_keeps_the_target_capacity(env):
    """The next `pulumi up` of either stack after a switchover must not take back the target's warm capacity:
    its HPA floors are at least what the drill set (tied to the active-Region knob), the Deployments' replica
    counts stay with the HPA/drill (ignoreChanges), and the NodePool limits still hold the warmed pods."""
    result = env.drill("planned")
    assert result.exit_code == 0, result.report["error"]
    warmed = env.workloads(SECONDARY)
    from infra.plan.observed import EndpointObserved

    # a deploy from a clean clone of main: unedited stack files, the active Region from the emulator's SSM
    replanned = _replan(fresh_copy(REPO_ROOT), EndpointObserved(env.emu.endpoint, CREDENTIALS))
    target, ignored = replanned[SECONDARY]
    assert target.outputs["writerRegion"] == SECONDARY
    hpas = {h.inputs["metadata"]["name"]: h.inputs["spec"] for h in target.of_type(HPA_TYPE)}
    deployments = {d.inputs["metadata"]["name"]: d for d in target.of_type(DEPLOYMENT_TYPE)}
    cpu = {w["service"]: w["cpu"] for w in env.outputs[SECONDARY]["eksWorkloads"]}
    for name, now in warmed.items():
        assert hpas[name]["minReplicas"] >= now["minReplicas"], f"a deploy would lower {name}'s floor"
        assert hpas[name]["maxReplicas"] >= now["readyReplicas"]
        assert "spec.replicas" in ignored[deployments[name].urn], f"a deploy would reset {name}'s replicas"
    pool = next(p for p in target.of_type(NODEPOOL_TYPE) if p.inputs["metadata"]["name"] != "system")
    assert float(pool.inputs["spec"]["limits"]["cpu"]) >= sum(cpu[n] * w["readyReplicas"] for n, w in warmed.items())
    assert target.outputs["computeCapacity"]["standby"] is False
    # the old primary now plans as the warm standby; nothing it deploys touches the target cluster
    source, _ = replanned[PRIMARY]
    assert source.outputs["computeCapacity"]["standby"] is True


def test_active_region_check_refuses_a_stale_region_before_a_deploy(env):
    """`python -m infra active-region`: the pre-deploy check for a Region the drill could not reach."""
    from types import SimpleNamespace

    from infra.dr.knob_check import active_region_command, active_region_values

    args = SimpleNamespace(root=REPO_ROOT, endpoint=env.emu.endpoint)
    assert active_region_command(args) == 0  # as deployed: every Region names the primary
    name, _, _, _ = active_region_values(REPO_ROOT, env.emu.endpoint)
    env.emu.client("ssm", SECONDARY).put_parameter(Name=name, Value=SECONDARY, Type="String", Overwrite=True)
    _, values, unreachable, _ = active_region_values(REPO_ROOT, env.emu.endpoint)
    assert values == {PRIMARY: PRIMARY, SECONDARY: SECONDARY} and unreachable == {}
    assert active_region_command(args) == 3  # us-east-1 is stale: deploying it would claim the writer


def test_the_drill_replan_counts_data_replacements_and_leaves_no_copy(env, plans, tmp_path, monkeypatch):
    """The CLI's re-plan (what `demo` shows): a fresh copy against the emulator, 0 replaced, the copy removed."""
    import tempfile

    from rich.console import Console

    from infra.dr.cli import _replanner

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    console = Console(record=True, width=200)
    problems = _replanner(REPO_ROOT, sorted(plans), env.emu.endpoint, console, lambda: plans)()
    assert problems == []
    assert "data resources replaced: 0" in console.export_text()
    assert list(tmp_path.glob("dr-*")) == []


def _knob_check(env, capsys, root=REPO_ROOT, stack=None, allow=""):
    """`python -m infra active-region --stack STACK --allow-unreachable ALLOW` through the drill's clients (an
    emulated outage cuts them): (exit code, stdout, stderr)."""
    from types import SimpleNamespace

    from infra.dr.knob_check import active_region_command

    args = SimpleNamespace(root=root, endpoint=env.emu.endpoint, stack=stack, allow_unreachable=allow)
    code = active_region_command(args, aws=env.aws())
    out, err = capsys.readouterr()
    return code, out, err


def test_active_region_check_excuses_only_declared_down_regions_never_a_disagreement(env, capsys):
    """The deploy gate's survivor bypass: after an unplanned failover with us-east-1 down (its parameter still names
    itself), `--allow-unreachable us-east-1` lets eu-west-1 deploy; it never excuses the Region being deployed, an
    unknown Region, or the stale Region once it answers again."""
    name = env.outputs[SECONDARY]["activeRegionParameterName"]
    env.emu.client("ssm", SECONDARY).put_parameter(Name=name, Value=SECONDARY, Type="String", Overwrite=True)
    env.take_down(PRIMARY)
    code, _, err = _knob_check(env, capsys, stack=SECONDARY)
    assert code == 3 and f"refused: cannot read {name} in {PRIMARY}" in err and "--allow-unreachable us-east-1" in err
    code, out, err = _knob_check(env, capsys, stack=SECONDARY, allow=f" {PRIMARY}, ")
    assert (code, err) == (0, ""), err
    assert f"agrees: {SECONDARY}; not checked, declared down (--allow-unreachable): {PRIMARY}" in out
    code, _, err = _knob_check(env, capsys, stack=PRIMARY, allow=PRIMARY)  # its own Region is always read
    assert code == 3 and f"{PRIMARY} is the Region being deployed (never skipped)" in err
    code, _, err = _knob_check(env, capsys, stack=SECONDARY, allow="ap-south-1")
    assert code == 2 and "error: --allow-unreachable names ap-south-1, which is no Region of the fleet" in err
    assert _knob_check(env, capsys, stack="ap-south-1")[0] == 2
    env.emu.outages.current, env.outage = None, None  # us-east-1 is back with its stale value
    code, out, err = _knob_check(env, capsys, stack=SECONDARY, allow=PRIMARY)
    assert code == 3 and "the Regions that answer disagree" in err and "never covers a disagreement" in err
    assert f"{PRIMARY}: {name} = {PRIMARY}" in out and "refused" not in out  # values on stdout, refusal on stderr


def test_active_region_check_reads_an_absent_parameter_as_the_primary_and_honours_the_override(
    env, capsys, write_stacks
):
    """What the stack program resolves: a missing parameter is the primary's Region (a Region added later has none
    until its first full deploy), and `platform:activeRegion` in every stack file wins over any parameter."""
    name = env.outputs[SECONDARY]["activeRegionParameterName"]
    env.emu.client("ssm", SECONDARY).delete_parameter(Name=name)
    code, out, _ = _knob_check(env, capsys, stack=SECONDARY)
    assert code == 0 and f"{SECONDARY}: {name} = (absent)" in out and f"agrees: {PRIMARY}" in out
    env.emu.client("ssm", PRIMARY).put_parameter(Name=name, Value=SECONDARY, Type="String", Overwrite=True)
    code, _, err = _knob_check(env, capsys, stack=SECONDARY)
    assert code == 3 and f"{SECONDARY} = absent ({PRIMARY})" in err
    pinned = write_stacks({s: (lambda c: c.update({"platform:activeRegion": SECONDARY})) for s in (PRIMARY, SECONDARY)})
    code, out, _ = _knob_check(env, capsys, root=pinned, stack=SECONDARY)
    assert code == 0 and f"platform:activeRegion = {SECONDARY} in the stack files overrides {name}" in out


def test_active_region_check_fails_on_an_error_answer_whatever_the_bypass(capsys):
    """AccessDenied is an answer, not silence: exit 1 naming the permission, even for a Region declared down."""
    from types import SimpleNamespace

    from infra.dr.knob_check import active_region_command

    class Denied:
        def get_parameters(self, **_):
            error = {"Code": "AccessDeniedException", "Message": "not authorized to perform: ssm:GetParameters"}
            raise botocore.exceptions.ClientError({"Error": error}, "GetParameters")

    args = SimpleNamespace(root=REPO_ROOT, endpoint=None, stack=SECONDARY, allow_unreachable=PRIMARY)
    assert active_region_command(args, aws=lambda service, region: Denied()) == 1
    out, err = capsys.readouterr()
    assert out == "" and "error: cannot read the active-region parameter" in err
    assert "give the deploying role ssm:GetParameters on the parameter in every Region" in err
