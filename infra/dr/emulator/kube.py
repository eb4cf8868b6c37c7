"""Kubernetes API emulator for the local drill: the part of the EKS clusters' API the pre-warm step uses.

moto emulates EKS's AWS API but no Kubernetes API. This server (127.0.0.1, random port, one path prefix per
cluster: `/clusters/<name>`) answers the calls of `infra/dr/kube.py` with Kubernetes' semantics:

- HPAs (`autoscaling/v2`): GET; merge PATCH of `spec.minReplicas` (422 `Invalid` above `maxReplicas` or below 1).
  Like the HPA controller, raising the minimum above the current replicas scales the Deployment up to it.
- Deployments (`apps/v1`): GET (`status.replicas`, `status.readyReplicas`), GET/PATCH `/scale` (`spec.replicas`,
  422 below 0). Pods become ready after `DR_EMULATOR_TRANSITION_SECONDS` (nodes provisioned by Auto Mode).
- NodePools (`karpenter.sh/v1`): GET.
- Every request needs `Authorization: Bearer k8s-aws-v1.<base64url presigned STS URL>` whose `x-k8s-aws-id` names
  the cluster (401 otherwise); unknown objects answer 404 `NotFound` Status objects.

Seeded from the stacks' offline plans (the Deployments, HPAs and NodePools they declare). Registered as the
endpoint of the emulator's EKS clusters, so the drill reaches it through `eks.describe_cluster` like a real one.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from infra.dr.emulator.local_http import serve, shutdown

_HPA = re.compile(r"^/apis/autoscaling/v2/namespaces/([^/]+)/horizontalpodautoscalers/([^/]+)$")
_DEPLOY = re.compile(r"^/apis/apps/v1/namespaces/([^/]+)/deployments/([^/]+)(/scale)?$")
_POOL = re.compile(r"^/apis/karpenter.sh/v1/nodepools/([^/]+)$")


def install_endpoint_hook(url_for) -> None:
    """Every EKS cluster moto creates in this process reports `url_for(name)` as its endpoint (the Kubernetes API
    emulator), so `eks.describe_cluster` leads the drill there, whichever process seeds the emulator."""
    from moto.eks.models import EKSBackend

    original = getattr(EKSBackend.create_cluster, "__wrapped_kube__", EKSBackend.create_cluster)

    def create_cluster(self, *args, **kwargs):
        cluster = original(self, *args, **kwargs)
        cluster.endpoint = url_for(cluster.name)
        return cluster

    create_cluster.__wrapped_kube__ = original  # type: ignore[attr-defined]
    EKSBackend.create_cluster = create_cluster


def seed_object(kube_port: int, cluster: str, kind: str, obj: dict[str, Any]) -> None:
    """Seed one object into a Kubernetes API emulator listening on `kube_port` (in this or another process)."""
    import urllib.request

    data = json.dumps({"cluster": cluster, "kind": kind, "object": obj}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{kube_port}/_emulator/seed", data=data, method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    urllib.request.urlopen(request, timeout=10).read()


def _delay() -> float:
    return float(os.environ.get("DR_EMULATOR_TRANSITION_SECONDS", "0.05"))


class ClusterState:
    """Objects of one cluster, keyed by (kind, namespace, name)."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.ready_at: dict[tuple[str, str], float] = {}

    def deployment(self, ns: str, name: str) -> dict[str, Any] | None:
        obj = self.objects.get(("deployment", ns, name))
        if obj is not None:
            due = self.ready_at.get((ns, name))
            if due is not None and time.monotonic() >= due:
                obj["status"]["readyReplicas"] = obj["status"]["replicas"] = obj["spec"]["replicas"]
                del self.ready_at[(ns, name)]
        return obj

    def scale_to(self, ns: str, name: str, replicas: int) -> None:
        obj = self.objects[("deployment", ns, name)]
        obj["spec"]["replicas"] = replicas
        obj["status"]["replicas"] = max(obj["status"]["replicas"], replicas)
        self.ready_at[(ns, name)] = time.monotonic() + _delay()


class KubeEmulator:
    """The server; `clusters[name]` is the state of one cluster, `url(name)` its API endpoint."""

    def __init__(self) -> None:
        self.clusters: dict[str, ClusterState] = {}
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> KubeEmulator:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                emulator._handle(self, "GET")

            def do_PATCH(self) -> None:
                emulator._handle(self, "PATCH")

            def do_POST(self) -> None:  # emulator-only seeding API (not Kubernetes): /_emulator/seed
                emulator._seed_request(self)

        self._server = serve(Handler, "emulator-kube")
        return self

    def stop(self) -> None:
        shutdown(self._server)
        self._server = None

    def url(self, cluster: str) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}/clusters/{cluster}"

    def reset(self) -> None:
        self.clusters.clear()

    def save(self) -> dict[str, dict]:
        """A copy of every cluster's objects (for `Emulator.save`)."""
        return {name: copy.deepcopy(state.objects) for name, state in self.clusters.items()}

    def restore(self, saved: dict[str, dict]) -> None:
        self.clusters.clear()
        for name, objects in saved.items():
            self.clusters[name] = ClusterState()
            self.clusters[name].objects = copy.deepcopy(objects)

    # -------------------------------------------------------------------------------------------------- seeding
    def add(self, cluster: str, kind: str, obj: dict[str, Any]) -> None:
        state = self.clusters.setdefault(cluster, ClusterState())
        meta = obj["metadata"]
        obj = copy.deepcopy(obj)
        if kind == "deployment":
            replicas = obj["spec"].get("replicas", 1)
            obj["status"] = {"replicas": replicas, "readyReplicas": replicas}
        state.objects[(kind, meta.get("namespace", ""), meta["name"])] = obj

    def _seed_request(self, req: BaseHTTPRequestHandler) -> None:
        """`POST /_emulator/seed` {"cluster", "kind", "object"}: how a persistent emulator (another process) is
        seeded; never part of the Kubernetes API the drill calls."""
        if urllib.parse.urlsplit(req.path).path != "/_emulator/seed":
            return _reply(req, 404, _status(404, "NotFound", "unknown emulator path"))
        body = json.loads(req.rfile.read(int(req.headers.get("Content-Length", 0))) or b"{}")
        self.add(body["cluster"], body["kind"], body["object"])
        _reply(req, 200, {"seeded": body["cluster"]})

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_port

    # -------------------------------------------------------------------------------------------------- serving
    def _handle(self, req: BaseHTTPRequestHandler, method: str) -> None:
        parts = urllib.parse.urlsplit(req.path).path.split("/", 3)  # '', 'clusters', name, rest
        if len(parts) < 4 or parts[1] != "clusters" or parts[2] not in self.clusters:
            return _reply(req, 404, _status(404, "NotFound", "no such cluster"))
        cluster, path = parts[2], "/" + parts[3]
        if not _authorized(req.headers.get("Authorization", ""), cluster):
            return _reply(req, 401, _status(401, "Unauthorized", "Unauthorized"))
        body = None
        if method == "PATCH":
            if req.headers.get("Content-Type") != "application/merge-patch+json":
                return _reply(req, 415, _status(415, "UnsupportedMediaType", "use application/merge-patch+json"))
            body = json.loads(req.rfile.read(int(req.headers.get("Content-Length", 0))) or b"{}")
        state = self.clusters[cluster]
        with state.lock:
            code, payload = _route(state, method, path, body)
        _reply(req, code, payload)


def _route(state: ClusterState, method: str, path: str, body: dict | None) -> tuple[int, dict]:
    if match := _HPA.match(path):
        ns, name = match.groups()
        hpa = state.objects.get(("hpa", ns, name))
        if hpa is None:
            return 404, _status(404, "NotFound", f'horizontalpodautoscalers.autoscaling "{name}" not found')
        if method == "PATCH":
            value = (body or {}).get("spec", {}).get("minReplicas")
            if not isinstance(value, int) or value < 1 or value > hpa["spec"]["maxReplicas"]:
                return 422, _status(
                    422, "Invalid", f"spec.minReplicas: Invalid value: {value}: must be >= 1 and <= maxReplicas"
                )
            hpa["spec"]["minReplicas"] = value
            target = hpa["spec"]["scaleTargetRef"]["name"]
            deploy = state.deployment(ns, target)
            if deploy is not None and deploy["spec"]["replicas"] < value:  # the HPA controller enforces its floor
                state.scale_to(ns, target, value)
        return 200, hpa
    if match := _DEPLOY.match(path):
        ns, name, scale = match.groups()
        deploy = state.deployment(ns, name)
        if deploy is None:
            return 404, _status(404, "NotFound", f'deployments.apps "{name}" not found')
        if not scale:
            return (405, _status(405, "MethodNotAllowed", "read only here")) if method == "PATCH" else (200, deploy)
        if method == "PATCH":
            value = (body or {}).get("spec", {}).get("replicas")
            if not isinstance(value, int) or value < 0:
                return 422, _status(422, "Invalid", f"spec.replicas: Invalid value: {value}: must be >= 0")
            state.scale_to(ns, name, value)
        return 200, {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": deploy["spec"]["replicas"]},
            "status": {"replicas": deploy["status"]["replicas"]},
        }
    if (match := _POOL.match(path)) and method == "GET":
        pool = state.objects.get(("nodepool", "", match.group(1)))
        if pool is None:
            return 404, _status(404, "NotFound", f'nodepools.karpenter.sh "{match.group(1)}" not found')
        return 200, pool
    return 404, _status(404, "NotFound", f"the server could not find the requested resource ({method} {path})")


def _authorized(header: str, cluster: str) -> bool:
    """A bearer token from `eks_token`: base64url of a presigned STS GetCallerIdentity URL signed with the
    cluster-name header (moto does not verify SigV4; the emulator checks the token's shape and binding)."""
    prefix = "Bearer k8s-aws-v1."
    if not header.startswith(prefix):
        return False
    raw = header[len(prefix) :]
    try:
        url = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except ValueError:
        return False
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    signed = query.get("X-Amz-SignedHeaders", [""])[0].split(";")
    return query.get("Action") == ["GetCallerIdentity"] and "x-k8s-aws-id" in signed and bool(cluster)


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason,
            "code": code}  # fmt: skip


def _reply(req: BaseHTTPRequestHandler, code: int, payload: dict[str, Any]) -> None:
    data = json.dumps(payload).encode()
    req.send_response(code)
    req.send_header("Content-Type", "application/json")
    req.send_header("Content-Length", str(len(data)))
    req.end_headers()
    req.wfile.write(data)
