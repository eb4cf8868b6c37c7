"""`python -m infra.dr.emulator.serve --ready-file FILE`: the persistent emulator's server process.

The same `Emulator` as an embedded `--local` run (moto + the DR extensions + Route 53's data plane: health checker
and DNS, the Kubernetes API emulator), in its own process. It writes `{"port", "dnsPort", "kubePort"}` to FILE once
they listen, then runs until SIGTERM / SIGINT (`python -m infra emulator stop`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.dr.emulator.serve")
    parser.add_argument("--ready-file", type=Path, required=True)
    args = parser.parse_args(argv)
    from infra.dr.emulator import Emulator

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    emu = Emulator().start()
    tmp = args.ready_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"port": emu.port, "dnsPort": emu.dns.port, "kubePort": emu.kube_port}))
    tmp.replace(args.ready_file)  # atomic: the parent never reads a half-written file
    stop.wait()
    # All state is in memory and meant to go: exit at once (a graceful server shutdown takes seconds).
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
