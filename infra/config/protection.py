"""Protection section (`platform:protection`): Pulumi `protect` / `retainOnDelete` on the data-bearing resources."""

from __future__ import annotations

from pydantic import Field

from infra.config.base import ConfigModel


class ProtectionConfig(ConfigModel):
    """Which Pulumi resource options guard this stack's data (the types are listed in stacks/protection.py)."""

    protect: bool = Field(
        True,
        description=(
            "Pulumi `protect` on every data-bearing or hard-to-recreate resource (Aurora global/regional clusters "
            "and instances, Redis replication groups and Global Datastore, KMS keys, backup vaults and locks, the "
            "hosted zone, secrets, log/report buckets): a replace or destroy then fails instead of deleting data. "
            "Turn off only for a throwaway environment (then `pulumi up` once before `pulumi destroy`)."
        ),
    )
    retain_on_delete: bool = Field(
        True,
        description=(
            "Pulumi `retainOnDelete` on resources that must outlive their stack (backup vaults, their locks and "
            "KMS keys, the hosted zone): deleting them from the program or the stack leaves them in AWS."
        ),
    )
