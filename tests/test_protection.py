"""Issue 13 item 5: Pulumi `protect` / `retainOnDelete` on the data-bearing resources, recorded in the plan JSON."""

from __future__ import annotations

import json

import jsonschema

from infra.plan.runner import REPO_ROOT, Planner
from stacks.protection import PROTECTED_TYPES

SCHEMA = json.loads((REPO_ROOT / "infra" / "plan" / "plan.schema.json").read_text())
# The list: every one of these must exist in the fleet and be protected.
REQUIRED_TYPES = {
    "aws:rds/globalCluster:GlobalCluster",
    "aws:rds/cluster:Cluster",
    "aws:rds/clusterInstance:ClusterInstance",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup",
    "aws:kms/key:Key",
    "aws:backup/vault:Vault",
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
    "aws:route53/zone:Zone",
    "aws:secretsmanager/secret:Secret",
}


def _flagged(plan, option):
    return {(r.type, r.name) for r in plan.resources if r.options.get(option)}


def test_every_data_bearing_resource_is_protected_and_nothing_else(plans):
    seen = set()
    for plan in plans.values():
        protected = _flagged(plan, "protect")
        expected = {(r.type, r.name) for r in plan.resources if r.type in PROTECTED_TYPES}
        assert protected == expected
        seen |= {typ for typ, _ in protected}
    assert seen >= REQUIRED_TYPES, f"not protected anywhere: {sorted(REQUIRED_TYPES - seen)}"


def test_the_protected_set_of_each_stack(plans):
    """The list reviewers see (also in docs/data-tier.md): logical names of the protected resources."""
    names = {stack: sorted(name for _, name in _flagged(plan, "protect")) for stack, plan in plans.items()}
    for stack in ("us-east-1", "eu-west-1"):
        assert {"aurora-cluster", "aurora-instance-0", "redis-group", "aurora-key-key", "redis-key-key",
                "backup-vault", "backup-copy-vault", "backup-vault-lock", "backup-copy-vault-lock",
                "backup-kms-key", "backup-copy-kms-key"} <= set(names[stack]), stack  # fmt: skip
    assert {"aurora-global", "redis-global", "zone-zone", "aurora-master-secret"} <= set(names["us-east-1"])
    assert not {"aurora-global", "redis-global"} & set(names["eu-west-1"])  # global resources have one owner


def test_resources_that_must_outlive_the_stack_are_retained(plans):
    for stack, plan in plans.items():
        retained = _flagged(plan, "retainOnDelete")
        kinds = {typ for typ, _ in retained}
        assert {"aws:backup/vault:Vault", "aws:backup/vaultLockConfiguration:VaultLockConfiguration"} <= kinds
        keys = {name for typ, name in retained if typ == "aws:kms/key:Key"}
        assert keys == {"backup-kms-key", "backup-copy-kms-key"}, stack  # the vaults' keys, no other key
        assert not any(typ.startswith(("aws:rds", "aws:elasticache")) for typ in kinds)  # they die with the stack
    assert ("aws:route53/zone:Zone", "zone-zone") in _flagged(plans["us-east-1"], "retainOnDelete")


def test_plan_json_records_every_resources_lifecycle_options(plans):
    for plan in plans.values():
        doc = plan.to_dict()
        jsonschema.validate(doc, SCHEMA)
        assert all(set(r["options"]) == {"protect", "retainOnDelete", "ignoreChanges", "deleteBeforeReplace"}
                   for r in doc["resources"])  # fmt: skip
        param = plan.one("aws:ssm/parameter:Parameter")
        assert param.options["ignoreChanges"] == ["insecureValue"]  # the drill owns the active-region value
        cluster = plan.one("aws:rds/cluster:Cluster")
        assert "globalClusterIdentifier" in cluster.options["ignoreChanges"]


def test_protection_can_be_turned_off_per_stack(write_stacks):
    def off(config):
        config["platform:protection"] = {"protect": False, "retainOnDelete": False}

    plan = Planner(write_stacks({"us-east-1": off})).plan("us-east-1")
    assert _flagged(plan, "protect") == set() and _flagged(plan, "retainOnDelete") == set()
