"""Shared stack-config sections: identity of the stack (region, role, partner), naming and tags."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from infra.config.base import ConfigModel
from infra.config.errors import ConfigFix

_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{1,256}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TAG_VALUE_FIX = "use 1-256 characters of letters, digits, spaces and _ . : / = + - @"
DNS_LABEL_FIX = "use 1-63 lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. api)"
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ConfigFix(f"'{value}' is not an email address", "write one address per entry, e.g. oncall@example.com")
    return value


def check_role_arn(value: str) -> str:
    """`value` if it is an IAM role ARN, else a ConfigFix showing the form."""
    if not ROLE_ARN.match(value):
        raise ConfigFix(
            f"'{value}' is not an IAM role ARN",
            "write arn:aws:iam::<12-digit account>:role/<name>, e.g. arn:aws:iam::123456789012:role/platform-admin",
        )
    return value


# An email subscriber (SNS subscriptions, budget notifications).
EmailAddress = Annotated[str, AfterValidator(_email)]


class NamingConfig(ConfigModel):
    """How physical names are built: `<prefix>-<environment>-<region>-<thing>`."""

    prefix: str = Field(
        "devtools",
        pattern=r"^[a-z][a-z0-9]{1,11}$",
        description="Short lowercase prefix (2-12 chars, letters/digits) at the start of every physical name.",
    )


class CostTagsConfig(ConfigModel):
    """Cost-allocation tags applied to every taggable resource (activate them in the Billing console)."""

    cost_center: str = Field(..., description="Finance cost center, e.g. CC-1234.")
    business_unit: str = Field(..., description="Owning business unit, e.g. engineering-platform.")
    team: str = Field(..., description="Owning team, e.g. devtools-sre.")
    owner: str = Field(..., description="Contact for the stack (email or alias).")
    extra: dict[str, str] = Field(default_factory=dict, description="Additional tags for every resource.")

    @field_validator("cost_center", "business_unit", "team", "owner")
    @classmethod
    def _tag_value(cls, value: str) -> str:
        if not _TAG_VALUE.match(value):
            raise ConfigFix("has a character or length the AWS tag value rules do not allow", _TAG_VALUE_FIX)
        return value

    @field_validator("extra")
    @classmethod
    def _extra_tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, tag_value in value.items():
            if key.lower().startswith("aws:"):
                raise ConfigFix(
                    f"tag key '{key}' uses the reserved 'aws:' prefix",
                    f"rename the key without 'aws:' (e.g. '{key[4:] or 'name'}'); AWS keeps that prefix for itself",
                )
            if not _TAG_VALUE.match(tag_value):
                raise ConfigFix(
                    f"tag '{key}' has a value AWS rejects: {tag_value!r}", f"for extra.{key}: {_TAG_VALUE_FIX}"
                )
        return value


Role = Literal["primary", "secondary"]
