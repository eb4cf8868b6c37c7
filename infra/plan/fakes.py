"""Plausible provider outputs for the offline plan.

The mock runtime echoes a resource's inputs back as its state; the program, however, also reads outputs that
only AWS computes (ids, ARNs, endpoints). This module fakes those deterministically (same input, same value) so
that plans are stable and snapshot-diffable. Add a type here when a component reads a computed output of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

ACCOUNT_ID = "123456789012"

# Id prefixes AWS uses, so plans read like real ones.
_ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
}


def digest(*parts: str, length: int = 12) -> str:
    """A short stable hex digest of `parts`."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def fake_id(typ: str, name: str, inputs: dict[str, Any], region: str) -> str:
    """A deterministic physical id for a resource (distinct per region)."""
    if typ in _ID_PREFIX:
        return _ID_PREFIX[typ] + digest(typ, name, region, length=17)
    for key in ("name", "identifier", "clusterIdentifier", "replicationGroupId", "clusterName"):
        value = inputs.get(key)
        if isinstance(value, str) and value:
            return value
    return f"{name}-{digest(typ, name, region, length=8)}"


def fake_arn(typ: str, region: str, physical: str) -> str:
    """An ARN of the right service and region for the resource."""
    service = typ.split(":")[1].split("/")[0]
    kind = typ.split(":")[2].lower()
    if service == "iam":
        return f"arn:aws:iam::{ACCOUNT_ID}:{kind}/{physical}"
    return f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{kind}/{physical}"


Synth = Callable[[str, str, dict[str, Any], str], dict[str, Any]]
# typ -> f(name, physical id, inputs, region) -> computed outputs
COMPUTED: dict[str, Synth] = {
    "aws:kms/key:Key": lambda name, pid, inputs, region: {"keyId": digest("key", name, length=32)},
    "aws:ec2/eip:Eip": lambda name, pid, inputs, region: {
        "allocationId": pid,
        "publicIp": f"203.0.113.{int(digest(name, length=2), 16) % 250 + 1}",
    },
    "aws:iam/role:Role": lambda name, pid, inputs, region: {"uniqueId": "AROA" + digest(name, length=16).upper()},
    "aws:cloudwatch/logGroup:LogGroup": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{pid}"
    },
}


def computed_outputs(typ: str, name: str, physical: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    """Generic outputs (`id`, `arn`) plus the type's own computed ones."""
    out: dict[str, Any] = {"id": physical, "arn": fake_arn(typ, region, physical)}
    synth = COMPUTED.get(typ)
    if synth is not None:
        out.update(synth(name, physical, inputs, region))
    return out


# Invokes (data sources) the program may call, answered offline.
def _caller_identity(args: dict[str, Any]) -> dict[str, Any]:
    return {
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/offline-plan",
        "userId": "AIDAOFFLINEPLAN",
        "id": ACCOUNT_ID,
    }


INVOKES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getPartition:getPartition": lambda args: {
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
        "id": "aws",
        "reverseDnsPrefix": "com.amazonaws",
    },
    "aws:iam/getPolicyDocument:getPolicyDocument": lambda args: {
        "json": json.dumps({"Version": "2012-10-17", "Statement": args.get("statements", [])}, sort_keys=True),
        "id": digest(json.dumps(args, sort_keys=True, default=str)),
    },
}
