"""Capacity model: can the node pools of a stack hold every service at its HPA maximum?

Pure functions over the validated config (no Pulumi): `infra check` refuses a stack file whose application pool
cannot hold the services' `maxReplicas x requests` (for a secondary: what it must run after a failover), and the
plan prints the figures. Sources for every constant are in docs/compute.md ("Capacity model").
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

# vCPUs per size of the Nitro general purpose / compute / memory families (EC2 instance type naming conventions:
# the size names a multiple of the `large` size, which has 2 vCPUs) and GiB of memory per vCPU per family letter.
SIZE_VCPUS = {"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "12xlarge": 48, "16xlarge": 64,
              "24xlarge": 96}  # fmt: skip
GIB_PER_VCPU = {"c": 2, "m": 4, "r": 8}
_TYPE = re.compile(r"^(?P<cat>[cmr])(?P<gen>[5-8])(?P<attrs>[a-z]*)\.(?P<size>[0-9]*x?large)$")

# Karpenter (which Auto Mode runs) assumes this share of nominal memory is not visible to the OS (VM overhead).
VM_MEMORY_OVERHEAD = 0.075
MAX_PODS = 110  # EKS Auto Mode caps pods per node at 110
EVICTION_MIB = 100  # kubelet hard eviction threshold memory.available


@dataclass(frozen=True)
class InstanceShape:
    vcpus: int
    memory_gib: float


def instance_shape(instance_type: str) -> InstanceShape | None:
    """vCPUs and GiB of a c/m/r instance type, or None if the model does not know it."""
    match = _TYPE.match(instance_type)
    if not match or match["size"] not in SIZE_VCPUS:
        return None
    vcpus = SIZE_VCPUS[match["size"]]
    return InstanceShape(vcpus, vcpus * GIB_PER_VCPU[match["cat"]])


def kube_reserved_cpu(vcpus: int) -> float:
    """EKS AMI kube-reserved CPU: 6% of the 1st core, 1% of the 2nd, 0.5% of cores 3-4, 0.25% above 4."""
    shares = [0.06, 0.01, 0.005, 0.005] + [0.0025] * max(0, vcpus - 4)
    return sum(shares[:vcpus])


def kube_reserved_memory_gib(max_pods: int = MAX_PODS) -> float:
    """EKS AMI kube-reserved memory: 255 MiB + 11 MiB per pod, plus the 100 MiB eviction threshold."""
    return (255 + 11 * max_pods + EVICTION_MIB) / 1024


@dataclass(frozen=True)
class Allocatable:
    """What pods can request on one node of a pool, after system reservations and per-node DaemonSets."""

    cpu: float
    memory_gib: float


def allocatable(shape: InstanceShape, daemonset_cpu: float, daemonset_memory_gib: float) -> Allocatable:
    cpu = shape.vcpus - kube_reserved_cpu(shape.vcpus) - daemonset_cpu
    memory = shape.memory_gib * (1 - VM_MEMORY_OVERHEAD) - kube_reserved_memory_gib() - daemonset_memory_gib
    return Allocatable(round(cpu, 3), round(memory, 3))


def nodes_within_limits(shape: InstanceShape, cpu_limit: float, memory_limit_gib: float) -> int:
    """Nodes a Karpenter NodePool can launch: its `limits` count each node's full (nominal) capacity."""
    return int(min(cpu_limit // shape.vcpus, memory_limit_gib // shape.memory_gib))


def pack(pods: list[tuple[float, float]], node: Allocatable) -> int | None:
    """Nodes needed to place `pods` (cpu, GiB) by first-fit decreasing; None if one pod fits no node."""
    free: list[list[float]] = []
    for cpu, mem in sorted(pods, key=lambda p: (p[0], p[1]), reverse=True):
        if cpu > node.cpu or mem > node.memory_gib:
            return None
        for slot in free:
            if slot[0] >= cpu and slot[1] >= mem:
                slot[0] -= cpu
                slot[1] -= mem
                break
        else:
            free.append([node.cpu - cpu, node.memory_gib - mem])
    return len(free)


@dataclass(frozen=True)
class PoolCapacity:
    """The figures `infra check` and the plan print for one stack's application pool."""

    pool: str
    instance_type: str
    node_allocatable_cpu: float
    node_allocatable_memory_gib: float
    max_nodes: int
    capacity_at_max_cpu: float
    capacity_at_max_memory_gib: float
    needed_at_min_cpu: float
    needed_at_min_memory_gib: float
    nodes_at_min: int | None
    needed_at_max_cpu: float
    needed_at_max_memory_gib: float
    nodes_needed: int | None
    standby: bool
    writer_min_cpu: float
    writer_nodes_at_min: int | None

    @property
    def fits(self) -> bool:
        return self.nodes_needed is not None and self.nodes_needed <= self.max_nodes

    def as_dict(self) -> dict:
        return {**asdict(self), "fits": self.fits}


def _pods(services, replicas_of) -> list[tuple[float, float]]:
    return [(svc.cpu, svc.memory_gib) for svc in services for _ in range(replicas_of(svc))]


def stack_capacity(cfg, standby: bool) -> PoolCapacity:
    """The application pool's capacity against the services' HPA minima (scaled when `standby`) and maxima.

    A warm standby keeps the seed's HPA maxima (only minima are scaled), so what it must reach after a failover is
    the same maxima; its minima become the writer's (`writer_*`)."""
    compute, workloads = cfg.compute, cfg.workloads
    pool = next(p for p in compute.node_pools if p.pool == "application")
    shape = instance_shape(pool.instance_types[0])
    assert shape is not None  # validated by the config model
    node = allocatable(shape, compute.daemonset_reserve.cpu, compute.daemonset_reserve.memory_gib)
    max_nodes = nodes_within_limits(shape, pool.cpu_limit, pool.memory_limit_gib)
    services = workloads.services
    at_max = _pods(services, lambda s: s.max_replicas)
    at_min = _pods(services, lambda s: workloads.scaled(s.min_replicas, standby))
    writer_min = _pods(services, lambda s: s.min_replicas)
    needed = pack(at_max, node)
    return PoolCapacity(
        pool=pool.name,
        instance_type=pool.instance_types[0],
        node_allocatable_cpu=node.cpu,
        node_allocatable_memory_gib=node.memory_gib,
        max_nodes=max_nodes,
        capacity_at_max_cpu=round(max_nodes * node.cpu, 1),
        capacity_at_max_memory_gib=round(max_nodes * node.memory_gib, 1),
        needed_at_min_cpu=sum(p[0] for p in at_min),
        needed_at_min_memory_gib=sum(p[1] for p in at_min),
        nodes_at_min=pack(at_min, node),
        needed_at_max_cpu=sum(p[0] for p in at_max),
        needed_at_max_memory_gib=sum(p[1] for p in at_max),
        nodes_needed=needed,
        standby=standby,
        writer_min_cpu=sum(p[0] for p in writer_min),
        writer_nodes_at_min=pack(writer_min, node),
    )


def capacity_issues(stacks: dict) -> list:
    """`infra check` rule: every stack's application pool holds every service at maxReplicas (a secondary must be
    able to take the whole load after a failover, so the rule is the same for both roles)."""
    from infra.config.errors import ConfigIssue
    from infra.config.loader import stack_file_name

    issues = []
    for name, cfg in sorted(stacks.items()):
        pools = cfg.compute.node_pools
        index = next(i for i, p in enumerate(pools) if p.pool == "application")
        pool = pools[index]
        key = f"platform:compute.nodePools[{index}]"
        cap = stack_capacity(cfg, standby=False)
        file = stack_file_name(name)
        if cap.nodes_needed is None:
            big = max(cfg.workloads.services, key=lambda s: (s.cpu, s.memory_gib))
            issues.append(
                ConfigIssue(
                    file,
                    f"{key}.instanceTypes",
                    f"a {big.name} pod ({big.cpu:g} vCPU, {big.memory_gib:g} GiB) does not fit on a "
                    f"{cap.instance_type} ({cap.node_allocatable_cpu:g} vCPU / {cap.node_allocatable_memory_gib:g} "
                    "GiB allocatable after system reservations and DaemonSets).",
                    "use a larger instance type for the application pool.",
                )
            )
            continue
        if not cap.fits:
            shape = pool.shape
            cpu, mem = cap.nodes_needed * shape.vcpus, cap.nodes_needed * shape.memory_gib
            issues.append(
                ConfigIssue(
                    file,
                    f"{key}.cpuLimit / {key}.memoryLimitGib / platform:workloads.services[*].maxReplicas",
                    f"the services need {cap.needed_at_max_cpu:g} vCPU / {cap.needed_at_max_memory_gib:g} GiB at "
                    f"maxReplicas, which packs onto {cap.nodes_needed} x {cap.instance_type}; the limits "
                    f"(cpu {pool.cpu_limit}, memory {pool.memory_limit_gib} GiB) allow {cap.max_nodes} nodes"
                    + (" (and after a failover this Region must carry the full load)." if not cfg.is_primary else "."),
                    f"raise cpuLimit to at least {cpu} and memoryLimitGib to at least {mem:g}, or lower maxReplicas.",
                )
            )
    return issues


def capacity_line(cap: PoolCapacity) -> str:
    """One line for `infra check` and the plan: capacity at min / at max / needed, in vCPU and nodes."""
    role = "warm standby" if cap.standby else "writer"
    text = (
        f"capacity ({cap.pool} pool, {cap.instance_type}, {role}): at min {cap.needed_at_min_cpu:g} vCPU on "
        f"{cap.nodes_at_min} nodes; at max {cap.capacity_at_max_cpu:g} vCPU on {cap.max_nodes} nodes; needed at "
        f"maxReplicas {cap.needed_at_max_cpu:g} vCPU / {cap.needed_at_max_memory_gib:g} GiB on {cap.nodes_needed} nodes"
    )
    if cap.standby:
        text += f"; after a failover: min {cap.writer_min_cpu:g} vCPU on {cap.writer_nodes_at_min} nodes, same maxima"
    return text
