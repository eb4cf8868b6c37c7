"""Aurora/RDS, ElastiCache, DynamoDB, AWS Backup and S3 rules."""

from __future__ import annotations

import json

from .engine import Resource, depends_on, get, is_true, items, of_type, resource_rule, stack_rule

RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_GLOBAL = "aws:rds/globalCluster:GlobalCluster"
REDIS_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
REDIS_GLOBAL = "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup"
CACHE_CLUSTER = "aws:elasticache/cluster:Cluster"
DYNAMO_TABLE = "aws:dynamodb/table:Table"
BACKUP_VAULT = "aws:backup/vault:Vault"
BACKUP_PLAN = "aws:backup/plan:Plan"
BACKUP_VAULT_LOCK = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
BUCKET_PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET_LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"

# Minimum automated backup retention for relational data (FSBP RDS.11 default parameter).
MIN_BACKUP_RETENTION_DAYS = 7
DEFAULT_DB_PORTS = {"postgres": 5432, "aurora-postgresql": 5432, "mysql": 3306, "aurora-mysql": 3306}
DEFAULT_ADMIN_USERNAMES = {"admin", "postgres", "root", "administrator", "sa"}


def _is_global_secondary(res: Resource) -> bool:
    """A secondary member of an Aurora global database / Redis Global Datastore inherits settings from the primary."""
    if res.type == REDIS_GROUP:
        return bool(get(res.props, "globalReplicationGroupId"))
    return bool(get(res.props, "globalClusterIdentifier")) and not get(res.props, "masterUsername")


# --- Aurora / RDS ------------------------------------------------------------------------------------------------


@resource_rule(
    "rds-storage-encrypted",
    types=[RDS_CLUSTER, RDS_INSTANCE, RDS_GLOBAL],
    enforcement="mandatory",
    controls=["RDS.27", "RDS.3", "RDS.4"],
    description="Aurora clusters, RDS instances and global clusters encrypt storage (and so their snapshots).",
    reason="Customer data at rest must be encrypted; cannot be turned on later without a restore.",
)
def rds_storage_encrypted(res: Resource):
    if get(res.props, "storageEncrypted") is not True:
        yield "storageEncrypted is not true"


@resource_rule(
    "rds-cmk",
    types=[RDS_CLUSTER, RDS_INSTANCE],
    enforcement="advisory",
    controls=[],
    description="Aurora/RDS storage uses a customer-managed KMS key.",
    reason="A CMK lets us control key policy and cross-region replicas; the AWS-managed key cannot be shared.",
)
def rds_cmk(res: Resource):
    if get(res.props, "storageEncrypted") is True and not get(res.props, "kmsKeyId"):
        yield "kmsKeyId is not set: storage uses the AWS-managed key"


@resource_rule(
    "rds-deletion-protection",
    types=[RDS_CLUSTER, RDS_INSTANCE],
    enforcement="mandatory",
    controls=["RDS.7", "RDS.8"],
    description="Aurora clusters and RDS instances have deletion protection.",
    reason="A deleted database is an outage plus data loss (platform invariant: deletion protection on data).",
)
def rds_deletion_protection(res: Resource):
    if get(res.props, "deletionProtection") is not True:
        yield "deletionProtection is not true"


@resource_rule(
    "rds-public-access",
    types=[RDS_CLUSTER_INSTANCE, RDS_INSTANCE, RDS_CLUSTER],
    enforcement="mandatory",
    controls=["RDS.2"],
    description="Database instances are not publicly accessible.",
    reason="Databases are reached only from the EKS nodes inside the VPC.",
)
def rds_public_access(res: Resource):
    if is_true(get(res.props, "publiclyAccessible")):
        yield "publiclyAccessible is true"


@resource_rule(
    "rds-backup-retention",
    types=[RDS_CLUSTER, RDS_INSTANCE],
    enforcement="mandatory",
    controls=["RDS.11"],
    description=f"Automated backups are kept at least {MIN_BACKUP_RETENTION_DAYS} days.",
    reason="Point-in-time restore is the answer to logical corruption, which replicates to every region.",
)
def rds_backup_retention(res: Resource):
    days = get(res.props, "backupRetentionPeriod", 1)
    if days < MIN_BACKUP_RETENTION_DAYS:
        yield f"backupRetentionPeriod is {days} days (minimum {MIN_BACKUP_RETENTION_DAYS})"


@resource_rule(
    "rds-enhanced-monitoring",
    types=[RDS_CLUSTER_INSTANCE, RDS_INSTANCE],
    enforcement="advisory",
    controls=["RDS.6"],
    description="Database instances have enhanced monitoring (monitoringInterval > 0).",
    reason="OS-level metrics explain latency during failovers; advisory (observability, not exposure).",
)
def rds_enhanced_monitoring(res: Resource):
    if not get(res.props, "monitoringInterval", 0):
        yield "monitoringInterval is 0: enable enhanced monitoring"


@resource_rule(
    "rds-log-exports",
    types=[RDS_CLUSTER, RDS_INSTANCE],
    enforcement="mandatory",
    controls=["RDS.9", "RDS.34", "RDS.37"],
    description="Databases publish their engine logs to CloudWatch (postgresql / audit).",
    reason="Database access and errors must be auditable.",
)
def rds_log_exports(res: Resource):
    engine = str(get(res.props, "engine", ""))
    exports = set(items(res.props, "enabledCloudwatchLogsExports"))
    wanted = "postgresql" if "postgres" in engine else "audit" if "mysql" in engine else None
    if wanted and wanted not in exports:
        yield f"enabledCloudwatchLogsExports does not include '{wanted}'"


@resource_rule(
    "rds-iam-auth",
    types=[RDS_CLUSTER, RDS_INSTANCE],
    enforcement="advisory",
    controls=["RDS.12", "RDS.10"],
    description="IAM database authentication is enabled.",
    reason="Lets workloads use short-lived tokens instead of static passwords; advisory while apps use secrets.",
)
def rds_iam_auth(res: Resource):
    if get(res.props, "iamDatabaseAuthenticationEnabled") is not True:
        yield "iamDatabaseAuthenticationEnabled is not true"


@resource_rule(
    "rds-auto-minor-upgrade",
    types=[RDS_CLUSTER_INSTANCE, RDS_INSTANCE],
    enforcement="advisory",
    controls=["RDS.13", "RDS.35"],
    description="Automatic minor version upgrades are enabled.",
    reason="Security patches; advisory because global databases need matching versions across regions.",
)
def rds_auto_minor_upgrade(res: Resource):
    if get(res.props, "autoMinorVersionUpgrade", True) is not True:
        yield "autoMinorVersionUpgrade is false"


@resource_rule(
    "rds-copy-tags-to-snapshot",
    types=[RDS_CLUSTER, RDS_INSTANCE],
    enforcement="advisory",
    controls=["RDS.16", "RDS.17"],
    description="Clusters and instances copy tags to snapshots.",
    reason="Snapshots keep cost allocation and backup-tier tags.",
)
def rds_copy_tags(res: Resource):
    if get(res.props, "copyTagsToSnapshot") is not True:
        yield "copyTagsToSnapshot is not true"


@resource_rule(
    "rds-non-default-port",
    types=[RDS_CLUSTER, RDS_INSTANCE],
    enforcement="advisory",
    controls=["RDS.23"],
    description="Databases do not listen on the engine's default port.",
    reason="Low value (security groups already restrict access); advisory so teams can keep 5432/3306.",
)
def rds_non_default_port(res: Resource):
    engine = str(get(res.props, "engine", ""))
    default = DEFAULT_DB_PORTS.get(engine)
    port = get(res.props, "port", default)
    if default is not None and port == default:
        yield f"port is the {engine} default {default}"


@resource_rule(
    "rds-custom-admin-username",
    types=[RDS_CLUSTER, RDS_INSTANCE],
    enforcement="advisory",
    controls=["RDS.24", "RDS.25"],
    description="Databases do not use a default administrator user name.",
    reason="Guessable admin names help brute force; advisory because the password is managed and rotated.",
)
def rds_custom_admin_username(res: Resource):
    username = get(res.props, "masterUsername")
    if username is not None and str(username).lower() in DEFAULT_ADMIN_USERNAMES:
        yield f"masterUsername '{username}' is a default administrator name"


@resource_rule(
    "rds-final-snapshot",
    types=[RDS_CLUSTER, RDS_INSTANCE],
    enforcement="advisory",
    controls=[],
    description="Deleting a database takes a final snapshot (skipFinalSnapshot is not true).",
    reason="Last line of defence after deletion protection is lifted.",
)
def rds_final_snapshot(res: Resource):
    if is_true(get(res.props, "skipFinalSnapshot")):
        yield "skipFinalSnapshot is true"


# --- ElastiCache -------------------------------------------------------------------------------------------------


def _redis_primary_setting(res: Resource, key: str) -> bool:
    """Settings a Global Datastore secondary inherits: skip them there (checked on the primary group)."""
    return not _is_global_secondary(res) and get(res.props, key) is not True


@resource_rule(
    "elasticache-backups",
    types=[REDIS_GROUP],
    enforcement="advisory",
    controls=["ElastiCache.1"],
    description="Redis replication groups keep automatic snapshots (snapshotRetentionLimit >= 1).",
    reason="Advisory: Redis is a cache/session store rebuilt from Aurora; snapshots shorten the rebuild.",
)
def elasticache_backups(res: Resource):
    if get(res.props, "snapshotRetentionLimit", 0) < 1:
        yield "snapshotRetentionLimit is 0: enable automatic backups"


@resource_rule(
    "elasticache-auto-minor-upgrade",
    types=[REDIS_GROUP, CACHE_CLUSTER],
    enforcement="advisory",
    controls=["ElastiCache.2"],
    description="Automatic minor version upgrades are enabled.",
    reason="Security patches; advisory because Global Datastore members must upgrade together.",
)
def elasticache_auto_minor_upgrade(res: Resource):
    if get(res.props, "autoMinorVersionUpgrade", True) is not True:
        yield "autoMinorVersionUpgrade is false"


@resource_rule(
    "elasticache-automatic-failover",
    types=[REDIS_GROUP],
    enforcement="mandatory",
    controls=["ElastiCache.3"],
    description="Redis replication groups have automatic failover (and Multi-AZ; Global Datastore secondaries "
    "inherit both from the primary).",
    reason="A node failure must not take sessions down (seed: 99.95% availability).",
)
def elasticache_automatic_failover(res: Resource):
    if _redis_primary_setting(res, "automaticFailoverEnabled"):
        yield "automaticFailoverEnabled is not true"


@resource_rule(
    "elasticache-encryption-at-rest",
    types=[REDIS_GROUP, REDIS_GLOBAL],
    enforcement="mandatory",
    controls=["ElastiCache.4"],
    description="Redis replication groups encrypt data at rest (Global Datastore secondaries inherit it).",
    reason="Sessions and cached user data are customer data.",
)
def elasticache_encryption_at_rest(res: Resource):
    if res.type == REDIS_GLOBAL:
        return  # inherited from the primary replication group
    if _redis_primary_setting(res, "atRestEncryptionEnabled"):
        yield "atRestEncryptionEnabled is not true"


@resource_rule(
    "elasticache-encryption-in-transit",
    types=[REDIS_GROUP],
    enforcement="mandatory",
    controls=["ElastiCache.5"],
    description="Redis replication groups encrypt traffic in transit (TLS).",
    reason="Auth tokens and session data cross the VPC network.",
)
def elasticache_encryption_in_transit(res: Resource):
    if _redis_primary_setting(res, "transitEncryptionEnabled"):
        yield "transitEncryptionEnabled is not true"
    mode = get(res.props, "transitEncryptionMode")
    if mode == "preferred":
        yield "transitEncryptionMode is 'preferred' (plaintext still accepted): use 'required'"


@resource_rule(
    "elasticache-auth",
    types=[REDIS_GROUP],
    enforcement="mandatory",
    controls=["ElastiCache.6"],
    description="Redis requires authentication (AUTH token or RBAC user groups).",
    reason="Anything in the VPC could otherwise read sessions.",
)
def elasticache_auth(res: Resource):
    if _is_global_secondary(res):
        return
    if not (get(res.props, "authToken") or get(res.props, "authTokenWo") or items(res.props, "userGroupIds")):
        yield "no authToken or userGroupIds: require Redis AUTH"


@resource_rule(
    "elasticache-subnet-group",
    types=[REDIS_GROUP, CACHE_CLUSTER],
    enforcement="mandatory",
    controls=["ElastiCache.7"],
    description="ElastiCache does not use the default subnet group.",
    reason="The default subnet group spans the default VPC's public subnets.",
)
def elasticache_subnet_group(res: Resource):
    name = get(res.props, "subnetGroupName")
    if not name or name == "default":
        yield "subnetGroupName is not set (default subnet group)"


# --- DynamoDB ----------------------------------------------------------------------------------------------------


@resource_rule(
    "dynamodb-pitr",
    types=[DYNAMO_TABLE],
    enforcement="mandatory",
    controls=["DynamoDB.2"],
    description="DynamoDB tables have point-in-time recovery.",
    reason="Recovery from bad writes (the DR lock table records drill state).",
)
def dynamodb_pitr(res: Resource):
    if get(res.props, "pointInTimeRecovery.enabled") is not True:
        yield "pointInTimeRecovery.enabled is not true"


@resource_rule(
    "dynamodb-deletion-protection",
    types=[DYNAMO_TABLE],
    enforcement="mandatory",
    controls=["DynamoDB.6"],
    description="DynamoDB tables have deletion protection.",
    reason="Platform invariant: deletion protection on every data store.",
)
def dynamodb_deletion_protection(res: Resource):
    if get(res.props, "deletionProtectionEnabled") is not True:
        yield "deletionProtectionEnabled is not true"


@resource_rule(
    "dynamodb-encryption",
    types=[DYNAMO_TABLE],
    enforcement="advisory",
    controls=[],
    description="DynamoDB tables are encrypted with a customer-managed KMS key.",
    reason="Tables are always encrypted; a CMK adds key-policy control. Advisory.",
)
def dynamodb_encryption(res: Resource):
    if get(res.props, "serverSideEncryption.enabled") is not True:
        yield "serverSideEncryption.enabled is not true (AWS-owned key)"


# --- Backup ------------------------------------------------------------------------------------------------------


@resource_rule(
    "backup-vault-encrypted",
    types=[BACKUP_VAULT],
    enforcement="mandatory",
    controls=["Backup.1"],
    description="Backup vaults encrypt recovery points with a customer-managed KMS key.",
    reason="Cross-region copies need a key we control; recovery points are customer data.",
)
def backup_vault_encrypted(res: Resource):
    if not get(res.props, "kmsKeyArn"):
        yield "kmsKeyArn is not set"


@stack_rule(
    "backup-vault-lock",
    types=[BACKUP_VAULT],
    enforcement="advisory",
    controls=[],
    description="Backup vaults have a vault lock (minimum retention).",
    reason="Protects recovery points from deletion by a compromised account; advisory because "
    "compliance-mode locks are irreversible after the grace period.",
)
def backup_vault_lock(resources: list[Resource]):
    locks = list(of_type(resources, BACKUP_VAULT_LOCK))
    for vault in of_type(resources, BACKUP_VAULT):
        if not any(depends_on(lock, vault, "backupVaultName", get(vault.props, "name")) for lock in locks):
            yield vault, "backup vault has no VaultLockConfiguration"


@resource_rule(
    "backup-plan-lifecycle",
    types=[BACKUP_PLAN],
    enforcement="advisory",
    controls=[],
    description="Every backup plan rule has a retention (lifecycle.deleteAfter).",
    reason="Without it recovery points are kept forever (cost) — or, worse, someone sets it to 1 day.",
)
def backup_plan_lifecycle(res: Resource):
    for rule in items(res.props, "rules"):
        if not get(rule, "lifecycle.deleteAfter"):
            yield f"rule {get(rule, 'ruleName', '?')} has no lifecycle.deleteAfter"


# --- S3 ----------------------------------------------------------------------------------------------------------


def _bucket_companions(resources: list[Resource], bucket: Resource, typ: str) -> list[Resource]:
    name = get(bucket.props, "bucket")
    return [r for r in of_type(resources, typ) if depends_on(r, bucket, "bucket", name)]


@resource_rule(
    "s3-public-access-block",
    types=[BUCKET_PAB],
    enforcement="mandatory",
    controls=["S3.8"],
    description="Bucket public access blocks enable all four settings.",
    reason="No bucket of the platform is public (CloudFront reads nothing from S3).",
)
def s3_public_access_block(res: Resource):
    for key in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        if get(res.props, key) is not True:
            yield f"{key} is not true"


@stack_rule(
    "s3-bucket-baseline",
    types=BUCKET_TYPES,
    enforcement="mandatory",
    controls=["S3.8", "S3.5"],
    description="Every bucket has a public access block, default encryption and a policy denying non-TLS requests.",
    reason="Buckets hold access logs with client IPs and request paths.",
)
def s3_bucket_baseline(resources: list[Resource]):
    for bucket in of_type(resources, *BUCKET_TYPES):
        if not _bucket_companions(resources, bucket, BUCKET_PAB):
            yield bucket, "bucket has no BucketPublicAccessBlock (S3.8)"
        if not _bucket_companions(resources, bucket, BUCKET_SSE) and not get(
            bucket.props, "serverSideEncryptionConfiguration"
        ):
            yield bucket, "bucket has no default encryption configuration"
        policies = _bucket_companions(resources, bucket, BUCKET_POLICY)
        if not any(_denies_insecure_transport(get(p.props, "policy")) for p in policies):
            yield bucket, "no bucket policy denies aws:SecureTransport=false (S3.5)"


def _statements(policy) -> list[dict]:
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return []
    if not isinstance(policy, dict):
        return []
    statements = policy.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _denies_insecure_transport(policy) -> bool:
    for statement in _statements(policy):
        condition = statement.get("Condition", {})
        secure = condition.get("Bool", {}).get("aws:SecureTransport")
        if statement.get("Effect") == "Deny" and str(secure).lower() == "false":
            return True
    return False


@resource_rule(
    "s3-kms-encryption",
    types=[BUCKET_SSE],
    enforcement="advisory",
    controls=["S3.17"],
    description="Buckets are encrypted with KMS keys (SSE-KMS).",
    reason="Advisory: ALB access-log buckets only support SSE-S3 (AES256), which AWS documents as required there.",
)
def s3_kms_encryption(res: Resource):
    for rule in items(res.props, "rules"):
        algorithm = get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm")
        if algorithm not in ("aws:kms", "aws:kms:dsse"):
            yield f"sseAlgorithm is '{algorithm}', not aws:kms"


@resource_rule(
    "s3-no-public-policy",
    types=[BUCKET_POLICY],
    enforcement="mandatory",
    controls=["S3.6", "S3.2", "S3.3"],
    description="Bucket policies grant nothing to Principal '*' without a condition.",
    reason="No bucket of the platform is public.",
)
def s3_no_public_policy(res: Resource):
    for statement in _statements(get(res.props, "policy")):
        principal = statement.get("Principal")
        public = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*")
        if statement.get("Effect") == "Allow" and public and not statement.get("Condition"):
            yield f"statement {statement.get('Sid', '?')} allows Principal '*' without a condition"


@stack_rule(
    "s3-versioning-lifecycle",
    types=BUCKET_TYPES,
    enforcement="advisory",
    controls=["S3.14", "S3.13"],
    description="Every bucket has versioning enabled and a lifecycle configuration.",
    reason="Versioning protects against overwrites; lifecycle bounds log storage cost. Advisory.",
)
def s3_versioning_lifecycle(resources: list[Resource]):
    for bucket in of_type(resources, *BUCKET_TYPES):
        versioning = _bucket_companions(resources, bucket, BUCKET_VERSIONING)
        if not any(get(v.props, "versioningConfiguration.status") == "Enabled" for v in versioning):
            yield bucket, "bucket versioning is not Enabled (S3.14)"
        if not _bucket_companions(resources, bucket, BUCKET_LIFECYCLE):
            yield bucket, "bucket has no lifecycle configuration (S3.13)"
