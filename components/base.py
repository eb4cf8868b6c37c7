"""What every platform component shares: typed args with region/naming/tags, and child options."""

from __future__ import annotations

from typing import Any

import pulumi
from pydantic import BaseModel, ConfigDict, Field

# A value that may be known now or only after deployment (pulumi.Input[str]).
Input = Any


class ComponentArgs(BaseModel):
    """Fields every component's args carry. Subclass per component; unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    region: str = Field(..., description="AWS Region of every child (the pulumi-aws v7 per-resource `region`).")
    name_prefix: str = Field(..., description="Physical-name prefix, e.g. `devtools-prod-use1`.")
    tags: dict[str, str] = Field(default_factory=dict, description="Tags applied to every taggable child.")


class PlatformComponent(pulumi.ComponentResource):
    """A ComponentResource with helpers for `parent=self` children and per-child tags."""

    def __init__(self, type_token: str, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_token, name, None, opts)
        self._name = name

    def child(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a child: always parented to this component (providers are inherited)."""
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def cname(self, suffix: str) -> str:
        """Logical name of a child: `<component name>-<suffix>` (a public contract; renames need aliases)."""
        return f"{self._name}-{suffix}"

    @staticmethod
    def tagged(tags: dict[str, str], name: str, **extra: str) -> dict[str, str]:
        """The standard tags plus a `Name` tag and any extra ones."""
        return {**tags, "Name": name, **extra}
