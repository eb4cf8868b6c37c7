"""ElastiCache for Redis OSS, cluster mode enabled, with the cross-region Global Datastore."""

from __future__ import annotations

from typing import Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, model_validator

from components.base import ComponentArgs, Input, PlatformComponent
from components.datastore import client_only_security_group
from components.kms import KmsKey, KmsKeyArgs
from components.redis_member import MEMBER_INHERITED, member_arguments
from components.redis_rbac import RedisUser, redis_user_group

PORT = 6379
# A Global Datastore member inherits these from the global group, and a failover moves the primary; changing them
# from IaC would either be rejected by AWS or replace the group.
MEMBER_IGNORE = [*MEMBER_INHERITED, "globalReplicationGroupId"]


class RedisArgs(ComponentArgs):
    """Args of `RedisCluster`. Secure defaults: CMK at rest, TLS in transit, per-service IAM users (RBAC), Multi-AZ."""

    role: Literal["primary", "secondary"] = Field(..., description="primary creates the Global Datastore.")
    global_suffix: str = Field(..., description="Global Datastore id suffix (the same in every stack).")
    global_datastore: bool = Field(True, description="Create (primary) or join (secondary) the Global Datastore.")
    global_replication_group_id: Input = Field(None, description="Secondaries: the Global Datastore to join.")
    users: list[RedisUser] = Field(
        default_factory=list, description="One IAM-authenticated user per service (RBAC); the default user is off."
    )
    transit_encryption: bool = Field(True, description="TLS in transit (required by IAM auth and Global Datastore).")
    engine_version: str = Field("7.1", description="Redis OSS engine version.")
    node_type: str = Field("cache.r7g.xlarge", description="Node type.")
    shards: int = Field(3, ge=1, description="Node groups (shards).")
    replicas_per_shard: int = Field(2, ge=1, le=5, description="Replicas per shard.")
    maxmemory_policy: str = Field("allkeys-lru", description="Eviction policy.")
    snapshot_retention_days: int = Field(7, ge=0, le=35, description="Daily snapshots kept.")
    snapshot_window: str = Field("04:00-05:00", description="Snapshot window.")
    maintenance_window: str = Field("sun:06:00-sun:07:00", description="Maintenance window.")
    slow_log_retention_days: int = Field(365, description="Slow-log retention (days).")
    subnet_ids: Input = Field(..., description="Private subnet ids.")
    vpc_id: Input = Field(..., description="VPC id for the security group.")
    client_security_group_id: Input = Field(..., description="The only source admitted on 6379 (EKS nodes).")
    account_id: Input = Field(..., description="AWS account id for the key policy.")

    @model_validator(mode="after")
    def _member_inputs(self) -> RedisArgs:
        if self.role == "secondary" and self.global_datastore and self.global_replication_group_id is None:
            raise ValueError("a secondary member needs global_replication_group_id")
        if not self.transit_encryption:
            raise ValueError("IAM-authenticated users and Global Datastore need transit encryption")
        return self


class RedisCluster(PlatformComponent):
    """A cluster-mode replication group; the primary stack also owns the Global Datastore.

    Outputs: `replication_group_id`, `replication_group_arn`, `configuration_endpoint`,
    `global_replication_group_id`, `user_group_id`, `users` (service -> ElastiCache user), `security_group_id`.
    """

    def __init__(self, name: str, args: RedisArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:data:RedisCluster", name, opts)
        region, base, tags = args.region, args.name_prefix, args.tags
        key = KmsKey(
            self.cname("key"),
            KmsKeyArgs(
                region=region, name_prefix=base, tags=tags, purpose="redis", account_id=args.account_id,
                service_principals=[f"logs.{region}.amazonaws.com"],
            ),
            opts=self.child(),
        )  # fmt: skip
        self.user_group, self.users = redis_user_group(
            self, region=region, group_id=f"{base}-redis", users=list(args.users), tags=tags
        )
        subnets = aws.elasticache.SubnetGroup(
            self.cname("subnets"),
            region=region,
            name=f"{base}-redis",
            subnet_ids=args.subnet_ids,
            description="Private subnets for Redis",
            tags=self.tagged(tags, f"{base}-redis"),
            opts=self.child(),
        )
        sg = client_only_security_group(
            self, region=region, vpc_id=args.vpc_id, port=PORT, client_security_group_id=args.client_security_group_id,
            description="Redis: TLS from the EKS nodes only", rule_description="EKS nodes to Redis",
            name=f"{base}-redis-sg", tags=tags,
        )  # fmt: skip
        slow_log = aws.cloudwatch.LogGroup(
            self.cname("slow-log"),
            region=region,
            name=f"/platform/{base}/redis/slow-log",
            retention_in_days=args.slow_log_retention_days,
            kms_key_id=key.arn,
            tags=self.tagged(tags, f"{base}-redis-slow-log"),
            opts=self.child(),
        )
        common = dict(
            region=region,
            replication_group_id=f"{base}-redis",
            description=f"{base} application cache",
            port=PORT,
            replicas_per_node_group=args.replicas_per_shard,
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            kms_key_id=key.arn,
            # RBAC instead of one shared AUTH token: each service authenticates as its own IAM user.
            user_group_ids=[self.user_group.user_group_id],
            subnet_group_name=subnets.name,
            security_group_ids=[sg.id],
            snapshot_retention_limit=args.snapshot_retention_days,
            snapshot_window=args.snapshot_window,
            maintenance_window=args.maintenance_window,
            log_delivery_configurations=[
                aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
                    destination=slow_log.name, destination_type="cloudwatch-logs", log_format="json",
                    log_type="slow-log",
                )
            ],
            # No backup-tier tag: AWS Backup does not support ElastiCache; its own daily snapshots cover it.
            tags=self.tagged(tags, f"{base}-redis"),
        )  # fmt: skip
        if args.role == "primary" or not args.global_datastore:
            params = aws.elasticache.ParameterGroup(
                self.cname("params"),
                region=region,
                name=f"{base}-redis7-cluster",
                family="redis7",
                description="Cluster mode, seed eviction policy",
                parameters=[
                    aws.elasticache.ParameterGroupParameterArgs(name="cluster-enabled", value="yes"),
                    aws.elasticache.ParameterGroupParameterArgs(name="maxmemory-policy", value=args.maxmemory_policy),
                ],
                tags=self.tagged(tags, f"{base}-redis-params"),
                opts=self.child(),
            )
            self.group = aws.elasticache.ReplicationGroup(
                self.cname("group"),
                engine="redis",
                engine_version=args.engine_version,
                node_type=args.node_type,
                cluster_mode="enabled",
                num_node_groups=args.shards,
                parameter_group_name=params.name,
                at_rest_encryption_enabled=True,
                transit_encryption_enabled=args.transit_encryption,
                **common,
                opts=self.child(ignore_changes=["globalReplicationGroupId"]),
            )
        else:
            # A member inherits engine, node type, shards, parameters, encryption and Multi-AZ/failover from the
            # Global Datastore: it sends only what components/redis_member.py allows (with the sources).
            self.group = aws.elasticache.ReplicationGroup(
                self.cname("group"),
                global_replication_group_id=args.global_replication_group_id,
                **member_arguments(common),
                opts=self.child(ignore_changes=MEMBER_IGNORE),
            )
        self.global_replication_group_id: pulumi.Output[str] | None = (
            pulumi.Output.from_input(args.global_replication_group_id) if args.global_replication_group_id else None
        )
        if args.role == "primary" and args.global_datastore:
            datastore = aws.elasticache.GlobalReplicationGroup(
                self.cname("global"),
                region=region,
                global_replication_group_id_suffix=args.global_suffix,
                global_replication_group_description="Cross-region Redis Global Datastore",
                primary_replication_group_id=self.group.id,
                # After a failover AWS names another region's group the primary: IaC must not undo that.
                opts=self.child(ignore_changes=["primaryReplicationGroupId"]),
            )
            self.global_replication_group_id = datastore.global_replication_group_id
        self.replication_group_id = self.group.id
        self.replication_group_arn = self.group.arn
        self.user_group_id = self.user_group.user_group_id
        self.configuration_endpoint = self.group.configuration_endpoint_address
        self.security_group_id = sg.id
        self.register_outputs(
            {
                "replicationGroupId": self.replication_group_id,
                "configurationEndpoint": self.configuration_endpoint,
                "globalReplicationGroupId": self.global_replication_group_id,
                "userGroupId": self.user_group_id,
            }
        )
