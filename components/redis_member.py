"""What a Global Datastore member (secondary) replication group may be created with, kept as data with its source.

A member inherits most settings from the Global Datastore; ElastiCache rejects several of them on
`CreateReplicationGroup` with a `GlobalReplicationGroupId` ("InvalidParameterCombination: Cannot use the given
parameters when creating new replication group in an existing global replication group",
hashicorp/terraform-provider-aws#24854), and silently ignores others (#20893). The member's arguments are checked
against MEMBER_ARGUMENTS by tests/test_data_stacks.py; docs/data-tier.md explains each decision.
"""

from __future__ import annotations

from pydantic.alias_generators import to_snake

_TF = "hashicorp/terraform-provider-aws internal/service/elasticache/replication_group.go"
_PREREQ = "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Redis-Global-Datastores-Getting-Started.html"
_API = "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html"

# Pulumi input (camelCase, as in the plan) -> why the member sends it, and the source.
MEMBER_ARGUMENTS: dict[str, str] = {
    "region": "provider routing (pulumi-aws v7 per-resource Region), not a request parameter",
    "replicationGroupId": f"required ReplicationGroupId ({_API})",
    "description": f"required ReplicationGroupDescription ({_API})",
    "globalReplicationGroupId": f"the membership: GlobalReplicationGroupId ({_API})",
    "subnetGroupName": f"regional placement, CacheSubnetGroupName; sent for members by {_TF}",
    "securityGroupIds": f"regional placement, SecurityGroupIds; sent for members by {_TF}",
    "kmsKeyId": "the member Region's own CMK (keys are regional; at-rest encryption itself is inherited): "
    "terraform-aws-modules/terraform-aws-elasticache#71 creates members with kms_key_id and without "
    f"AtRestEncryptionEnabled; sent by {_TF}",
    "replicasPerNodeGroup": f"'each cluster in your global datastore can have a different number of read replicas' "
    f"({_PREREQ})",
    "userGroupIds": "the member Region's RBAC user group (user groups are regional resources); the provider sends "
    f"UserGroupIds for members ({_TF}); whether a member may take its own group is not stated in the Global "
    "Datastore pages: known unverified point",
    "snapshotRetentionLimit": f"per-cluster backup setting, no documented restriction on members; sent by {_TF}",
    "snapshotWindow": f"per-cluster backup setting, no documented restriction on members; sent by {_TF}",
    "maintenanceWindow": f"per-cluster PreferredMaintenanceWindow, no documented restriction; sent by {_TF}",
    "logDeliveryConfigurations": f"per-cluster slow-log delivery to this Region's log group; sent by {_TF}",
    "tags": f"Tags on create ({_API})",
}

# Inherited from the Global Datastore: never sent on a member (and ignored after creation, so a refresh that reads
# the inherited value never turns into a ModifyReplicationGroup the member would reject).
MEMBER_INHERITED: dict[str, str] = {
    "engine": f"ConflictsWith global_replication_group_id in {_TF}; inferred from the primary (#20893)",
    "engineVersion": f"ConflictsWith global_replication_group_id in {_TF}",
    "nodeType": f"ConflictsWith global_replication_group_id in {_TF}; same node type in every member ({_PREREQ})",
    "numNodeGroups": f"ConflictsWith global_replication_group_id in {_TF}; same shard count ({_PREREQ})",
    "parameterGroupName": f"ConflictsWith global_replication_group_id in {_TF}; ignored if sent (#20893)",
    "clusterMode": "the datastore's cluster mode (ClusterEnabled on the GlobalReplicationGroup)",
    "atRestEncryptionEnabled": f"ConflictsWith global_replication_group_id in {_TF}",
    "transitEncryptionEnabled": f"ConflictsWith global_replication_group_id in {_TF}",
    "transitEncryptionMode": f"ConflictsWith global_replication_group_id in {_TF}",
    "automaticFailoverEnabled": f"'the secondary cluster inherits the Multi-AZ and automatic failover settings from "
    f"the primary cluster' ({_PREREQ}); the provider does not send it for members ({_TF})",
    "multiAzEnabled": f"inherited with automatic failover ({_PREREQ})",
    "port": "the datastore's port (the provider's default 6379); not needed on a member",
    "snapshotArns": f"ConflictsWith global_replication_group_id in {_TF}",
    "snapshotName": f"ConflictsWith global_replication_group_id in {_TF}",
}


def member_arguments(common: dict) -> dict:
    """`common` (the arguments every replication group of the stack gets, snake_case) minus the inherited ones."""
    inherited = {to_snake(name) for name in MEMBER_INHERITED}
    return {key: value for key, value in common.items() if key not in inherited}
