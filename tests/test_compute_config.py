"""Compute and workloads config: every bad input names the stack file, the key path and what is allowed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from infra.capacity import (
    InstanceShape,
    allocatable,
    instance_shape,
    kube_reserved_cpu,
    nodes_within_limits,
    pack,
    stack_capacity,
)
from infra.config.fleet import load_fleet
from infra.plan.runner import REPO_ROOT
from tests.config_cases import PRIMARY, SECONDARY, assert_config_issue


def _edit(section: str, fn: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def edit(config: dict[str, Any]) -> None:
        fn(config[f"platform:{section}"])

    return edit


def _set(section: str, path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def fn(node: Any) -> None:
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return _edit(section, fn)


def _service(index: int, **values: Any) -> Callable[[dict[str, Any]], None]:
    return _edit("workloads", lambda node: node["services"][index].update(values))


def _drop_analytics(node: dict[str, Any]) -> None:
    node["services"] = [svc for svc in node["services"] if svc["name"] != "analytics"]
    for svc in node["services"]:
        svc["allowedFrom"] = [name for name in svc.get("allowedFrom", []) if name != "analytics"]


BAD = [
    ("us-east-1", _set("compute", "nodePools.1.cpuLimit", 8), PRIMARY, "platform:compute.nodePools[1]",
     "cannot hold one m6i.4xlarge"),
    ("us-east-1", _set("compute", "nodePools.0.instanceTypes", ["m6i-large"]), PRIMARY,
     "platform:compute.nodePools[0].instanceTypes", "not an EC2 instance type"),
    ("us-east-1", _set("compute", "nodePools.1.instanceTypes", ["m6i.4xlarge", "m6i.8xlarge"]), PRIMARY,
     "platform:compute.nodePools[1].instanceTypes", "differ in vCPU/memory"),
    ("us-east-1", _set("compute", "nodePools.1.instanceTypes", ["g5.4xlarge"]), PRIMARY,
     "platform:compute.nodePools[1].instanceTypes", "capacity model knows c/m/r"),
    ("us-east-1", _set("compute", "nodePools.0.capacityTypes", ["reserved"]), PRIMARY,
     "platform:compute.nodePools[0].capacityTypes[0]", "'on-demand' or 'spot'"),
    ("us-east-1", _set("compute", "nodePools.1.expireAfterHours", 720), PRIMARY,
     "platform:compute.nodePools[1].expireAfterHours", "less than or equal to 504"),
    ("us-east-1", _set("compute", "nodePools.0.cpuLimit", 2), PRIMARY, "platform:compute",
     "fewer than 2 nodes"),
    ("us-east-1", _set("compute", "publicAccessCidrs", ["0.0.0.0/0"]), PRIMARY, "platform:compute.publicAccessCidrs",
     "whole internet"),
    ("eu-west-1", _set("compute", "publicAccessCidrs", ["198.51.100.7/24"]), SECONDARY,
     "platform:compute.publicAccessCidrs", "not a CIDR"),
    ("us-east-1", _set("compute", "kubernetesVersion", "1.21"), PRIMARY, "platform:compute.kubernetesVersion",
     "not a supported EKS version"),
    ("us-east-1", _set("compute", "logRetentionDays", 42), PRIMARY, "platform:compute.logRetentionDays",
     "CloudWatch Logs retention"),
    ("us-east-1", _set("compute", "addonVersions.metrics-server", "latest"), PRIMARY,
     "platform:compute.addonVersions", "eksbuild"),
    ("us-east-1", _set("compute", "addonVersions.vpc-cni", "v1.19.5-eksbuild.3"), PRIMARY,
     "platform:compute.addonVersions", "unknown ['vpc-cni']"),
    ("us-east-1", _set("compute", "nodePools.0.pool", "application"), PRIMARY, "platform:compute",
     "`system`"),
    # Auto Mode enforces IMDSv2 with hop limit 1; the old knob is gone, not silently ignored
    ("us-east-1", _set("compute", "metadataHopLimit", 1), PRIMARY, "platform:compute.metadataHopLimit",
     "is not a known setting"),
    ("us-east-1", _set("compute", "access.developer.principalArns", ["arn:aws:iam::1234:user/bob"]), PRIMARY,
     "platform:compute.access.developer.principalArns", "not an IAM role ARN"),
    ("us-east-1", _set("compute", "access.intern", {"principalArns": []}), PRIMARY,
     "platform:compute.access.intern.[key]", "enterprise_admin"),
    ("us-east-1", _set("compute", "alb.sslPolicy", "ELBSecurityPolicy-2016-08"), PRIMARY,
     "platform:compute.alb.sslPolicy", "TLS 1.2+"),
    ("us-east-1", _service(0, tag="latest"), PRIMARY, "platform:workloads.services[0].tag", "`latest`"),
    ("us-east-1", _service(1, image="repo.example.com/users:1.0"), PRIMARY, "platform:workloads.services[1].image",
     "without tag"),
    ("us-east-1", _service(2, minReplicas=50), PRIMARY, "platform:workloads.services[2]",
     "minReplicas <= instances <= maxReplicas"),
    ("us-east-1", _service(3, digest=None, tag=None), PRIMARY, "platform:workloads.services[3]", "set `digest`"),
    ("us-east-1", _service(3, digest="sha256:ABC"), PRIMARY, "platform:workloads.services[3].digest",
     "sha256:<64 lowercase hex"),
    ("us-east-1", _service(3, database={"grants": {"billing": "read"}}), PRIMARY, "platform:workloads",
     "does not create"),
    ("us-east-1", _service(3, database={"grants": {"audit": "delete"}}), PRIMARY,
     "platform:workloads.services[3].database.grants.audit", "'read', 'insert' or 'write'"),
    ("us-east-1", _service(3, metric="requests"), PRIMARY, "platform:workloads.services[3].metric",
     "'cpu' or 'memory'"),
    ("us-east-1", _service(1, public=True), PRIMARY, "platform:workloads", "exactly one service"),
    ("us-east-1", _service(1, allowedFrom=["billing"]), PRIMARY, "platform:workloads", "unknown services"),
    ("eu-west-1", _set("workloads", "warmStandbyFactor", 0), SECONDARY, "platform:workloads.warmStandbyFactor",
     "greater than 0"),
    ("eu-west-1", _edit("workloads", _drop_analytics), SECONDARY,
     "platform:workloads.services", "same services"),
]  # fmt: skip


@pytest.mark.parametrize(("stack", "edit", "file", "key", "words"), BAD, ids=[f"{b[3]}:{b[4]}" for b in BAD])
def test_bad_compute_config_names_file_and_key(write_stacks, stack, edit, file, key, words):
    assert_config_issue(write_stacks({stack: edit}), file, key, words)


def test_real_stack_files_carry_the_seed_numbers():
    fleet = load_fleet(REPO_ROOT)
    for cfg in fleet.stacks.values():
        services = {svc.name: svc for svc in cfg.workloads.services}
        api = services["claude-api"]
        assert (api.instances, api.cpu, api.memory_gib, api.min_replicas, api.max_replicas) == (20, 4, 8, 10, 100)
        assert services["audit-logging"].metric == "memory" and services["audit-logging"].target_utilization == 80
        assert cfg.compute.public_access_cidrs == []
        assert {pool.pool for pool in cfg.compute.node_pools} == {"system", "application"}


def test_defaults_equal_the_stack_files():
    """The code defaults are the seed values too (a stack file may omit the sections)."""
    from infra.config.compute import ComputeConfig
    from infra.config.workloads import WorkloadsConfig

    primary = load_fleet(REPO_ROOT).stacks["us-east-1"]
    defaults = WorkloadsConfig()
    assert [(s.name, s.instances, s.min_replicas, s.max_replicas, s.metric) for s in defaults.services] == [
        (s.name, s.instances, s.min_replicas, s.max_replicas, s.metric) for s in primary.workloads.services
    ]
    assert ComputeConfig().addon_versions == primary.compute.addon_versions
    assert ComputeConfig().node_pools == primary.compute.node_pools


# --- Capacity model (infra check) --------------------------------------------------------------------------------


def test_capacity_model_reservations_and_packing():
    shape = instance_shape("m6i.4xlarge")
    assert shape == InstanceShape(16, 64)
    assert instance_shape("c7i.2xlarge") == InstanceShape(8, 16) and instance_shape("r6a.large") == InstanceShape(2, 16)
    assert instance_shape("g5.4xlarge") is None
    # EKS AMI reservations: 60+10+5+5 m for cores 1-4, 2.5 m for each of the other 12
    assert kube_reserved_cpu(16) == pytest.approx(0.11)
    node = allocatable(shape, 0.5, 0.75)
    assert node.cpu == pytest.approx(15.39)
    assert node.memory_gib == pytest.approx(64 * 0.925 - (255 + 11 * 110 + 100) / 1024 - 0.75, abs=1e-3)
    # three 4-vCPU pods fill a 16-vCPU node's allocatable (15.39): a fourth needs a second node
    assert pack([(4, 8)] * 3, node) == 1 and pack([(4, 8)] * 4, node) == 2
    assert pack([(20, 8)], node) is None
    assert nodes_within_limits(shape, 960, 3840) == 60 and nodes_within_limits(shape, 960, 960) == 15


def test_real_stacks_hold_the_seed_maxima_and_print_their_capacity():
    result = subprocess.run([sys.executable, "-m", "infra", "check"], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    for stack in ("us-east-1", "eu-west-1"):
        cfg = load_fleet(REPO_ROOT).stacks[stack]
        cap = stack_capacity(cfg, standby=stack != "us-east-1")
        assert cap.fits and cap.needed_at_max_cpu == 700 and cap.needed_at_max_memory_gib == 1720
        assert cap.nodes_needed <= cap.max_nodes
    assert "warm standby): at min 38 vCPU" in result.stdout  # eu-west-1: half the seed minima
    assert "writer): at min 70 vCPU on 5 nodes; at max 923.4 vCPU on 60 nodes" in result.stdout
    assert "needed at maxReplicas 700 vCPU / 1720 GiB on 50 nodes" in result.stdout


def test_check_refuses_a_secondary_that_cannot_hold_the_failover_load(write_stacks):
    """eu-west-1 with half the CPU limit: fine as a warm standby, but after a failover it must run every service at
    maxReplicas; `infra check` exits 2 naming the file, the keys and the numbers to fix."""
    root = write_stacks({"eu-west-1": _set("compute", "nodePools.1.cpuLimit", 480)})
    result = subprocess.run([sys.executable, "-m", "infra", "--root", str(root), "check"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert (
        "Pulumi.eu-west-1.yaml: key 'platform:compute.nodePools[1].cpuLimit / "
        "platform:compute.nodePools[1].memoryLimitGib / platform:workloads.services[*].maxReplicas'"
    ) in result.stderr
    assert "packs onto 50 x m6i.4xlarge" in result.stderr and "allow 30 nodes" in result.stderr
    assert "after a failover this Region must carry the full load" in result.stderr
    assert "Fix: raise cpuLimit to at least 800 and memoryLimitGib to at least 3200" in result.stderr
    assert "Pulumi.us-east-1.yaml" not in result.stderr


def test_check_refuses_pods_that_fit_no_node(write_stacks):
    root = write_stacks({"us-east-1": _service(3, cpu=16)})
    assert_config_issue(root, PRIMARY, "platform:compute.nodePools[1].instanceTypes", "does not fit on a m6i.4xlarge")
