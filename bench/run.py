"""Benchmark: offline plan cost, how it grows with regions, the modeled deploy critical path, the drill's overhead.

    python bench/run.py                      # everything, prints tables, writes reports/bench/bench.json
    python bench/run.py --runs 3 --skip-drill --json /tmp/bench.json

Not a timed test: it measures and reports, it asserts nothing. How to read the output: docs/benchmark.md.
Every timing runs in fresh Python processes (`--worker ...`) so that import caches of one measurement do not
flatter the next one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# --- modeled AWS creation times ----------------------------------------------------------------------------------
# Seconds from "create" to "available" as AWS documents them or as commonly observed (docs/benchmark.md lists the
# sources). A type not listed takes DEFAULT_SECONDS; components and providers take 0.
CREATE_SECONDS: dict[str, float] = {
    "aws:eks/cluster:Cluster": 600,  # EKS control plane ~10 min
    "kubernetes:karpenter.sh/v1:NodePool": 5,  # Auto Mode NodePool object; its nodes launch for pending pods
    "aws:eks/addon:Addon": 60,
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": 5,
    "aws:eks/accessEntry:AccessEntry": 5,
    "aws:rds/globalCluster:GlobalCluster": 60,
    "aws:rds/cluster:Cluster": 300,  # Aurora cluster (storage volume) ~3-5 min; secondary joins the global DB
    "aws:rds/clusterInstance:ClusterInstance": 540,  # Aurora instance ~8-10 min
    "aws:rds/instance:Instance": 600,
    "aws:elasticache/replicationGroup:ReplicationGroup": 660,  # ElastiCache group ~10-12 min
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": 300,
    "aws:cloudfront/distribution:Distribution": 600,  # CloudFront ~5-15 min
    "aws:acm/certificateValidation:CertificateValidation": 180,  # DNS validation ~2-5 min
    "aws:ec2/natGateway:NatGateway": 120,
    "aws:lb/loadBalancer:LoadBalancer": 180,
    "aws:ec2/vpcEndpoint:VpcEndpoint": 120,
    "aws:route53/record:Record": 60,  # change INSYNC ~60 s
    "aws:route53/healthCheck:HealthCheck": 30,
    "aws:route53/zone:Zone": 60,
    "aws:wafv2/webAcl:WebAcl": 30,
    "aws:dynamodb/table:Table": 20,
    "aws:iam/role:Role": 10,  # plus IAM propagation
    "aws:kms/key:Key": 5,
    "kubernetes:apps/v1:Deployment": 150,  # Auto Mode launches nodes for the pending pods (~1 min), then rollout
    "aws:backup/vault:Vault": 5,
    "aws:backup/plan:Plan": 5,
}
DEFAULT_SECONDS = 5.0

# Chains AWS imposes whatever the program looks like (each step needs the previous one's id or state). The floor of
# a stack is the longest of these chains whose types all exist in its plan.
UNAVOIDABLE_CHAINS: dict[str, list[str]] = {
    "network -> EKS -> nodes -> workloads": [
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:eks/cluster:Cluster",
        "kubernetes:karpenter.sh/v1:NodePool",
        "kubernetes:apps/v1:Deployment",
    ],
    "network -> Aurora cluster -> instance": [
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:rds/cluster:Cluster",
        "aws:rds/clusterInstance:ClusterInstance",
    ],
    "network -> Redis replication group": [
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:elasticache/subnetGroup:SubnetGroup",
        "aws:elasticache/replicationGroup:ReplicationGroup",
    ],
    "certificate -> validation -> CloudFront": [
        "aws:acm/certificate:Certificate",
        "aws:route53/record:Record",
        "aws:acm/certificateValidation:CertificateValidation",
        "aws:cloudfront/distribution:Distribution",
    ],
    "certificate -> validation -> ALB listener": [
        "aws:acm/certificate:Certificate",
        "aws:route53/record:Record",
        "aws:acm/certificateValidation:CertificateValidation",
        "aws:lb/listener:Listener",
    ],
}

EXTRA_REGIONS = ("us-west-2", "ap-southeast-2", "eu-central-1")


def duration(typ: str, custom: bool = True) -> float:
    if not custom or typ.startswith("pulumi:"):
        return 0.0
    return CREATE_SECONDS.get(typ, DEFAULT_SECONDS)


# --- critical path -----------------------------------------------------------------------------------------------


@dataclass
class Node:
    urn: str
    type: str
    seconds: float
    deps: list[str]


def graph_from_plan(plan: dict[str, Any]) -> dict[str, Node]:
    """Nodes = resources; edges = recorded dependencies + explicit providers (a Kubernetes object waits for its
    cluster's provider). Component resources take no time but keep their children's ordering."""
    nodes = {}
    urns = {r["urn"] for r in plan["resources"]}
    for r in plan["resources"]:
        deps = [d for d in r.get("dependencies", []) if d in urns]
        provider = r.get("provider")
        if provider in urns and provider not in deps:
            deps.append(provider)
        nodes[r["urn"]] = Node(r["urn"], r["type"], duration(r["type"], r.get("custom", True)), deps)
    return nodes


def critical_path(nodes: dict[str, Node]) -> tuple[float, list[str]]:
    """Longest finish time through the dependency DAG (unbounded parallelism, as Pulumi runs it)."""
    finish: dict[str, float] = {}
    best_prev: dict[str, str | None] = {}
    visiting: set[str] = set()

    def visit(urn: str) -> float:
        if urn in finish:
            return finish[urn]
        if urn in visiting:
            raise ValueError(f"dependency cycle through {urn}")
        visiting.add(urn)
        node = nodes[urn]
        start, prev = 0.0, None
        for dep in node.deps:
            if dep in nodes and visit(dep) > start:
                start, prev = finish[dep], dep
        visiting.discard(urn)
        finish[urn] = start + node.seconds
        best_prev[urn] = prev
        return finish[urn]

    for urn in nodes:
        visit(urn)
    if not finish:
        return 0.0, []
    end = max(finish, key=lambda u: finish[u])
    path, cursor = [], end
    while cursor is not None:
        path.append(cursor)
        cursor = best_prev[cursor]
    return finish[end], list(reversed(path))


def inherent_floor(types_present: set[str]) -> tuple[float, str]:
    best, name = 0.0, "none"
    for chain_name, chain in UNAVOIDABLE_CHAINS.items():
        if all(t in types_present for t in chain):
            seconds = sum(duration(t) for t in chain)
            if seconds > best:
                best, name = seconds, chain_name
    return best, name


def deploy_model(plan: dict[str, Any]) -> dict[str, Any]:
    nodes = graph_from_plan(plan)
    total, path = critical_path(nodes)
    floor, chain = inherent_floor({r["type"] for r in plan["resources"]})
    steps = [
        {"resource": urn.rsplit("::", 1)[-1], "type": nodes[urn].type, "seconds": nodes[urn].seconds}
        for urn in path
        if nodes[urn].seconds > 0
    ]
    serial = sum(n.seconds for n in nodes.values())
    return {
        "criticalPathSeconds": total,
        "floorSeconds": floor,
        "floorChain": chain,
        "overFloorSeconds": total - floor,
        "serialSumSeconds": serial,
        "criticalPath": steps,
    }


# --- workers (run in fresh processes) ----------------------------------------------------------------------------


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker_imports(modules: list[str]) -> dict[str, Any]:
    import importlib

    started = time.perf_counter()
    for name in modules:
        importlib.import_module(name)
    return {"seconds": time.perf_counter() - started, "peakRssMb": _peak_rss_mb()}


SDK_PACKAGES = ("pulumi", "pulumi_aws", "pulumi_kubernetes", "pulumi_random")


def _sdk_modules() -> list[str]:
    """Every SDK module the program loaded, in load order (pulumi-aws loads resource modules lazily, so the
    floor must import the same leaf modules, not just the packages)."""
    return [m for m in list(sys.modules) if m.split(".")[0] in SDK_PACKAGES]


def worker_plan(root: Path, stack: str, runs: int, partner_outputs: Path | None) -> dict[str, Any]:
    """One stack in a fresh process: cold = import the program + synthesize once; then `runs` warm re-plans.

    A secondary gets its primary's planned outputs from `partner_outputs` (JSON), so only its own plan is timed.
    """
    started = time.perf_counter()
    from infra.config.loader import read_stack_file
    from infra.plan.runner import synthesize

    config = read_stack_file(root / f"Pulumi.{stack}.yaml")
    outputs = json.loads(partner_outputs.read_text()) if partner_outputs else {}
    plan = synthesize(stack, config, outputs)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(runs):
        t0 = time.perf_counter()
        synthesize(stack, config, outputs)
        warm.append(time.perf_counter() - t0)
    return {
        "coldSeconds": cold,
        "warmSeconds": warm,
        "resources": len(plan.resources),
        "sdkModules": _sdk_modules(),
        "peakRssMb": _peak_rss_mb(),
        "plan": plan.to_dict(),
    }


def worker_fleet(root: Path, runs: int) -> dict[str, Any]:
    """Every stack of a fleet in one process (the way `python -m infra demo` and the CI loop plan them)."""
    started = time.perf_counter()
    from infra.plan.runner import Planner

    planner = Planner(root)
    order = [planner.fleet.primary, *planner.fleet.secondaries()]
    plans = {stack: planner.plan(stack) for stack in order}
    cold = time.perf_counter() - started
    warm = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fresh = Planner(root)
        for stack in order:
            fresh.plan(stack)
        warm.append(time.perf_counter() - t0)
    return {
        "stacks": order,
        "coldSeconds": cold,
        "warmSeconds": warm,
        "resources": sum(len(p.resources) for p in plans.values()),
        "peakRssMb": _peak_rss_mb(),
    }


def run_worker(args: list[str], timeout: float = 900) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
    )
    if out.returncode != 0:
        raise RuntimeError(f"worker {args[:2]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- fleets with more regions ------------------------------------------------------------------------------------


def write_fleet(root: Path, target: Path, regions: int) -> list[str]:
    """Copy the real stack files and add secondaries cloned from the first secondary (region, CIDR, images)."""
    import yaml

    from infra.config.fleet import load_fleet

    fleet = load_fleet(root)
    shutil.copy(root / "Pulumi.yaml", target / "Pulumi.yaml")
    stacks = [fleet.primary, *fleet.secondaries()]
    for stack in stacks:
        shutil.copy(root / f"Pulumi.{stack}.yaml", target / f"Pulumi.{stack}.yaml")
    template_stack = fleet.secondaries()[0]
    template = (root / f"Pulumi.{template_stack}.yaml").read_text()
    extra = [r for r in EXTRA_REGIONS if r not in stacks][: max(0, regions - len(stacks))]
    docs = {stack: yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text()) for stack in stacks}
    for index, region in enumerate(extra):
        doc = yaml.safe_load(template)  # images name `{region}`: nothing Region-specific but these two keys
        doc["config"]["platform:region"] = region
        doc["config"]["platform:network"]["cidr"] = f"10.{100 + 10 * index}.0.0/16"
        docs[region] = doc
    # Keys every stack must agree on (the shared Route 53 record set): give each new region unused continents.
    geo = docs[fleet.primary]["config"].get("platform:traffic", {}).get("geolocation")
    if isinstance(geo, dict):
        free = [c for c in ("OC", "AS", "AN", "AF", "SA") if not any(c in v for v in geo.values())]
        geo = {**geo, **{region: [free[i % len(free)]] if free else ["AN"] for i, region in enumerate(extra)}}
        for doc in docs.values():
            doc["config"]["platform:traffic"]["geolocation"] = geo
    for stack, doc in docs.items():
        (target / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    load_fleet(target)  # the generated fleet must pass the same validation
    return [*stacks, *extra]


# --- the drill ---------------------------------------------------------------------------------------------------


def drill_overhead(root: Path) -> dict[str, Any]:
    from infra.config.fleet import load_fleet

    fleet = load_fleet(root)
    secondaries = fleet.secondaries()
    if not secondaries:
        return {"available": False, "reason": "only one stack"}
    with tempfile.TemporaryDirectory() as tmp:
        report_file = Path(tmp) / "drill.json"
        command = [
            sys.executable,
            "-m",
            "infra",
            "--root",
            str(root),
            "drill",
            "planned",
            "--from",
            fleet.primary,
            "--to",
            secondaries[0],
            "--local",
            "--execute",
            "--no-replan",
            "--reports-dir",
            tmp,
            "--json",
            str(report_file),
        ]
        started = time.perf_counter()
        out = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=root)
        wall = time.perf_counter() - started
        if not report_file.is_file():
            return {"available": False, "reason": f"drill wrote no report (exit {out.returncode})", "wallSeconds": wall}
        report = json.loads(report_file.read_text())
    steps = report.get("steps", [])
    if not steps or any(s.get("outcome") not in ("done", "already-done") for s in steps):
        return {
            "available": False,
            "reason": f"drill outcome '{report.get('outcome')}': {report.get('error')}",
            "wallSeconds": wall,
        }
    step_seconds = sum(float(s.get("seconds") or 0) for s in steps)
    requests = sum(len(s.get("requestIds", [])) for s in steps)
    return {
        "available": True,
        "outcome": report.get("outcome"),  # "failed" here means a budget (RTO/RPO) was missed, not a step
        "wallSeconds": wall,
        "rtoSeconds": report.get("rto", {}).get("seconds"),
        "stepSeconds": step_seconds,
        "steps": len(steps),
        "apiRequests": requests,
        "setupSeconds": wall - step_seconds,
        "perStep": {s.get("name"): s.get("seconds") for s in steps},
    }


# --- main --------------------------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def bench(root: Path, runs: int, regions: tuple[int, ...], skip_drill: bool, console) -> dict[str, Any]:
    from rich.table import Table

    from infra.config.fleet import load_fleet

    fleet = load_fleet(root)
    stacks = [fleet.primary, *fleet.secondaries()]
    result: dict[str, Any] = {"runs": runs, "python": sys.version.split()[0], "cpus": os.cpu_count()}

    # 1. plan time per stack against the SDK import floor (fresh processes)
    console.print(f"[bold]1/4 offline plan per stack[/] ({runs} fresh processes each) ...")
    per_stack: dict[str, Any] = {}
    plans: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for stack in stacks:
            cfg = fleet.stacks[stack]
            extra: list[str] = []
            if not cfg.is_primary:
                outputs_file = Path(tmp) / f"{cfg.partner_stack}.outputs.json"
                outputs_file.write_text(json.dumps({cfg.partner_stack: plans[cfg.partner_stack]["outputs"]}))
                extra = ["--partner-outputs", str(outputs_file)]
            base = ["plan", "--root", str(root), "--stacks", stack, *extra]
            samples = [run_worker([*base, "--runs", str(runs)])]
            samples += [run_worker([*base, "--runs", "0"]) for _ in range(runs - 1)]
            modules = samples[0]["sdkModules"]
            floor = [run_worker(["imports", "--modules", ",".join(modules)])["seconds"] for _ in range(runs)]
            cold = [s["coldSeconds"] for s in samples]
            plans[stack] = samples[0]["plan"]
            per_stack[stack] = {
                "resources": samples[0]["resources"],
                "sdkModules": len(modules),
                "importFloorSeconds": median(floor),
                "planColdSeconds": median(cold),
                "planWarmSeconds": median(samples[0]["warmSeconds"]),
                "overFloorSeconds": median(cold) - median(floor),
                "peakRssMb": max(s["peakRssMb"] for s in samples),
            }
    result["stacks"] = per_stack
    table = Table(title="Offline plan per stack (median; cold = fresh process incl. imports)")
    for column in ("stack", "resources", "SDK import floor s", "plan cold s", "over floor s", "plan warm s", "peak MB"):
        table.add_column(column, justify="right" if column != "stack" else "left")
    for stack, row in per_stack.items():
        table.add_row(
            stack,
            str(row["resources"]),
            f"{row['importFloorSeconds']:.2f}",
            f"{row['planColdSeconds']:.2f}",
            f"{row['overFloorSeconds']:.2f}",
            f"{row['planWarmSeconds']:.2f}",
            f"{row['peakRssMb']:.0f}",
        )
    console.print(table)

    # 2. cost growth with regions
    console.print(f"[bold]2/4 plan time for {', '.join(map(str, regions))} regions[/] (generated stack files) ...")
    growth = {}
    for count in regions:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                write_fleet(root, Path(tmp), count)
            except Exception as exc:  # a generated fleet that fails validation is reported, not hidden
                growth[str(count)] = {"error": str(exc).splitlines()[0]}
                continue
            sample = run_worker(["fleet", "--root", tmp, "--runs", "2"])
        warm_total = median(sample["warmSeconds"])
        growth[str(count)] = {
            "stacks": sample["stacks"],
            "resources": sample["resources"],
            "coldTotalSeconds": sample["coldSeconds"],
            "warmTotalSeconds": warm_total,
            "warmPerStackSeconds": warm_total / len(sample["stacks"]),
            "peakRssMb": sample["peakRssMb"],
        }
    result["regions"] = growth
    table = Table(title="Plan cost by number of regions (all stacks, one process)")
    for column in ("regions", "resources", "cold total s", "warm total s", "warm per stack s", "peak MB"):
        table.add_column(column, justify="right")
    for count, row in growth.items():
        if "error" in row:
            table.add_row(count, "-", "-", "-", "-", f"[red]{row['error'][:100]}[/]")
            continue
        table.add_row(
            count,
            str(row["resources"]),
            f"{row['coldTotalSeconds']:.2f}",
            f"{row['warmTotalSeconds']:.2f}",
            f"{row['warmPerStackSeconds']:.2f}",
            f"{row['peakRssMb']:.0f}",
        )
    console.print(table)

    # 3. modeled deploy critical path
    console.print("[bold]3/4 modeled deploy critical path[/] (dependency graph x documented AWS creation times)")
    models = {stack: deploy_model(plan) for stack, plan in plans.items()}
    primary_cp = models[fleet.primary]["criticalPathSeconds"]
    sequential = primary_cp + max((models[s]["criticalPathSeconds"] for s in stacks[1:]), default=0.0)
    result["deploy"] = {"stacks": models, "pipelineSeconds": sequential}
    table = Table(title="Modeled `pulumi up` from scratch (minutes)")
    for column in ("stack", "critical path", "inherent floor", "over floor", "serial sum", "floor chain"):
        table.add_column(column, justify="left" if column in ("stack", "floor chain") else "right")
    for stack, model in models.items():
        table.add_row(
            stack,
            f"{model['criticalPathSeconds'] / 60:.1f}",
            f"{model['floorSeconds'] / 60:.1f}",
            f"{model['overFloorSeconds'] / 60:.1f}",
            f"{model['serialSumSeconds'] / 60:.1f}",
            model["floorChain"],
        )
    console.print(table)
    for stack, model in models.items():
        chain = " -> ".join(f"{s['resource']} ({s['seconds'] / 60:.1f}m)" for s in model["criticalPath"])
        console.print(f"  {stack} critical path: {chain}")
    console.print(
        f"  deploy pipeline (primary, then secondaries in parallel): {sequential / 60:.1f} min modeled "
        "(the deploy workflow's order)"
    )

    # 4. drill overhead against the emulator
    if skip_drill:
        result["drill"] = {"available": False, "reason": "skipped (--skip-drill)"}
    else:
        console.print("[bold]4/4 DR drill against the emulator[/] (planned switchover, --local --execute) ...")
        result["drill"] = drill_overhead(root)
    drill = result["drill"]
    if drill.get("available"):
        table = Table(title="DR drill overhead (emulator: AWS operations complete at once)")
        for column in ("wall s", "steps", "step time s", "setup s (plan+seed)", "measured RTO s", "API requests"):
            table.add_column(column, justify="right")
        table.add_row(
            f"{drill['wallSeconds']:.1f}",
            str(drill["steps"]),
            f"{drill['stepSeconds']:.2f}",
            f"{drill['setupSeconds']:.1f}",
            str(drill["rtoSeconds"]),
            str(drill["apiRequests"]),
        )
        console.print(table)
    else:
        console.print(f"  drill overhead: [yellow]unavailable[/] ({drill['reason']})")
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=REPO_ROOT)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per measurement (median)")
    parser.add_argument("--regions", default="2,3,5", help="fleet sizes to plan (default 2,3,5)")
    parser.add_argument("--skip-drill", action="store_true")
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "reports" / "bench" / "bench.json")
    parser.add_argument("--worker", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    if args.worker:
        kind, rest = args.worker[0], args.worker[1:]
        sub = argparse.ArgumentParser()
        sub.add_argument("--root", type=Path, default=REPO_ROOT)
        sub.add_argument("--stacks", default="")
        sub.add_argument("--runs", type=int, default=0)
        sub.add_argument("--modules", default="")
        sub.add_argument("--partner-outputs", type=Path, default=None)
        opts = sub.parse_args(rest)
        if kind == "imports":
            data = worker_imports([m for m in opts.modules.split(",") if m])
        elif kind == "fleet":
            data = worker_fleet(opts.root, opts.runs)
        else:
            data = worker_plan(opts.root, opts.stacks, opts.runs, opts.partner_outputs)
        print(json.dumps(data, default=str))
        return 0

    from rich.console import Console

    console = Console(width=max(140, shutil.get_terminal_size((140, 40)).columns))
    regions = tuple(int(n) for n in re.split(r"[, ]+", args.regions) if n)
    started = time.perf_counter()
    result = bench(args.root, max(1, args.runs), regions, args.skip_drill, console)
    result["wallSeconds"] = round(time.perf_counter() - started, 1)  # the benchmark's own duration (docs quote it)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"wrote {args.json}; the benchmark took {result['wallSeconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
