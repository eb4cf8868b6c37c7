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

DR_SERVICES = ("rds", "elasticache", "eks", "route53", "dynamodb", "cloudwatch", "s3")
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

    def reset(self, services: tuple[str, ...] | None = DR_SERVICES) -> None:
        """Forget every resource of `services` (default: the ones the drill uses; None = moto's full reset API).

        The server runs in this process, so resetting moto's backends directly is the same as its reset API, minus
        re-creating backends the drill never touches (EC2's is slow to build). The extensions' state lives on moto's
        backends, so it is reset too.
        """
        if services is None:
            import urllib.request

            request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
            urllib.request.urlopen(request).read()
            return
        from moto.backends import get_backend

        for service in services:
            for account_backends in get_backend(service).values():
                account_backends.reset()

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
