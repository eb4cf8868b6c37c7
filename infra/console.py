"""One way to make the terminal console: full width in a terminal, wide and unwrapped in CI logs and pipes."""

from __future__ import annotations

import sys

from rich.console import Console


def make_console(stderr: bool = False) -> Console:
    """A rich Console without emoji codes (ARNs contain `:secret:`).

    When not attached to a terminal, lines are not wrapped at 80 columns (CI logs, files).
    """
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr, emoji=False)
    return Console(stderr=stderr, width=160, soft_wrap=True, emoji=False)
