"""Issue 17 on the real stacks: no master credential in any workload object or output, one least-privilege
database and cache identity per service, rotation on every secret, audit logging. Each assertion reads real
synthesized resources of both stack files."""

from __future__ import annotations

import json
import re

import pytest

from infra.config.errors import ConfigError
from infra.config.fleet import fleet_issues, load_fleet
from infra.plan.model import Plan
from infra.plan.runner import REPO_ROOT
from infra.policy_check import plan_resources
from policy.rules import RULES

MASTER = "platform_admin"
CONFIGMAP, K8S_SECRET = "kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Secret"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
CACHE_USER, USER_GROUP = "aws:elasticache/user:User", "aws:elasticache/userGroup:UserGroup"
SECRET, ROTATION = "aws:secretsmanager/secret:Secret", "aws:secretsmanager/secretRotation:SecretRotation"
SERVICES = {"claude-api": "claude_api", "user-management": "user_management", "audit-logging": "audit_logging",
            "analytics": "analytics"}  # fmt: skip


@pytest.fixture(scope="module", params=["us-east-1", "eu-west-1"])
def plan(request, plans) -> Plan:
    return plans[request.param]


def test_no_workload_object_or_output_holds_master_credentials(plan):
    for res in [*plan.of_type(CONFIGMAP), *plan.of_type(K8S_SECRET)]:
        assert MASTER not in json.dumps(res.inputs), res.name  # not even in the bootstrap script
        keys = [key.upper() for key in (res.inputs.get("data") or {})]
        assert not [k for k in keys if "PASSWORD" in k or "TOKEN" in k], res.name
    outputs = json.dumps(plan.outputs)
    # the one secret output: the origin lock's header values (docs/edge-and-traffic.md), not a data-path credential
    others = json.dumps({k: v for k, v in plan.outputs.items() if k != "originVerifyValues"})
    assert MASTER not in outputs and "[secret]" not in others
    assert not {"auroraMasterPassword", "auroraMasterUsername", "redisAuthToken"} & set(plan.outputs)
    # and the containers take nothing from a Secret as environment variables
    for dep in plan.of_type("kubernetes:apps/v1:Deployment"):
        for container in dep.inputs["spec"]["template"]["spec"]["containers"]:
            assert all("secretRef" not in source for source in container.get("envFrom", [])), dep.name


def _service_policies(plan: Plan) -> dict[str, dict]:
    return {
        r.name.removesuffix("-role-policy"): json.loads(r.inputs["policy"])
        for r in plan.of_type(ROLE_POLICY)
        if r.name.removesuffix("-role-policy") in SERVICES
    }


def test_each_service_connects_only_as_its_own_database_and_cache_user(plan):
    policies = _service_policies(plan)
    assert set(policies) == set(SERVICES)
    users = {u.name.removeprefix("redis-user-"): u.inputs for u in plan.of_type(CACHE_USER) if "-user-" in u.name}
    group_arn = (
        f"arn:aws:elasticache:{plan.stack}:123456789012:replicationgroup:{plan.outputs['redisReplicationGroupId']}"
    )
    for service, db_user in SERVICES.items():
        statements = {s["Sid"]: s for s in policies[service]["Statement"]}
        assert set(statements) == {"ConnectAsOwnDatabaseRole", "ConnectAsOwnCacheUser"}
        db = statements["ConnectAsOwnDatabaseRole"]
        assert db["Action"] == "rds-db:connect"
        assert re.fullmatch(rf"arn:aws:rds-db:{plan.stack}:123456789012:dbuser:cluster-[A-Z0-9]+/{db_user}",
                            db["Resource"]), db["Resource"]  # fmt: skip
        cache = statements["ConnectAsOwnCacheUser"]
        assert cache["Action"] == "elasticache:Connect"
        assert cache["Resource"] == [group_arn, f"arn:aws:elasticache:{plan.stack}:123456789012:user:"
                                                f"{users[service]['userId']}"]  # fmt: skip
    # the workload tells the service which identity it is (a name, not a credential)
    for cm in plan.of_type(CONFIGMAP):
        data = cm.inputs.get("data", {})
        if data.get("SERVICE_NAME") in SERVICES:
            assert data["DB_USERNAME"] == SERVICES[data["SERVICE_NAME"]]
            assert data["REDIS_USERNAME"] == users[data["SERVICE_NAME"]]["userId"]


def test_redis_user_group_has_one_iam_user_per_service_and_a_disabled_default(plan):
    group = plan.one(USER_GROUP).inputs
    users = {u.inputs["userId"]: u.inputs for u in plan.of_type(CACHE_USER)}
    assert sorted(group["userIds"]) == sorted(users)
    default = [u for u in users.values() if u["userName"] == "default"]
    assert len(default) == 1 and default[0]["accessString"] == "off -@all"
    services = [u for u in users.values() if u["userName"] != "default"]
    assert len(services) == len(SERVICES)
    for user in services:
        assert user["authenticationMode"] == {"type": "iam"} and user["userName"] == user["userId"]
        service = user["userId"].removeprefix(plan.outputs["namePrefix"] + "-")
        assert user["accessString"].startswith(f"on ~{service}:* -@all ")  # its own keys only
        assert "~*" not in user["accessString"] and "+@dangerous" not in user["accessString"]


def test_every_secret_rotates_and_the_rule_would_catch_one_that_does_not(plan):
    secrets = plan.of_type(SECRET)
    rotations = plan.of_type(ROTATION)
    for secret in secrets:
        assert any(secret.urn in r.dependencies for r in rotations), secret.name
    for rotation in rotations:
        assert rotation.inputs["rotationRules"]["automaticallyAfterDays"] == 30
        assert rotation.inputs["rotationLambdaArn"].startswith(f"arn:aws:lambda:{plan.stack}:")
    resources = plan_resources(plan)
    rule = RULES["secrets-rotation"]
    assert rule.check_stack(resources) == []
    if secrets:  # drop the rotations: the mandatory rule fails the plan
        assert rule.check_stack([r for r in resources if r.type != ROTATION])


def test_master_secret_rotation_runs_in_the_vpc(primary_plan):
    app = primary_plan.one("aws:serverlessrepository/cloudFormationStack:CloudFormationStack").inputs
    assert app["applicationId"].endswith(":applications/SecretsManagerRDSPostgreSQLRotationSingleUser")
    assert app["parameters"]["vpcSubnetIds"] == ",".join(primary_plan.outputs["privateSubnetIds"])
    assert app["parameters"]["endpoint"] == "https://secretsmanager.us-east-1.amazonaws.com"
    # a refresh after a rotation must not write the initial password back
    version = primary_plan.one("aws:secretsmanager/secretVersion:SecretVersion", "aurora-master-secret-value")
    assert version.inputs["secretString"] == "[secret]"


def test_cluster_parameter_group_loads_pgaudit_and_the_log_keeps_config_retention(plan):
    params = plan.one("aws:rds/clusterParameterGroup:ClusterParameterGroup").inputs
    values = {p["name"]: p for p in params["parameters"]}
    assert "pgaudit" in values["shared_preload_libraries"]["value"].split(",")
    assert values["shared_preload_libraries"]["applyMethod"] == "pending-reboot"  # static parameter
    assert values["pgaudit.log"]["value"] == "ddl,role"
    cluster = plan.one("aws:rds/cluster:Cluster").inputs
    assert cluster["enabledCloudwatchLogsExports"] == ["postgresql"]
    log = plan.one("aws:cloudwatch/logGroup:LogGroup", "aurora-postgresql-log").inputs
    assert log["name"] == f"/aws/rds/cluster/{cluster['clusterIdentifier']}/postgresql"
    assert log["retentionInDays"] == 365 and log["kmsKeyId"] == cluster["kmsKeyId"]


def test_images_are_pinned_by_digest_and_check_refuses_a_tag_alone(plans, write_stacks):
    for plan in plans.values():
        for res in plan.resources:
            if res.type in ("kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job"):
                for container in res.inputs["spec"]["template"]["spec"]["containers"]:
                    assert re.search(r"@sha256:[a-f0-9]{64}$", container["image"]), container["image"]

    def tag_only(doc: dict) -> None:
        doc["platform:workloads"]["services"][1].pop("digest")

    with pytest.raises(ConfigError) as caught:
        load_fleet(write_stacks({"eu-west-1": tag_only}))
    issues = caught.value.issues
    assert [(i.file, i.key) for i in issues] == [("Pulumi.eu-west-1.yaml", "platform:workloads.services[1].digest")]
    assert "production" in issues[0].message and "sha256" in issues[0].fix

    def staging(doc: dict) -> None:
        doc["platform:environment"] = "staging"
        tag_only(doc)

    # outside production a tag alone is accepted (the rule is explicit about what it refuses)
    stacks = {name: cfg for name, cfg in load_fleet(REPO_ROOT).stacks.items()}
    from infra.config.loader import load_stack_file

    stacks["eu-west-1"] = load_stack_file(write_stacks({"eu-west-1": staging}) / "Pulumi.eu-west-1.yaml")
    assert [i.key for i in fleet_issues(stacks) if i.key.endswith(".digest")] == []


def test_db_bootstrap_runs_only_in_the_writer_region_with_the_only_master_secret_access(primary_plan, secondary_plan):
    assert secondary_plan.of_type("kubernetes:batch/v1:Job") == []
    job = primary_plan.one("kubernetes:batch/v1:Job").inputs
    env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["MASTER_SECRET_ID"] == primary_plan.outputs["auroraMasterSecretName"]  # a name, not a value
    assert job["metadata"]["namespace"] == "platform-db-bootstrap"
    # it must be schedulable: the system pool is tainted CriticalAddonsOnly and the Job tolerates nothing
    pod = job["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"platform/pool": "application"} and "tolerations" not in pod
    pools = [r.inputs["spec"]["template"] for r in primary_plan.of_type("kubernetes:karpenter.sh/v1:NodePool")]
    app_pools = [t for t in pools if t["metadata"]["labels"]["platform/pool"] == "application"]
    assert app_pools and all(not t["spec"].get("taints") for t in app_pools)
    policies = [json.loads(r.inputs["policy"]) for r in primary_plan.of_type(ROLE_POLICY)]
    readers = [p for p in policies if any("secretsmanager:GetSecretValue" in s["Action"] for s in p["Statement"])]
    assert len(readers) == 1  # only the bootstrap Job's role may read the master secret
    assert readers[0]["Statement"][0]["Resource"].endswith(":secret:devtools-prod/aurora/master-??????")
    script = primary_plan.one(CONFIGMAP, "db-bootstrap-script").inputs["data"]["bootstrap.sql"]
    assert "GRANT INSERT ON ALL TABLES IN SCHEMA audit TO audit_logging;" in script
    assert "GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO analytics;" in script
    assert "IN SCHEMA audit TO analytics" not in script and "GRANT rds_iam TO claude_api;" in script


def test_stack_files_use_placeholder_digests_the_config_documents():
    fleet = load_fleet(REPO_ROOT)
    for cfg in fleet.stacks.values():
        assert all(svc.digest and svc.tag for svc in cfg.workloads.services)


def test_edit_access_entries_cannot_read_secrets(plan):
    """AmazonEKSEditPolicy can read Secrets; the team-lead / senior-developer entries get a ClusterRole that cannot,
    bound in the service namespaces only, and no namespace they reach is the bootstrap namespace."""
    policies = plan.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert not [p for p in policies if p.inputs["policyArn"].endswith("/AmazonEKSEditPolicy")]
    role = plan.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "team-edit-role").inputs
    resources = {(group, res) for rule in role["rules"] for group in rule["apiGroups"] for res in rule["resources"]}
    assert ("", "configmaps") in resources and ("apps", "deployments") in resources
    assert not {res for _, res in resources} & {"secrets", "*", "pods/exec", "pods/attach", "pods/portforward"}
    assert all("*" not in rule["verbs"] for rule in role["rules"])
    bindings = plan.of_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
    assert sorted(b.inputs["metadata"]["namespace"] for b in bindings) == sorted(SERVICES)
    for binding in bindings:
        assert binding.inputs["subjects"] == [
            {"kind": "Group", "name": "platform-edit-no-secrets", "apiGroup": "rbac.authorization.k8s.io"}
        ]
        assert binding.inputs["roleRef"]["kind"] == "ClusterRole"
    reached = {ns for p in policies for ns in p.inputs["accessScope"].get("namespaces", [])}
    assert "platform-db-bootstrap" not in reached


def test_route53_query_logging_in_us_east_1_with_config_retention(primary_plan, secondary_plan):
    log = primary_plan.one("aws:cloudwatch/logGroup:LogGroup", "dns-query-log-log").inputs
    assert log["region"] == "us-east-1" and log["name"] == "/aws/route53/devtools.example.com"
    assert log["retentionInDays"] == 365 and log["kmsKeyId"]
    query_log = primary_plan.one("aws:route53/queryLog:QueryLog").inputs
    assert query_log["zoneId"] == primary_plan.outputs["hostedZoneId"]
    policy = json.loads(
        primary_plan.one("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "dns-query-log-policy").inputs[
            "policyDocument"
        ]
    )
    statement = policy["Statement"][0]
    assert statement["Principal"] == {"Service": "route53.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"].endswith(primary_plan.outputs["hostedZoneId"])
    # the zone belongs to the primary: the secondary builds no query log of its own
    assert secondary_plan.of_type("aws:route53/queryLog:QueryLog") == []


def test_query_logging_from_a_primary_outside_us_east_1_is_a_config_error():
    fleet = load_fleet(REPO_ROOT)
    moved = fleet.stacks["us-east-1"].model_copy(update={"region": "us-west-2"})
    issues = [i for i in fleet_issues({**fleet.stacks, "us-east-1": moved}) if "queryLogging" in i.key]
    assert len(issues) == 1 and "us-east-1" in issues[0].message and "queryLogging: false" in issues[0].fix


def test_no_access_entry_may_reach_the_bootstrap_namespace(write_stacks):
    def widen(doc: dict) -> None:
        doc["platform:compute"]["access"]["team_lead"]["namespaces"] = ["claude-api", "platform-db-bootstrap"]

    with pytest.raises(ConfigError) as caught:
        load_fleet(write_stacks({"us-east-1": widen}))
    [issue] = caught.value.issues
    assert (issue.file, issue.key) == ("Pulumi.us-east-1.yaml", "platform:compute.access.team_lead.namespaces")
    assert "master secret" in issue.message


def test_rotation_failures_page_the_critical_tier(plan):
    rule = plan.one("aws:cloudwatch/eventRule:EventRule", "secret-rotation-alert-rule").inputs
    pattern = json.loads(rule["eventPattern"])
    assert pattern["source"] == ["aws.secretsmanager"]
    assert set(pattern["detail"]["eventName"]) == {"RotationFailed", "RotationAbandoned"}
    target = plan.one("aws:cloudwatch/eventTarget:EventTarget", "secret-rotation-alert-target").inputs
    assert target["arn"] == plan.outputs["alertTopicArns"]["critical"]
    topic_policy = json.loads(
        plan.one("aws:sns/topicPolicy:TopicPolicy", "observability-critical-policy").inputs["policy"]
    )
    assert any(s.get("Principal") == {"Service": "events.amazonaws.com"} for s in topic_policy["Statement"])


def test_the_bootstrap_job_follows_the_writer_after_a_switchover(flipped_plans):
    """With the writer in eu-west-1 the Job runs there, against the replica secret (found by name, AWS-managed key),
    and the old primary Region no longer runs DDL against what is now a read-only secondary."""
    assert flipped_plans["us-east-1"].of_type("kubernetes:batch/v1:Job") == []
    job = flipped_plans["eu-west-1"].one("kubernetes:batch/v1:Job").inputs
    env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["AWS_REGION"] == "eu-west-1" and env["MASTER_SECRET_ID"] == "devtools-prod/aurora/master"
    policy = json.loads(flipped_plans["eu-west-1"].one(ROLE_POLICY, "db-bootstrap-role-policy").inputs["policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["ReadTheMasterSecret"]
    assert policy["Statement"][0]["Resource"].startswith("arn:aws:secretsmanager:eu-west-1:")
