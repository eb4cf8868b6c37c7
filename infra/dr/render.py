"""What a drill prints: the live step lines (`progress`) and the summary of its report (`render`)."""

from __future__ import annotations

from typing import Any

from infra.dr.runner import Result


def progress(console):
    def listener(event: str, step) -> None:
        r = step.result
        if event == "start":
            console.print(f"  [cyan]>[/] {step.name:<18} {step.title}")
        elif event == "end":
            ids = ", ".join(r.get("requestIds", [])) or "-"
            console.print(f"  [green]✓[/] {step.name:<18} {r['outcome']} in {r['seconds']:.2f}s  request ids: {ids}")
        else:
            console.print(f"  [red]✗[/] {step.name:<18} {r.get('error')}")

    return listener


def render(result: Result, console) -> None:
    from rich.table import Table

    r: dict[str, Any] = result.report
    if not r:
        return
    console.rule(f"DR drill {r['kind']} {r['from']} -> {r['to']} ({r['mode']}): {r['outcome'].upper()}")
    if r.get("error"):
        from infra.console import error, refused

        (refused if r["outcome"] == "refused" else error)(r["error"])
    table = Table()
    for col in ("step", "after", "outcome", "seconds", "calls" if not r["executed"] else "request ids"):
        table.add_column(col)
    for s in r["steps"]:
        last = s.get("calls", "") if not r["executed"] else ", ".join(s.get("requestIds", []))
        table.add_row(s["name"], ", ".join(s.get("after", [])), s["outcome"], str(s.get("seconds", "")), last)
    if r["steps"]:
        console.print(table)
    if r["outcome"] == "dry-run":
        for s in r["steps"]:
            console.print(f"  {s['name']}: {s['why']}")
        console.print("dry-run: nothing was changed in AWS (only the report below was written). Add --execute to act.")
    f = r.get("final") or {}
    if f:
        console.print(
            f"writer: {f.get('auroraWriterRegion')}   Redis primary: {f.get('redisPrimaryRegion')}   "
            f"traffic: {f.get('trafficRegion')}   active-region parameter: {f.get('activeRegionKnob')}"
        )
        for region, error in (f.get("activeRegionKnobUnreachable") or {}).items():
            console.print(
                f"[yellow]active-region parameter not written in {region} (unreachable: {error}): re-run this "
                "drill once the Region is back, before deploying its stack (docs/dr-runbook.md)[/]"
            )
    for s in r["steps"]:
        for reason in s.get("skipped", []):
            console.print(f"  [yellow]skipped[/] {s['name']}: {reason}")
    for item in r.get("pending", []):
        console.print(f"[yellow]pending:[/] {item}")

    def verdict(passed) -> str:
        return "pass" if passed else "FAIL" if passed is False else "n/a"

    rto, rpo = r["rto"], r["rpo"]
    if r["executed"] and r["outcome"] != "refused":
        console.print(
            f"RTO measured {rto['seconds']}s (budget {rto['budgetSeconds']}s, {verdict(rto['passed'])})   "
            f"RPO {rpo['seconds']}s (budget {rpo['budgetSeconds']}s, {verdict(rpo['passed'])})"
        )
    modeled = rto.get("modeled")
    if modeled:
        t, reads = modeled["traffic"], modeled["readPath"]
        console.print(
            f"RTO modeled for AWS {modeled['seconds']}s (budget {modeled['budgetSeconds']}s, "
            f"{verdict(modeled['passed'])}): program {modeled['programOverheadSeconds']}s + "
            + " + ".join(f"{p['operation']} {p['seconds']:g}s" for p in modeled["criticalPath"])
        )
        console.print(
            f"traffic failover modeled ({t['mechanism']}) {t['seconds']}s ({verdict(t['passed'])}), reads via "
            f"CloudFront {reads['seconds']}s ({verdict(reads['passed'])}); budget {t['budgetSeconds']}s"
        )
    if r["executed"] and r["outcome"] != "refused":
        cap = r["capacity"]
        if cap.get("before"):
            for name, before in cap["before"].items():
                after = (cap.get("after") or {}).get(name, {})
                console.print(
                    f"capacity {name}: HPA min {before['minReplicas']} -> {after.get('minReplicas')}, "
                    f"ready pods {before['readyReplicas']} -> {after.get('readyReplicas')}"
                )
    if result.path:
        console.print(f"report: {result.path}")
