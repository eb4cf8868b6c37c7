"""Progress of offline plans on stderr: a live count in a terminal, one line per stack otherwise (CI, --quiet)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from infra.console import make_console


def plan_progress(quiet: bool = False):
    """A `Planner(progress=...)` callback.

    Terminal: a spinner with the number of resources registered so far, then one summary line. Not a terminal or
    `quiet`: one line when a plan starts and one when it ends (no live redraws in CI logs).
    """
    console = make_console(stderr=True)

    @contextlib.contextmanager
    def progress(stack: str, cached: bool = False) -> Iterator[Callable[[int], None]]:
        count = [0]

        def tick(n: int) -> None:
            count[0] = n

        if cached:
            yield tick
            console.print(f"plan of {stack}: {count[0]} resources (unchanged inputs: reused from the plan cache)")
            return
        started = time.perf_counter()
        title = f"planning {stack} offline (Pulumi mock runtime)"
        if console.is_terminal and not quiet:
            with console.status(title + " ...") as status:

                def live(n: int) -> None:
                    count[0] = n
                    status.update(f"{title}: {n} resources registered")

                yield live
        else:
            console.print(title + " ...")
            yield tick
        console.print(f"planned {stack}: {count[0]} resources in {time.perf_counter() - started:.1f} s")

    return progress
