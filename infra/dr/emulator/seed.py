"""Create in the emulator what the stacks' offline plans declare, and return the outputs as AWS would report them.

Reads the plans' resources (Deployments, HPAs and NodePools, health checks, api-origin records, engines) and outputs
(names and identifiers). Identifiers AWS generates (hosted zone id, health check ids, ARNs, the Global Datastore id)
are replaced in the returned outputs by the emulator's, exactly as `stack.outputs()` would show real ones.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from infra.dr.steps import LAG_METRIC
from infra.plan.model import Plan

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
RECORD = "aws:route53/record:Record"
GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
GLOBAL_DATASTORE = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
PARAMETER = "aws:ssm/parameter:Parameter"


def _camel_to_pascal(inputs: dict[str, Any], keys: dict[str, str]) -> dict[str, Any]:
    return {aws_key: inputs[key] for key, aws_key in keys.items() if inputs.get(key) is not None}


def seed(emu, plans: dict[str, Plan], primary: str, lag_ms: float = 150.0) -> dict[str, dict[str, Any]]:
    """Create every stack's DR-relevant resources in the emulator; returns outputs per stack (= region)."""
    outputs = {stack: copy.deepcopy(plan.outputs) for stack, plan in plans.items()}
    order = [primary, *sorted(s for s in plans if s != primary)]
    p_out = outputs[primary]
    zone_id = None
    # Route 53 zone (global; the primary owns it)
    if p_out.get("hostedZoneName"):
        r53 = emu.client("route53", "us-east-1")
        zone_id = r53.create_hosted_zone(Name=p_out["hostedZoneName"], CallerReference=f"dr-{primary}")["HostedZone"][
            "Id"
        ].split("/")[-1]
    # Aurora global cluster
    engine = "aurora-postgresql"
    gc = [r for r in plans[primary].of_type(GLOBAL_CLUSTER)]
    if gc:
        engine = gc[0].inputs.get("engine", engine)
    if p_out.get("auroraGlobalClusterIdentifier"):
        emu.client("rds", primary).create_global_cluster(
            GlobalClusterIdentifier=p_out["auroraGlobalClusterIdentifier"], Engine=engine, StorageEncrypted=True
        )
    datastore_id = None
    for stack in order:
        region = plans[stack].outputs.get("region", stack)
        out = outputs[stack]
        plan = plans[stack]
        # EKS cluster (its Kubernetes objects go to the Kubernetes API emulator)
        if out.get("eksClusterName"):
            eks = emu.client("eks", region)
            eks.create_cluster(
                name=out["eksClusterName"],
                roleArn=f"arn:aws:iam::123456789012:role/{out['eksClusterName']}",
                resourcesVpcConfig={"subnetIds": list(out.get("privateSubnetIds", []))},
            )
            # The cluster's Kubernetes objects the drill scales, as the plan declares them (the emulator's API).
            for typ, kind in ((DEPLOYMENT, "deployment"), (HPA, "hpa"), (NODEPOOL, "nodepool")):
                for resource in plan.of_type(typ):
                    emu.seed_kube(out["eksClusterName"], kind, resource.inputs)
        # Aurora regional cluster (the primary's first: it becomes the writer)
        if out.get("auroraClusterIdentifier") and p_out.get("auroraGlobalClusterIdentifier"):
            rds = emu.client("rds", region)
            kwargs: dict[str, Any] = {}
            if stack == primary:
                kwargs = {"MasterUsername": "platform", "MasterUserPassword": "emulator-only-password"}
            cluster = rds.create_db_cluster(
                DBClusterIdentifier=out["auroraClusterIdentifier"],
                Engine=engine,
                GlobalClusterIdentifier=p_out["auroraGlobalClusterIdentifier"],
                StorageEncrypted=True,
                **kwargs,
            )["DBCluster"]
            out["auroraClusterArn"] = cluster["DBClusterArn"]
            if stack != primary:
                emu.client("cloudwatch", region).put_metric_data(
                    Namespace=LAG_METRIC[0],
                    MetricData=[
                        {
                            "MetricName": LAG_METRIC[1],
                            # as AWS publishes it: per secondary cluster AND the writer's (source) Region
                            "Dimensions": [
                                {"Name": "DBClusterIdentifier", "Value": out["auroraClusterIdentifier"]},
                                {"Name": "SourceRegion", "Value": plans[primary].outputs.get("region", primary)},
                            ],
                            "Timestamp": datetime.now(UTC),
                            "Value": lag_ms,
                            "Unit": "Milliseconds",
                        }
                    ],
                )
        # Redis replication group, Global Datastore
        if out.get("redisReplicationGroupId") and p_out.get("redisGlobalReplicationGroupId"):
            ec = emu.client("elasticache", region)
            if stack == primary:
                ec.create_replication_group(
                    ReplicationGroupId=out["redisReplicationGroupId"],
                    ReplicationGroupDescription="platform redis",
                    Engine="redis",
                    CacheNodeType="cache.r7g.large",
                )
                suffix = p_out["redisGlobalReplicationGroupId"]
                declared = plan.of_type(GLOBAL_DATASTORE)
                if declared and declared[0].inputs.get("globalReplicationGroupIdSuffix"):
                    suffix = declared[0].inputs["globalReplicationGroupIdSuffix"]
                datastore_id = ec.create_global_replication_group(
                    GlobalReplicationGroupIdSuffix=suffix, PrimaryReplicationGroupId=out["redisReplicationGroupId"]
                )["GlobalReplicationGroup"]["GlobalReplicationGroupId"]
            else:
                ec.create_replication_group(
                    ReplicationGroupId=out["redisReplicationGroupId"],
                    ReplicationGroupDescription="platform redis (secondary)",
                    GlobalReplicationGroupId=datastore_id,
                )
        # DR lock table
        if out.get("drLockTableName"):
            emu.client("dynamodb", region).create_table(
                TableName=out["drLockTableName"],
                KeySchema=[{"AttributeName": "lockId", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "lockId", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        # The active-region parameter, as the stack created it (the value it was planned with)
        name = out.get("activeRegionParameterName")
        declared = [r.inputs for r in plan.of_type(PARAMETER) if r.inputs.get("name") == name]
        if name and declared:
            emu.client("ssm", region).put_parameter(
                Name=name, Type="String", Value=declared[0].get("insecureValue", out.get("writerRegion", primary))
            )
        # Route 53 health check + api-origin record of this region
        if zone_id:
            r53 = emu.client("route53", "us-east-1")
            out["hostedZoneId"] = zone_id
            checks = [c for c in plan.of_type(HEALTH_CHECK) if c.inputs.get("type") != "CALCULATED"]
            planned_ids: dict[str, str] = {}  # the plan's (mock) health check id -> the emulator's
            if checks and out.get("healthCheckId"):
                cfg = _camel_to_pascal(
                    checks[0].inputs,
                    {
                        "type": "Type",
                        "fqdn": "FullyQualifiedDomainName",
                        "port": "Port",
                        "resourcePath": "ResourcePath",
                        "requestInterval": "RequestInterval",
                        "failureThreshold": "FailureThreshold",
                        "enableSni": "EnableSNI",
                        "measureLatency": "MeasureLatency",
                    },
                )
                out["healthCheckId"] = r53.create_health_check(CallerReference=f"dr-{stack}", HealthCheckConfig=cfg)[
                    "HealthCheck"
                ]["Id"]
                planned_ids[plans[stack].outputs["healthCheckId"]] = out["healthCheckId"]
                emu.health.check_region[out["healthCheckId"]] = region  # the check probes this Region's ALB
            for calculated in (c for c in plan.of_type(HEALTH_CHECK) if c.inputs.get("type") == "CALCULATED"):
                children = [planned_ids.get(c, c) for c in calculated.inputs.get("childHealthchecks", [])]
                made = r53.create_health_check(
                    CallerReference=f"dr-{stack}-calculated",
                    HealthCheckConfig={
                        "Type": "CALCULATED",
                        "ChildHealthChecks": children,
                        "HealthThreshold": calculated.inputs.get("childHealthThreshold", len(children)),
                    },
                )["HealthCheck"]["Id"]
                if plans[stack].outputs.get("originHealthCheckId"):
                    planned_ids[plans[stack].outputs["originHealthCheckId"]] = made
            if out.get("originHealthCheckId"):
                out["originHealthCheckId"] = planned_ids.get(out["originHealthCheckId"], out["originHealthCheckId"])
            origin = (out.get("apiOriginName") or "").rstrip(".")
            regional = (out.get("regionalRecordName") or "").rstrip(".")
            for record in plan.of_type(RECORD):
                inputs = record.inputs
                name = inputs.get("name", "").rstrip(".")
                is_origin = name == origin and inputs.get("setIdentifier")
                if not is_origin and not (regional and name == regional):
                    continue
                rrset: dict[str, Any] = {"Name": name + ".", "Type": inputs.get("type", "A")}
                if is_origin:
                    rrset["SetIdentifier"] = inputs["setIdentifier"]
                if inputs.get("healthCheckId") in planned_ids:
                    rrset["HealthCheckId"] = planned_ids[inputs["healthCheckId"]]
                if inputs.get("failoverRoutingPolicies"):
                    rrset["Failover"] = inputs["failoverRoutingPolicies"][0]["type"]
                if inputs.get("weightedRoutingPolicies"):
                    rrset["Weight"] = inputs["weightedRoutingPolicies"][0]["weight"]
                alias = (inputs.get("aliases") or [None])[0]
                if alias:
                    rrset["AliasTarget"] = {
                        "HostedZoneId": alias["zoneId"],
                        "DNSName": alias["name"],
                        "EvaluateTargetHealth": bool(alias.get("evaluateTargetHealth")),
                    }
                else:
                    rrset["TTL"] = inputs.get("ttl", 60)
                    rrset["ResourceRecords"] = [{"Value": v} for v in inputs.get("records", [])]
                r53.change_resource_record_sets(
                    HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": rrset}]}
                )
    if datastore_id:
        for out in outputs.values():
            if "redisGlobalReplicationGroupId" in out:
                out["redisGlobalReplicationGroupId"] = datastore_id
    return outputs


def snapshot(emu, outputs: dict[str, dict[str, Any]], primary: str) -> dict[str, Any]:
    """Everything the drill could change, read through the AWS APIs (for 'dry-run changes nothing' checks)."""
    state: dict[str, Any] = {}
    p_out = outputs[primary]
    state["globalClusters"] = emu.client("rds", primary).describe_global_clusters()["GlobalClusters"]
    state["datastores"] = emu.client("elasticache", primary).describe_global_replication_groups(ShowMemberInfo=True)[
        "GlobalReplicationGroups"
    ]
    for stack, out in outputs.items():
        region = out.get("region", stack)
        kube = emu.kube.clusters.get(out.get("eksClusterName", ""))
        state[f"{stack}/kubernetes"] = (
            {"/".join(key): copy.deepcopy(obj) for key, obj in kube.objects.items()} if kube else None
        )
        # LatestRestorableTime is computed at read time ("now"), not state: leave it out of the comparison.
        state[f"{stack}/clusters"] = [
            {k: v for k, v in c.items() if k != "LatestRestorableTime"}
            for c in emu.client("rds", region).describe_db_clusters()["DBClusters"]
        ]
        if out.get("activeRegionParameterName"):
            state[f"{stack}/activeRegion"] = [
                {k: v for k, v in p.items() if k in ("Name", "Value", "Version")}
                for p in emu.client("ssm", region).get_parameters(Names=[out["activeRegionParameterName"]])[
                    "Parameters"
                ]
            ]
        state[f"{stack}/lock"] = (
            emu.client("dynamodb", region).scan(TableName=out["drLockTableName"])["Items"]
            if out.get("drLockTableName")
            else None
        )
    if p_out.get("hostedZoneId"):
        state["records"] = emu.client("route53", "us-east-1").list_resource_record_sets(
            HostedZoneId=p_out["hostedZoneId"]
        )["ResourceRecordSets"]
    return state
