"""Smoke tests of the benchmark's pure parts (bench/run.py); the benchmark itself is run by hand, never timed here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from infra.config.fleet import load_fleet
from infra.plan.runner import REPO_ROOT

spec = importlib.util.spec_from_file_location("bench_run", REPO_ROOT / "bench" / "run.py")
bench = importlib.util.module_from_spec(spec)
sys.modules["bench_run"] = bench  # dataclasses resolve annotations through sys.modules
spec.loader.exec_module(bench)


def resource(name: str, typ: str, deps=(), provider=None, custom=True) -> dict:
    return {
        "urn": f"urn:{name}",
        "type": typ,
        "name": name,
        "custom": custom,
        "provider": provider,
        "dependencies": [f"urn:{d}" for d in deps],
    }


def test_critical_path_on_a_small_graph():
    #   a(10) -> b(20) -> d(5)       c(40) -> d
    nodes = {
        n.urn: n
        for n in (
            bench.Node("a", "t", 10, []),
            bench.Node("b", "t", 20, ["a"]),
            bench.Node("c", "t", 40, []),
            bench.Node("d", "t", 5, ["b", "c"]),
            bench.Node("e", "t", 1, []),
        )
    }
    total, path = bench.critical_path(nodes)
    assert total == 45
    assert path == ["c", "d"]
    nodes["a"].seconds = 30
    assert bench.critical_path(nodes) == (55, ["a", "b", "d"])


def test_critical_path_rejects_cycles():
    nodes = {"a": bench.Node("a", "t", 1, ["b"]), "b": bench.Node("b", "t", 1, ["a"])}
    with pytest.raises(ValueError, match="cycle"):
        bench.critical_path(nodes)


def test_graph_follows_providers_and_component_nodes_take_no_time():
    plan = {
        "resources": [
            resource("cluster", "aws:eks/cluster:Cluster"),
            resource("k8s", "pulumi:providers:kubernetes", deps=["cluster"]),
            resource("component", "platform:workloads:Workload", custom=False),
            resource("deploy", "kubernetes:apps/v1:Deployment", provider="urn:k8s"),
        ]
    }
    nodes = bench.graph_from_plan(plan)
    assert nodes["urn:deploy"].deps == ["urn:k8s"]
    assert nodes["urn:k8s"].seconds == 0 and nodes["urn:component"].seconds == 0
    total, path = bench.critical_path(nodes)
    assert (
        total == bench.CREATE_SECONDS["aws:eks/cluster:Cluster"] + bench.CREATE_SECONDS["kubernetes:apps/v1:Deployment"]
    )
    assert path == ["urn:cluster", "urn:k8s", "urn:deploy"]


def test_inherent_floor_uses_only_chains_whose_types_exist():
    eks_chain = bench.UNAVOIDABLE_CHAINS["network -> EKS -> nodes -> workloads"]
    floor, name = bench.inherent_floor(set(eks_chain))
    assert name == "network -> EKS -> nodes -> workloads"
    assert floor == sum(bench.duration(t) for t in eks_chain)
    assert bench.inherent_floor({"aws:ec2/vpc:Vpc"}) == (0.0, "none")


def test_deploy_model_of_a_real_plan_is_at_least_its_floor(primary_plan):
    model = bench.deploy_model(primary_plan.to_dict())
    assert model["criticalPathSeconds"] >= model["floorSeconds"] > 0
    assert model["serialSumSeconds"] >= model["criticalPathSeconds"]
    # the critical path runs through one of the slow resources of the chains AWS imposes (EKS, Aurora, Redis, ...)
    slow = {t for chain in bench.UNAVOIDABLE_CHAINS.values() for t in chain if bench.duration(t) >= 300}
    assert any(step["type"] in slow for step in model["criticalPath"])


def test_generated_fleets_pass_validation(tmp_path: Path):
    stacks = bench.write_fleet(REPO_ROOT, tmp_path, 5)
    assert len(stacks) == 5 and stacks[0] == load_fleet(REPO_ROOT).primary
    fleet = load_fleet(tmp_path)
    assert sorted(fleet.stacks) == sorted(stacks)
    cidrs = [fleet.stacks[s].network.cidr for s in stacks]
    assert len(set(map(str, cidrs))) == 5
    # adding Regions needs no budget edit: the stack budgets may add up to more than the enterprise budget
    limits = [cfg.cost.stack.monthly_limit_usd for cfg in fleet.stacks.values()]
    assert sum(limits) > fleet.stacks[stacks[0]].cost.enterprise.monthly_limit_usd
