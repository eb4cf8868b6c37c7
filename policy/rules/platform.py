"""Platform invariants: required tags, deletion protection on data, no public ingress except the ALB's 443."""

from __future__ import annotations

from .engine import Resource, get, is_true, items, resource_rule
from .taggable import TAGGABLE_TYPES

# Must equal infra.tags.REQUIRED_TAG_KEYS (tests/test_policy_pack.py checks it). The pack keeps its own copy so it
# runs standalone from policy/ with only pulumi-policy installed.
REQUIRED_TAG_KEYS = ("environment", "region", "role", "managed-by", "cost-center", "business-unit", "team", "owner")

# Components whose security groups may accept 0.0.0.0/0 (and ::/0) on TCP 443, identified by the URN's parent chain.
PUBLIC_HTTPS_COMPONENTS = ("platform:compute:RegionalAlb",)
PUBLIC_CIDRS = ("0.0.0.0/0", "::/0")

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"


@resource_rule(
    "required-tags",
    types=sorted(TAGGABLE_TYPES),
    enforcement="mandatory",
    controls=[],  # AWS's own tag checks (EKS.6, Backup.2, ...) belong to the Resource Tagging Standard, not FSBP
    description=f"Every taggable AWS resource carries the standard tags ({', '.join(REQUIRED_TAG_KEYS)}).",
    reason="Cost allocation (cost-center, business-unit, team, owner), ownership and backup selection rely on tags.",
)
def required_tags(res: Resource):
    tags = get(res.props, "tags", {})
    if not isinstance(tags, dict):
        tags = {}
    missing = [key for key in REQUIRED_TAG_KEYS if not tags.get(key)]
    if missing:
        yield f"missing required tags: {', '.join(missing)}"


# --- deletion protection on data stores without an FSBP control of their own ------------------------------------

_NO_FORCE_DESTROY = (
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:backup/vault:Vault",
    "aws:route53/zone:Zone",
    "aws:rds/globalCluster:GlobalCluster",
)


@resource_rule(
    "data-deletion-protection",
    types=_NO_FORCE_DESTROY,
    enforcement="mandatory",
    controls=[],
    description="Data stores cannot be deleted with their contents (no forceDestroy; global clusters protected).",
    reason="Platform invariant: a `pulumi destroy` or a rename must not wipe logs, recovery points, DNS or data.",
)
def data_deletion_protection(res: Resource):
    if is_true(get(res.props, "forceDestroy")):
        yield "forceDestroy is true"
    if res.type == "aws:rds/globalCluster:GlobalCluster" and get(res.props, "deletionProtection") is not True:
        yield "deletionProtection is not true"


# --- public ingress ---------------------------------------------------------------------------------------------


def _public_https_allowed(res: Resource) -> bool:
    return any(t in PUBLIC_HTTPS_COMPONENTS for t in res.ancestor_types)


def _is_https_only(protocol, from_port, to_port) -> bool:
    return str(protocol).lower() in ("tcp", "6") and from_port == 443 and to_port == 443


def _check(res: Resource, cidrs: list[str], protocol, from_port, to_port, where: str):
    public = [c for c in cidrs if c in PUBLIC_CIDRS]
    if not public:
        return None
    if _is_https_only(protocol, from_port, to_port) and _public_https_allowed(res):
        return None
    return (
        f"{where} allows {', '.join(public)} on {protocol} {from_port}-{to_port}: only the ALB may be public, "
        "on TCP 443"
    )


@resource_rule(
    "no-public-ingress",
    types=[SECURITY_GROUP, INGRESS_RULE, SG_RULE],
    enforcement="mandatory",
    controls=["EC2.18", "EC2.19", "EC2.13", "EC2.14", "EC2.53", "EC2.54"],
    description="No security group accepts 0.0.0.0/0 or ::/0, except the regional ALB on TCP 443.",
    reason="Everything but the ALB is private; the ALB serves HTTPS only.",
)
def no_public_ingress(res: Resource):
    problems = []
    if res.type == SECURITY_GROUP:
        for index, rule in enumerate(items(res.props, "ingress")):
            cidrs = [*items(rule, "cidrBlocks"), *items(rule, "ipv6CidrBlocks")]
            ports = (get(rule, "protocol"), get(rule, "fromPort"), get(rule, "toPort"))
            problems.append(_check(res, cidrs, *ports, f"ingress[{index}]"))
    elif res.type == INGRESS_RULE:
        cidrs = [c for c in (get(res.props, "cidrIpv4"), get(res.props, "cidrIpv6")) if c]
        problems.append(
            _check(
                res,
                cidrs,
                get(res.props, "ipProtocol"),
                get(res.props, "fromPort"),
                get(res.props, "toPort"),
                "ingress rule",
            )
        )
    elif get(res.props, "type") == "ingress":
        cidrs = [*items(res.props, "cidrBlocks"), *items(res.props, "ipv6CidrBlocks")]
        problems.append(
            _check(
                res,
                cidrs,
                get(res.props, "protocol"),
                get(res.props, "fromPort"),
                get(res.props, "toPort"),
                "ingress rule",
            )
        )
    yield from (p for p in problems if p)
