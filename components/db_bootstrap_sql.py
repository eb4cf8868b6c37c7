"""The SQL the database bootstrap Job runs: schemas, one IAM-authenticated role per service, and its grants.

Idempotent and converging: every run revokes what a role has on each managed schema before granting what the
config says, so a grant removed from config is removed from the database on the next run. On a cluster that is
not the writer (`pg_is_in_recovery()`, i.e. an Aurora global secondary, which is read-only) it does nothing:
roles and grants are catalog data that the global database replicates from the writer.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Privilege = Literal["read", "insert", "write"]
_IDENT = r"^[a-z_][a-z0-9_]{0,62}$"
TABLE_PRIVILEGES: dict[str, str] = {
    "read": "SELECT",
    "insert": "INSERT",  # append-only, e.g. audit-logging on audit: it can neither read nor change history
    "write": "SELECT, INSERT, UPDATE, DELETE",
}
SEQUENCE_PRIVILEGES: dict[str, str | None] = {"read": None, "insert": "USAGE", "write": "USAGE, SELECT"}


class DbRole(BaseModel):
    """A service's PostgreSQL role and its privilege per schema."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(..., pattern=_IDENT, description="Role name (the service's DB_USERNAME).")
    grants: dict[str, Privilege] = Field(default_factory=dict, description="Schema -> privilege.")


def bootstrap_sql(schemas: list[str], roles: list[DbRole]) -> str:
    """psql script, run as the master user (read from Secrets Manager at run time, never written here). It owns
    the schemas and creates the tables (migrations), so its default privileges (ALTER DEFAULT PRIVILEGES without
    FOR ROLE = the current role) give tables created later the same grants."""
    lines = [
        r"\set ON_ERROR_STOP on",
        r"SELECT pg_is_in_recovery() AS standby \gset",
        r"\if :standby",
        r"\echo 'read-only global secondary: roles and grants replicate from the writer; nothing to do'",
        r"\quit",
        r"\endif",
        "BEGIN;",
        "CREATE EXTENSION IF NOT EXISTS pgaudit;",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
    ]
    for schema in schemas:
        lines.append(f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION CURRENT_USER;")
    for role in roles:
        r = role.name
        lines += [
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{r}') THEN CREATE ROLE {r}; "
            "END IF; END $$;",
            # Login only with an IAM token (rds_iam); no password, no elevated attributes.
            f"ALTER ROLE {r} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD NULL;",
            f"GRANT rds_iam TO {r};",
        ]
        for schema in schemas:
            lines += [
                f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {r};",
                f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {r};",
                f"REVOKE ALL ON SCHEMA {schema} FROM {r};",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON TABLES FROM {r};",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON SEQUENCES FROM {r};",
            ]
        for schema, privilege in sorted(role.grants.items()):
            tables, sequences = TABLE_PRIVILEGES[privilege], SEQUENCE_PRIVILEGES[privilege]
            lines += [
                f"GRANT USAGE ON SCHEMA {schema} TO {r};",
                f"GRANT {tables} ON ALL TABLES IN SCHEMA {schema} TO {r};",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {tables} ON TABLES TO {r};",
            ]
            if sequences:
                lines += [
                    f"GRANT {sequences} ON ALL SEQUENCES IN SCHEMA {schema} TO {r};",
                    f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {sequences} ON SEQUENCES TO {r};",
                ]
    lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


# Reads the master secret from Secrets Manager into a pgpass file in the pod's memory-backed /tmp (never an env
# var of the pod spec, never a Kubernetes Secret), then runs the script against this Region's writer endpoint.
RUN_SH = r"""#!/bin/sh
set -eu
umask 077
aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$MASTER_SECRET_ID" \
  --query SecretString --output text > /tmp/master.json
python3 - <<'PY'
import json, os
secret = json.load(open("/tmp/master.json"))
escape = lambda v: str(v).replace("\\", "\\\\").replace(":", "\\:")
with open("/tmp/pgpass", "w") as out:
    out.write(f"{os.environ['PGHOST']}:5432:*:{escape(secret['username'])}:{escape(secret['password'])}\n")
with open("/tmp/pguser", "w") as out:
    out.write(secret["username"])
PY
rm -f /tmp/master.json
PGUSER="$(cat /tmp/pguser)" PGPASSFILE=/tmp/pgpass PGSSLMODE=require PGDATABASE=postgres \
  psql --no-psqlrc -f /bootstrap/bootstrap.sql
rm -f /tmp/pgpass /tmp/pguser
"""
