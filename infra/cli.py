"""Command line: `schema`, `check`, `plan` (and the tiers' own commands, registered here)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from infra.config.errors import ConfigError
from infra.console import make_console
from infra.plan.runner import REPO_ROOT

EXIT_CONFIG = 2
EXIT_FAILED = 1


def _schema(args: argparse.Namespace) -> int:
    from infra.config.schema import stack_file_schema

    print(json.dumps(stack_file_schema(), indent=2))
    return 0


def _config_docs(args: argparse.Namespace) -> int:
    from infra.config.reference import configuration_reference

    print(configuration_reference(), end="")
    return 0


def _check(args: argparse.Namespace) -> int:
    from infra.config.fleet import load_fleet

    fleet = load_fleet(args.root)
    console = make_console()
    from infra.capacity import capacity_line, stack_capacity

    for name, cfg in sorted(fleet.stacks.items()):
        console.print(f"[green]ok[/] Pulumi.{name}.yaml: {cfg.role} in {cfg.region}, partner {cfg.partner_stack}")
        console.print("   " + capacity_line(stack_capacity(cfg, standby=cfg.region != fleet.active_region)))
    console.print(f"{len(fleet.stacks)} stack files valid; primary {fleet.primary}, writer {fleet.active_region}.")
    return 0


def _plan(args: argparse.Namespace) -> int:
    from infra.plan.model import Plan
    from infra.plan.render import diff_plans, render_diff, render_plan
    from infra.plan.runner import Planner

    console = make_console()
    planner = Planner(args.root)
    if args.stack not in planner.fleet.stacks:
        console.print(
            f"[red]error:[/] no stack '{args.stack}': there is no Pulumi.{args.stack}.yaml in {args.root} "
            f"(stacks: {', '.join(sorted(planner.fleet.stacks))})."
        )
        return EXIT_CONFIG
    plan = planner.plan(args.stack)
    if not args.quiet:
        render_plan(plan, console)
    if args.json:
        plan.write(Path(args.json))
        console.print(f"wrote {args.json}")
    snapshot = args.root / "plans" / f"{args.stack}.json"
    if args.diff:
        if not snapshot.is_file():
            console.print(f"[yellow]no snapshot at {snapshot}; run with --update-snapshot to create it[/]")
        else:
            render_diff(diff_plans(Plan.from_dict(json.loads(snapshot.read_text())), plan), console)
    if args.update_snapshot:
        plan.write(snapshot)
        console.print(f"updated {snapshot}")
    if args.policy:
        from infra.policy_check import report_policy

        return report_policy(plan, console)
    return 0


def _demo(args: argparse.Namespace) -> int:
    """The main job on the embedded default: validate, plan every stack offline, then a local DR drill."""
    import time

    from rich.table import Table

    from infra.plan.runner import Planner

    console = make_console()
    planner = Planner(args.root)
    fleet = planner.fleet
    console.rule("1. stack files")
    _check(args)
    console.rule("2. offline plan of every stack (Pulumi mock runtime; no cloud account, no preview)")
    table = Table()
    for column in ("stack", "role", "resources", "components", "outputs", "seconds", "plan file"):
        table.add_column(column)
    out_dir = args.root / "reports" / "plans"
    order = [fleet.primary, *fleet.secondaries()]
    for stack in order:
        started = time.perf_counter()
        plan = planner.plan(stack)
        elapsed = time.perf_counter() - started
        path = out_dir / f"{stack}.json"
        plan.write(path)
        components = sum(1 for r in plan.resources if not r.custom)
        table.add_row(
            stack,
            fleet.stacks[stack].role,
            str(len(plan.resources)),
            str(components),
            str(len(plan.outputs)),
            f"{elapsed:.1f}",
            str(path.relative_to(args.root)),
        )
    console.print(table)
    if "drill" not in _registered_commands():
        console.print("[yellow]the DR drill is not available in this build[/]")
        return 0
    if len(order) < 2:
        console.print("[yellow]only one stack: no drill to run[/]")
        return 0
    console.rule(f"3. local DR drill: planned switchover {order[0]} -> {order[1]} (embedded AWS emulator)")
    return main(
        ["--root", str(args.root), "drill", "planned", "--from", order[0], "--to", order[1], "--local", "--execute"]
    )


def _registered_commands() -> set[str]:
    return {name for register in _extensions() for name in getattr(register, "commands", ("drill",))}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infra", description=__doc__)
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="project directory (default: this repo)")
    # `--root` is accepted after the subcommand too (`python -m infra plan us-east-1 --root DIR`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", type=Path, default=argparse.SUPPRESS, help="project directory")
    sub = _SubParsers(parser.add_subparsers(dest="command", required=True), common)

    sub.add_parser(
        "demo", help="main job: check, offline plan of every stack, local DR drill (no cloud account)"
    ).set_defaults(func=_demo)
    sub.add_parser("schema", help="print the JSON Schema of a stack file").set_defaults(func=_schema)
    sub.add_parser("config-docs", help="print the configuration reference (docs/configuration.md)").set_defaults(
        func=_config_docs
    )
    sub.add_parser("check", help="validate every Pulumi.*.yaml and the rules between them").set_defaults(func=_check)

    plan = sub.add_parser("plan", help="synthesize a stack offline (mock runtime) and show what it declares")
    plan.add_argument("stack", help="stack name (= region), e.g. us-east-1")
    plan.add_argument("--json", metavar="FILE", help="write the plan document to FILE")
    plan.add_argument("--diff", action="store_true", help="compare with the committed snapshot plans/<stack>.json")
    plan.add_argument("--update-snapshot", action="store_true", help="write plans/<stack>.json")
    plan.add_argument("--policy", action="store_true", help="evaluate the policy pack; exit 1 on a mandatory violation")
    plan.add_argument("--quiet", action="store_true", help="do not print the tree")
    plan.set_defaults(func=_plan)

    for register in _extensions():
        register(sub)
    return parser


class _SubParsers:
    """`add_subparsers()` that gives every subcommand the common options."""

    def __init__(self, action, common: argparse.ArgumentParser):
        self._action, self._common = action, common

    def add_parser(self, name: str, **kwargs):
        kwargs.setdefault("parents", [self._common])
        return self._action.add_parser(name, **kwargs)


def _extensions():
    """Subcommands contributed by other modules (e.g. the DR drill)."""
    registrars = []
    try:
        from infra.dr.cli import register as register_drill
    except ImportError:
        pass
    else:
        registrars.append(register_drill)
    return registrars


def main(argv: list[str] | None = None) -> int:
    """Entry point; config errors print one paragraph per problem and exit 2, without a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.root = Path(args.root).resolve()
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"error: invalid stack configuration\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
