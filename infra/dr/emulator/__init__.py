"""The embedded AWS emulator for `--local` drills and the DR tests: moto in server mode on 127.0.0.1.

`Emulator.start()` runs `ThreadedMotoServer` on a random free port with the extensions of
`infra.dr.emulator.extensions` installed, plus Route 53's data plane (`emulator/dns.py`: health checker and a DNS
server on another port); `seed(plans)` creates in it what the stacks' offline plans declare.
`region_outage(region)` takes a Region down: its health checks start failing and the returned `RegionOutage`
(`emulator/outage.py`) cuts every request a client would send there.
"""

from __future__ import annotations

import socket
from typing import Any

import boto3
from botocore.config import Config

from infra.dr.emulator import extensions
from infra.dr.emulator.arc import ArcService
from infra.dr.emulator.dns import DnsServer, HealthChecker, install_status_api
from infra.dr.emulator.kube import KubeEmulator, install_endpoint_hook, seed_object
from infra.dr.emulator.outage import OutageSwitch, RegionOutage

DR_SERVICES = ("rds", "elasticache", "eks", "route53", "dynamodb", "cloudwatch", "s3", "ssm")
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
        self.health = HealthChecker()
        self.dns = DnsServer(self.health)
        self.outages = OutageSwitch()  # attach to long-lived clients: they follow the current outage
        self._clients: dict[tuple[str, str], Any] = {}
        self.kube = KubeEmulator()  # the clusters' Kubernetes API (moto has none)
        self.arc = ArcService(self)  # ARC Region switch (moto has none): `drill --executor arc`

    @property
    def dns_address(self) -> tuple[str, int]:
        """Where the emulated Route 53 authoritative DNS answers (data plane)."""
        return ("127.0.0.1", self.dns.port)

    def region_outage(self, region: str, failure: str = "refused") -> RegionOutage:
        """Take `region` down from now on: its endpoints' health checks fail, and clients attached to `outages`
        (or to the returned `RegionOutage`) get connection errors for every endpoint there."""
        self.health.region_down(region)
        self.outages.current = RegionOutage(region, failure)
        return self.outages.current

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoints(self) -> dict[str, str]:
        """Services served outside moto (the drill's `Aws(endpoints=...)`)."""
        return {"arc-region-switch": self.arc.url}

    def start(self) -> Emulator:
        from moto.server import ThreadedMotoServer

        extensions.install()
        install_status_api(self.health)
        self.reset()  # moto's backends are per process: a new emulator must not see an earlier one's resources
        self.port = _free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        self.dns.start()
        self.kube.start()
        self.arc.start()
        install_endpoint_hook(self.kube.url)  # emulated EKS clusters report the Kubernetes API emulator
        return self

    @property
    def kube_port(self) -> int:
        return self.kube.port

    def seed_kube(self, cluster: str, kind: str, obj: dict[str, Any]) -> None:
        """Add a Kubernetes object to an emulated cluster (the same HTTP seeding a persistent emulator gets)."""
        seed_object(self.kube.port, cluster, kind, obj)

    def stop(self) -> None:
        self.dns.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.kube.stop()
        self.arc.stop()

    def reset(self, services: tuple[str, ...] | None = DR_SERVICES) -> None:
        """Forget every resource of `services` (default: the ones the drill uses; None = moto's full reset API).

        The server runs in this process, so resetting moto's backends directly is the same as its reset API, minus
        re-creating backends the drill never touches (EC2's is slow to build). The extensions' state lives on moto's
        backends, so it is reset too; so are the health checker's outages.
        """
        self.health.reset()
        self.outages.current = None
        self.kube.reset()
        self.arc.reset()
        if services is None:
            import urllib.request

            request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
            urllib.request.urlopen(request).read()
            return
        from moto.backends import get_backend

        for service in services:
            for account_backends in get_backend(service).values():
                account_backends.reset()

    def save(self, services: tuple[str, ...] = DR_SERVICES) -> dict[str, Any]:
        """A copy of the emulated state (moto's backends of `services`, the health checks' Regions): seeding once
        and restoring per test is much faster than seeding again. Includes the Kubernetes API emulator's objects."""
        import copy

        from moto.backends import get_backend

        backends = {
            (service, account, region): copy.deepcopy(backend)
            for service in services
            for account, by_region in get_backend(service).items()
            for region, backend in by_region.items()
        }
        return {
            "backends": backends,
            "checks": dict(self.health.check_region),
            "services": services,
            "kube": self.kube.save(),
            "arc": copy.deepcopy(
                {"plans": self.arc.plans, "functions": self.arc.functions, "samples": self.arc.samples}
            ),
        }

    def restore(self, saved: dict[str, Any]) -> None:
        """Back to a `save()`d state (outages cleared)."""
        import copy

        from moto.backends import get_backend

        self.reset(saved["services"])
        for (service, account, region), backend in saved["backends"].items():
            get_backend(service)[account][region] = copy.deepcopy(backend)
        self.health.check_region.update(saved["checks"])
        self.kube.restore(saved["kube"])
        for key, value in copy.deepcopy(saved.get("arc", {})).items():
            getattr(self.arc, key).update(value)

    def client(self, service: str, region: str):
        """A client of the emulator itself (seeding, test assertions): never cut by an outage; cached."""
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = boto3.client(
                service,
                region_name=region,
                endpoint_url=self.endpoints.get(service, self.endpoint),
                config=Config(retries={"max_attempts": 2, "mode": "standard"}),
                **CREDENTIALS,
            )
        return self._clients[key]

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
