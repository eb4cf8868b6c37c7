"""Aurora PostgreSQL global database: the global cluster (owner stack only) and one regional cluster per stack."""

from __future__ import annotations

import json
from typing import Literal

import pulumi
import pulumi_aws as aws
import pulumi_random as random
from pydantic import Field, model_validator

from components.base import ComponentArgs, Input, PlatformComponent
from components.datastore import client_only_security_group, kms_secret
from components.kms import KmsKey, KmsKeyArgs
from components.secret_rotation import postgres_rotation_function, rotation_security_group

ENGINE = "aurora-postgresql"
PORT = 5432
MASTER_USERNAME = "platform_admin"
# Fields AWS changes on a switchover/failover or that only matter at creation; updating them would replace the
# cluster, so after a DR event the next `pulumi up` must leave them alone (as terraform-aws-rds-aurora does).
CLUSTER_IGNORE = ["globalClusterIdentifier", "replicationSourceIdentifier", "masterUsername", "masterPassword",
                  "snapshotIdentifier", "engineVersion"]  # fmt: skip


class AuroraArgs(ComponentArgs):
    """Args of `AuroraRegionalCluster`. Secure defaults: CMK encryption, TLS only, IAM auth, deletion protection."""

    role: Literal["primary", "secondary"] = Field(..., description="primary owns the global cluster and credentials.")
    global_name: str = Field(..., description="Identifier of the global cluster (the same in every stack).")
    global_cluster_identifier: Input = Field(None, description="Secondaries: the global cluster to join.")
    engine_version: str = Field(..., description="Aurora PostgreSQL version, e.g. 16.6.")
    writer_instance_class: str = Field("db.r6g.8xlarge", description="Class of the first (writer-capable) instance.")
    reader_instance_class: str = Field("db.r6g.4xlarge", description="Class of the readers.")
    readers: int = Field(2, ge=1, description="Readers besides the writer-capable instance.")
    subnet_ids: Input = Field(..., description="Isolated database subnet ids.")
    vpc_id: Input = Field(..., description="VPC id for the security group.")
    client_security_group_id: Input = Field(..., description="The only source admitted on 5432 (EKS nodes).")
    account_id: Input = Field(..., description="AWS account id for the key policy.")
    replica_regions: list[str] = Field(
        default_factory=list, description="Regions the credentials secret is replicated to (every other fleet Region)."
    )
    master_secret_name: str = Field(
        ..., description="Secrets Manager name of the master secret: Region-neutral, so its replica keeps it."
    )
    master_secret_rotation_days: int = Field(30, ge=1, le=365, description="Rotate the master secret every N days.")
    rotation_subnet_ids: Input = Field(None, description="Primary: private subnets of the rotation function.")
    vpc_cidr: str = Field("10.0.0.0/8", description="VPC CIDR (the rotation function's egress: 5432, 443).")
    pgaudit_log: list[str] = Field(default_factory=lambda: ["ddl", "role"], description="pgaudit.log classes.")
    log_retention_days: int = Field(365, description="Retention of the exported postgresql log group.")
    backup_retention_days: int = Field(35, ge=1, le=35, description="Automated backup / PITR retention.")
    backup_window: str = Field("03:00-04:00", description="Preferred backup window.")
    maintenance_window: str = Field("sun:05:00-sun:06:00", description="Preferred maintenance window.")
    storage_encrypted: bool = Field(True, description="Encrypt storage with the CMK (the policy pack requires it).")
    deletion_protection: bool = Field(True, description="Deletion protection.")
    skip_final_snapshot: bool = Field(False, description="Skip the final snapshot on delete.")
    monitoring_interval: int = Field(15, description="Enhanced monitoring interval (s).")
    slow_query_ms: int = Field(500, description="log_min_duration_statement in ms.")
    min_readers: int = Field(2, description="Reader auto scaling minimum.")
    max_readers: int = Field(5, description="Reader auto scaling maximum.")
    target_cpu_percent: int = Field(70, description="Reader auto scaling CPU target.")
    reader_auto_scaling: bool = Field(
        True,
        description="Register reader auto scaling. Only for the cluster that holds the writer: AWS requires a "
        "primary (writer) instance, and the replicas it adds get the writer's instance class.",
    )

    @model_validator(mode="after")
    def _role_inputs(self) -> AuroraArgs:
        if self.role == "secondary" and self.global_cluster_identifier is None:
            raise ValueError("a secondary cluster needs global_cluster_identifier")
        if self.role == "primary" and self.rotation_subnet_ids is None:
            raise ValueError("the primary rotates the master secret: it needs rotation_subnet_ids")
        return self


class AuroraRegionalCluster(PlatformComponent):
    """This region's Aurora cluster (and, on the owner stack, the global cluster and master credentials).

    Outputs: `cluster_identifier`, `cluster_arn`, `cluster_resource_id` (IAM database auth), `endpoint`,
    `reader_endpoint`, `global_cluster_identifier`, `security_group_id`, `master_secret_name` and (owner stack)
    `secret_arn`, `global_writer_endpoint`. The master password never leaves Secrets Manager and the state: it is
    not an output.
    """

    def __init__(self, name: str, args: AuroraArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:data:AuroraRegionalCluster", name, opts)
        region, base, tags = args.region, args.name_prefix, args.tags
        major = args.engine_version.split(".")[0]
        key = KmsKey(
            self.cname("key"),
            KmsKeyArgs(
                region=region,
                name_prefix=base,
                tags=tags,
                purpose="aurora",
                account_id=args.account_id,
                service_principals=[f"logs.{region}.amazonaws.com"],
            ),
            opts=self.child(),
        )
        self.kms_key_arn = key.arn

        self.global_writer_endpoint = None
        self.master_username: pulumi.Output[str] | None = None
        self.master_password: pulumi.Output[str] | None = None
        self.secret_arn: pulumi.Output[str] | None = None
        self.master_secret_name = args.master_secret_name
        if args.role == "primary":
            self.global_cluster = aws.rds.GlobalCluster(
                self.cname("global"),
                region=region,
                global_cluster_identifier=args.global_name,
                engine=ENGINE,
                engine_version=args.engine_version,
                storage_encrypted=args.storage_encrypted,
                deletion_protection=args.deletion_protection,
                tags=self.tagged(tags, args.global_name),
                opts=self.child(ignore_changes=["engineVersion"]),
            )
            global_id: Input = self.global_cluster.id
            # Follows the writer across switchover and failover (the applications' write endpoint).
            self.global_writer_endpoint: pulumi.Output[str] | None = self.global_cluster.endpoint
            # RDS rejects '/', '"', '@' and spaces in master passwords.
            password = random.RandomPassword(
                self.cname("master-password"),
                length=32,
                special=True,
                override_special="!#$%^&*()-_=+",
                opts=self.child(),
            )
            self.master_username = pulumi.Output.from_input(MASTER_USERNAME)
            self.master_password = pulumi.Output.secret(password.result)
        else:
            global_id = args.global_cluster_identifier

        subnets = aws.rds.SubnetGroup(
            self.cname("subnets"),
            region=region,
            name=f"{base}-aurora",
            subnet_ids=args.subnet_ids,
            description="Isolated database subnets",
            tags=self.tagged(tags, f"{base}-aurora"),
            opts=self.child(),
        )
        rotation_sg = None
        if args.role == "primary":
            rotation_sg = rotation_security_group(
                self, region=region, vpc_id=args.vpc_id, vpc_cidr=args.vpc_cidr, db_port=PORT,
                name=f"{base}-aurora-rotation-sg", tags=tags,
            )  # fmt: skip
        sg = client_only_security_group(
            self,
            region=region,
            vpc_id=args.vpc_id,
            port=PORT,
            client_security_group_id=args.client_security_group_id,
            extra_client_security_group_ids=[rotation_sg.id] if rotation_sg is not None else None,
            description="Aurora: PostgreSQL from the EKS nodes only",
            rule_description="EKS nodes to Aurora",
            name=f"{base}-aurora-sg",
            tags=tags,
        )
        params = aws.rds.ClusterParameterGroup(
            self.cname("params"),
            region=region,
            # The family is in the name: a major-version upgrade creates a new group before the old one goes.
            name=f"{base}-aurora-pg{major}",
            family=f"aurora-postgresql{major}",
            description="TLS only, slow-query logging, pgaudit",
            parameters=[
                aws.rds.ClusterParameterGroupParameterArgs(name="rds.force_ssl", value="1"),
                aws.rds.ClusterParameterGroupParameterArgs(
                    name="log_min_duration_statement", value=str(args.slow_query_ms)
                ),
                # pgaudit must be preloaded (a static parameter: applied at creation / the next reboot); the
                # bootstrap Job then runs CREATE EXTENSION pgaudit. Its lines go to the exported postgresql log.
                aws.rds.ClusterParameterGroupParameterArgs(
                    name="shared_preload_libraries", value="pg_stat_statements,pgaudit", apply_method="pending-reboot"
                ),
                aws.rds.ClusterParameterGroupParameterArgs(name="pgaudit.log", value=",".join(args.pgaudit_log)),
                aws.rds.ClusterParameterGroupParameterArgs(name="pgaudit.log_parameter", value="0"),
            ],
            tags=self.tagged(tags, f"{base}-aurora-params"),
            opts=self.child(),
        )
        monitoring_role = aws.iam.Role(
            self.cname("monitoring-role"),
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "monitoring.rds.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            managed_policy_arns=["arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"],
            tags=self.tagged(tags, f"{base}-aurora-monitoring"),
            opts=self.child(),
        )
        identifier = f"{base}-aurora"
        # RDS writes the export to this group; creating it first sets the retention and the CMK.
        postgres_log = aws.cloudwatch.LogGroup(
            self.cname("postgresql-log"),
            region=region,
            name=f"/aws/rds/cluster/{identifier}/postgresql",
            retention_in_days=args.log_retention_days,
            kms_key_id=key.arn,
            tags=self.tagged(tags, f"{identifier}-postgresql-log"),
            opts=self.child(),
        )
        self.cluster = aws.rds.Cluster(
            self.cname("cluster"),
            region=region,
            cluster_identifier=identifier,
            engine=ENGINE,
            engine_version=args.engine_version,
            global_cluster_identifier=global_id,
            master_username=self.master_username,
            master_password=self.master_password,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[sg.id],
            db_cluster_parameter_group_name=params.name,
            storage_encrypted=args.storage_encrypted,
            kms_key_id=key.arn if args.storage_encrypted else None,
            backup_retention_period=args.backup_retention_days,
            preferred_backup_window=args.backup_window,
            preferred_maintenance_window=args.maintenance_window,
            deletion_protection=args.deletion_protection,
            skip_final_snapshot=args.skip_final_snapshot,
            final_snapshot_identifier=f"{identifier}-final",
            copy_tags_to_snapshot=True,
            iam_database_authentication_enabled=True,
            enabled_cloudwatch_logs_exports=["postgresql"],
            tags=self.tagged(tags, identifier, **{"backup-tier": "critical"}),
            opts=self.child(ignore_changes=CLUSTER_IGNORE, depends_on=[postgres_log]),
        )
        if args.role == "primary":
            self._master_secret(args, key.arn, rotation_sg)
        classes = [args.writer_instance_class] + [args.reader_instance_class] * args.readers
        for index, instance_class in enumerate(classes):
            aws.rds.ClusterInstance(
                self.cname(f"instance-{index}"),
                region=region,
                identifier=f"{identifier}-{index}",
                cluster_identifier=self.cluster.id,
                instance_class=instance_class,
                engine=ENGINE,
                db_subnet_group_name=subnets.name,
                publicly_accessible=False,
                performance_insights_enabled=True,
                performance_insights_kms_key_id=key.arn,
                performance_insights_retention_period=7,
                monitoring_interval=args.monitoring_interval,
                monitoring_role_arn=monitoring_role.arn,
                auto_minor_version_upgrade=True,
                promotion_tier=index,
                copy_tags_to_snapshot=True,
                tags=self.tagged(tags, f"{identifier}-{index}"),
                opts=self.child(ignore_changes=["engineVersion"]),
            )
        if args.reader_auto_scaling:  # the writer's cluster only (see AuroraArgs.reader_auto_scaling)
            target = aws.appautoscaling.Target(
                self.cname("readers-target"),
                region=region,
                service_namespace="rds",
                scalable_dimension="rds:cluster:ReadReplicaCount",
                resource_id=self.cluster.id.apply(lambda cid: f"cluster:{cid}"),
                min_capacity=args.min_readers,
                max_capacity=args.max_readers,
                tags=self.tagged(tags, f"{identifier}-readers"),
                opts=self.child(),
            )
            aws.appautoscaling.Policy(
                self.cname("readers-cpu"),
                region=region,
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    target_value=args.target_cpu_percent,
                    predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                        predefined_metric_type="RDSReaderAverageCPUUtilization"
                    ),
                    scale_in_cooldown=900,
                    scale_out_cooldown=300,
                ),
                opts=self.child(),
            )
        self.cluster_identifier = self.cluster.cluster_identifier
        self.cluster_arn = self.cluster.arn
        self.cluster_resource_id = self.cluster.cluster_resource_id
        self.endpoint = self.cluster.endpoint
        self.reader_endpoint = self.cluster.reader_endpoint
        self.global_cluster_identifier = pulumi.Output.from_input(global_id)
        self.security_group_id = sg.id
        self.register_outputs(
            {
                "clusterIdentifier": self.cluster_identifier,
                "clusterArn": self.cluster_arn,
                "endpoint": self.endpoint,
                "readerEndpoint": self.reader_endpoint,
                "globalClusterIdentifier": self.global_cluster_identifier,
            }
        )

    def _master_secret(self, args: AuroraArgs, key_arn: Input, rotation_sg: aws.ec2.SecurityGroup | None) -> None:
        """Master credentials in Secrets Manager (CMK), replicated to every other fleet Region, rotated by the AWS
        PostgreSQL single-user function in the VPC. RDS-managed master passwords are not supported for clusters in
        an Aurora global database, hence Secrets Manager rotation (docs/security.md)."""
        assert rotation_sg is not None and self.master_password is not None
        rotation_arn = postgres_rotation_function(
            self, region=args.region, function_name=f"{args.name_prefix}-aurora-master-rotation",
            subnet_ids=args.rotation_subnet_ids, security_group_id=rotation_sg.id, kms_key_arn=key_arn,
            tags=args.tags,
        )  # fmt: skip
        value = pulumi.Output.all(self.master_password, self.cluster.endpoint).apply(
            lambda v: json.dumps({"engine": "postgres", "host": v[1], "port": PORT, "dbname": "postgres",
                                  "username": MASTER_USERNAME, "password": v[0]})
        )  # fmt: skip
        secret = kms_secret(
            self, "master-secret", region=args.region, name=args.master_secret_name,
            description="Aurora global database master credentials (rotated; only the bootstrap Job reads them)",
            kms_key_arn=key_arn, value=value, tags=args.tags,
            rotation_lambda_arn=rotation_arn, rotation_days=args.master_secret_rotation_days,
            # the writer can move to any Region of the fleet: its bootstrap Job needs the credentials there already
            replica_regions=args.replica_regions or None,
        )  # fmt: skip
        self.secret_arn = secret.arn
