"""Every command line quoted in the README and the operator docs parses as written (and the cheap ones run).

Commands of this repository (`python -m infra ...`, `python -m infra.policy_check`, `python bench/run.py ...`) are
parsed with their own argparse parsers; stack and Region arguments must name real stack files. Usage patterns in
tables (`[--json FILE]`, `<stack>`, `…`) are expanded to concrete values first. Commands of other tools (pip, venv,
pytest, pulumi, aws) are listed in EXTERNAL; anything else fails the test, so a new kind of command gets checked.
"""

from __future__ import annotations

import re
import shlex
from itertools import cycle

import pytest

from infra.cli import build_parser, main
from infra.plan.runner import REPO_ROOT

DOCS = ("README.md", "docs/dr-runbook.md", "docs/offline-plan.md", "docs/benchmark.md")
STACKS = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in REPO_ROOT.glob("Pulumi.*.yaml"))
EXTERNAL = ("python3 -m venv", "python -m pytest", "pip ", "pulumi ", "aws ", "ruff ")
RUN = {("check",), ("schema",), ("config-docs",)}  # cheap enough to run as written, in-process
_PYTHON = r"(?:\.venv/bin/)?python3?"
_OURS = re.compile(rf"^{_PYTHON} (?:-m cProfile )?(?:-m infra(?:\.policy_check)?\b|bench/run\.py\b)")


def _commands() -> list[tuple[str, str]]:
    """(where, command) for every command line in fenced blocks and inline code spans of DOCS."""
    found = []
    for doc in DOCS:
        text = (REPO_ROOT / doc).read_text()
        for number, block in enumerate(re.findall(r"```(?:bash|sh)?\n(.*?)```", text, re.S)):
            for line in block.splitlines():
                for part in line.split("&&"):
                    part = part.strip()
                    if re.match(rf"^{_PYTHON} |^pulumi |^aws ", part):
                        found.append((f"{doc} block {number + 1}", part))
        for span in re.findall(r"`([^`\n]+)`", text):
            if re.match(rf"^{_PYTHON} (-m |bench/)", span):
                found.append((f"{doc} inline", span))
    return found


COMMANDS = _commands()


def _expand(command: str) -> list[str]:
    """Tokens of a (possibly usage-pattern) command with placeholders replaced by real values."""
    regions = cycle(["us-east-1", "eu-west-1"])  # `--from … --to …`: the primary, then the secondary
    tokens = []
    for token in shlex.split(command.replace("\\|", "|"), comments=True):
        token = token.strip("[]")
        if token in ("<stack>", "<region>"):
            token = "us-east-1"
        elif token == "KIND":
            token = "planned"
        elif token in ("…", "...", "REGION"):
            token = next(regions)
        elif token == "REF|FILE":
            token = "HEAD"
        elif token in ("FILE", "DIR"):
            token = "/tmp/docs-command-check"
        if token:
            tokens.append(token)
    return tokens


def test_the_docs_quote_commands():
    assert len([c for _, c in COMMANDS if "-m infra" in c]) >= 15, COMMANDS


@pytest.mark.parametrize(("where", "command"), COMMANDS, ids=[f"{w}: {c}" for w, c in COMMANDS])
def test_command_line_parses_as_written(where, command, capsys):
    plain = re.sub(rf"^{_PYTHON} ", "python ", command)
    if plain.startswith(EXTERNAL) or command.startswith(EXTERNAL):
        if "-r requirements.txt" in command:
            assert (REPO_ROOT / "requirements.txt").is_file()
        return
    assert _OURS.match(command), f"{where}: `{command}` is not a command this test knows how to check"
    tokens = _expand(command)[1:]  # drop the interpreter
    if tokens[:2] == ["-m", "cProfile"]:  # profiling a command: the command itself must parse
        tokens = tokens[2:]
    if tokens[:2] == ["-m", "infra.policy_check"]:
        assert tokens == ["-m", "infra.policy_check"], "the policy table takes no arguments"
        assert "__main__" in (REPO_ROOT / "infra" / "policy_check.py").read_text()
        return
    if tokens[0] == "bench/run.py":
        from bench.run import build_parser as bench_parser

        bench_parser().parse_args(tokens[1:])
        return
    argv = tokens[2:]
    alternatives = [t for t in argv if "|" in t]  # `emulator start|status|stop`: each alternative must parse
    if alternatives:
        for choice in alternatives[0].split("|"):
            build_parser().parse_args([choice if t == alternatives[0] else t for t in argv])
        return
    if argv in (["--help"], ["-h"]):
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args(argv)
        assert exc.value.code == 0
        return
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"{where}: `{command}` does not parse (exit {exc.code}): {capsys.readouterr().err[-500:]}")
    for name in ("stack", "source", "target"):
        value = getattr(args, name, None)
        assert value is None or value in STACKS, f"{where}: `{command}`: {value} is no stack file"
    if tuple(argv) in RUN:
        assert main(argv) == 0, capsys.readouterr().err


def test_expansion_of_usage_patterns():
    assert _expand("python -m infra plan <stack> [--json FILE] [--diff [--base REF\\|FILE]]") == [
        "python", "-m", "infra", "plan", "us-east-1", "--json", "/tmp/docs-command-check", "--diff", "--base", "HEAD",
    ]  # fmt: skip
    assert _expand("python -m infra drill unplanned --from … --to … --execute")[5:9] == [
        "--from", "us-east-1", "--to", "eu-west-1",
    ]  # fmt: skip


def test_a_wrong_command_would_be_caught(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(_expand("python -m infra plan <stack> --update-snapshot")[3:])
