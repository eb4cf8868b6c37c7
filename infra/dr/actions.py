"""The ARC Region switch plan's custom-action Lambdas (catalogue steps `redis-promote` and `reconcile-iac`).

Packaged alone into each Region's Lambda functions (stdlib + boto3 only, which the Lambda Python runtime ships).
ARC runs them in the ACTIVATING Region (`regionToRun: activatingRegion`), so the target Region is the function's
own `AWS_REGION`: no payload needed and only the surviving Region's APIs are called for the promotion.

ARC invokes a custom action again after `retryIntervalMinutes` until it succeeds or the step times out
(https://docs.aws.amazon.com/r53recovery/latest/dg/custom-action-lambda-block.html), so both handlers are
idempotent: they check the actual state first and raise `InProgress` while AWS is still switching.
The emulator's ARC executor (`infra/dr/emulator/arc.py`) runs these same functions against the emulated services.
"""

from __future__ import annotations

import os
import time
from typing import Any

POLL_SECONDS = float(os.environ.get("DR_ACTION_POLL_SECONDS", "5"))


class InProgress(RuntimeError):
    """Not done yet: ARC retries the step after its retry interval."""


def _client(service: str, region: str, client_factory=None):
    if client_factory is not None:
        return client_factory(service, region)
    import boto3
    from botocore.config import Config

    return boto3.client(service, region_name=region, config=Config(connect_timeout=5, read_timeout=20))


def redis_promote(event: dict[str, Any], context: Any, client_factory=None, env: dict[str, str] | None = None):
    """Make this Region's replication group the Global Datastore primary (FailoverGlobalReplicationGroup)."""
    env = env if env is not None else dict(os.environ)
    region, group_id, member_id = env["AWS_REGION"], env["GLOBAL_DATASTORE_ID"], env["REPLICATION_GROUP_ID"]
    ec = _client("elasticache", region, client_factory)
    budget = float(env.get("WAIT_SECONDS", "240"))
    poll = float(env.get("POLL_SECONDS", POLL_SECONDS))
    deadline = time.monotonic() + budget
    requested = False
    while True:
        group = ec.describe_global_replication_groups(GlobalReplicationGroupId=group_id, ShowMemberInfo=True)[
            "GlobalReplicationGroups"
        ][0]
        member = next((m for m in group.get("Members", []) if m["ReplicationGroupId"] == member_id), None)
        if member is None:
            raise RuntimeError(f"{member_id} ({region}) is not a member of global datastore {group_id}")
        if group.get("Status") == "available" and member.get("Role") == "PRIMARY":
            return {"step": event.get("StepName"), "redisPrimaryRegion": region, "requested": requested}
        if group.get("Status") == "available" and not requested:
            ec.failover_global_replication_group(
                GlobalReplicationGroupId=group_id, PrimaryRegion=region, PrimaryReplicationGroupId=member_id
            )
            requested = True
        if time.monotonic() > deadline:
            raise InProgress(f"global datastore {group_id} is '{group.get('Status')}'; promotion still running")
        time.sleep(poll)


def write_active_region(event: dict[str, Any], context: Any, client_factory=None, env: dict[str, str] | None = None):
    """Write the active-Region knob (SSM parameter, same name in every Region) = this Region, in every reachable
    Region; an unreachable one is reported (a later run writes it). This Region's write must succeed."""
    env = env if env is not None else dict(os.environ)
    region, name = env["AWS_REGION"], env["PARAMETER_NAME"]
    regions = [r for r in env["FLEET_REGIONS"].split(",") if r]
    written, unreachable = [], {}
    for target in [region, *[r for r in regions if r != region]]:
        try:
            _client("ssm", target, client_factory).put_parameter(Name=name, Value=region, Type="String", Overwrite=True)
            written.append(target)
        except Exception as exc:  # an impaired Region must not fail the switch (static stability)
            if target == region:
                raise
            unreachable[target] = f"{type(exc).__name__}: {exc}"
    return {"step": event.get("StepName"), "activeRegion": region, "written": written, "unreachable": unreachable}
