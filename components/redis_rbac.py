"""ElastiCache RBAC for the platform's Redis: one IAM-authenticated user per service, scoped to its key prefix,
in a user group whose `default` user is disabled (ElastiCache requires a user named `default` in every group).

Users and user groups are Regional resources: every stack creates its own and attaches the group to its own
replication group (docs/security.md, "Redis identities").
"""

from __future__ import annotations

from typing import Literal

import pulumi_aws as aws
import pulumi_random as random
from pydantic import BaseModel, ConfigDict, Field

from components.base import PlatformComponent

ENGINE = "redis"
# ElastiCache user ids: a letter first, letters/digits/hyphens, at most 40 characters.
USER_ID_PATTERN = r"^[a-z][a-z0-9-]{0,39}$"
# Cluster-mode clients discover the slot map with CLUSTER SLOTS / CLUSTER SHARDS.
_DISCOVERY = "+cluster|slots +cluster|shards"
ACCESS = {
    "readwrite": "-@all +@read +@write +@connection -@dangerous " + _DISCOVERY,
    "read": "-@all +@read +@connection -@dangerous " + _DISCOVERY,
}


class RedisUser(BaseModel):
    """One service's cache identity: IAM-authenticated user `user_id` (= user name) on keys `<key_prefix>:*`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str = Field(..., description="Service the user belongs to (logical names).")
    user_id: str = Field(..., pattern=USER_ID_PATTERN, description="User id and name (IAM auth: they must match).")
    key_prefix: str = Field(..., pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Keys the user may touch.")
    access: Literal["readwrite", "read"] = Field("readwrite", description="Command categories on its keys.")

    @property
    def access_string(self) -> str:
        return f"on ~{self.key_prefix}:* {ACCESS[self.access]}"


def redis_user_group(
    owner: PlatformComponent, *, region: str, group_id: str, users: list[RedisUser], tags: dict[str, str]
) -> tuple[aws.elasticache.UserGroup, dict[str, aws.elasticache.User]]:
    """The user group (children of `owner`) and each service's user, by service name."""
    # The built-in `default` user has full access with no password; a group must contain a user named `default`,
    # so this one replaces it: disabled (`off`), no commands, and a random password nobody is given.
    default_password = random.RandomPassword(owner.cname("default-user-password"), length=64, special=False,
                                             opts=owner.child())  # fmt: skip
    default = aws.elasticache.User(
        owner.cname("default-user"),
        region=region,
        user_id=f"{group_id}-default-off"[:40],
        user_name="default",
        engine=ENGINE,
        access_string="off -@all",
        authentication_mode=aws.elasticache.UserAuthenticationModeArgs(
            type="password", passwords=[default_password.result]
        ),
        tags=owner.tagged(tags, f"{group_id}-default-off"),
        opts=owner.child(additional_secret_outputs=["authenticationMode", "passwords"]),
    )
    created: dict[str, aws.elasticache.User] = {}
    for user in users:
        created[user.service] = aws.elasticache.User(
            owner.cname(f"user-{user.service}"),
            region=region,
            user_id=user.user_id,
            user_name=user.user_id,
            engine=ENGINE,
            access_string=user.access_string,
            authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="iam"),
            tags=owner.tagged(tags, user.user_id),
            opts=owner.child(),
        )
    group = aws.elasticache.UserGroup(
        owner.cname("user-group"),
        region=region,
        user_group_id=group_id,
        engine=ENGINE,
        user_ids=[default.user_id, *(u.user_id for u in created.values())],
        tags=owner.tagged(tags, group_id),
        opts=owner.child(),
    )
    return group, created
