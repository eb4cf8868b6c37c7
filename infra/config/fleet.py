"""Cross-stack rules over every `Pulumi.*.yaml` of a project: the fleet of region stacks."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from infra.capacity import capacity_issues
from infra.config.errors import ConfigError, ConfigIssue
from infra.config.fleet_security import security_issues
from infra.config.loader import load_stack_file, stack_file_name
from infra.config.reachability import deploy_location_issues
from infra.config.stack import StackConfig

# Private ECR registry host: <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]
ECR_HOST = re.compile(r"^\d{12}\.dkr\.ecr(-fips)?\.(?P<region>[a-z]{2}(-[a-z]+)+-\d)\.amazonaws\.com(\.cn)?/")


@dataclass(frozen=True)
class Fleet:
    """All region stacks of one project, validated together."""

    stacks: dict[str, StackConfig]

    @property
    def primary(self) -> str:
        return next(name for name, cfg in self.stacks.items() if cfg.is_primary)

    @property
    def active_region(self) -> str:
        """The writer the stack files imply (the override, agreed by every stack, or the primary's region); the live
        value is the active-region SSM parameter each stack reads at deploy time."""
        primary = self.stacks[self.primary]
        return primary.writer_region(primary.region)

    def secondaries(self) -> list[str]:
        return sorted(name for name, cfg in self.stacks.items() if not cfg.is_primary)


def stack_files(root: Path) -> dict[str, Path]:
    """`{stack name: path}` for every `Pulumi.<stack>.yaml` under `root` (not recursive)."""
    files = {}
    for path in sorted(root.glob("Pulumi.*.yaml")):
        stack = path.name[len("Pulumi.") : -len(".yaml")]
        files[stack] = path
    return files


def load_fleet(root: Path) -> Fleet:
    """Validate every stack file and the rules between them; raise one ConfigError listing all problems."""
    files = stack_files(root)
    if not files:
        raise ConfigError(
            [
                ConfigIssue(
                    str(root),
                    "-",
                    "no Pulumi.<stack>.yaml files found.",
                    "add one Pulumi.<region>.yaml per region (README, Adding a Region), or pass --root <repository>.",
                )
            ]
        )
    issues: list[ConfigIssue] = []
    stacks: dict[str, StackConfig] = {}
    for stack, path in files.items():
        try:
            stacks[stack] = load_stack_file(path)
        except ConfigError as exc:
            issues.extend(exc.issues)
    if issues:
        raise ConfigError(issues)
    issues.extend(fleet_issues(stacks))
    issues.extend(capacity_issues(stacks))
    if issues:
        raise ConfigError(issues)
    return Fleet(stacks)


def fleet_issues(stacks: dict[str, StackConfig]) -> list[ConfigIssue]:
    """Problems that only show when the stacks are read together."""
    issues: list[ConfigIssue] = []
    primaries = [name for name, cfg in stacks.items() if cfg.is_primary]
    regions = {cfg.region for cfg in stacks.values()}
    for name, cfg in stacks.items():
        file = stack_file_name(name)
        issues.extend(deploy_location_issues(name, cfg))
        if cfg.region != name:
            issues.append(
                ConfigIssue(
                    file,
                    "platform:region",
                    f"is '{cfg.region}' but the stack is named '{name}'.",
                    f"stacks are named after their region: set platform:region to '{name}' or rename the file.",
                )
            )
        if cfg.partner_stack == name:
            others = sorted(set(stacks) - {name})
            issues.append(
                ConfigIssue(
                    file,
                    "platform:partnerStack",
                    "names the stack itself.",
                    f"name another stack: one of {', '.join(others)}." if others else "add the partner's stack file.",
                )
            )
        elif cfg.partner_stack not in stacks:
            issues.append(
                ConfigIssue(
                    file,
                    "platform:partnerStack",
                    f"names '{cfg.partner_stack}' but there is no {stack_file_name(cfg.partner_stack)}.",
                    f"use one of: {', '.join(sorted(stacks))}.",
                )
            )
        elif not cfg.is_primary and not stacks[cfg.partner_stack].is_primary:
            issues.append(
                ConfigIssue(
                    file,
                    "platform:partnerStack",
                    f"names '{cfg.partner_stack}', which is not the primary.",
                    "a secondary pairs with the primary: "
                    + (f"set partnerStack: {primaries[0]}." if len(primaries) == 1 else "name the primary stack."),
                )
            )
        elif cfg.is_primary and stacks[cfg.partner_stack].is_primary:
            secondaries = sorted(n for n, other in stacks.items() if not other.is_primary)
            issues.append(
                ConfigIssue(
                    file,
                    "platform:partnerStack",
                    "names another primary.",
                    f"name a secondary stack (its DR target): one of {', '.join(secondaries) or 'none yet'}.",
                )
            )
        if cfg.active_region is not None and cfg.active_region not in regions:
            issues.append(
                ConfigIssue(
                    file,
                    "platform:activeRegion",
                    f"is '{cfg.active_region}', which no stack serves.",
                    f"use one of: {', '.join(sorted(regions))}.",
                )
            )
    if len(primaries) != 1:
        found = ", ".join(stack_file_name(p) for p in sorted(primaries)) or "none"
        for target in sorted(primaries) or sorted(stacks):
            issues.append(
                ConfigIssue(
                    stack_file_name(target),
                    "platform:role",
                    f"exactly one stack must have role 'primary' (found: {found}).",
                    "set role: primary on one stack and role: secondary on all others.",
                )
            )
    if len(primaries) == 1:
        # Every stack must agree on who holds the writer; an unset knob means the primary's region.
        primary_region = stacks[primaries[0]].region
        effective = {name: cfg.writer_region(primary_region) for name, cfg in stacks.items()}
        if len(set(effective.values())) > 1:
            said = ", ".join(f"{stack_file_name(n)} -> {r}" for n, r in sorted(effective.items()))
            for name in sorted(stacks):
                issues.append(
                    ConfigIssue(
                        stack_file_name(name),
                        "platform:activeRegion",
                        f"the stacks disagree on the active region ({said}; unset means the primary's region).",
                        "set the same activeRegion in every stack file, or remove it from all of them (the DR drill "
                        "writes the active-region SSM parameter instead).",
                    )
                )
    envs = {cfg.environment for cfg in stacks.values()}
    if len(envs) > 1:
        issues.append(
            ConfigIssue(
                stack_file_name(sorted(stacks)[0]),
                "platform:environment",
                f"the stacks disagree ({', '.join(sorted(envs))}).",
                "one project deploys one environment: set the same platform:environment in every stack file"
                + (f" (the primary's is '{stacks[primaries[0]].environment}')." if len(primaries) == 1 else "."),
            )
        )
    names = sorted(stacks, key=lambda n: (not stacks[n].is_primary, n))
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            net_a = ipaddress.IPv4Network(stacks[a].network.cidr)
            net_b = ipaddress.IPv4Network(stacks[b].network.cidr)
            if net_a.overlaps(net_b):
                issues.append(
                    ConfigIssue(
                        stack_file_name(b),
                        "platform:network.cidr",
                        f"{net_b} overlaps {net_a} of {stack_file_name(a)}.",
                        "give every region a distinct range (e.g. 10.10.0.0/16, 10.20.0.0/16) so peering and "
                        "failover routing stay possible.",
                    )
                )
    # Workloads: every region must run the same services so that any of them can take over the traffic.
    services = {name: sorted(svc.name for svc in cfg.workloads.services) for name, cfg in stacks.items()}
    for a in names[1:]:
        if services[a] != services[names[0]]:
            issues.append(
                ConfigIssue(
                    stack_file_name(a),
                    "platform:workloads.services",
                    f"runs {services[a]} but {stack_file_name(names[0])} runs {services[names[0]]}.",
                    "list the same services (names) in every stack file; size them per region instead.",
                )
            )
    issues.extend(_registry_issues(stacks))
    issues.extend(_traffic_issues(stacks, names))
    issues.extend(_data_issues(stacks, names))
    issues.extend(_backup_issues(stacks))
    issues.extend(_cost_issues(stacks, names))
    issues.extend(security_issues(stacks))
    return issues


def _registry_issues(stacks: dict[str, StackConfig]) -> list[ConfigIssue]:
    """A stack pulls its images from its own Region's ECR registry: pulling across Regions makes a Region's
    recovery depend on another Region being up (and pays cross-Region transfer on every node start)."""
    issues: list[ConfigIssue] = []
    for name, cfg in stacks.items():
        for index, svc in enumerate(cfg.workloads.services):
            match = ECR_HOST.match(svc.image)
            if match and match.group("region") != cfg.region:
                fixed = svc.image[: match.start("region")] + "{region}" + svc.image[match.end("region") :]
                issues.append(
                    ConfigIssue(
                        stack_file_name(name),
                        f"platform:workloads.services[{index}].image",
                        f"pulls from the ECR registry of {match.group('region')}, not of this stack's Region "
                        f"{cfg.region}.",
                        f"write '{fixed}' ({{region}} is replaced by the stack's Region) and replicate the "
                        "repositories to every Region of the fleet (ECR replication).",
                    )
                )
    return issues


def _data_issues(stacks: dict[str, StackConfig], names: list[str]) -> list[ConfigIssue]:
    """One Aurora global database and one Redis Global Datastore span the fleet: members must match the owner.

    A secondary cluster must run the global cluster's engine version, and a Global Datastore member inherits
    engine, node type, shard count and encryption from the primary group, so a different value in a secondary
    stack file would be silently ignored (or rejected by AWS); say so instead.
    """
    issues: list[ConfigIssue] = []
    owner = stacks[names[0]].data
    for name in names[1:]:
        data = stacks[name].data
        pairs = [("aurora.engineVersion", data.aurora.engine_version, owner.aurora.engine_version),
                 ("aurora.storageEncrypted", data.aurora.storage_encrypted, owner.aurora.storage_encrypted),
                 ("redis.globalDatastore", data.redis.global_datastore, owner.redis.global_datastore)]  # fmt: skip
        if owner.redis.global_datastore:
            pairs += [
                ("redis.engineVersion", data.redis.engine_version, owner.redis.engine_version),
                ("redis.nodeType", data.redis.node_type, owner.redis.node_type),
                ("redis.shards", data.redis.shards, owner.redis.shards),
                ("redis.transitEncryption", data.redis.transit_encryption, owner.redis.transit_encryption),
            ]
        for key, mine, theirs in pairs:
            if mine != theirs:
                issues.append(
                    ConfigIssue(
                        stack_file_name(name),
                        f"platform:data.{key}",
                        f"is '{mine}' but {stack_file_name(names[0])} has '{theirs}'.",
                        "members of the global database / Global Datastore share this setting with the primary: "
                        "use the same value in every stack file.",
                    )
                )
    return issues


def _traffic_issues(stacks: dict[str, StackConfig], names: list[str]) -> list[ConfigIssue]:
    """Route 53 record sets are shared by every stack: same zone, same policy, and a policy the fleet can use."""
    issues: list[ConfigIssue] = []
    first = stacks[names[0]].traffic
    for name in names[1:]:
        cfg = stacks[name].traffic
        for key, mine, theirs in (
            ("zoneName", cfg.zone_name, first.zone_name),
            ("routingPolicy", cfg.routing_policy, first.routing_policy),
            ("apiOriginLabel", cfg.api_origin_label, first.api_origin_label),
            ("geolocation", cfg.geolocation, first.geolocation),
        ):
            if mine != theirs:
                issues.append(
                    ConfigIssue(
                        stack_file_name(name),
                        f"platform:traffic.{key}",
                        f"is '{mine}' but {stack_file_name(names[0])} has '{theirs}'.",
                        "every stack writes into the same Route 53 record set: use the same value in every file.",
                    )
                )
    edge = stacks[names[0]].edge
    for name in names[1:]:
        for key, mine, theirs in (
            ("enabled", stacks[name].edge.enabled, edge.enabled),
            ("originVerify.headerName", stacks[name].edge.origin_verify.header_name, edge.origin_verify.header_name),
        ):
            if mine != theirs:
                issues.append(
                    ConfigIssue(
                        stack_file_name(name),
                        f"platform:edge.{key}",
                        f"is '{mine}' but {stack_file_name(names[0])} has '{theirs}'.",
                        "every ALB is locked to the primary's CloudFront distribution (or none is): use the same "
                        "value in every file.",
                    )
                )
    for name in names:
        cfg = stacks[name].traffic
        if cfg.existing_zone_id and not stacks[name].is_primary:
            issues.append(
                ConfigIssue(
                    stack_file_name(name),
                    "platform:traffic.existingZoneId",
                    "is set on a secondary.",
                    "set it on the primary only; secondaries read the zone from the primary's hostedZoneId output.",
                )
            )
        if cfg.routing_policy == "geolocation":
            unmapped = sorted(r for r in stacks if r not in cfg.geolocation)
            if unmapped:
                issues.append(
                    ConfigIssue(
                        stack_file_name(name),
                        "platform:traffic.geolocation",
                        f"has no locations for {unmapped}; a non-active region would get no traffic.",
                        "map every region to continent/country codes, e.g. {us-east-1: [NA, SA], eu-west-1: [EU]}.",
                    )
                )
    return issues


def _backup_issues(stacks: dict[str, StackConfig]) -> list[ConfigIssue]:
    """AWS Backup continuous backup takes over Aurora's PITR window: it must equal the data tier's retention."""
    issues: list[ConfigIssue] = []
    for name, cfg in stacks.items():
        if not cfg.backup.enabled:
            continue
        aurora_days = cfg.data.aurora.backup_retention_days
        for index, rule in enumerate(cfg.backup.rules):
            if rule.continuous and rule.retention_days != aurora_days:
                issues.append(
                    ConfigIssue(
                        stack_file_name(name),
                        f"platform:backup.rules[{index}].retentionDays",
                        f"is {rule.retention_days} for continuous rule '{rule.name}' but "
                        f"platform:data.aurora.backupRetentionDays is {aurora_days}: once continuous backup covers "
                        "the cluster, AWS Backup sets its point-in-time window, so the two would drift.",
                        "use the same number of days in both (seed: 35).",
                    )
                )
    return issues


def _cost_issues(stacks: dict[str, StackConfig], names: list[str]) -> list[ConfigIssue]:
    """Budgets: the account-wide levels are the primary's.

    The stack budgets are deliberately not required to add up to at most the enterprise budget: adding a Region
    must stay one new stack file, and the enterprise budget alerts on the account's actual spend anyway.
    """
    issues: list[ConfigIssue] = []
    primary = stacks[names[0]]
    if not primary.is_primary:
        return issues
    for name in names[1:]:
        for key, attr in (("businessUnit", "business_unit"), ("team", "team"), ("enterprise", "enterprise")):
            mine, theirs = getattr(stacks[name].cost, attr), getattr(primary.cost, attr)
            if mine != theirs:
                issues.append(
                    ConfigIssue(
                        stack_file_name(name),
                        f"platform:cost.{key}",
                        f"differs from {stack_file_name(names[0])}, but only the primary creates account-wide budgets.",
                        "set it in the primary's stack file; here copy the primary's values or remove the key.",
                    )
                )
    return issues
