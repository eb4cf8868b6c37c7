"""The persistent local emulator: `python -m infra emulator start|status|stop`.

One moto server process (with the DR extensions) on 127.0.0.1 that outlives a command, so `--local` drills can
follow each other (planned -> failback, interrupt -> resume) on the same emulated AWS state. Its state file
`<dir>/state.json` holds the pid, the endpoint, the outputs the stacks would report (seeded from the offline plans
at start) and the directory of the stack-file copies the local knob writes (`<dir>/stacks`). `<dir>` is
`$DR_EMULATOR_DIR`, default `<project>/.dr-emulator/` (git-ignored). `stop` ends the process and removes `<dir>`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from infra.dr.emulator import CREDENTIALS

DIR_ENV = "DR_EMULATOR_DIR"
STATE_FILE = "state.json"
REPO = Path(__file__).resolve().parents[3]


def state_dir(root: Path) -> Path:
    return Path(os.environ.get(DIR_ENV) or root / ".dr-emulator")


class RemoteEmulator:
    """The running emulator seen through its endpoint (what `seed()` and the drill need)."""

    def __init__(self, endpoint: str, kube_port: int | None = None):
        from infra.dr.emulator.dns import HealthChecker

        self.endpoint = endpoint
        self.kube_port = kube_port  # the Kubernetes API emulator of the server process
        # Which Region each health check probes matters only for an emulated outage, which runs in-process on an
        # embedded emulator (never on this one): a local record keeps `seed()` unchanged.
        self.health = HealthChecker()

    def seed_kube(self, cluster: str, kind: str, obj: dict[str, Any]) -> None:
        from infra.dr.emulator.kube import seed_object

        assert self.kube_port is not None, "the server process did not report its Kubernetes API port"
        seed_object(self.kube_port, cluster, kind, obj)

    def client(self, service: str, region: str):
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint,
            config=Config(retries={"max_attempts": 2, "mode": "standard"}),
            **CREDENTIALS,
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a zombie child (started by this process, already exited) is not alive
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def status(directory: Path) -> dict[str, Any] | None:
    """The state of the running emulator, or None (no state file, or its process is gone)."""
    path = directory / STATE_FILE
    if not path.is_file():
        return None
    state = json.loads(path.read_text())
    if not (_alive(state["pid"]) and _listening(state["port"])):
        return None
    return state


def start(root: Path, directory: Path, plans: dict | None = None, timeout: float = 30.0) -> tuple[dict, bool]:
    """Start (or find) the emulator; seed it from the offline plans. Returns (state, started_now)."""
    from infra.dr.emulator.seed import seed

    running = status(directory)
    if running is not None:
        return running, False
    if directory.exists():  # a stale state directory of a dead emulator
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    if plans is None:
        from infra.plan.runner import Planner

        planner = Planner(root)
        plans = {s: planner.plan(s) for s in sorted(planner.fleet.stacks)}
    from infra.config.fleet import load_fleet

    fleet = load_fleet(root)
    ready = directory / "ready.json"
    log = (directory / "server.log").open("w")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.dr.emulator.serve", "--ready-file", str(ready)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # outlives this command (and its Ctrl-C)
        env=env,
        cwd=str(REPO),
    )
    log.close()
    deadline = time.monotonic() + timeout
    while not ready.is_file():
        if proc.poll() is not None or time.monotonic() > deadline:
            _terminate(proc.pid)
            log_text = (directory / "server.log").read_text()[-2000:]
            shutil.rmtree(directory, ignore_errors=True)
            raise RuntimeError(f"the emulator did not start: {log_text}")
        time.sleep(0.1)
    ports = json.loads(ready.read_text())
    port = ports["port"]
    endpoint = f"http://127.0.0.1:{port}"
    try:
        outputs = seed(RemoteEmulator(endpoint, ports.get("kubePort")), plans, fleet.primary)
    except BaseException:
        _terminate(proc.pid)
        shutil.rmtree(directory, ignore_errors=True)
        raise
    state = {
        "pid": proc.pid,
        "port": port,
        "endpoint": endpoint,
        "dnsPort": ports["dnsPort"],
        "startedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "root": str(root),
        "primary": fleet.primary,
        "stacks": sorted(plans),
        "outputs": outputs,
    }
    (directory / STATE_FILE).write_text(json.dumps(state, indent=2, default=str) + "\n")
    return state, True


def _terminate(pid: int, timeout: float = 10.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)


def stop(directory: Path) -> bool:
    """Stop the emulator and remove its directory; False if none was running."""
    path = directory / STATE_FILE
    was_running = False
    if path.is_file():
        state = json.loads(path.read_text())
        was_running = _alive(state["pid"])
        _terminate(state["pid"])
    if directory.exists():
        shutil.rmtree(directory)
    return was_running
