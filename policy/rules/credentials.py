"""Credential rules: no master (or any) credential in workload config or environment, rotation on every secret,
least-privilege data-store identities, a disabled Redis default user, and database audit logging."""

from __future__ import annotations

import re

from .engine import Resource, depends_on, get, items, of_type, resource_rule, stack_rule
from .kubernetes import POD_SPEC_PATHS, WORKLOAD_TYPES, _containers, _pod_spec
from .security import IAM_POLICY_TYPES, _as_list, _statements

SECRET = "aws:secretsmanager/secret:Secret"
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_PARAMS = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
CACHE_USER = "aws:elasticache/user:User"
K8S_CONFIGMAP = "kubernetes:core/v1:ConfigMap"
K8S_SECRET = "kubernetes:core/v1:Secret"
# Keys that name a credential (DB_PASSWORD, REDIS_AUTH_TOKEN, STRIPE_API_KEY, ...).
CREDENTIAL_KEY = re.compile(r"(PASSWORD|PASSWD|PASSPHRASE|AUTH_TOKEN|API_KEY|SECRET_KEY|PRIVATE_KEY)$", re.I)
DDL_LOG_STATEMENT = {"ddl", "mod", "all"}


def _master_usernames(resources: list[Resource]) -> set[str]:
    names = {get(r.props, "masterUsername") for r in of_type(resources, RDS_CLUSTER)}
    return {n for n in names if isinstance(n, str) and n}


def _data_entries(res: Resource) -> list[tuple[str, object]]:
    entries: list[tuple[str, object]] = []
    for key in ("data", "stringData"):
        value = get(res.props, key)
        if isinstance(value, dict):
            entries += list(value.items())
    return entries


@stack_rule(
    "workload-no-master-credentials",
    types=[K8S_CONFIGMAP, K8S_SECRET, *WORKLOAD_TYPES],
    enforcement="mandatory",
    controls=["SecretsManager.1"],
    description="No Kubernetes ConfigMap or Secret holds a database master username or a credential-named key, "
    "and no container takes credentials as environment variables (secretKeyRef / envFrom secretRef).",
    reason="A compromised service must not hold master access to the data (issue 17); services authenticate with "
    "short-lived IAM tokens, and any remaining credential is a mounted file, not an env var.",
)
def workload_no_master_credentials(resources: list[Resource]):
    masters = _master_usernames(resources)
    for res in [*of_type(resources, K8S_CONFIGMAP), *of_type(resources, K8S_SECRET)]:
        for key, value in _data_entries(res):
            if CREDENTIAL_KEY.search(str(key)):
                yield res, f"entry {key} is a credential: use IAM authentication (or a mounted, rotated secret)"
            if isinstance(value, str) and value in masters:
                yield res, f"entry {key} is the database master username '{value}'"
    for res in resources:
        if res.type not in POD_SPEC_PATHS:
            continue
        for where, container in _containers(_pod_spec(res)):
            for env in items(container, "env"):
                name, value = str(get(env, "name", "")), get(env, "value")
                if get(env, "valueFrom.secretKeyRef") is not None:
                    yield res, f"{where}: env {name} comes from a Secret (mount it as a file instead)"
                elif CREDENTIAL_KEY.search(name) or (isinstance(value, str) and value in masters):
                    yield res, f"{where}: env {name} carries a credential"
            for source in items(container, "envFrom"):
                if get(source, "secretRef") is not None:
                    yield res, f"{where}: envFrom a Secret puts credentials in environment variables"


@stack_rule(
    "secrets-rotation",
    types=[SECRET],
    enforcement="mandatory",
    controls=["SecretsManager.1", "SecretsManager.4"],
    description="Every Secrets Manager secret has a rotation schedule (a SecretRotation that references it).",
    reason="A leaked credential that never changes stays valid forever; rotation bounds its lifetime.",
)
def secrets_rotation(resources: list[Resource]):
    rotations = list(of_type(resources, SECRET_ROTATION))
    for secret in of_type(resources, SECRET):
        if not any(depends_on(rotation, secret) for rotation in rotations):
            yield secret, "secret has no SecretRotation"


@resource_rule(
    "data-connect-least-privilege",
    types=IAM_POLICY_TYPES,
    enforcement="mandatory",
    controls=["IAM.1"],
    description="rds-db:connect and elasticache:Connect name one database user / cache user, never a wildcard.",
    reason="IAM database authentication is only least privilege if each service may connect as itself only.",
)
def data_connect_least_privilege(res: Resource):
    for statement in _statements(get(res.props, "policy")):
        if statement.get("Effect") != "Allow":
            continue
        actions = {str(a).lower() for a in _as_list(statement.get("Action"))}
        resources = [str(r) for r in _as_list(statement.get("Resource"))]
        if actions & {"rds-db:connect", "rds-db:*"}:
            for arn in resources:
                if "*" in arn or not re.search(r":dbuser:[^/]+/[^/]+$", arn):
                    yield f"statement {statement.get('Sid', '?')}: rds-db:connect on '{arn}' is not one DB user"
        if actions & {"elasticache:connect", "elasticache:*"}:
            for arn in resources:
                if "*" in arn:
                    yield f"statement {statement.get('Sid', '?')}: elasticache:Connect on '{arn}' has a wildcard"


@resource_rule(
    "redis-default-user-disabled",
    types=[CACHE_USER],
    enforcement="mandatory",
    controls=["ElastiCache.6"],
    description="The ElastiCache user named `default` in a user group is disabled (`off`).",
    reason="The built-in default user can run every command without a password; RBAC means nothing if it stays.",
)
def redis_default_user_disabled(res: Resource):
    if get(res.props, "userName") == "default" and "off" not in str(get(res.props, "accessString", "")).split():
        yield "user 'default' is not disabled: its access string must contain `off`"


@resource_rule(
    "rds-audit-logging",
    types=[RDS_CLUSTER_PARAMS],
    enforcement="mandatory",
    controls=["RDS.36"],
    description="Aurora PostgreSQL cluster parameter groups load pgaudit (with pgaudit.log) or log DDL statements.",
    reason="Who changed schemas and grants must be on record (issue 17 item 6).",
)
def rds_audit_logging(res: Resource):
    if not str(get(res.props, "family", "")).startswith("aurora-postgresql"):
        return
    params = {str(get(p, "name")): str(get(p, "value", "")) for p in items(res.props, "parameters")}
    preload = {lib.strip() for lib in params.get("shared_preload_libraries", "").split(",")}
    pgaudit = "pgaudit" in preload and params.get("pgaudit.log", "none") not in ("", "none")
    if not pgaudit and params.get("log_statement") not in DDL_LOG_STATEMENT:
        yield "neither pgaudit (shared_preload_libraries + pgaudit.log) nor log_statement=ddl is set"
