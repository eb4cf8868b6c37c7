"""Compute and workloads config: every bad input names the stack file, the key path and what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

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
    ("us-east-1", _set("compute", "nodeGroups.1.minSize", 70), PRIMARY, "platform:compute.nodeGroups[1]",
     "minSize <= desiredSize <= maxSize"),
    ("us-east-1", _set("compute", "nodeGroups.0.instanceTypes", ["m6i-large"]), PRIMARY,
     "platform:compute.nodeGroups[0].instanceTypes", "not an EC2 instance type"),
    ("us-east-1", _set("compute", "nodeGroups.0.capacityType", "RESERVED"), PRIMARY,
     "platform:compute.nodeGroups[0].capacityType", "ON_DEMAND"),
    ("us-east-1", _set("compute", "publicAccessCidrs", ["0.0.0.0/0"]), PRIMARY, "platform:compute.publicAccessCidrs",
     "whole internet"),
    ("eu-west-1", _set("compute", "publicAccessCidrs", ["198.51.100.7/24"]), SECONDARY,
     "platform:compute.publicAccessCidrs", "not a CIDR"),
    ("us-east-1", _set("compute", "kubernetesVersion", "1.21"), PRIMARY, "platform:compute.kubernetesVersion",
     "not a supported EKS version"),
    ("us-east-1", _set("compute", "logRetentionDays", 42), PRIMARY, "platform:compute.logRetentionDays",
     "CloudWatch Logs retention"),
    ("us-east-1", _set("compute", "addonVersions.coredns", "latest"), PRIMARY, "platform:compute.addonVersions",
     "eksbuild"),
    ("us-east-1", _set("compute", "addonVersions.kube-proxy", "v1.31.2-eksbuild.3"), PRIMARY, "platform:compute",
     "does not match kubernetesVersion"),
    ("us-east-1", _set("compute", "nodeGroups.0.pool", "application"), PRIMARY, "platform:compute",
     "`system`"),
    ("us-east-1", _set("compute", "metadataHopLimit", 3), PRIMARY, "platform:compute.metadataHopLimit", "1 or 2"),
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
        assert cfg.compute.metadata_hop_limit == 1
        assert {group.pool for group in cfg.compute.node_groups} == {"system", "application"}


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
