"""The drill's steps (what each reads, calls and checks). Built from the stacks' outputs by `build_steps`."""

from __future__ import annotations

from typing import Any

from infra.dr import catalogue
from infra.dr.drill import Aws, DrillSettings, Refusal, Step, StepFailed, Topology, request_id
from infra.dr.reach import ROUTE53_API, Reachability

LAG_METRIC = ("AWS/RDS", "AuroraGlobalDBReplicationLag")  # milliseconds, published in the secondary's Region


class State:
    """Reads of the actual AWS state the steps decide on (shared by pre-checks, done() and verify)."""

    def __init__(self, aws: Aws, topo: Topology, settings: DrillSettings, reach: Reachability | None = None):
        self.aws, self.topo, self.s = aws, topo, settings
        self.reach = reach or Reachability()
        self.skipped: dict[str, list[str]] = {}  # step -> checks skipped (failed Region unreachable), with reason
        self.pending: list[str] = []  # what a re-run must still do once the failed Region answers again
        self.traffic_mechanism = "health-check" if self.reach.route53_api_down else "record-update"
        self.traffic_by_dns = self.reach.route53_api_down  # records cannot be read: DNS answers decide

    def plan_traffic(self, execute: bool) -> None:
        """`--executor arc`: the plan's health checks move traffic; the records keep their weights until the next
        deploy reads the knob, so DNS answers (not the records) say whether traffic is on the target."""
        # The source's endpoint check is part of each record's CALCULATED check: when the source is down, Route 53
        # moves traffic on its own after detection, whichever comes first (the model takes the health-check path).
        source_down = self.reach.region_down(self.s.source)
        self.traffic_mechanism, self.traffic_by_dns = ("health-check" if source_down else "plan-health-check"), True
        if execute:
            self.pending.append(
                f"the api-origin records still carry the weights for {self.s.source} (the plan holds traffic on "
                f"{self.s.target} through its health checks): deploy every stack from main (the traffic tier needs "
                "the Route 53 API), which reads the active-region parameter, before an execution or a drill moves "
                "traffic again."
            )

    def skip(self, step: str, reason: str) -> None:
        self.skipped.setdefault(step, []).append(reason)

    # Aurora ------------------------------------------------------------------------------------------------
    def global_cluster(self) -> dict[str, Any]:
        rds = self.aws("rds", self.s.target)
        found = rds.describe_global_clusters(GlobalClusterIdentifier=self.topo.global_cluster)["GlobalClusters"]
        if not found:
            raise Refusal(f"Aurora global cluster {self.topo.global_cluster} not found.")
        return found[0]

    def aurora_writer_arn(self) -> str | None:
        cluster = self.global_cluster()
        if cluster.get("Status") != "available" or cluster.get("FailoverState"):
            return None  # in flight
        return next((m["DBClusterArn"] for m in cluster["GlobalClusterMembers"] if m.get("IsWriter")), None)

    def arn(self, region: str) -> str:
        return self.topo.region(region)["auroraClusterArn"]

    def target_is_writer(self) -> bool:
        return self.aurora_writer_arn() == self.arn(self.s.target)

    def target_cluster(self) -> dict[str, Any]:
        rds = self.aws("rds", self.s.target)
        ident = self.topo.region(self.s.target)["auroraClusterIdentifier"]
        return rds.describe_db_clusters(DBClusterIdentifier=ident)["DBClusters"][0]

    def replication_lag_ms(self) -> float | None:
        """Latest AuroraGlobalDBReplicationLag of the target cluster (CloudWatch, target Region), or None if there
        is no datapoint in the last 10 minutes.

        AWS publishes it with a SourceRegion dimension besides DBClusterIdentifier (components/metrics_catalogue.py),
        and GetMetricStatistics needs the exact set: list the published series of the cluster first, read each."""
        from datetime import UTC, datetime, timedelta

        cw = self.aws("cloudwatch", self.s.target)
        cluster = {"Name": "DBClusterIdentifier", "Value": self.topo.region(self.s.target)["auroraClusterIdentifier"]}
        series = cw.list_metrics(Namespace=LAG_METRIC[0], MetricName=LAG_METRIC[1], Dimensions=[cluster])["Metrics"]
        end = datetime.now(UTC) + timedelta(minutes=1)
        points = []
        for metric in series:
            points += cw.get_metric_statistics(
                Namespace=LAG_METRIC[0],
                MetricName=LAG_METRIC[1],
                Dimensions=metric["Dimensions"],
                StartTime=end - timedelta(minutes=10),
                EndTime=end,
                Period=60,
                Statistics=["Maximum"],
            )["Datapoints"]
        if not points:
            return None
        # the latest minute; the worst series in it (the lag may be published under more than one set)
        return float(max(points, key=lambda p: (p["Timestamp"], p["Maximum"]))["Maximum"])

    # Redis ---------------------------------------------------------------------------------------------------
    def datastore(self) -> dict[str, Any]:
        ec = self.aws("elasticache", self.s.target)
        return ec.describe_global_replication_groups(
            GlobalReplicationGroupId=self.topo.global_datastore, ShowMemberInfo=True
        )["GlobalReplicationGroups"][0]

    def redis_primary_region(self) -> str | None:
        group = self.datastore()
        if group.get("Status") != "available":
            return None
        return next((m["ReplicationGroupRegion"] for m in group.get("Members", []) if m.get("Role") == "PRIMARY"), None)

    # EKS -----------------------------------------------------------------------------------------------------
    def kube(self, region: str):
        """The Region's cluster's Kubernetes API (infra/dr/kube.py; a fresh token per call site)."""
        from infra.dr.kube import kube_for

        return kube_for(self.aws, region, self.topo.region(region)["eksClusterName"])

    def cluster_status(self, region: str) -> str:
        name = self.topo.region(region)["eksClusterName"]
        return self.aws("eks", region).describe_cluster(name=name)["cluster"]["status"]

    def workloads(self, region: str) -> dict[str, dict[str, Any]]:
        """Per service: HPA floor/ceiling and the Deployment's replicas / ready replicas, read from Kubernetes."""
        api = self.kube(region)
        found = {}
        for w in self.topo.region(region)["eksWorkloads"]:
            hpa = api.hpa(w["namespace"], w["hpa"])["spec"]
            status = api.deployment(w["namespace"], w["deployment"]).get("status", {})
            found[w["service"]] = {
                "minReplicas": hpa["minReplicas"],
                "maxReplicas": hpa["maxReplicas"],
                "replicas": status.get("replicas", 0),
                "readyReplicas": status.get("readyReplicas", 0),
            }
        return found

    # Route 53 ------------------------------------------------------------------------------------------------
    def origin_records(self) -> list[dict[str, Any]]:
        """The api-origin record set through the Route 53 API (control plane: only when it answers)."""
        out = self.topo.region(self.s.target)
        name = out["apiOriginName"].rstrip(".") + "."
        r53 = self.aws("route53", "us-east-1")
        records = r53.list_resource_record_sets(HostedZoneId=out["hostedZoneId"], StartRecordName=name)
        return [r for r in records["ResourceRecordSets"] if r["Name"] == name and r.get("SetIdentifier")]

    def dns_answer_region(self) -> str | None:
        """The Region DNS answers api-origin with (data plane: a DNS query, as users see it; no Route 53 API).

        The answer's addresses are matched against each Region's own name `api-<region>.<zone>` (a plain alias to
        that Region's ALB): the Region whose addresses overlap is the one serving.
        """
        answer = self.aws.resolve(self.topo.region(self.s.target)["apiOriginName"])
        if not answer:
            return None
        for region, out in sorted(self.topo.outputs.items()):
            name = out.get("regionalRecordName")
            if name and self.aws.resolve(name) & answer:
                return region
        return None

    def records_on_target(self) -> bool:
        """The records declare the target active (failover PRIMARY / the highest weight), as the IaC now does."""
        records = self.origin_records()
        mine = [r for r in records if r["SetIdentifier"] == self.s.target]
        if not mine:
            return False
        if "Failover" in mine[0]:
            return mine[0]["Failover"] == "PRIMARY"
        top = max(r.get("Weight", 0) for r in records)
        return mine[0].get("Weight", 0) == top and all(
            r.get("Weight", 0) == 0 for r in records if r["SetIdentifier"] != self.s.target
        )

    def traffic_on_target(self) -> bool:
        if self.dns_answer_region() != self.s.target:
            return False
        if self.traffic_by_dns:  # records unreadable, or not what moves traffic: a re-run / deploy aligns them
            return True
        return self.records_on_target()


def drill_steps(impl: dict[str, dict[str, Any]], kind: str, src: str, dst: str, percent: int) -> list[Step]:
    """The drill's steps, generated from the catalogue; `impl` gives each one its callbacks (all must be there)."""
    missing = set(catalogue.names(catalogue.DRILL)) ^ set(impl)
    if missing:
        raise ValueError(f"drill implementation and catalogue differ: {sorted(missing)}")
    fmt = {"src": src, "dst": dst, "percent": percent}
    return [
        Step(
            c.name,
            c.title.format(**fmt),
            c.calls_for(kind).format(**fmt),
            c.why,
            after=catalogue.effective_after(c.name, catalogue.DRILL),
            **impl[c.name],
        )
        for c in catalogue.CATALOGUE
        if catalogue.DRILL in c.executors
    ]


def build_steps(
    aws: Aws,
    topo: Topology,
    settings: DrillSettings,
    reconcile,
    reach: Reachability | None = None,
    executor: str = "drill",
) -> tuple[list[Step], State, dict]:
    """The drill's steps and the state they read; `executor="arc"`: the Region switch plan moves traffic."""
    s, st = settings, State(aws, topo, settings, reach)
    src, dst = s.source, s.target
    dst_out = topo.region(dst)
    planned = s.kind != "unplanned"
    capacity: dict[str, Any] = {}

    # ---- pre-checks (parallel) --------------------------------------------------------------------------
    def pre_aurora() -> None:
        cluster = st.target_cluster()
        if cluster.get("Status") != "available":
            raise Refusal(
                f"target Aurora cluster {cluster['DBClusterIdentifier']} in {dst} is '{cluster.get('Status')}', "
                "not 'available': the secondary is unhealthy; fix it before switching."
            )
        members = [m["DBClusterArn"] for m in st.global_cluster()["GlobalClusterMembers"]]
        if st.arn(dst) not in members:
            raise Refusal(f"{st.arn(dst)} is not a member of global cluster {topo.global_cluster}.")
        if planned and not st.target_is_writer():
            lag = st.replication_lag_ms()
            capacity["lagMs"] = lag
            if lag is None and not s.ignore_missing_metrics:
                raise Refusal(
                    f"no AuroraGlobalDBReplicationLag datapoint for {dst} in the last 10 minutes: the lag is unknown, "
                    "so the RPO budget cannot be checked. Check the secondary's replication and CloudWatch, or "
                    "re-run with --ignore-missing-metrics to switch over anyway (the switchover still waits for "
                    "catch-up)."
                )
            if lag is not None and lag > s.rpo_seconds * 1000:
                raise Refusal(
                    f"Aurora global replication lag to {dst} is {lag / 1000:g}s, above the RPO budget of "
                    f"{s.rpo_seconds}s (platform:dr.rpoSeconds): a planned switchover would wait; "
                    "retry when the lag is lower, or run `unplanned` if the primary is down."
                )
        elif not planned:
            capacity["lagMs"] = st.replication_lag_ms()

    def pre_redis() -> None:
        group = st.datastore()
        member = next((m for m in group.get("Members", []) if m["ReplicationGroupRegion"] == dst), None)
        if member is None or member["ReplicationGroupId"] != dst_out["redisReplicationGroupId"]:
            raise Refusal(
                f"Redis replication group {dst_out['redisReplicationGroupId']} in {dst} is not a member of "
                f"global datastore {topo.global_datastore}."
            )
        if member.get("Role") != "PRIMARY" and (
            member.get("Status") != "associated" or group["Status"] not in ("available", "modifying")
        ):
            raise Refusal(
                f"Redis secondary {member['ReplicationGroupId']} in {dst} is not in sync "
                f"(member '{member.get('Status')}', datastore '{group['Status']}')."
            )

    def pre_eks() -> None:
        status = st.cluster_status(dst)
        if status not in ("ACTIVE", "UPDATING"):
            raise Refusal(f"target EKS cluster {dst_out['eksClusterName']} in {dst} is {status}, not ACTIVE.")
        capacity["before"] = st.workloads(dst)
        if st.reach.region_down(src):  # unplanned only (planned is refused): pre-warm to the writer's floors
            st.skip("precheck-eks", f"source workloads not read: {src} unreachable ({st.reach.reason(src)})")
            capacity["source"] = None
        else:
            try:
                capacity["source"] = st.workloads(src)
            except Exception as exc:  # the source Region may have gone down since the probe: the writer's floors
                if planned:
                    raise Refusal(f"cannot read the source workloads in {src}: {exc}") from exc
                st.skip("precheck-eks", f"source workloads not read: {type(exc).__name__}: {exc}")
                capacity["source"] = None
        # What bounds capacity under Auto Mode is the NodePool's limits: they must hold the pre-warmed pods.
        from infra.dr.kube import cpu_quantity

        api = st.kube(dst)
        pool = next(n for n in dst_out["eksNodePoolNames"] if n != "system")
        limit = cpu_quantity(api.node_pool(pool)["spec"]["limits"]["cpu"])
        cpu = {w["service"]: w["cpu"] for w in dst_out["eksWorkloads"]}
        need = sum(cpu[name] * want["replicas"] for name, want in wanted().items())
        capacity["nodePoolCpuLimit"], capacity["neededCpu"] = limit, need
        if need > limit:
            raise Refusal(
                f"NodePool {pool} in {dst} allows {limit:g} vCPU but the pre-warmed services request {need:g}: "
                "raise its cpuLimit (platform:compute.nodePools) and deploy before switching."
            )

    # ---- pre-warm (ARC Region switch "EKS resource scaling" semantics) -------------------------------------
    def wanted() -> dict[str, dict[str, int]]:
        """Per service: the HPA floor = the writer's minReplicas (what the next deploy, driven by the active-Region
        knob, sets too, so it does not undo it) and Deployment replicas = capacityPercent of what the source runs
        now, or, when the source is unreadable (unplanned), of the seed's normal replica count (`instances`, what
        the writer starts with), both within maxReplicas."""
        out: dict[str, dict[str, int]] = {}
        source = capacity.get("source")
        for w in dst_out["eksWorkloads"]:
            name, ceiling = w["service"], w["maxReplicas"]
            floor = min(ceiling, w["writerMinReplicas"])
            basis = source[name]["replicas"] if source and name in source else w["writerReplicas"]
            replicas = min(ceiling, max(floor, -(-basis * s.capacity_percent // 100)))
            before = capacity["before"][name]
            out[name] = {
                "minReplicas": max(before["minReplicas"], floor),
                "replicas": max(before["replicas"], replicas),
            }
        return out

    def prewarm_done() -> bool:
        want = wanted()
        now = st.workloads(dst)
        capacity["after"] = now
        return all(
            now[n]["minReplicas"] >= w["minReplicas"] and now[n]["readyReplicas"] >= w["replicas"]
            for n, w in want.items()
        )

    def prewarm() -> list[str]:
        api = st.kube(dst)
        by_name = {w["service"]: w for w in dst_out["eksWorkloads"]}
        calls = []
        for name, want in wanted().items():
            w = by_name[name]
            api.set_hpa_min(w["namespace"], w["hpa"], want["minReplicas"])
            api.set_scale(w["namespace"], w["deployment"], want["replicas"])
            calls.append(f"{w['namespace']}/{w['deployment']}: minReplicas {want['minReplicas']}, replicas "
                         f"{want['replicas']}")  # fmt: skip
        return calls

    # ---- Aurora ---------------------------------------------------------------------------------------------
    def aurora_action() -> list[str]:
        rds = aws("rds", dst)
        if st.global_cluster().get("FailoverState"):
            return []  # a switch is already in flight (resume): just wait for it
        if planned:
            resp = rds.switchover_global_cluster(
                GlobalClusterIdentifier=topo.global_cluster, TargetDbClusterIdentifier=st.arn(dst)
            )
        else:
            resp = rds.failover_global_cluster(
                GlobalClusterIdentifier=topo.global_cluster, TargetDbClusterIdentifier=st.arn(dst), AllowDataLoss=True
            )
        return [request_id(resp)]

    def aurora_verify() -> None:
        if not st.target_is_writer():
            raise StepFailed(f"Aurora writer is not {dst} after the switch")

    # ---- Redis -----------------------------------------------------------------------------------------------
    def redis_action() -> list[str]:
        if st.datastore().get("Status") == "modifying":
            return []
        resp = aws("elasticache", dst).failover_global_replication_group(
            GlobalReplicationGroupId=topo.global_datastore,
            PrimaryRegion=dst,
            PrimaryReplicationGroupId=dst_out["redisReplicationGroupId"],
        )
        return [request_id(resp)]

    # ---- traffic ---------------------------------------------------------------------------------------------
    if executor == "arc":
        st.plan_traffic(s.execute)  # the plan's step, not a record update, moves traffic
    elif st.reach.route53_api_down:
        # Static stability: no control plane. The failover records shift on their own once the failed Region's
        # health check fails (data plane); the step's done() waits for DNS to answer the target.
        st.skip(
            "traffic-shift",
            f"records not updated, the Route 53 API does not answer ({st.reach.reason(ROUTE53_API)}); "
            "relying on Route 53 health-check failover (data plane)",
        )
        if s.execute:
            st.pending.append(
                f"Route 53 records still declare the old roles (API unreachable): re-run this drill, or deploy the "
                f"traffic tier, once the Route 53 API answers and before {src}'s health check turns green again - "
                f"otherwise DNS sends traffic back to {src}, whose database is now a read-only secondary."
            )

    def traffic_action() -> list[str]:
        if st.reach.route53_api_down:
            return []
        records = st.origin_records()
        if not records:
            raise StepFailed(
                f"no {dst_out['apiOriginName']} records with set identifiers in zone {dst_out['hostedZoneId']}"
            )
        changes = []
        top = max(r.get("Weight", 0) for r in records) or 100
        for record in records:
            new = {k: v for k, v in record.items() if k not in ("ResourceRecordSetId",)}
            on_target = record["SetIdentifier"] == dst
            if "Failover" in record:
                new["Failover"] = "PRIMARY" if on_target else "SECONDARY"
            elif "Weight" in record:
                new["Weight"] = top if on_target else 0
            else:  # refused up front (runner); kept as a guard
                raise StepFailed(f"routing policy '{dst_out['routingPolicy']}' has no record state to shift")
            changes.append({"Action": "UPSERT", "ResourceRecordSet": new})
        resp = aws("route53", "us-east-1").change_resource_record_sets(
            HostedZoneId=dst_out["hostedZoneId"],
            ChangeBatch={"Comment": f"DR drill {s.kind}: traffic to {dst}", "Changes": changes},
        )
        return [request_id(resp)]

    # ---- verify ----------------------------------------------------------------------------------------------
    def verify_all() -> None:
        """Reads of the target Region and DNS only (works with the failed Region and the Route 53 API down).

        A failover answer for the target means Route 53 sees the target healthy: it answers a SECONDARY only when
        its check is green, and a PRIMARY whose check is red only when every record is red.
        """
        problems = []
        if not st.target_is_writer():
            problems.append(f"Aurora writer is not {dst}")
        if st.redis_primary_region() != dst:
            problems.append(f"Redis primary is not {dst}")
        answer = st.dns_answer_region()
        if answer != dst:
            problems.append(f"DNS answers {dst_out['apiOriginName']} with {answer}, not {dst}")
        if problems:
            raise StepFailed("verification failed: " + "; ".join(problems))

    # What each drill step does; names, titles, order and the per-kind text come from the catalogue.
    impl: dict[str, dict[str, Any]] = {
        "precheck-aurora": {"precheck": pre_aurora},
        "precheck-redis": {"precheck": pre_redis},
        "precheck-eks": {"precheck": pre_eks},
        "prewarm-capacity": {"done": prewarm_done, "action": prewarm},
        "aurora-switch": {
            "done": st.target_is_writer,
            "action": aurora_action,
            "verify": aurora_verify,
            "cutover": True,
        },
        "redis-promote": {
            "done": lambda: st.redis_primary_region() == dst,
            "action": redis_action,
            "cutover": True,
        },
        "traffic-shift": {"done": st.traffic_on_target, "action": traffic_action},
        "verify": {"verify": verify_all},
        "reconcile-iac": {"done": reconcile.done, "action": reconcile.apply},
    }
    steps = drill_steps(impl, s.kind, src, dst, s.capacity_percent)
    return steps, st, capacity
