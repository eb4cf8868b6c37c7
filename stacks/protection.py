"""Pulumi `protect` and `retainOnDelete` on the stack's data-bearing resources (`platform:protection`).

One stack transformation applies the options by resource type, so every resource of a protected type is covered
whichever component creates it (a KMS key inside any component, a secret added later) and the list lives once, as
data. It runs in the program before each registration, so the offline plan records exactly what the engine receives
(`options` in the plan JSON).
"""

from __future__ import annotations

import re

import pulumi

from infra.config.protection import ProtectionConfig

# type -> why an accidental replace or destroy is not acceptable.
PROTECTED_TYPES: dict[str, str] = {
    "aws:rds/globalCluster:GlobalCluster": "the global database; its members' data",
    "aws:rds/cluster:Cluster": "the database (a replace is a new, empty cluster)",
    "aws:rds/clusterInstance:ClusterInstance": "writer/readers: a replace is an outage of that instance",
    "aws:elasticache/replicationGroup:ReplicationGroup": "the cache data set; Global Datastore membership",
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": "cross-Region replication of Redis",
    "aws:kms/key:Key": "a deleted key makes everything it encrypted unreadable (7-30 day window, then gone)",
    "aws:backup/vault:Vault": "recovery points",
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": "the WORM guarantee on the recovery points",
    "aws:route53/zone:Zone": "a new zone gets new name servers: the domain's delegation breaks",
    "aws:secretsmanager/secret:Secret": "credentials the applications use",
    "aws:s3/bucket:Bucket": "access logs and backup audit reports (compliance evidence); names are global",
}

# (type, logical-name pattern) -> why the resource must outlive its stack (retainOnDelete).
RETAINED: dict[tuple[str, str], str] = {
    ("aws:backup/vault:Vault", r".*"): "recovery points (and the partner-Region copies) outlive a removed Region",
    ("aws:backup/vaultLockConfiguration:VaultLockConfiguration", r".*"): "the lock goes with its vault",
    ("aws:kms/key:Key", r"^backup-"): "the backup vaults' keys: without them the recovery points are unreadable",
    ("aws:route53/zone:Zone", r".*"): "the domain is delegated to this zone's name servers",
}


def retained(typ: str, name: str) -> bool:
    return any(typ == t and re.match(pattern, name) for (t, pattern) in RETAINED)


def register_protection(cfg: ProtectionConfig) -> None:
    """Register the transformation for every resource the stack creates from now on (call it first)."""

    def transform(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        options: dict[str, bool] = {}
        if cfg.protect and args.type_ in PROTECTED_TYPES:
            options["protect"] = True
        if cfg.retain_on_delete and retained(args.type_, args.name):
            options["retain_on_delete"] = True
        if not options:
            return None
        return pulumi.ResourceTransformationResult(
            args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(**options))
        )

    pulumi.runtime.register_stack_transformation(transform)
