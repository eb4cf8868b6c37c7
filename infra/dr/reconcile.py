"""The active-region knob: the SSM parameter `activeRegionParameterName` in every Region, so the next deploy converges.

Each stack creates the parameter in its own Region and reads it there at start-up (stacks/active_region.py); the
drill's reconcile step writes the new writer into every REACHABLE Region and records the unreachable ones (a re-run
writes them once they are back; `done()` stays false until then for the reachable ones only). Real mode and
`--local` run the same code: only the boto3 endpoint differs. `replan()` then plans every stack from a fresh copy of
the stack files against the resulting state (the emulator's SSM) to prove what a deploy from main would do.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import botocore.exceptions

from infra.dr.drill import Aws, Topology, request_id

KEY = "activeRegionParameterName"  # the stack output naming the parameter (same name in every Region)
_UNREACHABLE = (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)
# Data resources and the inputs whose change forces a replacement (a drill must never cause one).
DATA_TYPES = {
    "aws:rds/globalCluster:GlobalCluster": ("globalClusterIdentifier", "engine", "storageEncrypted"),
    "aws:rds/cluster:Cluster": ("clusterIdentifier", "engine", "kmsKeyId", "storageEncrypted", "databaseName",
                                "masterUsername", "dbSubnetGroupName", "availabilityZones"),
    "aws:rds/clusterInstance:ClusterInstance": ("identifier", "clusterIdentifier", "engine"),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("replicationGroupId", "engine", "atRestEncryptionEnabled",
                                                          "kmsKeyId", "subnetGroupName"),
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": ("globalReplicationGroupIdSuffix",),
    "aws:dynamodb/table:Table": ("name", "hashKey"),
    "aws:s3/bucket:Bucket": ("bucket",),
    "aws:s3/bucketV2:BucketV2": ("bucket",),
    "aws:backup/vault:Vault": ("name",),
    "aws:kms/key:Key": (),
}  # fmt: skip


class SsmKnob:
    """Reads and writes the active-region parameter in every Region of the fleet."""

    def __init__(self, aws: Aws, topo: Topology, region: str):
        self.aws, self.region = aws, region
        self.names = {r: out[KEY] for r, out in topo.outputs.items() if out.get(KEY)}
        self.unreachable: dict[str, str] = {}  # region -> error, from the last read or write
        self.written: list[str] = []

    def values(self) -> dict[str, str | None]:
        """The parameter's value per reachable Region (None: absent); unreachable ones go to `unreachable`."""
        found: dict[str, str | None] = {}
        for region, name in sorted(self.names.items()):
            try:
                params = self.aws("ssm", region).get_parameters(Names=[name])["Parameters"]
            except _UNREACHABLE as exc:
                self.unreachable[region] = f"{type(exc).__name__}: {exc}"
                continue
            self.unreachable.pop(region, None)
            found[region] = params[0]["Value"] if params else None
        return found

    def done(self) -> bool:
        """Every reachable Region names the target, and the target Region itself was reached."""
        values = self.values()
        return self.region in values and all(v == self.region for v in values.values())

    def apply(self) -> list[str]:
        ids = []
        for region, name in sorted(self.names.items()):
            try:
                resp = self.aws("ssm", region).put_parameter(
                    Name=name, Value=self.region, Type="String", Overwrite=True
                )
            except _UNREACHABLE as exc:
                self.unreachable[region] = f"{type(exc).__name__}: {exc}"
                continue
            self.unreachable.pop(region, None)
            self.written.append(region)
            ids.append(request_id(resp))
        if self.region not in self.written:
            raise RuntimeError(f"cannot write {self.names.get(self.region)} in the target Region {self.region}")
        return ids

    def close(self) -> None:
        """Nothing to clean up: the knob lives in AWS (the emulator's SSM), not in local files."""

    def report(self) -> dict[str, Any]:
        return {
            "parameterName": next(iter(self.names.values()), None),
            "written": sorted(set(self.written)),
            "unreachable": dict(sorted(self.unreachable.items())),
        }


def fresh_copy(root: Path) -> Path:
    """The project's stack files as a clean clone of main has them (no drill ever edits them)."""
    target = Path(tempfile.mkdtemp(prefix="dr-fresh-"))
    for path in [root / "Pulumi.yaml", *sorted(root.glob("Pulumi.*.yaml"))]:
        if path.exists():
            shutil.copy(path, target / path.name)
    return target


def automation_outputs(root: Path, stacks: list[str]) -> dict[str, dict[str, Any]]:
    """Every stack's outputs through the Automation API (real mode)."""
    from pulumi import automation as auto

    return {
        name: {k: v.value for k, v in auto.select_stack(stack_name=name, work_dir=str(root)).outputs().items()}
        for name in stacks
    }


def replacements(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Data resources a re-plan would replace: gone (URN changed) or a replacement-forcing input changed."""
    problems = []
    for stack, old in before.items():
        new_by_urn = {r.urn: r for r in after[stack].resources}
        for res in old.resources:
            if res.type not in DATA_TYPES:
                continue
            new = new_by_urn.get(res.urn)
            if new is None:
                problems.append(f"{stack}: {res.urn} disappears (would be deleted/replaced)")
                continue
            for key in DATA_TYPES[res.type]:
                if res.inputs.get(key) != new.inputs.get(key):
                    problems.append(f"{stack}: {res.urn} input '{key}' changes (forces replacement)")
    return problems


def writer_facts(plan) -> dict[str, Any]:
    """The writer-dependent settings of one planned stack (what a deploy after a drill must keep)."""
    facts: dict[str, Any] = {"writerRegion": plan.outputs.get("writerRegion")}
    for record in plan.of_type("aws:route53/record:Record"):
        policy = record.inputs.get("failoverRoutingPolicies") or record.inputs.get("weightedRoutingPolicies")
        if record.inputs.get("setIdentifier") and policy and record.name == "traffic-origin":
            facts["route53"] = policy[0].get("type", policy[0].get("weight"))
    for dist in plan.of_type("aws:cloudfront/distribution:Distribution"):
        origins = {o["originId"]: o["domainName"] for o in dist.inputs.get("origins", [])}
        groups = dist.inputs.get("originGroups") or []
        if groups:  # primary origin: api-origin (Route 53 above); failover origin: the standby Region's
            facts["cloudfrontFailoverOrigin"] = origins.get(groups[0]["members"][-1]["originId"])
    replicas = [d.inputs.get("spec", {}).get("replicas") for d in plan.of_type("kubernetes:apps/v1:Deployment")]
    facts["deploymentReplicas"] = sum(r for r in replicas if isinstance(r, int))
    return facts


def writer_summary(plans: dict[str, Any]) -> list[str]:
    return [
        f"{stack}: " + ", ".join(f"{k} {v}" for k, v in writer_facts(plan).items())
        for stack, plan in sorted(plans.items())
    ]
