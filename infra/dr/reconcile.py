"""The active-region knob: `platform:activeRegion` in every stack, so the next `pulumi up` converges.

Real stacks: Pulumi Automation API (`select_stack` + `set_config` on every stack; no commit needed during an
incident). `--local`: the stack files are copied to a temp directory and edited there (the repo's own files are
never modified); `replan()` then plans both stacks offline with the new value to prove no data resource is replaced.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

KEY = "platform:activeRegion"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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


class LocalKnob:
    """Writes the knob into temp copies of the stack files."""

    def __init__(
        self, root: Path, stacks: list[str], region: str, primary: str | None = None, directory: Path | None = None
    ):
        """`directory`: keep the copies there across runs (the persistent emulator's `<dir>/stacks`); copied from
        `root` only when it does not exist yet. Default: a fresh temp directory."""
        self.root, self.stacks, self.region = root, stacks, region
        self.primary = primary  # no knob in a stack file means the primary's Region (the program's default)
        self._temporary = directory is None
        if directory is not None and directory.is_dir():
            self.dir = directory
            return
        if directory is not None:
            directory.mkdir(parents=True)
            self.dir = directory
        else:
            self.dir = Path(tempfile.mkdtemp(prefix="dr-stacks-"))
        for name in ["Pulumi.yaml", *[f"Pulumi.{s}.yaml" for s in stacks]]:
            if (root / name).exists():
                shutil.copy(root / name, self.dir / name)

    def close(self) -> None:
        """Remove the temp copies (every `--local` run used to leave a `dr-stacks-*` directory behind); a kept
        `directory` (the persistent emulator's) stays."""
        if self._temporary:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _files(self) -> list[Path]:
        return [self.dir / f"Pulumi.{s}.yaml" for s in self.stacks]

    def done(self) -> bool:
        return all(
            yaml.load(f.read_text(), Loader=_LOADER)["config"].get(KEY, self.primary) == self.region
            for f in self._files()
        )

    def apply(self) -> list[str]:
        for file in self._files():
            data = yaml.load(file.read_text(), Loader=_LOADER)
            data["config"][KEY] = self.region
            file.write_text(yaml.safe_dump(data, sort_keys=False))
        return []


class AutomationKnob:
    """Sets the knob on the real stacks with the Pulumi Automation API."""

    def __init__(self, root: Path, stacks: list[str], region: str):
        self.root, self.stacks, self.region = root, stacks, region

    def _stack(self, name: str):
        from pulumi import automation as auto

        return auto.select_stack(stack_name=name, work_dir=str(self.root))

    def done(self) -> bool:
        return all(
            self._stack(s).get_all_config().get(KEY, None) is not None
            and self._stack(s).get_all_config()[KEY].value == self.region
            for s in self.stacks
        )

    def apply(self) -> list[str]:
        from pulumi import automation as auto

        for name in self.stacks:
            self._stack(name).set_config(KEY, auto.ConfigValue(value=self.region))
        return []


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
