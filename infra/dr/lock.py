"""One drill per fleet at a time, whatever the directions, also when a Region is unreachable.

Each Region's stack owns a lock table (`drLockTableName`, `components/dr.py`). A drill takes the lock item in EVERY
Region it can reach, one Region at a time in one fixed order (sorted Region names), all or nothing:

* Two drills started together, in any directions, both try the first Region of the same order first; DynamoDB's
  conditional `PutItem` (`attribute_not_exists(lockId)`) lets exactly one of them in, the other is refused before it
  holds anything (no deadlock: nobody waits while holding a lock; a loser releases what it took).
* A Region that does not answer (transport failure) is skipped and recorded; the drill needs the lock in the target
  Region and, for a planned switchover or a failback, in every Region (the runner refuses those when a Region is
  unreachable before it gets here). When the failed Region comes back, a new drill still meets the survivor's item.
* Fencing: the item carries the drill id as the token. Before every action the engine re-reads the item in each
  Region held (strongly consistent `GetItem`) and stops if another drill took it (`--break-lock`); AWS's APIs accept
  no fencing token, so this narrows, but cannot close, the window between the check and the call.

Why not a majority quorum: with two Regions a majority is both, so no lock could be taken while one is down, which is
exactly when the unplanned failover must run. The residual risk of this design is a network partition in which two
operators each reach a different single Region; both the API endpoints and the operators' network would have to split
that way. A DynamoDB global table with multi-Region strong consistency (3 Regions, or 2 plus a witness) would close
it; it needs a third Region, which this fleet does not have (see docs/dr-runbook.md, "The lock").
"""

from __future__ import annotations

import contextlib
from typing import Any

from infra.dr.drill import Aws, Refusal, StepFailed, now, unreachable

KEY = "platform-dr-drill"


class FleetLock:
    """The fleet's drill lock: one item per Region's lock table, taken in sorted Region order."""

    def __init__(self, aws: Aws, tables: dict[str, str], drill_id: str, description: str):
        self.aws, self.tables, self.drill_id, self.description = aws, tables, drill_id, description
        self.held: list[str] = []
        self.acquired: list[str] = []  # for the report (held is emptied on release)
        self.unreachable: dict[str, str] = {}

    @property
    def order(self) -> list[str]:
        return sorted(self.tables)

    def _ddb(self, region: str):
        return self.aws("dynamodb", region)

    def acquire(self, break_lock: bool = False, required: tuple[str, ...] = ()) -> None:
        """Take the item in every reachable Region; refuse (holding nothing) if any is held by another drill."""
        for region in self.order:
            ddb, table = self._ddb(region), self.tables[region]
            try:
                if break_lock:
                    ddb.delete_item(TableName=table, Key={"lockId": {"S": KEY}})
                ddb.put_item(
                    TableName=table,
                    Item={
                        "lockId": {"S": KEY},
                        "drillId": {"S": self.drill_id},
                        "description": {"S": self.description},
                        "acquiredAt": {"S": now()},
                    },
                    ConditionExpression="attribute_not_exists(lockId)",
                )
            except ddb.exceptions.ConditionalCheckFailedException:
                holder = self._holder(region)
                self.release()
                raise Refusal(
                    f"another drill holds the fleet lock ({table} in {region}): {holder}. Wait for it to finish; "
                    "if it crashed, re-run with --break-lock."
                ) from None
            except Exception as exc:
                if not unreachable(exc):
                    self.release()
                    raise
                self.unreachable[region] = f"{type(exc).__name__}: {exc}"
                continue
            self.held.append(region)
        self.acquired = list(self.held)
        missing = [r for r in required if r not in self.held]
        if missing:
            self.release()
            raise Refusal(
                f"the fleet lock could not be taken in {', '.join(missing)} (unreachable: "
                f"{'; '.join(self.unreachable.get(r, '?') for r in missing)}); nothing was changed."
            )

    def _holder(self, region: str) -> str:
        with contextlib.suppress(Exception):
            item = (
                self._ddb(region)
                .get_item(TableName=self.tables[region], Key={"lockId": {"S": KEY}}, ConsistentRead=True)
                .get("Item", {})
            )
            return f"{item.get('description', {}).get('S', '?')}, since {item.get('acquiredAt', {}).get('S', '?')}"
        return "unknown holder"

    def check(self) -> None:
        """Fencing check before a write: every item we hold still carries our drill id."""
        for region in self.held:
            try:
                item = (
                    self._ddb(region)
                    .get_item(TableName=self.tables[region], Key={"lockId": {"S": KEY}}, ConsistentRead=True)
                    .get("Item")
                )
            except Exception as exc:
                if unreachable(exc):
                    continue  # a Region that went down since: the surviving items still fence us
                raise
            if not item or item.get("drillId", {}).get("S") != self.drill_id:
                raise StepFailed(
                    f"the fleet lock in {region} is no longer ours (broken with --break-lock?): stopping before the "
                    "next write; re-run to resume from AWS's state."
                )

    def release(self) -> None:
        for region in list(self.held):
            ddb = self._ddb(region)
            # (ConditionalCheckFailed: someone broke our lock; unreachable: the item stays, --break-lock clears it)
            with contextlib.suppress(Exception):
                ddb.delete_item(
                    TableName=self.tables[region],
                    Key={"lockId": {"S": KEY}},
                    ConditionExpression="drillId = :me",
                    ExpressionAttributeValues={":me": {"S": self.drill_id}},
                )
            self.held.remove(region)

    def report(self) -> dict[str, Any]:
        return {"order": self.order, "heldIn": list(self.acquired), "unreachable": dict(self.unreachable)}
