"""The step catalogue is the one definition both the drill and the ARC Region switch plan are generated from."""

from __future__ import annotations

import pytest

from infra.dr import catalogue
from infra.dr.drill import DrillSettings, Topology
from infra.dr.steps import build_steps, drill_steps


class _Knob:
    done = staticmethod(lambda: False)
    apply = staticmethod(lambda: [])


def _drill(kind: str):
    topo = Topology({"us-east-1": {}, "eu-west-1": {}}, "us-east-1")
    settings = DrillSettings(kind=kind, source="us-east-1", target="eu-west-1", capacity_percent=80)
    steps, _, _ = build_steps(None, topo, settings, _Knob())
    return steps


@pytest.mark.parametrize("kind", ["planned", "unplanned", "failback"])
def test_drill_steps_are_the_catalogue_drill_steps_in_order_with_its_dependencies(kind):
    steps = _drill(kind)
    assert [s.name for s in steps] == catalogue.names(catalogue.DRILL)
    for step in steps:
        entry = catalogue.BY_NAME[step.name]
        assert step.after == catalogue.effective_after(step.name, catalogue.DRILL)
        assert step.why == entry.why
        assert step.calls == entry.calls_for(kind).format(src="us-east-1", dst="eu-west-1", percent=80)


def test_kind_specific_behaviour_comes_from_the_catalogue():
    planned = {s.name: s.calls for s in _drill("planned")}
    unplanned = {s.name: s.calls for s in _drill("unplanned")}
    assert "switchover_global_cluster" in planned["aurora-switch"]
    assert "failover_global_cluster(AllowDataLoss=True)" in unplanned["aurora-switch"]
    assert catalogue.mode_of("failback") == catalogue.GRACEFUL
    assert catalogue.mode_of("unplanned") == catalogue.UNGRACEFUL


def test_a_drill_step_without_implementation_or_an_unknown_one_is_an_error():
    impl = {name: {} for name in catalogue.names(catalogue.DRILL)}
    del impl["verify"]
    with pytest.raises(ValueError, match="verify"):
        drill_steps(impl, "planned", "us-east-1", "eu-west-1", 100)
    impl = {name: {} for name in catalogue.names(catalogue.DRILL)} | {"extra": {}}
    with pytest.raises(ValueError, match="extra"):
        drill_steps(impl, "planned", "us-east-1", "eu-west-1", 100)


def test_dependencies_skip_steps_an_executor_does_not_run():
    # The ARC plan has no pre-checks and no verify: its order goes through them.
    assert catalogue.effective_after("prewarm-capacity", catalogue.ARC) == ("approve",)
    assert catalogue.effective_after("reconcile-iac", catalogue.ARC) == ("traffic-shift",)
    # The drill has no approve step (the operator's --execute is the approval).
    assert catalogue.effective_after("prewarm-capacity", catalogue.DRILL) == (
        "precheck-aurora",
        "precheck-redis",
        "precheck-eks",
    )
    assert catalogue.levels(catalogue.ARC) == [
        ["approve"],
        ["prewarm-capacity"],
        ["aurora-switch", "redis-promote"],
        ["traffic-shift"],
        ["reconcile-iac"],
    ]


def test_every_arc_step_has_an_execution_block_and_behaviour_for_both_modes():
    for step in catalogue.CATALOGUE:
        if catalogue.ARC in step.executors:
            assert step.arc_block
            assert set(step.arc_behaviour) == {catalogue.GRACEFUL, catalogue.UNGRACEFUL}
        if catalogue.DRILL in step.executors and step.name != "approve":
            assert step.calls.get(catalogue.GRACEFUL)
