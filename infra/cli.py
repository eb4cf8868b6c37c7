"""Command line: `schema`, `check`, `plan` (and the tiers' own commands, registered here).

Exit codes: 0 ok, 1 failure, 2 bad input (command line, stack files), 3 refused (nothing changed), 130 interrupted;
`plan --detailed-exitcode`: 0 no changes, 1 error, 2 changes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from infra.config.errors import ConfigError
from infra.console import (
    EXIT_BAD_INPUT,
    EXIT_CHANGES,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Interrupted,
    error,
    interrupted,
    make_console,
)
from infra.plan.cache import REPO_ROOT

EXIT_CONFIG = EXIT_BAD_INPUT  # kept for importers


def _schema(args: argparse.Namespace) -> int:
    from infra.config.schema import stack_file_schema

    print(json.dumps(stack_file_schema(), indent=2))
    return EXIT_OK


def _config_docs(args: argparse.Namespace) -> int:
    from infra.config.reference import configuration_reference

    print(configuration_reference(), end="")
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from infra.config.fleet import load_fleet
    from infra.naming import active_region_parameter

    fleet = load_fleet(args.root)
    console = make_console()
    from infra.capacity import capacity_line, stack_capacity

    for name, cfg in sorted(fleet.stacks.items()):
        console.print(f"[green]ok[/] Pulumi.{name}.yaml: {cfg.role} in {cfg.region}, partner {cfg.partner_stack}")
        console.print("   " + capacity_line(stack_capacity(cfg, standby=cfg.region != fleet.active_region)))
    primary = fleet.stacks[fleet.primary]
    writer = (
        f"writer override platform:activeRegion = {primary.active_region}"
        if primary.active_region
        else "writer read at deploy time from SSM "
        f"{active_region_parameter(primary.naming.prefix, primary.environment)} (absent: {fleet.primary})"
    )
    console.print(f"{len(fleet.stacks)} stack files valid; primary {fleet.primary}, {writer}.")
    return EXIT_OK


def planner_for(args: argparse.Namespace, root: Path | None = None):
    """The Planner every command uses: the plan cache (unless --no-cache) and progress on stderr."""
    from infra.plan.cache import PlanCache
    from infra.plan.progress import plan_progress
    from infra.plan.runner import Planner

    cache = None if getattr(args, "no_cache", False) else PlanCache.default()
    return Planner(root or args.root, cache=cache, progress=plan_progress(quiet=getattr(args, "quiet", False)))


def _plan(args: argparse.Namespace) -> int:
    from infra.plan.render import diff_plans, render_diff, render_plan

    console = make_console()
    planner = planner_for(args)
    if getattr(args, "observed_state", None):
        from infra.plan.observed import StaticObserved

        planner.observed = StaticObserved.from_file(Path(args.observed_state))
    if args.stack not in planner.fleet.stacks:
        error(
            f"no stack '{args.stack}': there is no Pulumi.{args.stack}.yaml in {args.root}.",
            f"use one of: {', '.join(sorted(planner.fleet.stacks))}; or add a stack file (README, Adding a Region).",
        )
        return EXIT_BAD_INPUT
    if args.diff or args.detailed_exitcode:
        from infra.plan.base import BaseError, check_base

        try:
            check_base(args.root, args.base)
        except BaseError as exc:
            error(f"cannot produce the plan to diff against: {exc}", exc.fix)
            return EXIT_FAILED
    try:
        plan = planner.plan(args.stack)
    except KeyboardInterrupt:
        raise Interrupted(
            f"while planning {args.stack}; the offline plan writes nothing, so nothing was left behind.",
            "re-run the same command.",
        ) from None
    if not args.quiet:
        render_plan(plan, console)
    if args.json:
        plan.write(Path(args.json))
        console.print(f"wrote {args.json}")
    if args.graph:
        from infra.plan.graph import write_graph

        try:
            written = write_graph(plan, Path(args.graph))
        except FileNotFoundError as exc:
            error(f"cannot write the graph: {exc}.", f"pass --graph {Path(args.graph).with_suffix('.dot')}.")
            return EXIT_FAILED
        for path in written:
            console.print(f"wrote {path}")
    code = EXIT_OK
    if args.diff or args.detailed_exitcode:
        from infra.plan.base import BaseError, base_plan
        from infra.plan.cache import plan_key

        key = planner.cache.key(args.stack, args.root) if planner.cache else plan_key(args.stack, args.root)
        try:
            old, what = base_plan(args.root, args.stack, args.base, planner.cache, plan, key)
        except BaseError as exc:
            error(f"cannot produce the plan to diff against: {exc}", exc.fix)
            return EXIT_FAILED
        diff = diff_plans(old, plan)
        render_diff(diff, console, what)
        if args.detailed_exitcode and not diff.empty:
            code = EXIT_CHANGES
    if args.policy:
        from infra.policy_check import report_policy

        if report_policy(plan, console) != EXIT_OK:
            return EXIT_FAILED
    return code


def _demo(args: argparse.Namespace) -> int:
    """The main job on the embedded default: validate, plan every stack offline, then a local DR drill."""
    import time

    from rich.table import Table

    console = make_console()
    planner = planner_for(args)
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
        try:
            plan = planner.plan(stack)
        except KeyboardInterrupt:
            raise Interrupted(
                f"while planning {stack}; nothing was changed (plans of earlier stacks are in {out_dir}).",
                "re-run `python -m infra demo`.",
            ) from None
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
        return EXIT_OK
    if len(order) < 2:
        console.print("[yellow]only one stack: no drill to run[/]")
        return EXIT_OK
    console.rule(f"3. local DR drill: planned switchover {order[0]} -> {order[1]} (embedded AWS emulator)")
    drill = build_parser().parse_args(
        ["--root", str(args.root), "drill", "planned", "--from", order[0], "--to", order[1], "--local", "--execute"]
    )
    drill.root, drill.planner = args.root, planner  # the plans above are the drill's: each stack planned once
    return drill.func(drill)


def _registered_commands() -> set[str]:
    return {name for register in _extensions() for name in getattr(register, "commands", ("drill",))}


class _Parser(argparse.ArgumentParser):
    """Usage errors print the (sub)command's full help, then `error: ...`, and exit 2."""

    subcommands: dict[str, argparse.ArgumentParser] = {}

    def error(self, message: str):
        self.print_help(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"\nerror: {message}. Fix: see the usage above.\n")

    def parse_args(self, args=None, namespace=None):
        # argparse reports a subcommand's unknown options from the top parser; show the subcommand's help instead.
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            parser = self.subcommands.get(getattr(parsed, "command", None) or "", self)
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m infra", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="project directory (default: this repo)")
    # `--root` is accepted after the subcommand too (`python -m infra plan us-east-1 --root DIR`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", type=Path, default=argparse.SUPPRESS, help="project directory")
    sub = _SubParsers(parser.add_subparsers(dest="command", required=True, parser_class=_Parser), common)

    demo = sub.add_parser(
        "demo", help="main job: check, offline plan of every stack, local DR drill (no cloud account)"
    )
    demo.add_argument("--no-cache", action="store_true", help="plan every stack afresh (ignore the plan cache)")
    demo.set_defaults(func=_demo)
    sub.add_parser("schema", help="print the JSON Schema of a stack file").set_defaults(func=_schema)
    sub.add_parser("config-docs", help="print the configuration reference (docs/configuration.md)").set_defaults(
        func=_config_docs
    )
    sub.add_parser("check", help="validate every Pulumi.*.yaml and the rules between them").set_defaults(func=_check)

    plan = sub.add_parser(
        "plan",
        help="synthesize a stack offline (mock runtime) and show what it declares",
        description="Synthesize a stack offline (Pulumi mock runtime): resource tree, counts by type, outputs. "
        "Progress goes to stderr. Exit: 0 ok, 1 error or mandatory policy violation, 2 bad input; "
        "with --detailed-exitcode: 0 no changes, 1 error, 2 changes.",
    )
    plan.add_argument("stack", help="stack name (= region), e.g. us-east-1")
    plan.add_argument("--json", metavar="FILE", help="write the plan document to FILE")
    plan.add_argument(
        "--diff", action="store_true", help="compare with the plan of the base (--base; default: the committed HEAD)"
    )
    plan.add_argument(
        "--base",
        metavar="REF|FILE",
        default="HEAD",
        help="what --diff compares with: a git revision (its merge base with HEAD is planned; CI: origin/main) "
        "or a plan JSON file from --json (default: HEAD)",
    )
    plan.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="implies --diff; exit 0 no changes, 2 changes, 1 error (like terraform plan -detailed-exitcode)",
    )
    plan.add_argument("--policy", action="store_true", help="evaluate the policy pack; exit 1 on a mandatory violation")
    plan.add_argument(
        "--graph",
        metavar="FILE",
        help="write the resource graph (DOT, grouped by component; also SVG when Graphviz `dot` is installed)",
    )
    plan.add_argument("--quiet", action="store_true", help="do not print the tree (progress: one line per stack)")
    plan.add_argument("--no-cache", action="store_true", help="plan afresh (ignore the plan cache, .plan-cache/)")
    plan.add_argument(
        "--observed-state",
        metavar="FILE",
        help="live SSM parameters the program reads, JSON {region: {name: value}} (default: none, a first deploy)",
    )
    plan.set_defaults(func=_plan)

    for register in _extensions():
        register(sub)
    parser.subcommands = sub.parsers
    return parser


class _SubParsers:
    """`add_subparsers()` that gives every subcommand the common options."""

    def __init__(self, action, common: argparse.ArgumentParser):
        self._action, self._common = action, common
        self.parsers: dict[str, argparse.ArgumentParser] = {}

    def add_parser(self, name: str, **kwargs):
        kwargs.setdefault("parents", [self._common])
        self.parsers[name] = self._action.add_parser(name, **kwargs)
        return self.parsers[name]


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
    """Entry point: errors as one `error: ... Fix: ...` paragraph on stderr with a documented exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.root = Path(args.root).resolve()
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"error: invalid stack configuration\n{exc}", file=sys.stderr)
        # Under --detailed-exitcode 2 means "changes"; a broken stack file is an error there.
        return EXIT_FAILED if getattr(args, "detailed_exitcode", False) else EXIT_BAD_INPUT
    except Interrupted as exc:
        interrupted(exc.state, exc.resume)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        interrupted(f"`{args.command}` stopped before it changed anything.", "re-run the same command.")
        return EXIT_INTERRUPTED
