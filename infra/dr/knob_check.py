"""`python -m infra active-region [--endpoint URL]`: is the active-region parameter the same in every Region?

Run it before deploying a stack after a DR event (docs/dr-runbook.md, "A recovered stale Region"): a Region that was
unreachable when the drill wrote the parameter still names the old writer, and deploying its stack would move
traffic and capacity back. Exit 0 when every Region agrees (or none has the parameter yet: first deploy), 3 when
they disagree or one cannot be read, naming the fix.
"""

from __future__ import annotations

import argparse

EXIT_REFUSED = 3


def register_check(sub) -> None:
    p = sub.add_parser("active-region", help="check that every Region's active-region parameter agrees (exit 3 if not)")
    p.add_argument("--endpoint", metavar="URL", help="AWS endpoint (e.g. the emulator); default: the real AWS APIs")
    p.set_defaults(func=active_region_command)


def active_region_values(root, endpoint: str | None = None):
    """(parameter name, {region: value or None}, {region: error}) for every stack of the fleet under `root`."""
    from infra.config.fleet import load_fleet
    from infra.dr.drill import Aws, Topology
    from infra.dr.emulator import CREDENTIALS
    from infra.dr.reconcile import KEY, SsmKnob
    from infra.naming import active_region_parameter

    fleet = load_fleet(root)
    primary = fleet.stacks[fleet.primary]
    name = active_region_parameter(primary.naming.prefix, primary.environment)
    topo = Topology({cfg.region: {KEY: name} for cfg in fleet.stacks.values()}, fleet.primary)
    knob = SsmKnob(Aws(endpoint, CREDENTIALS if endpoint else None), topo, primary.region)
    return name, knob.values(), dict(knob.unreachable), fleet


def active_region_command(args: argparse.Namespace) -> int:
    from infra.console import make_console

    console = make_console()
    name, values, unreachable, fleet = active_region_values(args.root, args.endpoint)
    for region in sorted(fleet.stacks):
        if region in unreachable:
            shown = f"[red]unreachable[/] ({unreachable[region]})"
        else:
            shown = values.get(region) or "(absent)"
        console.print(f"  {region}: {name} = {shown}")
    named = {v for v in values.values() if v}
    if unreachable or len(named) > 1 or (named and None in values.values()):
        console.print(
            f"[red]refused:[/] the Regions disagree on the active Region ({', '.join(sorted(named)) or 'none'}"
            f"{'; unreachable: ' + ', '.join(sorted(unreachable)) if unreachable else ''}). Fix: re-run the drill "
            "that moved the writer (its reconcile step writes every reachable Region), or set platform:activeRegion "
            "in every stack file, before deploying."
        )
        return EXIT_REFUSED
    console.print(f"[green]ok[/] every Region agrees: {next(iter(named), fleet.primary + ' (default: absent)')}")
    return 0
