"""`python -m infra active-region [--stack STACK] [--allow-unreachable REGION[,REGION]] [--endpoint URL]`.

Is the active-region parameter the same in every Region? The deploy workflow runs it before every `pulumi up`
(docs/dr-runbook.md, "A recovered stale Region"): a Region that was unreachable when the drill wrote the parameter
still names the old writer, and deploying its stack would move traffic and capacity back. A missing parameter counts
as the primary's Region (what the stack program reads then), and `platform:activeRegion` in the stack files wins
over the parameter (then the parameter decides no deploy).

Exit 0 when every Region agrees; 3 (refused) when the Regions that answer disagree, or one does not answer and is
not declared down with `--allow-unreachable` (a survivor deploy during an outage). The declaration never covers a
disagreement between Regions that answer, nor the Region of `--stack` (the stack about to be deployed): it is always
read. 2 for an unknown stack or Region, 1 when AWS answers with an error (e.g. a missing permission).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from infra.console import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, EXIT_REFUSED, error, make_console, refused


def register_check(sub) -> None:
    """Register `active-region` on the CLI's subparsers."""
    p = sub.add_parser(
        "active-region",
        help="check that every Region's active-region parameter agrees (exit 3 if not)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--endpoint", metavar="URL", help="AWS endpoint (e.g. the emulator); default: the real AWS APIs")
    p.add_argument(
        "--stack",
        metavar="STACK",
        help="the stack about to be deployed: its Region must answer, whatever --allow-unreachable says",
    )
    p.add_argument(
        "--allow-unreachable",
        metavar="REGION[,REGION]",
        default="",
        help="Regions known to be down (survivor deploy): their not answering is accepted; Regions that answer "
        "and disagree are still refused (empty: none)",
    )
    p.set_defaults(func=active_region_command)


def active_region_values(root, endpoint: str | None = None, aws=None):
    """(parameter name, {region: value or None}, {region: error}, fleet) for every stack of the fleet under `root`.

    `aws` (an `infra.dr.drill.Aws`) replaces the clients built from `endpoint` (tests: the emulator's outage hooks).
    """
    from infra.config.fleet import load_fleet
    from infra.dr.drill import Aws, Topology
    from infra.dr.emulator import CREDENTIALS
    from infra.dr.reconcile import KEY, SsmKnob
    from infra.naming import active_region_parameter

    fleet = load_fleet(root)
    primary = fleet.stacks[fleet.primary]
    name = active_region_parameter(primary.naming.prefix, primary.environment)
    topo = Topology({cfg.region: {KEY: name} for cfg in fleet.stacks.values()}, fleet.primary)
    knob = SsmKnob(aws or Aws(endpoint, CREDENTIALS if endpoint else None), topo, primary.region)
    return name, knob.values(), dict(knob.unreachable), fleet


def parse_regions(text: str | None) -> list[str]:
    """`us-east-1, eu-west-1` -> ['us-east-1', 'eu-west-1'] (blanks dropped: an empty workflow input means none)."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


@dataclass
class Verdict:
    """What the check concluded: the refusals (empty: deploy may go on) and the Regions it did not check."""

    refusals: list[tuple[str, str]] = field(default_factory=list)  # (why, fix)
    skipped: list[str] = field(default_factory=list)  # declared down and not answering: not checked


def judge(
    name: str,
    values: dict[str, str | None],
    unreachable: dict[str, str],
    default: str,
    allowed: set[str],
    deploying: str | None = None,
) -> Verdict:
    """Refuse when the Regions that answer disagree (absent = `default`), or a Region outside `allowed` (or the one
    being deployed) does not answer. `allowed` only ever excuses silence, never a disagreement."""
    verdict = Verdict()
    if not values:  # every Region excused and silent: nothing was checked at all
        verdict.refusals.append((f"no Region answered for {name}.", "retry once at least one Region answers."))
    effective = {region: value or default for region, value in values.items()}
    if len(set(effective.values())) > 1:
        said = ", ".join(f"{r} = {v or f'absent ({default})'}" for r, v in sorted(values.items()))
        verdict.refusals.append(
            (
                f"the Regions that answer disagree on the active Region ({said}; absent means the primary's "
                f"Region); deploying a stale Region's stack would move the writer back, and --allow-unreachable "
                "never covers a disagreement.",
                "re-run the drill that moved the writer (its reconcile-iac step writes every reachable Region), or "
                "`aws ssm put-parameter --overwrite --region <stale Region> "
                f"--name {name} --value <the writer the last drill chose>`, "
                "or set platform:activeRegion in every stack file; then deploy.",
            )
        )
    excused = allowed - {deploying}
    verdict.skipped = sorted(set(unreachable) & excused)
    silent = sorted(set(unreachable) - excused)
    if silent:
        errors = "; ".join(f"{r}: {unreachable[r]}" for r in silent)
        if deploying in silent:
            fix = f"{deploying} is the Region being deployed (never skipped): wait until it answers, then deploy."
        else:
            fix = (
                f"if {', '.join(silent)} is down and only surviving Regions are deployed, pass --allow-unreachable "
                f"{','.join(silent)} (deploy workflow: input allow-unreachable-regions); else retry once it answers."
            )
        verdict.refusals.append(
            (f"cannot read {name} in {', '.join(silent)} ({errors}), so agreement is unknown.", fix)
        )
    return verdict


def active_region_command(args: argparse.Namespace, aws=None) -> int:
    """The `active-region` command: print each Region's value, then ok (exit 0) or the refusals (exit 3)."""
    import botocore.exceptions
    from rich.markup import escape

    from infra.config.fleet import load_fleet

    fleet = load_fleet(args.root)
    regions = {cfg.region for cfg in fleet.stacks.values()}
    allowed = set(parse_regions(getattr(args, "allow_unreachable", "")))
    deploying = getattr(args, "stack", None)
    if deploying is not None and deploying not in fleet.stacks:
        error(
            f"--stack {deploying}: there is no Pulumi.{deploying}.yaml.",
            f"use one of: {', '.join(sorted(fleet.stacks))}.",
        )
        return EXIT_BAD_INPUT
    if allowed - regions:
        error(
            f"--allow-unreachable names {', '.join(sorted(allowed - regions))}, which is no Region of the fleet.",
            f"name Regions among: {', '.join(sorted(regions))} (comma separated).",
        )
        return EXIT_BAD_INPUT
    try:
        name, values, unreachable, fleet = active_region_values(args.root, args.endpoint, aws)
    except botocore.exceptions.NoCredentialsError as exc:
        error(
            f"cannot read the active-region parameter: {exc}.", "run it with AWS credentials (aws sso login; CI: OIDC)."
        )
        return EXIT_FAILED
    except botocore.exceptions.ClientError as exc:  # an answer, not silence: --allow-unreachable does not cover it
        error(
            f"cannot read the active-region parameter: {exc}.",
            "give the deploying role ssm:GetParameters on the parameter in every Region of the fleet (docs/ci.md, "
            "'The active-region gate'); a Region that answers with an error is not 'unreachable'.",
        )
        return EXIT_FAILED
    console = make_console()
    primary = fleet.stacks[fleet.primary]
    for region in sorted(regions):
        shown = (
            f"[red]unreachable[/] ({escape(unreachable[region])})"
            if region in unreachable
            else values.get(region) or "(absent)"
        )
        console.print(f"  {region}: {name} = {shown}")
    if primary.active_region is not None:  # the stack files override the parameter: it decides no deploy
        console.print(
            f"[green]ok[/] platform:activeRegion = {primary.active_region} in the stack files overrides {name}"
        )
        return EXIT_OK
    deploying_region = fleet.stacks[deploying].region if deploying else None
    verdict = judge(name, values, unreachable, primary.region, allowed, deploying_region)
    for why, fix in verdict.refusals:
        refused(why, fix)
    if verdict.refusals:
        return EXIT_REFUSED
    named = {v for v in values.values() if v}
    agreed = next(iter(named), f"{primary.region} (absent: the primary's Region)")
    line = f"[green]ok[/] every Region that answers agrees: {agreed}"
    if verdict.skipped:
        line += (
            f"; not checked, declared down (--allow-unreachable): {', '.join(verdict.skipped)}. Run this check "
            "again before deploying a stack there once it is back"
        )
    console.print(line)
    return EXIT_OK
