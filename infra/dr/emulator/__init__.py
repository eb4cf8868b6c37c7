"""The embedded AWS emulator for `--local` drills and the DR tests: moto in server mode on 127.0.0.1.

`Emulator.start()` runs `ThreadedMotoServer` on a random free port with the extensions of
`infra.dr.emulator.extensions` installed; `seed(plans)` creates in it what the stacks' offline plans declare.
"""

from __future__ import annotations

import socket
from typing import Any

import boto3
from botocore.config import Config

from infra.dr.emulator import extensions

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Emulator:
    """moto server on 127.0.0.1:<random port>; `endpoint` is what boto3 clients use."""

    def __init__(self) -> None:
        self.port = 0
        self._server = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Emulator:
        from moto.server import ThreadedMotoServer

        extensions.install()
        self.port = _free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def reset(self) -> None:
        """Forget every resource (moto's reset API; the extensions' state lives on moto's backends)."""
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")).read()

    def client(self, service: str, region: str):
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint,
            config=Config(retries={"max_attempts": 2, "mode": "standard"}),
            **CREDENTIALS,
        )

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
