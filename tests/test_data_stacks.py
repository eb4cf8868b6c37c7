"""Data tier in the real stacks: Aurora global database and Redis Global Datastore, as both stack files plan them."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from components.redis_member import MEMBER_ARGUMENTS, MEMBER_INHERITED
from infra.dr.reconcile import DATA_TYPES, replacements
from infra.plan.model import Plan
from infra.tags import BACKUP_TIER_KEY
from stacks.workloads import data_settings

GLOBAL = "aws:rds/globalCluster:GlobalCluster"
CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
PARAMS = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
DB_SUBNETS = "aws:rds/subnetGroup:SubnetGroup"
SG = "aws:ec2/securityGroup:SecurityGroup"
TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
SECRET = "aws:secretsmanager/secret:Secret"
KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
RG = "aws:elasticache/replicationGroup:ReplicationGroup"
GRG = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
CACHE_PARAMS = "aws:elasticache/parameterGroup:ParameterGroup"
CACHE_SUBNETS = "aws:elasticache/subnetGroup:SubnetGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"
K8S_SECRET = "kubernetes:core/v1:Secret"
NODE_SG_OUTPUT = "eksNodeSecurityGroupId"


@pytest.fixture(scope="module", params=["us-east-1", "eu-west-1"])
def plan(request, plans) -> Plan:
    return plans[request.param]


# ------------------------------------------------------------------------------------------------ Aurora
def test_primary_owns_the_global_cluster_and_secondary_joins_it(primary_plan, secondary_plan):
    gc = primary_plan.one(GLOBAL).inputs
    assert gc["engine"] == "aurora-postgresql" and gc["storageEncrypted"] is True and gc["deletionProtection"]
    assert secondary_plan.of_type(GLOBAL) == []
    primary_cluster = primary_plan.one(CLUSTER).inputs
    secondary_cluster = secondary_plan.one(CLUSTER).inputs
    assert primary_cluster["globalClusterIdentifier"] == gc["globalClusterIdentifier"]
    # the secondary's value comes from the primary's output (the StackReference), not from its own config
    assert secondary_cluster["globalClusterIdentifier"] == primary_plan.outputs["auroraGlobalClusterIdentifier"]
    assert primary_cluster["engineVersion"] == gc["engineVersion"] == secondary_cluster["engineVersion"]


def test_only_the_primary_cluster_carries_master_credentials(primary_plan, secondary_plan):
    primary_cluster = primary_plan.one(CLUSTER).inputs
    assert primary_cluster["masterUsername"] == "platform_admin"
    assert primary_cluster["masterPassword"] == "[secret]"
    assert {"masterUsername", "masterPassword", "manageMasterUserPassword"}.isdisjoint(
        secondary_plan.one(CLUSTER).inputs
    )
    assert (
        primary_plan.one("random:index/randomPassword:RandomPassword", "aurora-master-password").inputs["length"] >= 32
    )


def test_cluster_security_and_durability_settings(plan):
    cluster = plan.one(CLUSTER).inputs
    key = plan.one(KEY, "aurora-key-key")
    assert key.inputs["enableKeyRotation"] is True
    assert cluster["storageEncrypted"] is True
    assert cluster["kmsKeyId"].startswith(f"arn:aws:kms:{plan.stack}:") and "aurora-key-key" in cluster["kmsKeyId"]
    assert cluster["backupRetentionPeriod"] == 35
    assert cluster["preferredBackupWindow"] == "03:00-04:00"
    assert cluster["deletionProtection"] is True
    assert cluster["skipFinalSnapshot"] is False and cluster["finalSnapshotIdentifier"].endswith("-aurora-final")
    assert cluster["copyTagsToSnapshot"] is True
    assert cluster["iamDatabaseAuthenticationEnabled"] is True
    assert "postgresql" in cluster["enabledCloudwatchLogsExports"]
    assert cluster["engine"] == "aurora-postgresql"
    assert cluster["region"] == plan.stack
    assert cluster["tags"][BACKUP_TIER_KEY] == "critical"


def test_instances_have_performance_insights_and_enhanced_monitoring(plan):
    cluster = plan.one(CLUSTER).inputs
    instances = plan.of_type(INSTANCE)
    expected = 3 if plan.stack == "us-east-1" else 2  # writer-capable + readers (primary 2, secondary 1)
    assert len(instances) == expected
    role = plan.one(ROLE, "aurora-monitoring-role").inputs
    assert "monitoring.rds.amazonaws.com" in role["assumeRolePolicy"]
    assert any(arn.endswith("AmazonRDSEnhancedMonitoringRole") for arn in role["managedPolicyArns"])
    for res in instances:
        i = res.inputs
        assert i["clusterIdentifier"] == cluster["clusterIdentifier"]
        assert i["performanceInsightsEnabled"] is True
        assert i["performanceInsightsKmsKeyId"] == cluster["kmsKeyId"]
        assert i["monitoringInterval"] > 0 and "aurora-monitoring-role" in i["monitoringRoleArn"]
        assert i["publiclyAccessible"] is False
    classes = sorted(r.inputs["instanceClass"] for r in instances)
    assert classes.count("db.r6g.8xlarge") == 1 and classes.count("db.r6g.4xlarge") == expected - 1
    assert sorted(r.inputs["promotionTier"] for r in instances) == list(range(expected))


def test_parameter_group_enforces_tls_and_logs_slow_queries(plan):
    params = plan.one(PARAMS).inputs
    assert params["family"] == "aurora-postgresql16"
    values = {p["name"]: p["value"] for p in params["parameters"]}
    assert values["rds.force_ssl"] == "1"
    assert int(values["log_min_duration_statement"]) == 500
    assert plan.one(CLUSTER).inputs["dbClusterParameterGroupName"] == params["name"]


def test_subnet_group_uses_the_isolated_database_subnets(plan):
    subnets = plan.one(DB_SUBNETS, "aurora-subnets").inputs["subnetIds"]
    assert subnets == plan.outputs["databaseSubnetIds"]
    assert set(subnets).isdisjoint(plan.outputs["privateSubnetIds"])
    assert plan.one(CLUSTER).inputs["dbSubnetGroupName"] == plan.one(DB_SUBNETS, "aurora-subnets").inputs["name"]


@pytest.mark.parametrize(("name", "port"), [("aurora-sg", 5432), ("redis-sg", 6379)])
def test_security_groups_admit_only_the_eks_nodes(plan, name, port):
    sg = plan.one(SG, name).inputs
    clients = [plan.outputs[NODE_SG_OUTPUT]]
    if name == "aurora-sg" and plan.stack == "us-east-1":
        # and the master-secret rotation function (primary only), which must reach the cluster
        rotation = sg["ingress"][0]["securityGroups"][1]
        assert rotation.startswith("sg-") and rotation != clients[0]
        clients.append(rotation)
    assert sg["ingress"] == [
        {
            "description": sg["ingress"][0]["description"],
            "fromPort": port,
            "toPort": port,
            "protocol": "tcp",
            "securityGroups": clients,
        }
    ]
    assert sg["egress"] == []
    assert sg["vpcId"] == plan.outputs["vpcId"]


def test_reader_auto_scaling_only_on_the_writers_cluster(plans, flipped_plans):
    """Issue 13 item 6(b): a global secondary has no writer, which AWS auto scaling requires; it moves with the
    active-region knob (after a drill the next deploy registers it on the new writer's cluster)."""
    assert plans["eu-west-1"].of_type(TARGET) == [] and plans["eu-west-1"].of_type(POLICY) == []
    assert flipped_plans["us-east-1"].of_type(TARGET) == [] and len(flipped_plans["eu-west-1"].of_type(TARGET)) == 1
    plan = plans["us-east-1"]
    target = plan.one(TARGET, "aurora-readers-target").inputs
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 5)
    assert target["scalableDimension"] == "rds:cluster:ReadReplicaCount"
    assert target["resourceId"] == f"cluster:{plan.one(CLUSTER).inputs['clusterIdentifier']}"
    policy = plan.one(POLICY, "aurora-readers-cpu").inputs
    tracking = policy["targetTrackingScalingPolicyConfiguration"]
    assert tracking["targetValue"] == 70
    assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == "RDSReaderAverageCPUUtilization"
    assert policy["resourceId"] == target["resourceId"]


def test_master_secret_is_kms_encrypted_and_replicated_to_the_partner(primary_plan, secondary_plan):
    secret = primary_plan.one(SECRET, "aurora-master-secret").inputs
    assert secret["kmsKeyId"] == primary_plan.one(CLUSTER).inputs["kmsKeyId"]
    assert secret["replicas"] == [{"region": "eu-west-1"}]
    value = primary_plan.one("aws:secretsmanager/secretVersion:SecretVersion", "aurora-master-secret-value")
    assert value.inputs["secretString"] == "[secret]"
    # the name carries no region code, so the replica in eu-west-1 has the same one; the secondary finds it by
    # name (an output of its own, not read through a StackReference) and creates no second copy
    assert secret["name"] == "devtools-prod/aurora/master"
    assert secondary_plan.outputs["auroraMasterSecretName"] == secret["name"]
    assert "auroraMasterSecretArn" not in secondary_plan.outputs
    assert [r.name for r in secondary_plan.of_type(SECRET) if "aurora" in r.name] == []


# ------------------------------------------------------------------------------------------------ Redis
def test_primary_replication_group_settings(primary_plan):
    rg = primary_plan.one(RG).inputs
    assert rg["engine"] == "redis" and rg["clusterMode"] == "enabled"
    assert (rg["numNodeGroups"], rg["replicasPerNodeGroup"]) == (3, 2)  # seed: 3 x (1 + 2) = 9 nodes
    assert rg["nodeType"] == "cache.r7g.xlarge"
    assert rg["atRestEncryptionEnabled"] is True and rg["transitEncryptionEnabled"] is True
    assert rg["kmsKeyId"].startswith("arn:aws:kms:us-east-1:") and "redis-key-key" in rg["kmsKeyId"]
    assert "authToken" not in rg and rg["userGroupIds"] == [primary_plan.outputs["redisUserGroupId"]]
    assert rg["automaticFailoverEnabled"] is True and rg["multiAzEnabled"] is True
    assert rg["snapshotRetentionLimit"] == 7 and rg["snapshotWindow"] == "04:00-05:00"
    assert BACKUP_TIER_KEY not in rg["tags"]  # AWS Backup does not support ElastiCache: not selectable
    params = primary_plan.one(CACHE_PARAMS).inputs
    assert rg["parameterGroupName"] == params["name"]
    values = {p["name"]: p["value"] for p in params["parameters"]}
    assert values == {"cluster-enabled": "yes", "maxmemory-policy": "allkeys-lru"}


def test_primary_owns_the_global_datastore_and_secondary_joins_it(primary_plan, secondary_plan):
    grg = primary_plan.one(GRG).inputs
    assert grg["primaryReplicationGroupId"] == primary_plan.one(RG).inputs["replicationGroupId"]
    assert secondary_plan.of_type(GRG) == []
    member = secondary_plan.one(RG).inputs
    assert member["globalReplicationGroupId"] == primary_plan.outputs["redisGlobalReplicationGroupId"]
    assert member["globalReplicationGroupId"].endswith(grg["globalReplicationGroupIdSuffix"])
    assert secondary_plan.of_type(CACHE_PARAMS) == []
    assert "authToken" not in member and member["userGroupIds"] == [secondary_plan.outputs["redisUserGroupId"]]
    assert member["replicasPerNodeGroup"] == 2
    assert member["kmsKeyId"].startswith("arn:aws:kms:eu-west-1:")


def test_global_datastore_member_sends_only_the_documented_arguments(primary_plan, secondary_plan):
    """Issue 13 item 6(a): the member's argument set is exactly the allow-list kept as data with its sources
    (components/redis_member.py); everything the Global Datastore owns is absent and ignored after creation."""
    member = secondary_plan.one(RG)
    assert set(member.inputs) == set(MEMBER_ARGUMENTS), set(member.inputs) ^ set(MEMBER_ARGUMENTS)
    assert set(MEMBER_INHERITED).isdisjoint(member.inputs)
    assert set(MEMBER_INHERITED) <= set(member.options["ignoreChanges"])
    assert all(MEMBER_ARGUMENTS[k] and k not in MEMBER_INHERITED for k in MEMBER_ARGUMENTS)
    # the primary still sets what the members inherit
    owner = primary_plan.one(RG).inputs
    assert owner["multiAzEnabled"] and owner["automaticFailoverEnabled"] and owner["nodeType"]


def test_redis_subnets_and_slow_log(plan):
    rg = plan.one(RG).inputs
    assert plan.one(CACHE_SUBNETS).inputs["subnetIds"] == plan.outputs["privateSubnetIds"]
    assert rg["subnetGroupName"] == plan.one(CACHE_SUBNETS).inputs["name"]
    log = plan.one(LOG_GROUP, "redis-slow-log").inputs
    assert log["kmsKeyId"] == rg["kmsKeyId"] and log["retentionInDays"] == 365
    assert rg["logDeliveryConfigurations"] == [
        {"destination": log["name"], "destinationType": "cloudwatch-logs", "logFormat": "json", "logType": "slow-log"}
    ]
    key_policy = json.loads(plan.one(KEY, "redis-key-key").inputs["policy"])
    assert any(
        s.get("Principal", {}).get("Service") == f"logs.{plan.stack}.amazonaws.com" for s in key_policy["Statement"]
    )
    # one IAM-authenticated user per service instead of a shared AUTH token: no Redis secret exists any more
    assert [r.name for r in plan.of_type(SECRET) if "redis" in r.name] == []


# ------------------------------------------------------------------------------------------------ wiring
def test_outputs_for_secondaries_and_the_dr_programs(primary_plan, secondary_plan):
    for plan in (primary_plan, secondary_plan):
        cluster = plan.one(CLUSTER).inputs
        assert plan.outputs["auroraClusterIdentifier"] == cluster["clusterIdentifier"]
        assert plan.outputs["auroraClusterArn"].endswith(f":cluster:{cluster['clusterIdentifier']}")
        assert plan.outputs["redisReplicationGroupId"] == plan.one(RG).inputs["replicationGroupId"]
        assert plan.outputs["auroraEndpoint"] and plan.outputs["auroraReaderEndpoint"]
        assert plan.outputs["redisConfigurationEndpoint"]
    for key in ("auroraGlobalClusterIdentifier", "redisGlobalReplicationGroupId", "auroraMasterSecretArn"):
        assert key in primary_plan.outputs
    # no credential is an output of any stack (not even as a Pulumi secret): nothing to hand out by StackReference
    # The one secret output is the origin lock's header values (not a data-path credential): every Region's ALB must
    # accept the values CloudFront sends, and a Pulumi secret output is how any number of secondaries get them
    # without reading another Region's control plane (docs/edge-and-traffic.md, "Origin locked to CloudFront").
    for plan in (primary_plan, secondary_plan):
        assert {"auroraMasterPassword", "auroraMasterUsername", "redisAuthToken"}.isdisjoint(plan.outputs)
        others = {k: v for k, v in plan.outputs.items() if k != "originVerifyValues"}
        assert "[secret]" not in json.dumps(others)
    assert "auroraGlobalClusterIdentifier" not in secondary_plan.outputs


def test_workloads_get_the_global_writer_endpoint_that_follows_the_writer(plans, flipped_plans):
    """Issue 13 item 3: every stack's workloads write through the GlobalCluster's writer endpoint (the same in every
    Region, repointed by AWS on switchover/failover), so nothing changes in their config when the writer moves."""
    global_cluster = plans["us-east-1"].one("aws:rds/globalCluster:GlobalCluster")
    endpoint = plans["us-east-1"].outputs["auroraGlobalWriterEndpoint"]
    assert endpoint.startswith(global_cluster.inputs["globalClusterIdentifier"] + ".global-")
    assert endpoint.endswith(".global.rds.amazonaws.com")
    for stack in plans:
        assert plans[stack].outputs["auroraGlobalWriterEndpoint"] == endpoint
        for after in (plans, flipped_plans):
            maps = [r for r in after[stack].of_type(CONFIGMAP) if "AURORA_WRITER_ENDPOINT" in r.inputs.get("data", {})]
            assert maps and all(m.inputs["data"]["AURORA_GLOBAL_WRITER_ENDPOINT"] == endpoint for m in maps)
            # and this Region's reader endpoint for reads
            assert all(m.inputs["data"]["AURORA_READER_ENDPOINT"] == after[stack].outputs["auroraReaderEndpoint"]
                       for m in maps)  # fmt: skip


def test_workloads_receive_endpoints_and_no_credentials(plan):
    configmaps = [r for r in plan.of_type(CONFIGMAP) if "AURORA_WRITER_ENDPOINT" in r.inputs.get("data", {})]
    assert configmaps, "no workload ConfigMap carries the data-tier endpoints"
    for cm in configmaps:
        data = cm.inputs["data"]
        assert data["AURORA_WRITER_ENDPOINT"] == plan.outputs["auroraEndpoint"]
        assert data["AURORA_READER_ENDPOINT"] == plan.outputs["auroraReaderEndpoint"]
        assert data["REDIS_CONFIGURATION_ENDPOINT"] == plan.outputs["redisConfigurationEndpoint"]
        assert "DB_PASSWORD" not in data and "REDIS_AUTH_TOKEN" not in data
        assert data["DB_AUTH"] == data["REDIS_AUTH"] == "iam"
    # IAM authentication everywhere: no workload namespace holds a Kubernetes Secret
    assert plan.of_type(K8S_SECRET) == []


def test_data_settings_are_endpoints_only():
    handle = SimpleNamespace(
        aurora_endpoint="w", aurora_reader_endpoint="r", redis_configuration_endpoint="c",
        aurora_global_writer_endpoint="g",
    )  # fmt: skip
    config = data_settings(handle)  # type: ignore[arg-type]
    assert (config["AURORA_WRITER_ENDPOINT"], config["AURORA_READER_ENDPOINT"]) == ("w", "r")
    assert config["AURORA_GLOBAL_WRITER_ENDPOINT"] == "g"
    assert config["REDIS_CONFIGURATION_ENDPOINT"] == "c" and config["REDIS_TLS"] == "true"
    assert not {"DB_USERNAME", "DB_PASSWORD", "REDIS_AUTH_TOKEN"} & set(config)


def test_writer_flip_replaces_no_data_resource(plans, flipped_plans):
    """After a switchover both stacks are re-planned with the new writer region: every data resource keeps its URN
    and no input that forces a replacement changes."""
    assert flipped_plans["us-east-1"].outputs["writerRegion"] == "eu-west-1"
    assert replacements(plans, flipped_plans) == []
    for stack, before in plans.items():
        after = {r.urn: r for r in flipped_plans[stack].resources}
        data = [r for r in before.resources if r.type in DATA_TYPES and r.type.startswith(("aws:rds", "aws:elasti"))]
        assert len(data) >= 4
        for res in data:
            # stronger than the replacement list: the data tier does not depend on the knob at all
            assert after[res.urn].inputs == res.inputs, f"{stack}: {res.name} changes with the writer region"
