"""Data components on their own: the variants the real stack files do not use (standalone Redis without service
users, final snapshot skipped explicitly) and the argument checks."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from components.aurora import AuroraArgs, AuroraRegionalCluster
from components.redis import RedisArgs, RedisCluster
from infra.plan.model import Plan
from infra.plan.runner import synthesize

RG = "aws:elasticache/replicationGroup:ReplicationGroup"
GRG = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
SECRET = "aws:secretsmanager/secret:Secret"
PASSWORD = "random:index/randomPassword:RandomPassword"
COMMON = {
    "region": "ap-southeast-2",
    "name_prefix": "unit-apse2",
    "tags": {"team": "t"},
    "subnet_ids": ["subnet-1", "subnet-2"],
    "vpc_id": "vpc-1",
    "client_security_group_id": "sg-nodes",
    "account_id": "123456789012",
}


def _standalone_redis() -> None:
    RedisCluster(
        "cache",
        RedisArgs(**COMMON, role="primary", global_suffix="x", global_datastore=False, shards=2,
                  replicas_per_shard=1, node_type="cache.t4g.medium"),
    )  # fmt: skip


def _aurora_pair() -> None:
    AuroraRegionalCluster(
        "db",
        AuroraArgs(**COMMON, role="secondary", global_name="g", global_cluster_identifier="g", engine_version="16.6",
                   master_secret_name="unit/aurora/master", readers=1, skip_final_snapshot=True,
                   deletion_protection=False),
    )  # fmt: skip


@pytest.fixture(scope="module")
def redis_plan() -> Plan:
    return synthesize("unit", {}, program=_standalone_redis)


@pytest.fixture(scope="module")
def aurora_plan() -> Plan:
    return synthesize("unit", {}, program=_aurora_pair)


def test_standalone_redis_without_service_users(redis_plan):
    group = redis_plan.one(RG).inputs
    assert "authToken" not in group and "globalReplicationGroupId" not in group
    assert redis_plan.of_type(GRG) == [] and redis_plan.of_type(SECRET) == []
    # even with no service user the group exists and replaces the open built-in default user with a disabled one
    users = redis_plan.of_type("aws:elasticache/user:User")
    assert [(u.inputs["userName"], u.inputs["accessString"]) for u in users] == [("default", "off -@all")]
    assert group["userGroupIds"] == [redis_plan.one("aws:elasticache/userGroup:UserGroup").inputs["userGroupId"]]
    # still encrypted, Multi-AZ and in cluster mode with the configured shape
    assert group["atRestEncryptionEnabled"] and group["transitEncryptionEnabled"] and group["kmsKeyId"]
    assert group["multiAzEnabled"] and group["automaticFailoverEnabled"]
    assert (group["numNodeGroups"], group["replicasPerNodeGroup"], group["clusterMode"]) == (2, 1, "enabled")
    assert group["region"] == "ap-southeast-2"


def test_every_child_is_parented_and_tagged(redis_plan, aurora_plan):
    for plan, component in ((redis_plan, "cache"), (aurora_plan, "db")):
        for res in plan.resources:
            if res.type.startswith("aws:") and res.parent:
                assert res.name.startswith(component), res.name
                if "tags" in res.inputs:
                    assert res.inputs["tags"]["team"] == "t" and res.inputs["tags"]["Name"]


def test_secondary_cluster_without_credentials_and_explicit_snapshot_opt_out(aurora_plan):
    cluster = aurora_plan.one(CLUSTER).inputs
    assert cluster["globalClusterIdentifier"] == "g"
    assert "masterUsername" not in cluster and aurora_plan.of_type(PASSWORD) == []
    assert aurora_plan.of_type(SECRET) == [] and aurora_plan.of_type("aws:rds/globalCluster:GlobalCluster") == []
    assert cluster["skipFinalSnapshot"] is True and cluster["deletionProtection"] is False
    assert len(aurora_plan.of_type(INSTANCE)) == 2


def test_argument_checks():
    with pytest.raises(ValidationError, match="needs global_cluster_identifier"):
        AuroraArgs(**COMMON, role="secondary", global_name="g", engine_version="16.6", master_secret_name="s")
    with pytest.raises(ValidationError, match="needs rotation_subnet_ids"):
        AuroraArgs(**COMMON, role="primary", global_name="g", engine_version="16.6", master_secret_name="s")
    with pytest.raises(ValidationError, match="needs global_replication_group_id"):
        RedisArgs(**COMMON, role="secondary", global_suffix="x")
    with pytest.raises(ValidationError, match="need transit encryption"):
        RedisArgs(**COMMON, role="primary", global_suffix="x", transit_encryption=False)
    with pytest.raises(ValidationError, match="less than or equal to 35"):
        AuroraArgs(
            **COMMON,
            role="primary",
            global_name="g",
            engine_version="16.6",
            backup_retention_days=40,
            master_secret_name="s",
            rotation_subnet_ids=["subnet-1"],
        )
