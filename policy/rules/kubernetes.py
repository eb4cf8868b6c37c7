"""Kubernetes workload rules: Pod Security Standards "restricted", pinned images, resources, namespaces."""

from __future__ import annotations

from collections.abc import Iterator

from .engine import Resource, get, is_true, items, resource_rule

# type token -> path of the pod spec inside the object
POD_SPEC_PATHS = {
    "kubernetes:apps/v1:Deployment": "spec.template.spec",
    "kubernetes:apps/v1:StatefulSet": "spec.template.spec",
    "kubernetes:apps/v1:DaemonSet": "spec.template.spec",
    "kubernetes:apps/v1:ReplicaSet": "spec.template.spec",
    "kubernetes:batch/v1:Job": "spec.template.spec",
    "kubernetes:batch/v1:CronJob": "spec.jobTemplate.spec.template.spec",
    "kubernetes:core/v1:Pod": "spec",
}
WORKLOAD_TYPES = tuple(POD_SPEC_PATHS)
NAMESPACE = "kubernetes:core/v1:Namespace"
SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease", "default")


def _pod_spec(res: Resource) -> dict:
    return get(res.props, POD_SPEC_PATHS[res.type], {}) or {}


def _containers(spec: dict) -> Iterator[tuple[str, dict]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for container in items(spec, key):
            yield f"{key[:-1]} {get(container, 'name', '?')}", container


@resource_rule(
    "k8s-restricted-pods",
    types=WORKLOAD_TYPES,
    enforcement="mandatory",
    controls=[],
    description="Pods meet the Pod Security Standard 'restricted': non-root, no privilege escalation, "
    "all capabilities dropped, RuntimeDefault seccomp, no host namespaces or hostPath volumes.",
    reason="A compromised service must not get node access (nodes hold IAM credentials for every pod).",
)
def k8s_restricted_pods(res: Resource):
    spec = _pod_spec(res)
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if is_true(get(spec, key)):
            yield f"{key} is true"
    for volume in items(spec, "volumes"):
        if get(volume, "hostPath") is not None:
            yield f"volume {get(volume, 'name', '?')} is a hostPath"
    pod_ctx = get(spec, "securityContext", {}) or {}
    pod_non_root = get(pod_ctx, "runAsNonRoot") is True
    pod_seccomp = get(pod_ctx, "seccompProfile.type") in ("RuntimeDefault", "Localhost")
    if get(pod_ctx, "runAsUser") == 0:
        yield "pod securityContext.runAsUser is 0"
    for where, container in _containers(spec):
        ctx = get(container, "securityContext", {}) or {}
        if get(ctx, "privileged") is True:
            yield f"{where}: privileged is true"
        if get(ctx, "allowPrivilegeEscalation") is not False:
            yield f"{where}: allowPrivilegeEscalation is not false"
        if "ALL" not in items(ctx, "capabilities.drop"):
            yield f"{where}: capabilities.drop does not include ALL"
        added = [c for c in items(ctx, "capabilities.add") if c != "NET_BIND_SERVICE"]
        if added:
            yield f"{where}: adds capabilities {', '.join(added)}"
        if not (pod_non_root or get(ctx, "runAsNonRoot") is True):
            yield f"{where}: runAsNonRoot is not true (pod or container)"
        if get(ctx, "runAsUser") == 0:
            yield f"{where}: runAsUser is 0"
        if not (pod_seccomp or get(ctx, "seccompProfile.type") in ("RuntimeDefault", "Localhost")):
            yield f"{where}: seccompProfile is not RuntimeDefault (pod or container)"


def _image_problem(image: str) -> str | None:
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag (implies latest)"
    if last.rsplit(":", 1)[1] == "latest":
        return "uses the 'latest' tag"
    return None


@resource_rule(
    "k8s-pinned-images",
    types=WORKLOAD_TYPES,
    enforcement="mandatory",
    controls=[],
    description="Container images are pinned to a version tag or digest (never 'latest' or untagged).",
    reason="Both regions must run the same build; 'latest' makes rollbacks and DR failovers non-reproducible.",
)
def k8s_pinned_images(res: Resource):
    for where, container in _containers(_pod_spec(res)):
        image = str(get(container, "image", ""))
        problem = _image_problem(image) if image else "has no image"
        if problem:
            yield f"{where}: image '{image}' {problem}"


@resource_rule(
    "k8s-resources-and-readonly-root",
    types=WORKLOAD_TYPES,
    enforcement="advisory",
    controls=[],
    description="Containers set CPU/memory requests and a memory limit, and use a read-only root filesystem.",
    reason="Requests drive scheduling and HPA; limits contain leaks; advisory because some images need a writable "
    "root.",
)
def k8s_resources_and_readonly_root(res: Resource):
    for where, container in _containers(_pod_spec(res)):
        if where.startswith("ephemeralContainer"):
            continue
        for key in ("requests.cpu", "requests.memory", "limits.memory"):
            if not get(container, f"resources.{key}"):
                yield f"{where}: resources.{key} is not set"
        if get(container, "securityContext.readOnlyRootFilesystem") is not True:
            yield f"{where}: securityContext.readOnlyRootFilesystem is not true"


@resource_rule(
    "k8s-namespace-pss",
    types=[NAMESPACE],
    enforcement="advisory",
    controls=[],
    description="Application namespaces enforce the 'restricted' Pod Security Standard by label.",
    reason="Admission-time enforcement for pods created outside Pulumi; advisory (system namespaces differ).",
)
def k8s_namespace_pss(res: Resource):
    name = get(res.props, "metadata.name", "")
    if name in SYSTEM_NAMESPACES:
        return
    label = get(res.props, "metadata.labels", {}).get("pod-security.kubernetes.io/enforce")
    if label != "restricted":
        yield f"namespace {name}: label pod-security.kubernetes.io/enforce is '{label}', use 'restricted'"
