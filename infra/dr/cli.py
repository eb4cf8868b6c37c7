"""`python -m infra drill KIND --from REGION --to REGION [--execute] [--local]`: the DR drill command."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from infra.dr.drill import KINDS, Aws, DrillSettings, Refusal, Topology
from infra.dr.render import progress, render
from infra.dr.runner import Result, check_request, run_drill

commands = ("drill", "emulator")
EXIT_REFUSED = 3


def register(sub) -> None:
    from infra.dr.knob_check import register_check

    register_check(sub)
    p = sub.add_parser(
        "drill",
        help="DR drill / failover: planned switchover, unplanned failover, failback (dry-run unless --execute)",
        description=__doc__,
    )
    p.add_argument("kind", choices=KINDS, help="planned (no data loss), unplanned (data loss allowed), failback")
    p.add_argument("--from", dest="source", required=True, metavar="REGION", help="region that is the writer now")
    p.add_argument("--to", dest="target", required=True, metavar="REGION", help="region to make the writer")
    p.add_argument(
        "--execute",
        action="store_true",
        help="act (default: dry-run: reads AWS, changes nothing there, prints the plan and writes only the report)",
    )
    p.add_argument("--local", action="store_true", help="run against the embedded AWS emulator (moto)")
    p.add_argument("--accept-data-loss", action="store_true", help="confirm an unplanned failover may lose writes")
    p.add_argument("--break-lock", action="store_true", help="remove a stale drill lock (after a crash) first")
    p.add_argument(
        "--ignore-missing-metrics",
        action="store_true",
        help="planned/failback: switch over even if the replication-lag metric has no datapoint (default: refuse)",
    )
    p.add_argument("--reports-dir", type=Path, default=None, help="where reports go (default: reports/dr)")
    p.add_argument("--json", metavar="FILE", help="also write the report JSON to FILE")
    p.add_argument("--no-replan", action="store_true", help="--local: skip re-planning both stacks afterwards")
    p.add_argument(
        "--region-outage",
        metavar="REGION",
        help="--local: emulate the loss of REGION (every request there fails to connect; for us-east-1 also the "
        "global control planes: Route 53 API, IAM, CloudFront, ...; see docs/dr-runbook.md)",
    )
    p.add_argument(
        "--executor",
        choices=("drill", "arc"),
        default="drill",
        help="who runs the cut-over: the drill itself (default), or the pair's ARC Region switch plan, which the drill "
        "starts in the target Region, approves and follows to the same report (docs/dr-runbook.md)",
    )
    p.add_argument(
        "--outage-failure",
        choices=("refused", "timeout"),
        default="refused",
        help="how requests into the failed Region fail: connection refused (default) or connect timeout",
    )
    p.set_defaults(func=drill_command)

    e = sub.add_parser(
        "emulator",
        help="persistent local AWS emulator for --local drills: start | status | stop",
        description="A moto server (with the DR extensions) on 127.0.0.1 that keeps its state between --local "
        "drills (planned -> failback, interrupt -> resume). State file: $DR_EMULATOR_DIR/state.json, default "
        "<project>/.dr-emulator/state.json. Exit codes: 0 ok (status: running), 1 status: not running.",
    )
    e.add_argument("action", choices=("start", "status", "stop"))
    e.set_defaults(func=emulator_command)


def settings_from(args, fleet) -> DrillSettings:
    primary = fleet.stacks[fleet.primary]
    dr = primary.dr
    return DrillSettings(
        kind=args.kind,
        source=args.source,
        target=args.target,
        execute=args.execute,
        accept_data_loss=args.accept_data_loss,
        break_lock=args.break_lock,
        ignore_missing_metrics=args.ignore_missing_metrics,
        rto_seconds=dr.rto_seconds,
        rpo_seconds=dr.rpo_seconds,
        capacity_percent=dr.capacity_percent,
        step_timeout_seconds=dr.step_timeout_seconds,
        poll_seconds=dr.poll_seconds,
        routing_policy=primary.traffic.routing_policy,
        traffic_budget_seconds=dr.traffic_failover_seconds,
        health_check_detection_seconds=primary.traffic.health_check.detection_seconds,
    )


def _confirm(settings: DrillSettings) -> None:
    unconfirmed = settings.kind == "unplanned" and settings.execute and not settings.accept_data_loss
    if unconfirmed and sys.stdin is not None and sys.stdin.isatty():
        answer = input(f"Unplanned failover {settings.source} -> {settings.target} may lose data. Type 'yes': ")
        settings.accept_data_loss = answer.strip() == "yes"


def drill_command(args: argparse.Namespace) -> int:
    from infra.config.fleet import load_fleet
    from infra.console import Interrupted, make_console, refused

    console = make_console()
    fleet = load_fleet(args.root)
    if args.region_outage and not args.local:
        print("error: --region-outage emulates an outage and needs --local. Fix: add --local.", file=sys.stderr)
        return 2
    if args.region_outage and args.region_outage not in fleet.stacks:
        print(
            f"error: --region-outage {args.region_outage} is not a Region of the fleet. "
            f"Fix: use one of {', '.join(sorted(fleet.stacks))}.",
            file=sys.stderr,
        )
        return 2
    settings = settings_from(args, fleet)
    reports_dir = args.reports_dir or args.root / "reports" / "dr"
    command = _command_line(args)
    try:
        _confirm(settings)
        check_request(settings, sorted(fleet.stacks), primary=fleet.primary)
        if not args.local:
            require_pulumi_cli()
    except Refusal as exc:
        refused(str(exc))
        return EXIT_REFUSED
    try:
        if args.local:
            planner = getattr(args, "planner", None)
            result = run_local(
                args.root,
                settings,
                console,
                reports_dir,
                replan=not args.no_replan,
                outage=args.region_outage,
                outage_failure=args.outage_failure,
                planner=planner,
                executor=args.executor,
            )
        else:
            result = run_aws(args.root, fleet, settings, console, reports_dir, executor=args.executor)
    except Interrupted as exc:
        raise Interrupted(exc.state, f"{exc.resume}: `{command}`{_local_note(args) if args.local else ''}.") from None
    except KeyboardInterrupt:
        raise Interrupted(
            f"drill {settings.kind} {settings.source} -> {settings.target} stopped before its first step; "
            "nothing was changed.",
            f"re-run `{command}`.",
        ) from None
    render(result, console)
    if args.json:
        Path(args.json).write_text(json.dumps(result.report, indent=2, default=str) + "\n")
    return result.exit_code


def emulator_command(args: argparse.Namespace) -> int:
    from infra.console import make_console
    from infra.dr.emulator import persistent

    console = make_console()
    directory = persistent.state_dir(args.root)
    if args.action == "start":
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        console.print(f"planning every stack offline and seeding the emulator (state: {directory}) ...")
        state, started = persistent.start(args.root, directory)
        verb = "started" if started else "already running"
        console.print(f"emulator {verb} on {state['endpoint']} (pid {state['pid']}); `--local` drills use it now.")
        return 0
    if args.action == "status":
        state = persistent.status(directory)
        if state is None:
            console.print(f"no emulator running (state directory {directory}); `python -m infra emulator start`.")
            return 1
        console.print(
            f"emulator running on {state['endpoint']} (pid {state['pid']}, since {state['startedAt']}); "
            "the active-region knob is its SSM parameters"
        )
        return 0
    stopped = persistent.stop(directory)
    console.print("emulator stopped; state removed." if stopped else f"no emulator was running ({directory}).")
    return 0


def _local_note(args) -> str:
    """Where a `--local` drill's state went when it was interrupted."""
    from infra.dr.emulator import persistent

    if persistent.status(persistent.state_dir(args.root)) is not None and not args.region_outage:
        return " (the persistent emulator keeps its state: the re-run resumes there)"
    return (
        " (the embedded emulator was stopped with its state: the re-run starts on a fresh one; "
        "`python -m infra emulator start` keeps state between drills)"
    )


def _command_line(args) -> str:
    """The command as the operator typed it (for "re-run ..." hints)."""
    return "python -m infra " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["drill"] else "the same command"


def require_pulumi_cli() -> None:
    """Real mode reads the stacks through the Automation API, which drives the `pulumi` CLI."""
    if shutil.which("pulumi") is None:
        raise Refusal(
            "a drill without --local acts on the real stacks through the Pulumi Automation API, which needs the "
            "Pulumi CLI, and there is no `pulumi` on PATH. Fix: add --local to drill against the embedded AWS "
            "emulator, or install the Pulumi CLI and log in to the stacks' backend (README, Deploying for real)."
        )


def run_local(
    root: Path,
    settings: DrillSettings,
    console,
    reports_dir: Path,
    replan: bool = True,
    outage: str | None = None,
    outage_failure: str = "refused",
    planner=None,
    executor: str = "drill",
) -> Result:
    """Plan every stack offline (reusing `planner`'s plans), seed the emulator with them, run the drill against it.

    With the persistent emulator running (`python -m infra emulator start`), use it instead: its state carries
    over from earlier drills, and the outputs were seeded at its start (no planning unless re-planning).
    `outage`: take that Region down in the emulator first (its health checks fail; the drill's clients get
    connection errors for every endpoint there, see `infra/dr/emulator/outage.py`); always on a fresh emulator.
    `executor="arc"`: the stacks are planned as after the plan's rollout (each record on the plan's health check,
    `infra/dr/emulator/arc_seed.py`) and the plan is created in the emulator's ARC Region switch; a fresh emulator."""
    from infra.dr.emulator import CREDENTIALS, Emulator, persistent
    from infra.dr.emulator.seed import seed
    from infra.dr.reconcile import SsmKnob

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    settings.poll_seconds = min(settings.poll_seconds, 0.05)
    settings.step_timeout_seconds = min(settings.step_timeout_seconds, 30)
    state = persistent.status(persistent.state_dir(root))
    if state is not None and (outage or executor == "arc"):
        what = "--region-outage" if outage else "--executor arc"
        console.print(f"[yellow]{what} runs on a fresh embedded emulator, not the persistent one[/]")
    elif state is not None:
        return _run_persistent(root, settings, console, reports_dir, replan, state)
    from infra.cli import planner_for

    options = argparse.Namespace(no_cache=False, quiet=False)
    planner = planner or planner_for(options, root)
    stacks = sorted(planner.fleet.stacks)
    plans = {s: planner.plan(s) for s in stacks}
    if executor == "arc":
        from infra.dr.emulator.arc_seed import with_plan_health_checks
        from infra.plan.runner import Planner

        console.print("planning the stacks with the Region switch plan's health checks on their records ...")
        plans = with_plan_health_checks(root, plans, lambda copy: Planner(copy, cache=planner.cache))
    with Emulator() as emu:
        console.print(f"AWS emulator (moto server + DR extensions) on {emu.endpoint}; seeding from the plans ...")
        outputs = seed(emu, plans, planner.fleet.primary)
        if executor == "arc":
            from infra.dr.emulator.arc_seed import register_plans

            register_plans(emu, plans, outputs)
        topo = Topology(outputs, planner.fleet.primary)
        hooks: tuple = ()
        annotate = None
        if outage:
            cut = emu.region_outage(outage, outage_failure)
            hooks = (cut.attach,)
            console.print(f"[yellow]emulated outage of {outage}:[/] {', '.join(cut.summary()['cut'])}")

            def annotate(report: dict) -> None:
                report["outage"] = cut.summary()

        aws = Aws(emu.endpoint, CREDENTIALS, dns_server=emu.dns_address, hooks=hooks, endpoints=emu.endpoints)
        knob = SsmKnob(aws, topo, settings.target)

        do_replan = _replanner(root, stacks, emu.endpoint, console, lambda: plans)

        return run_drill(
            settings,
            topo,
            aws,
            knob,
            "local",
            progress(console),
            replan=do_replan if replan else None,
            reports_dir=reports_dir,
            annotate=annotate,
            executor=executor,
        )


def _replanner(root: Path, stacks: list[str], endpoint: str, console, plans_before: Callable[[], dict]):
    """The drill's re-plan: what a deploy from a clean clone of main would do now (unedited stack files, the
    emulator's SSM), compared with the plans before the drill; prints the writer-dependent settings and the count of
    data resources that would be replaced (the drill fails on any)."""
    from infra.dr.emulator import CREDENTIALS
    from infra.dr.reconcile import fresh_copy, replacements, writer_summary
    from infra.plan.observed import EndpointObserved
    from infra.plan.runner import Planner

    def replan() -> list[str]:
        copy = fresh_copy(root)
        console.print(f"re-planning every stack from a fresh copy ({copy}) against the emulator's state ...")
        try:
            after = Planner(copy, observed=EndpointObserved(endpoint, CREDENTIALS))
            replanned = {s: after.plan(s) for s in stacks}
        finally:
            shutil.rmtree(copy, ignore_errors=True)  # a drill leaves no temp copy behind
        for line in writer_summary(replanned):
            console.print(f"  {line}")
        problems = replacements(plans_before(), replanned)
        console.print(f"  data resources replaced: {len(problems)}" + "".join(f"\n    {p}" for p in problems))
        return problems

    return replan


def _run_persistent(root: Path, settings: DrillSettings, console, reports_dir: Path, replan: bool, state) -> Result:
    """A `--local` drill on the running persistent emulator (`infra/dr/emulator/persistent.py`)."""
    from infra.dr.emulator import CREDENTIALS
    from infra.dr.reconcile import SsmKnob
    from infra.plan.runner import Planner

    console.print(f"persistent AWS emulator on {state['endpoint']} (state kept between drills)")
    stacks = state["stacks"]
    topo = Topology(state["outputs"], state["primary"])
    aws = Aws(state["endpoint"], CREDENTIALS, dns_server=("127.0.0.1", state["dnsPort"]))
    knob = SsmKnob(aws, topo, settings.target)  # the emulator keeps the SSM parameters between drills

    def plans_before() -> dict:
        before = Planner(root)
        return {s: before.plan(s) for s in stacks}

    replan_persistent = _replanner(root, stacks, state["endpoint"], console, plans_before)

    return run_drill(
        settings,
        topo,
        aws,
        knob,
        "local",
        progress(console),
        replan=replan_persistent if replan else None,
        reports_dir=reports_dir,
    )


def run_aws(root: Path, fleet, settings: DrillSettings, console, reports_dir: Path, executor: str = "drill") -> Result:
    """Real stacks: outputs through the Automation API, boto3 default credentials; same code as --local."""
    from infra.dr.reconcile import SsmKnob, automation_outputs

    stacks = sorted(fleet.stacks)
    try:
        outputs = automation_outputs(root, stacks)
    except Exception as exc:
        from infra.console import refused

        refused(
            f"cannot read the stacks' outputs with the Automation API: {exc}",
            "log in to the stacks' backend (`pulumi login ...`), check `pulumi stack ls`, or add --local.",
        )
        return Result(report={}, exit_code=EXIT_REFUSED)
    topo, aws = Topology(outputs, fleet.primary), Aws()
    knob = SsmKnob(aws, topo, settings.target)
    result = run_drill(settings, topo, aws, knob, "aws", progress(console), reports_dir=reports_dir, executor=executor)
    bucket = fleet.stacks[fleet.primary].dr.reports_bucket
    if bucket and result.report:
        Aws()("s3", settings.target).put_object(
            Bucket=bucket,
            Key=f"dr-reports/{result.report['drillId']}.json",
            Body=json.dumps(result.report, indent=2, default=str).encode(),
        )
    return result


__all__ = ["commands", "os", "register"]
