"""Workloads: the Workload component, the seed services in both stacks, and every manifest against the
Kubernetes OpenAPI schema of the configured version (kubernetes-validate, offline bundled schemas)."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import kubernetes_validate
import pulumi
import pytest
from pydantic import ValidationError

from components.workload import Workload, WorkloadArgs, quantity_cpu, quantity_memory
from infra.config.compute import SUPPORTED_EKS_VERSIONS
from infra.config.fleet import load_fleet
from infra.plan.runner import REPO_ROOT
from tests.crd_schemas import SCHEMAS as CRD_SCHEMAS

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"

# Seed 001 application layer: service -> (instances, cpu, memory, min, max, metric, target %).
SEED = {
    "claude-api": (20, "4", "8Gi", 10, 100, "cpu", 70),
    "user-management": (10, "2", "4Gi", 5, 50, "cpu", 60),
    "audit-logging": (8, "2", "6Gi", 4, 40, "memory", 80),
    "analytics": (6, "4", "16Gi", 3, 30, "cpu", 70),
}


def _args(**overrides) -> WorkloadArgs:
    values = dict(
        region="us-east-1",
        name_prefix="t-prod-use1",
        tags={"team": "t"},
        service="api",
        namespace="api",
        image="111122223333.dkr.ecr.us-east-1.amazonaws.com/t/api:1.2.3",
        replicas=4,
        cpu=0.5,
        memory_gib=1.5,
        min_replicas=2,
        max_replicas=8,
        metric="memory",
        target_utilization=80,
        target_group_arn="arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/t-api/0123456789abcdef",
        pre_stop_seconds=40,
        ingress_namespaces=["web"],
        ingress_cidrs=["10.0.0.0/16"],
        egress_services=[("users", 8080)],
        egress_cidr_ports=[("10.0.0.0/16", 5432)],
        config_data={"AURORA_WRITER_ENDPOINT": "db.cluster-x.us-east-1.rds.amazonaws.com"},
        secret_data={"DB_PASSWORD": pulumi.Output.secret("s3cr3t")},
        cluster_name="t-prod-use1-eks",
    )
    values.update(overrides)
    return WorkloadArgs(**values)


@pytest.fixture(scope="module")
def workload_plan():
    import pulumi_kubernetes as k8s

    from infra.plan.runner import synthesize

    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        Workload("api", _args(), provider=provider)

    return synthesize("unit", {}, program=program)


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    return deployment["spec"]["template"]["spec"]["containers"][0]


def test_deployment_restricted_probes_resources(workload_plan):
    dep = workload_plan.one(DEPLOYMENT).inputs
    pod = dep["spec"]["template"]["spec"]
    ctr = _container(dep)
    assert ctr["resources"]["requests"] == {"cpu": "500m", "memory": "1536Mi"} == ctr["resources"]["limits"]
    sc = ctr["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert ctr[probe]["httpGet"]["port"] == "http"
    assert ctr["readinessProbe"]["httpGet"]["path"] == "/ready"
    zones = [c for c in pod["topologySpreadConstraints"] if c["topologyKey"] == "topology.kubernetes.io/zone"]
    assert zones and zones[0]["whenUnsatisfiable"] == "DoNotSchedule"
    assert ctr["image"].endswith(":1.2.3")
    assert pod["serviceAccountName"] == "api"


def test_hpa_pdb_service(workload_plan):
    hpa = workload_plan.one(HPA).inputs["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 8)
    metric = hpa["metrics"][0]["resource"]
    assert metric["name"] == "memory" and metric["target"] == {"type": "Utilization", "averageUtilization": 80}
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}
    assert workload_plan.one(PDB).inputs["spec"]["maxUnavailable"] == "10%"
    svc = workload_plan.one("kubernetes:core/v1:Service").inputs["spec"]
    assert svc["type"] == "ClusterIP" and "nodePort" not in svc["ports"][0]


def test_alb_binding_draining_and_readiness_gate(workload_plan):
    """IP targets: the TargetGroupBinding registers the ready pods; a terminating pod keeps serving (preStop) for
    longer than the ALB drains it, and new pods only count as ready once the ALB reports them healthy."""
    binding = workload_plan.one("kubernetes:eks.amazonaws.com/v1:TargetGroupBinding").inputs
    assert binding["spec"]["serviceRef"] == {"name": "api", "port": 80}
    assert binding["spec"]["targetType"] == "ip" and ":targetgroup/t-api/" in binding["spec"]["targetGroupARN"]
    pod = workload_plan.one(DEPLOYMENT).inputs["spec"]["template"]["spec"]
    assert _container({"spec": {"template": {"spec": pod}}})["lifecycle"] == {"preStop": {"sleep": {"seconds": 40}}}
    assert pod["terminationGracePeriodSeconds"] == 40 + 30
    labels = workload_plan.one("kubernetes:core/v1:Namespace").inputs["metadata"]["labels"]
    assert labels["eks.amazonaws.com/pod-readiness-gate-inject"] == "enabled"


def test_network_policies_default_deny_and_explicit_allows(workload_plan):
    policies = {p.name: p.inputs["spec"] for p in workload_plan.of_type(NETPOL)}
    deny = policies["api-default-deny"]
    assert deny["podSelector"] == {} and deny["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny and "egress" not in deny
    allow = policies["api-allow"]
    sources = [peer for rule in allow["ingress"] for peer in rule["from"]]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "web"}}} in sources
    assert {"ipBlock": {"cidr": "10.0.0.0/16"}} in sources
    egress_ports = {(p["protocol"], p["port"]) for rule in allow["egress"] for p in rule["ports"]}
    assert {("UDP", 53), ("TCP", 5432), ("TCP", 8080), ("TCP", 80)} <= egress_ports


def test_config_map_and_secret_stay_secret(workload_plan):
    cm = workload_plan.one("kubernetes:core/v1:ConfigMap").inputs
    assert cm["data"]["AURORA_WRITER_ENDPOINT"].endswith(".rds.amazonaws.com")
    secret = workload_plan.one("kubernetes:core/v1:Secret").inputs
    assert secret["stringData"] == "[secret]"
    assert "s3cr3t" not in str(workload_plan.to_dict())
    # a credential is a read-only file in the pod, never an environment variable
    spec = workload_plan.one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]
    container = spec["containers"][0]
    assert [s for s in container["envFrom"] if "secretRef" in s] == [] and "env" not in container
    volume = next(v for v in spec["volumes"] if "secret" in v)
    assert volume["secret"]["secretName"] == secret["metadata"]["name"] and volume["secret"]["defaultMode"] == 0o440
    mount = next(m for m in container["volumeMounts"] if m["name"] == volume["name"])
    assert mount == {"name": volume["name"], "mountPath": "/var/run/secrets/platform", "readOnly": True}


def test_identity_via_pod_identity(workload_plan):
    assoc = workload_plan.one("aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs
    assert (assoc["namespace"], assoc["serviceAccount"], assoc["clusterName"]) == ("api", "api", "t-prod-use1-eks")
    role = workload_plan.one("aws:iam/role:Role").inputs
    assert "pods.eks.amazonaws.com" in role["assumeRolePolicy"]


def test_every_kubernetes_resource_has_explicit_provider(workload_plan):
    k8s = [r for r in workload_plan.resources if r.custom and r.type.startswith("kubernetes:")]
    assert len(k8s) == 11  # with the TargetGroupBinding
    assert all(r.provider and r.provider.endswith("pulumi:providers:kubernetes::k8s") for r in k8s)


@pytest.mark.parametrize(
    "image",
    ["repo.example.com/api:latest", "repo.example.com/api", "repo.example.com/api:LATEST"],
)
def test_unpinned_images_rejected(image):
    with pytest.raises(ValidationError, match="pinned"):
        _args(image=image)


def test_replica_bounds_validated():
    with pytest.raises(ValidationError, match="min_replicas <= replicas <= max_replicas"):
        _args(min_replicas=9)


def test_quantities():
    assert (quantity_cpu(4), quantity_cpu(0.25), quantity_memory(16), quantity_memory(0.5)) == (
        "4",
        "250m",
        "16Gi",
        "512Mi",
    )


# --- The real stacks ---------------------------------------------------------------------------------------------


def _by_service(plan, typ: str) -> dict[str, dict[str, Any]]:
    return {r.inputs["metadata"]["namespace"]: r.inputs for r in plan.of_type(typ)}


def test_primary_services_match_the_seed(primary_plan):
    deployments = _by_service(primary_plan, DEPLOYMENT)
    hpas = _by_service(primary_plan, HPA)
    assert set(deployments) == set(SEED) == set(hpas)
    for name, (instances, cpu, memory, low, high, metric, target) in SEED.items():
        dep = deployments[name]
        assert dep["spec"]["replicas"] == instances
        assert _container(dep)["resources"]["requests"] == {"cpu": cpu, "memory": memory}
        hpa = hpas[name]["spec"]
        assert (hpa["minReplicas"], hpa["maxReplicas"]) == (low, high)
        assert hpa["metrics"][0]["resource"]["name"] == metric
        assert hpa["metrics"][0]["resource"]["target"]["averageUtilization"] == target


def test_secondary_is_scaled_by_the_warm_standby_factor(secondary_plan):
    fleet = load_fleet(REPO_ROOT)
    factor = fleet.stacks["eu-west-1"].workloads.warm_standby_factor
    assert 0 < factor < 1
    deployments = _by_service(secondary_plan, DEPLOYMENT)
    hpas = _by_service(secondary_plan, HPA)
    for name, (instances, _cpu, _mem, low, high, _metric, _target) in SEED.items():
        assert deployments[name]["spec"]["replicas"] == max(1, -(-instances * factor // 1))
        assert hpas[name]["spec"]["minReplicas"] == max(1, -(-low * factor // 1))
        assert hpas[name]["spec"]["maxReplicas"] == high  # room to take the full load after a failover


@pytest.mark.parametrize("stack", ["us-east-1", "eu-west-1"])
def test_stack_pdbs_network_policies_and_api_draining(plans, stack):
    plan = plans[stack]
    assert set(_by_service(plan, PDB)) == set(SEED)
    policies = [p for p in plan.of_type(NETPOL) if "DbBootstrap" not in p.urn]
    assert len(policies) == 2 * len(SEED)
    assert sum(1 for p in policies if p.inputs["spec"]["podSelector"] == {}) == len(SEED)
    services = _by_service(plan, "kubernetes:core/v1:Service")
    assert all(services[name]["spec"]["type"] == "ClusterIP" for name in SEED)
    delay = load_fleet(REPO_ROOT).stacks[stack].compute.alb.deregistration_delay_seconds
    tg = plan.one("aws:lb/targetGroup:TargetGroup").inputs
    assert tg["deregistrationDelay"] == delay
    api = _by_service(plan, DEPLOYMENT)["claude-api"]["spec"]["template"]["spec"]
    sleep = api["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert sleep > delay and api["terminationGracePeriodSeconds"] > sleep


def _manifest(inputs: dict[str, Any]) -> dict[str, Any]:
    """The object the provider would send: the recorded inputs, with secret placeholders made schema-neutral."""
    manifest = copy.deepcopy(inputs)
    for key in ("stringData", "data"):
        if manifest.get(key) == "[secret]":
            manifest[key] = {"REDACTED": "x"}
    return manifest


@pytest.mark.parametrize("stack", ["us-east-1", "eu-west-1"])
def test_every_manifest_validates_against_the_configured_kubernetes_version(plans, stack):
    version = load_fleet(REPO_ROOT).stacks[stack].compute.kubernetes_version
    assert version in SUPPORTED_EKS_VERSIONS
    resources = [r for r in plans[stack].resources if r.custom and r.type.startswith("kubernetes:")]
    assert len(resources) >= 36
    custom = [r for r in resources if r.type in CRD_SCHEMAS]
    assert {r.type for r in custom} == set(CRD_SCHEMAS)  # NodeClass, NodePool, TargetGroupBinding
    for resource in resources:
        manifest = _manifest(resource.inputs)
        assert "[unknown]" not in str(manifest), resource.name
        if resource.type in CRD_SCHEMAS:  # not in kubernetes-validate's bundle: our documented-field schemas
            try:
                jsonschema.validate(manifest, CRD_SCHEMAS[resource.type])
            except jsonschema.ValidationError as exc:
                pytest.fail(f"{stack} {resource.type} {resource.name}: {exc.message} at {list(exc.path)}")
            continue
        try:
            checked = kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{stack} {resource.type} {resource.name}: {exc.message} at {list(exc.path)}")
        assert checked == version


def test_crd_schemas_catch_broken_custom_resources(primary_plan):
    pool = copy.deepcopy(primary_plan.of_type("kubernetes:karpenter.sh/v1:NodePool")[0].inputs)
    jsonschema.validate(pool, CRD_SCHEMAS["kubernetes:karpenter.sh/v1:NodePool"])
    pool["spec"]["disruption"]["consolidationPolicy"] = "WhenUnderutilized"  # the v1beta1 name, gone in v1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(pool, CRD_SCHEMAS["kubernetes:karpenter.sh/v1:NodePool"])
    node_class = copy.deepcopy(primary_plan.of_type("kubernetes:eks.amazonaws.com/v1:NodeClass")[0].inputs)
    node_class["spec"]["amiFamily"] = "AL2023"  # a Karpenter EC2NodeClass field Auto Mode's NodeClass lacks
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(node_class, CRD_SCHEMAS["kubernetes:eks.amazonaws.com/v1:NodeClass"])


def test_supported_versions_have_bundled_schemas():
    bundled = {kubernetes_validate.utils.major_minor(v) for v in kubernetes_validate.utils.all_versions()}
    assert set(SUPPORTED_EKS_VERSIONS) <= bundled


def test_schema_validation_catches_a_broken_manifest(primary_plan):
    dep = _manifest(primary_plan.of_type(DEPLOYMENT)[0].inputs)
    dep["spec"]["replicas"] = "twenty"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(dep, "1.33", strict=True)
    dep = _manifest(primary_plan.of_type(DEPLOYMENT)[0].inputs)
    dep["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonroot"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(dep, "1.33", strict=True)
