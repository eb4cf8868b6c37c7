"""moto extensions: AWS APIs the DR drill calls that moto 5.2.5 lacks, implementing AWS's documented behaviour.

This is test-support code for the embedded emulator only (`--local` and the DR tests); the drill program itself
is unchanged and talks to these APIs over real HTTP through boto3. Each extension is registered into moto's
response classes (`install()`), so the request parsing, error format and response serialization are moto's own,
driven by the botocore service models. State lives on moto's backends, so moto's reset clears it too.

Extensions (also listed in docs/dr-runbook.md):

* RDS `SwitchoverGlobalCluster` - planned switchover: requires every member `available`; global status
  `switching-over` with `FailoverState{Status: switching-over, IsDataLossAllowed: false}`, then the target becomes the
  writer (`IsWriter`), the old writer a secondary, status back to `available`.
* RDS `FailoverGlobalCluster` - `AllowDataLoss=true` (unplanned, `failing-over`, `IsDataLossAllowed: true`) or
  `Switchover=true` (same as SwitchoverGlobalCluster); one of them is required, as in AWS.
* ElastiCache Global Datastore: `CreateGlobalReplicationGroup` (id = `<region-prefix>-<suffix>` like AWS's
  `ldgnf-` prefix), `DescribeGlobalReplicationGroups` (with `ShowMemberInfo`), `FailoverGlobalReplicationGroup`
  (status `modifying`, then the named member becomes PRIMARY), and `CreateReplicationGroup` with
  `GlobalReplicationGroupId` joining the group as a SECONDARY member.

* DynamoDB `PutItem` / `UpdateItem` / `DeleteItem` run one at a time: a conditional write is atomic in DynamoDB
  ("condition expressions ... the write succeeds only if the condition is met", Developer Guide, Condition
  expressions), and moto's server threads would otherwise interleave two conditional puts of the drill lock.

Transitions complete after `DR_EMULATOR_TRANSITION_SECONDS` (default 0.05 s) so that the drill's waits are exercised.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.elasticache.models import elasticache_backends
from moto.elasticache.responses import ElastiCacheResponse
from moto.rds.models import rds_backends
from moto.rds.responses import RDSResponse

EXTENSIONS = (
    "rds:SwitchoverGlobalCluster",
    "rds:FailoverGlobalCluster",
    "elasticache:CreateGlobalReplicationGroup",
    "elasticache:DescribeGlobalReplicationGroups",
    "elasticache:FailoverGlobalReplicationGroup",
    "elasticache:CreateReplicationGroup(GlobalReplicationGroupId)",
    "dynamodb:PutItem/UpdateItem/DeleteItem (atomic conditional writes)",
)

# AWS prefixes global datastore ids with a per-region-set code; we use a fixed one.
GLOBAL_DATASTORE_PREFIX = "ldgnf"
_lock = threading.RLock()
_installed = False


class _Fault(ServiceException):
    """An AWS error response (moto serializes it in the service's protocol)."""


def _delay() -> float:
    return float(os.environ.get("DR_EMULATOR_TRANSITION_SECONDS", "0.05"))


def _later(action) -> None:
    timer = threading.Timer(_delay(), action)
    timer.daemon = True
    timer.start()


# ----------------------------------------------------------------------------------------------------------- RDS
def _global_and_target(response: RDSResponse):
    params = response.params
    global_id = str(params.get("GlobalClusterIdentifier", "")).lower()
    backend = response.global_backend
    cluster = backend.global_clusters.get(global_id)
    if cluster is None:
        raise _Fault("GlobalClusterNotFoundFault", f"Global cluster {global_id} not found.")
    target_ref = params.get("TargetDbClusterIdentifier", "")
    target = next((m for m in cluster.members if target_ref in (m.db_cluster_arn, m.db_cluster_identifier)), None)
    if target is None:
        raise _Fault(
            "DBClusterNotFoundFault", f"DB cluster {target_ref} is not a member of global cluster {global_id}."
        )
    return cluster, target


def _publish_lag(members, writer, lag_ms: float = 150.0) -> None:
    """AWS publishes AuroraGlobalDBReplicationLag for every secondary cluster, in its own Region, with the writer's
    Region as SourceRegion: after a switch the old writer starts publishing it (the drill's next pre-check reads it)."""
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core.utils import utcnow  # the backend compares naive UTC timestamps

    from infra.dr.steps import LAG_METRIC

    source = writer.db_cluster_arn.split(":")[3]
    for member in members:
        if member is writer:
            continue
        _, _, _, region, account, _, ident = member.db_cluster_arn.split(":", 6)
        cloudwatch_backends[account][region].put_metric_data(
            LAG_METRIC[0],
            [
                {
                    "MetricName": LAG_METRIC[1],
                    "Dimensions": [
                        {"Name": "DBClusterIdentifier", "Value": ident},
                        {"Name": "SourceRegion", "Value": source},
                    ],
                    "Timestamp": utcnow(),
                    "Value": lag_ms,
                    "Unit": "Milliseconds",
                }
            ],
        )


def _switch(response: RDSResponse, allow_data_loss: bool) -> ActionResult:
    with _lock:
        cluster, target = _global_and_target(response)
        if getattr(cluster, "failover_state", None):
            raise _Fault(
                "InvalidGlobalClusterStateFault",
                f"Global cluster {cluster.global_cluster_identifier} is already {cluster.status}.",
            )
        if target.is_writer:
            raise _Fault(
                "InvalidDBClusterStateFault",
                f"DB cluster {target.db_cluster_identifier} is already the writer of the global cluster.",
            )
        writer = next((m for m in cluster.members if m.is_writer), None)
        if not allow_data_loss:
            unavailable = [m.db_cluster_identifier for m in cluster.members if m.status != "available"]
            if unavailable:
                raise _Fault(
                    "InvalidDBClusterStateFault",
                    f"Switchover needs every member available; not available: {', '.join(unavailable)}.",
                )
        state = "failing-over" if allow_data_loss else "switching-over"
        cluster.status = state
        cluster.failover_state = {
            "Status": state,
            "FromDbClusterArn": writer.db_cluster_arn if writer else None,
            "ToDbClusterArn": target.db_cluster_arn,
            "IsDataLossAllowed": allow_data_loss,
        }

        def complete() -> None:
            with _lock:
                for member in cluster.members:
                    member.is_writer = member is target
                cluster.status = "available"
                cluster.failover_state = None
                _publish_lag(cluster.members, target)

        _later(complete)
        return ActionResult({"GlobalCluster": cluster})


def _switchover_global_cluster(self: RDSResponse) -> ActionResult:
    return _switch(self, allow_data_loss=False)


def _failover_global_cluster(self: RDSResponse) -> ActionResult:
    allow = str(self.params.get("AllowDataLoss", "false")).lower() == "true"
    switchover = str(self.params.get("Switchover", "false")).lower() == "true"
    if allow == switchover:
        raise _Fault("InvalidParameterCombination", "Specify exactly one of AllowDataLoss or Switchover.")
    return _switch(self, allow_data_loss=allow)


# --------------------------------------------------------------------------------------------------- ElastiCache
def _store(account_id: str) -> dict[str, dict[str, Any]]:
    # Global datastores are global; keep them on the us-east-1 backend so moto's reset clears them.
    backend = elasticache_backends[account_id]["us-east-1"]
    if not hasattr(backend, "_dr_global_groups"):
        backend._dr_global_groups = {}
    return backend._dr_global_groups


def _group_view(group: dict[str, Any], members: bool = True) -> dict[str, Any]:
    view = {k: v for k, v in group.items() if k != "Members"}
    if members:
        view["Members"] = [dict(m) for m in group["Members"]]
    return view


def _create_global_replication_group(self: ElastiCacheResponse) -> ActionResult:
    suffix = self._get_param("GlobalReplicationGroupIdSuffix")
    primary_id = self._get_param("PrimaryReplicationGroupId")
    primary = self.elasticache_backend.replication_groups.get(primary_id)
    if primary is None:
        raise _Fault("ReplicationGroupNotFoundFault", f"Replication group {primary_id} not found.")
    group_id = f"{GLOBAL_DATASTORE_PREFIX}-{suffix}"
    with _lock:
        store = _store(self.current_account)
        if group_id in store:
            raise _Fault("GlobalReplicationGroupAlreadyExistsFault", f"Global replication group {group_id} exists.")
        store[group_id] = {
            "GlobalReplicationGroupId": group_id,
            "GlobalReplicationGroupDescription": self._get_param("GlobalReplicationGroupDescription") or "",
            "Status": "available",
            "CacheNodeType": getattr(primary, "cache_node_type", None) or "cache.r7g.large",
            "Engine": "redis",
            "EngineVersion": getattr(primary, "engine_version", None) or "7.1",
            "ClusterEnabled": True,
            "AuthTokenEnabled": True,
            "TransitEncryptionEnabled": True,
            "AtRestEncryptionEnabled": True,
            "ARN": f"arn:aws:elasticache::{self.current_account}:globalreplicationgroup:{group_id}",
            "Members": [
                {
                    "ReplicationGroupId": primary_id,
                    "ReplicationGroupRegion": self.region,
                    "Role": "PRIMARY",
                    "AutomaticFailover": "enabled",
                    "Status": "associated",
                }
            ],
        }
        return ActionResult({"GlobalReplicationGroup": _group_view(store[group_id])})


def _describe_global_replication_groups(self: ElastiCacheResponse) -> ActionResult:
    group_id = self._get_param("GlobalReplicationGroupId")
    show_members = str(self._get_param("ShowMemberInfo", "false")).lower() == "true"
    with _lock:
        store = _store(self.current_account)
        if group_id:
            if group_id not in store:
                raise _Fault("GlobalReplicationGroupNotFoundFault", f"Global replication group {group_id} not found.")
            groups = [store[group_id]]
        else:
            groups = list(store.values())
        return ActionResult({"GlobalReplicationGroups": [_group_view(g, show_members) for g in groups]})


def _failover_global_replication_group(self: ElastiCacheResponse) -> ActionResult:
    group_id = self._get_param("GlobalReplicationGroupId")
    region = self._get_param("PrimaryRegion")
    new_primary = self._get_param("PrimaryReplicationGroupId")
    with _lock:
        store = _store(self.current_account)
        group = store.get(group_id)
        if group is None:
            raise _Fault("GlobalReplicationGroupNotFoundFault", f"Global replication group {group_id} not found.")
        if group["Status"] != "available":
            raise _Fault("InvalidGlobalReplicationGroupStateFault", f"{group_id} is {group['Status']}.")
        member = next(
            (
                m
                for m in group["Members"]
                if m["ReplicationGroupId"] == new_primary and m["ReplicationGroupRegion"] == region
            ),
            None,
        )
        if member is None:
            raise _Fault(
                "InvalidParameterValue",
                f"{new_primary} in {region} is not a member of global replication group {group_id}.",
            )
        if member["Role"] == "PRIMARY":
            raise _Fault("InvalidParameterValue", f"{new_primary} is already the primary of {group_id}.")
        group["Status"] = "modifying"

        def complete() -> None:
            with _lock:
                for m in group["Members"]:
                    m["Role"] = "PRIMARY" if m is member else "SECONDARY"
                group["Status"] = "available"

        _later(complete)
        return ActionResult({"GlobalReplicationGroup": _group_view(group)})


def _wrap_create_replication_group(original):
    def create_replication_group(self: ElastiCacheResponse) -> ActionResult:
        global_id = self._get_param("GlobalReplicationGroupId")
        result = original(self)
        if global_id:
            with _lock:
                group = _store(self.current_account).get(global_id)
                if group is None:
                    raise _Fault(
                        "GlobalReplicationGroupNotFoundFault", f"Global replication group {global_id} not found."
                    )
                group["Members"].append(
                    {
                        "ReplicationGroupId": self._get_param("ReplicationGroupId"),
                        "ReplicationGroupRegion": self.region,
                        "Role": "SECONDARY",
                        "AutomaticFailover": "enabled",
                        "Status": "associated",
                    }
                )
        return result

    return create_replication_group


_item_lock = threading.Lock()


def _atomic(original):
    def write(self, *args, **kwargs):
        with _item_lock:
            return original(self, *args, **kwargs)

    return write


def install() -> None:
    """Register the extensions into moto's response classes (idempotent; call before the server starts)."""
    global _installed
    if _installed:
        return
    RDSResponse.switchover_global_cluster = _switchover_global_cluster
    RDSResponse.failover_global_cluster = _failover_global_cluster
    ElastiCacheResponse.create_global_replication_group = _create_global_replication_group
    ElastiCacheResponse.describe_global_replication_groups = _describe_global_replication_groups
    ElastiCacheResponse.failover_global_replication_group = _failover_global_replication_group
    ElastiCacheResponse.create_replication_group = _wrap_create_replication_group(
        ElastiCacheResponse.create_replication_group
    )
    from moto.dynamodb.responses import DynamoHandler

    for name in ("put_item", "update_item", "delete_item"):
        setattr(DynamoHandler, name, _atomic(getattr(DynamoHandler, name)))
    from moto.ssm.models import ParameterDict

    ParameterDict.__deepcopy__ = _copy_parameter_dict  # Emulator.save/restore copies the SSM backend too
    _installed = True


def _copy_parameter_dict(self, memo):
    """moto's SSM ParameterDict is a defaultdict whose constructor takes (account, region): copy it field by field."""
    import copy

    new = type(self)(self.account_id, self.region_name)
    new.__dict__.update(copy.deepcopy(self.__dict__, memo))
    for key, versions in self.items():
        new[key] = copy.deepcopy(versions, memo)
    return new


__all__ = ["EXTENSIONS", "install", "rds_backends"]
