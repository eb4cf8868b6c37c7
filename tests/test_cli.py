"""The command line as an operator meets it: diff exit codes, the plan cache, progress, usage errors, the graph."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.cli import main
from infra.plan.cache import PlanCache, code_digest, plan_key
from infra.plan.graph import to_dot
from infra.plan.runner import REPO_ROOT, Planner

ADD_A_SUBSCRIPTION = ("emails: []", "emails: [oncall@example.com]")  # one more SNS subscription


def _git(cwd: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args]
    return subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A git repository holding this working tree's project (code and stack files), one commit."""
    root = tmp_path / "repo"
    ignore = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".plan-cache", "reports", ".pytest_cache")
    shutil.copytree(REPO_ROOT, root, ignore=ignore)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    return root


def test_detailed_exitcode_0_on_the_committed_tree_2_after_an_edit_that_adds_a_resource(clone, capsys):
    argv = ["--root", str(clone), "plan", "us-east-1", "--quiet", "--diff", "--detailed-exitcode"]
    assert main(argv) == 0, capsys.readouterr().err
    assert "No changes against HEAD" in capsys.readouterr().out

    stack_file = clone / "Pulumi.us-east-1.yaml"
    stack_file.write_text(stack_file.read_text().replace(*ADD_A_SUBSCRIPTION, 1))
    # --no-cache: the base (HEAD) is planned afresh by its own code in a subprocess, not taken from the cache.
    assert main([*argv, "--no-cache"]) == 2
    out = capsys.readouterr().out
    assert "1 to add, 0 to change, 0 to remove" in out
    assert "+ urn:pulumi:us-east-1::platform::" in out and "TopicSubscription" in out


def test_detailed_exitcode_turns_a_broken_stack_file_into_1_not_2(write_stacks, capsys):
    root = write_stacks({"us-east-1": lambda c: c["platform:network"].update(azCount=1)})
    assert main(["--root", str(root), "plan", "us-east-1", "--quiet", "--detailed-exitcode"]) == 1
    assert main(["--root", str(root), "plan", "us-east-1", "--quiet"]) == 2
    assert "platform:network.azCount" in capsys.readouterr().err


def test_diff_outside_git_says_what_to_pass_instead(write_stacks, capsys):
    root = write_stacks()
    assert main(["--root", str(root), "plan", "us-east-1", "--quiet", "--diff"]) == 1
    err = capsys.readouterr().err
    assert "error: cannot produce the plan to diff against" in err and "--base FILE" in err


def test_cached_plan_is_the_plan(plans, tmp_path):
    """A cache entry round-trips to the same document, and is used instead of synthesizing."""
    cache = PlanCache(tmp_path)
    key = cache.key("us-east-1", REPO_ROOT)
    cache.put(key, plans["us-east-1"])
    planner = Planner(REPO_ROOT, cache=cache)
    reused = planner.plan("us-east-1")
    assert reused.to_dict() == plans["us-east-1"].to_dict()
    (tmp_path / f"{key}.json").write_text("{not json")
    assert cache.get(key, "us-east-1") is None  # a damaged entry is a miss, never an error


def test_cache_key_follows_stack_files_and_code(write_stacks, tmp_path):
    root = write_stacks()
    key = plan_key("eu-west-1", root)
    assert key == plan_key("eu-west-1", root)
    primary = root / "Pulumi.us-east-1.yaml"  # a secondary's plan reads its primary's outputs
    primary.write_text(primary.read_text().replace(*ADD_A_SUBSCRIPTION, 1))
    assert plan_key("eu-west-1", root) != key
    code = tmp_path / "code"
    shutil.copytree(REPO_ROOT / "components", code / "components")
    before = code_digest(code)
    with (code / "components" / "network.py").open("a") as handle:
        handle.write("# a comment is a change too\n")
    assert code_digest(code) != before


def test_environment_is_part_of_the_key(write_stacks, monkeypatch):
    root = write_stacks()
    key = plan_key("us-east-1", root)
    monkeypatch.setenv("PULUMI_CONFIG", '{"platform:activeRegion": "eu-west-1"}')
    assert plan_key("us-east-1", root) != key


def test_plan_progress_goes_to_stderr_even_with_quiet(capsys):
    assert main(["plan", "us-east-1", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "us-east-1: " in captured.err and " resources" in captured.err


def test_subcommand_usage_error_shows_that_subcommands_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["plan", "us-east-1", "--bogus"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: python -m infra plan" in err and "--detailed-exitcode" in err and "--graph FILE" in err
    assert "error: unrecognized arguments: --bogus" in err


def test_drill_without_local_and_without_pulumi_cli_suggests_local(capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["drill", "planned", "--from", "us-east-1", "--to", "eu-west-1"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("refused:") and "no `pulumi` on PATH" in err and "add --local" in err


def test_failback_to_a_secondary_is_refused_before_anything_is_planned(capsys, monkeypatch):
    import infra.cli

    monkeypatch.setattr(infra.cli, "planner_for", lambda *a, **k: pytest.fail("planned before refusing"))
    assert main(["drill", "failback", "--from", "us-east-1", "--to", "eu-west-1", "--local"]) == 3
    assert "refused: failback returns to the primary region us-east-1" in capsys.readouterr().err


def test_graph_groups_resources_by_component_with_dependency_edges(primary_plan):
    dot = to_dot(primary_plan)
    ids = {r.urn: f"r{i}" for i, r in enumerate(primary_plan.resources)}
    components = [r for r in primary_plan.resources if not r.custom]
    assert dot.count("subgraph cluster_") == len(components)
    for r in primary_plan.resources:
        assert (f"cluster_{ids[r.urn]} {{" if not r.custom else f"{ids[r.urn]} [label=") in dot
    vpc = primary_plan.one("aws:ec2/vpc:Vpc")
    subnets = [r for r in primary_plan.of_type("aws:ec2/subnet:Subnet") if vpc.urn in r.dependencies]
    assert subnets and f"{ids[vpc.urn]} -> {ids[subnets[0].urn]};" in dot
    # nesting follows the parent tree: the VPC is declared inside its component's cluster
    network = primary_plan.by_urn()[vpc.parent]
    cluster = dot.index(f"subgraph cluster_{ids[network.urn]} {{")
    assert cluster < dot.index(f"{ids[vpc.urn]} [label=")
    assert dot.count("{") == dot.count("}")
    if shutil.which("dot"):  # Graphviz is optional: CI does not need it; where it exists the DOT must render
        svg = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=True).stdout
        assert svg.lstrip().startswith("<?xml") and "<title>" + ids[vpc.urn] + "</title>" in svg


def test_cli_graph_writes_dot(tmp_path, capsys):
    assert main(["plan", "us-east-1", "--quiet", "--graph", str(tmp_path / "g.dot")]) == 0
    assert (tmp_path / "g.dot").read_text().startswith('digraph "platform/us-east-1"')


def _interrupt(argv: list[str], marker: str, env: dict | None = None, timeout: float = 300):
    """Start `python -m infra argv`, send SIGINT once `marker` appeared on stdout or stderr, collect the output."""
    import signal
    import threading

    env = {**os.environ, "COLUMNS": "200", **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra", *argv],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a shell's background job inherits SIGINT ignored, and Python then installs no KeyboardInterrupt handler
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen = threading.Event()
    chunks: dict[str, list[str]] = {"out": [], "err": []}

    def pump(stream, name):
        for line in stream:
            chunks[name].append(line)
            if marker in line:
                seen.set()

    threads = [
        threading.Thread(target=pump, args=(proc.stdout, "out")),
        threading.Thread(target=pump, args=(proc.stderr, "err")),
    ]
    for t in threads:
        t.start()
    assert seen.wait(timeout), f"never saw {marker!r}: {''.join(chunks['err'])[-2000:]}"
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=120)
    for t in threads:
        t.join()
    return subprocess.CompletedProcess(argv, code, "".join(chunks["out"]), "".join(chunks["err"]))


def test_ctrl_c_while_planning_prints_one_line(tmp_path):
    result = _interrupt(["plan", "us-east-1", "--quiet"], "planning us-east-1", {"INFRA_PLAN_CACHE": "off"})
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("interrupted:")]
    others = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("planning ")]
    assert lines == others  # nothing but the progress line and the one interrupted line
    assert len(lines) == 1 and "while planning us-east-1" in lines[0] and "Resume: re-run" in lines[0]


def test_ctrl_c_during_a_local_drill_says_where_it_stopped(tmp_path):
    argv = ["drill", "planned", "--from", "us-east-1", "--to", "eu-west-1", "--local", "--execute", "--no-replan"]
    result = _interrupt([*argv, "--reports-dir", str(tmp_path)], "> prewarm-capacity")
    assert result.returncode == 130, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith("interrupted:")]
    assert len(lines) == 1, result.stderr
    assert "drill planned us-east-1 -> eu-west-1 stopped after" in lines[0] and "precheck-aurora" in lines[0]
    assert "Resume: re-run the same command: `python -m infra drill planned" in lines[0]
    (report,) = tmp_path.glob("*.json")
    assert json.loads(report.read_text())["error"] == "interrupted (Ctrl-C)"


def test_demo_plans_each_stack_once_and_the_drill_reuses_those_plans(plans, tmp_path, monkeypatch, capsys):
    import infra.dr.cli
    import infra.plan.runner
    from infra.dr.runner import Result

    monkeypatch.setenv("INFRA_PLAN_CACHE", str(tmp_path / "cache"))
    cache = PlanCache(tmp_path / "cache")
    for stack, plan in plans.items():
        cache.put(cache.key(stack, REPO_ROOT), plan)
    synthesized: list[str] = []
    monkeypatch.setattr(infra.plan.runner, "synthesize", lambda stack, *a, **k: synthesized.append(stack))
    seen = {}

    def fake_run_local(root, settings, console, reports_dir, planner=None, **options):
        seen["planner"] = planner
        seen["planned"] = sorted(planner._plans)
        return Result(report={}, exit_code=0)

    monkeypatch.setattr(infra.dr.cli, "run_local", fake_run_local)
    monkeypatch.chdir(tmp_path)
    assert main(["--root", str(REPO_ROOT), "demo"]) == 0
    assert synthesized == []  # both plans came from the cache: nothing is planned twice
    assert seen["planned"] == sorted(plans)  # the drill got the planner that already holds every plan
    err = capsys.readouterr().err
    assert err.count("reused from the plan cache") == len(plans)


def test_svg_without_graphviz_is_an_error_that_names_the_dot_alternative(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["plan", "us-east-1", "--quiet", "--graph", str(tmp_path / "g.svg")]) == 1
    err = capsys.readouterr().err
    assert "error: cannot write the graph" in err and "Graphviz" in err and f"--graph {tmp_path / 'g.dot'}" in err
    assert not (tmp_path / "g.svg").exists()
