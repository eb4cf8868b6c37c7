"""The drill's Kubernetes access: read and scale HPAs and Deployments of a Region's EKS cluster.

This is what ARC Region switch's "Amazon EKS resource scaling" block does with its execution role (an EKS access
entry with `AmazonARCRegionSwitchScalingPolicy`: get/update `*/scale`, get `*/status`, get/patch
`horizontalpodautoscalers`), through the same Kubernetes API calls:

- `GET/PATCH /apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/{name}` (merge patch `spec.minReplicas`)
- `GET/PATCH /apis/apps/v1/namespaces/{ns}/deployments/{name}/scale` (merge patch `spec.replicas`)
- `GET /apis/apps/v1/namespaces/{ns}/deployments/{name}` (`status.readyReplicas`)
- `GET /apis/karpenter.sh/v1/nodepools/{name}` (`spec.limits`)

The endpoint and CA come from `eks.describe_cluster`; the bearer token is a presigned STS `GetCallerIdentity` URL
bound to the cluster name (`x-k8s-aws-id`), exactly what `aws eks get-token` produces. The emulator's EKS clusters
report the Kubernetes API emulator (`infra/dr/emulator/kube.py`) as their endpoint, so the code path is the same.
"""

from __future__ import annotations

import base64
import json
import ssl
import tempfile
import urllib.error
import urllib.request
from typing import Any

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_HEADER = "x-k8s-aws-id"


class KubeError(RuntimeError):
    """A Kubernetes API call failed (status code and the API's message)."""

    def __init__(self, status: int, message: str):
        super().__init__(f"Kubernetes API {status}: {message}")
        self.status = status


def eks_token(sts_client: Any, cluster_name: str) -> str:
    """A Kubernetes bearer token for an EKS cluster (aws-iam-authenticator format), valid about 15 minutes."""

    def add_header(request: Any, **_: Any) -> None:
        request.headers[CLUSTER_HEADER] = cluster_name

    events = sts_client.meta.events
    events.register("before-sign.sts.GetCallerIdentity", add_header)
    try:
        url = sts_client.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET")
    finally:
        events.unregister("before-sign.sts.GetCallerIdentity", add_header)
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


class KubeApi:
    """The few Kubernetes calls the pre-warm needs, over HTTPS with the cluster CA (or plain HTTP locally)."""

    def __init__(self, server: str, token: str, ca_data: str | None = None, timeout: float = 10):
        self.server, self.token, self.timeout = server.rstrip("/"), token, timeout
        self._context = None
        if server.startswith("https://") and ca_data:
            with tempfile.NamedTemporaryFile("w", suffix=".crt", delete=False) as handle:
                handle.write(base64.b64decode(ca_data).decode())
            self._context = ssl.create_default_context(cafile=handle.name)

    def _call(self, method: str, path: str, body: dict | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.server + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/json")
        if body is not None:
            request.add_header("Content-Type", "application/merge-patch+json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self._context) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("message", exc.reason)
            except ValueError:
                message = str(exc.reason)
            raise KubeError(exc.code, message) from None

    def hpa(self, namespace: str, name: str) -> dict[str, Any]:
        return self._call("GET", f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/{name}")

    def set_hpa_min(self, namespace: str, name: str, value: int) -> dict[str, Any]:
        path = f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/{name}"
        return self._call("PATCH", path, {"spec": {"minReplicas": value}})

    def scale(self, namespace: str, deployment: str) -> dict[str, Any]:
        return self._call("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/{deployment}/scale")

    def set_scale(self, namespace: str, deployment: str, replicas: int) -> dict[str, Any]:
        path = f"/apis/apps/v1/namespaces/{namespace}/deployments/{deployment}/scale"
        return self._call("PATCH", path, {"spec": {"replicas": replicas}})

    def deployment(self, namespace: str, deployment: str) -> dict[str, Any]:
        return self._call("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/{deployment}")

    def node_pool(self, name: str) -> dict[str, Any]:
        return self._call("GET", f"/apis/karpenter.sh/v1/nodepools/{name}")


def kube_for(aws: Any, region: str, cluster_name: str) -> KubeApi:
    """A KubeApi for one Region's cluster: endpoint and CA from EKS, token from STS in that Region."""
    cluster = aws("eks", region).describe_cluster(name=cluster_name)["cluster"]
    token = eks_token(aws("sts", region), cluster_name)
    return KubeApi(cluster["endpoint"], token, (cluster.get("certificateAuthority") or {}).get("data"))


def cpu_quantity(value: str) -> float:
    """A Kubernetes CPU quantity ('960', '500m') in cores."""
    text = str(value)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
