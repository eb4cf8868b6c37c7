"""Terminal output conventions shared by every command: consoles, exit codes, error and refusal lines.

Results go to stdout; progress, errors and refusals go to stderr, one style for all of them:

    error: <what is wrong>. Fix: <what to do>
    refused: <why nothing was done>. Fix: <what to do>
    interrupted: <what state was left>. Resume: <the command>
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape

# Exit codes (README "Command line"): one meaning each, for every command.
EXIT_OK = 0
EXIT_FAILED = 1  # a failure (a drill step, a policy violation, an error while planning)
EXIT_BAD_INPUT = 2  # invalid command line or stack files
EXIT_REFUSED = 3  # refused before changing anything
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, what shells report)
EXIT_CHANGES = 2  # only `plan --detailed-exitcode`: succeeded, the plan has changes (terraform's convention)


def make_console(stderr: bool = False) -> Console:
    """A rich Console without emoji codes (ARNs contain `:secret:`).

    When not attached to a terminal, lines are not wrapped at 80 columns (CI logs, files).
    """
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr, emoji=False)
    return Console(stderr=stderr, width=160, soft_wrap=True, emoji=False)


def _line(kind: str, colour: str, message: str, fix: str = "", fix_label: str = "Fix") -> None:
    text = f"[{colour}]{kind}:[/] {escape(message)}"
    if fix:
        text += f" {fix_label}: {escape(fix)}"
    make_console(stderr=True).print(text)


def error(message: str, fix: str = "") -> None:
    """`error: <message> Fix: <fix>` on stderr."""
    _line("error", "red", message, fix)


def refused(message: str, fix: str = "") -> None:
    """`refused: <message> Fix: <fix>` on stderr (nothing was changed)."""
    _line("refused", "red", message, fix)


def interrupted(state: str, resume: str) -> None:
    """`interrupted: <state> Resume: <resume>` on stderr: the one line Ctrl-C prints."""
    _line("interrupted", "yellow", state, resume, fix_label="Resume")


class Interrupted(KeyboardInterrupt):
    """Ctrl-C caught by a command that knows what state it left; `infra.cli.main` prints it as one line."""

    def __init__(self, state: str, resume: str):
        super().__init__(state)
        self.state, self.resume = state, resume
