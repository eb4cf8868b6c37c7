"""Workloads section (`platform:workloads`): the seed's application services on the regional EKS cluster."""

from __future__ import annotations

import hashlib
import math
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import ConfigModel
from infra.config.errors import ConfigFix

_DNS_LABEL = r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"
_IMAGE_REPO = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9-]+)*(:\d+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_PG_ROLE = r"^[a-z_][a-z0-9_]{0,62}$"
SchemaPrivilege = Literal["read", "insert", "write"]

_REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/devtools"

# Seed 001 schemas (`CREATE SCHEMA user_management / analytics / audit / configuration`).
SEED_SCHEMAS = ("user_management", "analytics", "audit", "configuration")


def placeholder_digest(name: str, tag: str) -> str:
    """A syntactically valid digest for the seed's example images. It is a PLACEHOLDER (sha256 of
    `<name>:<tag>`): the adopter replaces it with the digest their registry reports for the pushed image."""
    return "sha256:" + hashlib.sha256(f"{name}:{tag}".encode()).hexdigest()


# Seed 001 `application_layer.core_services` (instances, cpu, memory, scaling bounds and metric), plus each
# service's least-privilege data access (schemas per seed description; Redis keys under its own prefix).
DEFAULT_SERVICES = (
    {"name": "claude-api", "image": f"{_REGISTRY}/claude-api", "tag": "1.0.0", "instances": 20, "cpu": 4,
     "memory_gib": 8, "min_replicas": 10, "max_replicas": 100, "metric": "cpu", "target_utilization": 70,
     "scale_up_stabilization_seconds": 300, "scale_down_stabilization_seconds": 900, "public": True,
     "database": {"grants": {"user_management": "read", "configuration": "read", "analytics": "insert"}}},
    {"name": "user-management", "image": f"{_REGISTRY}/user-management", "tag": "1.0.0", "instances": 10,
     "cpu": 2, "memory_gib": 4, "min_replicas": 5, "max_replicas": 50, "metric": "cpu", "target_utilization": 60,
     "allowed_from": ["claude-api"],
     "database": {"grants": {"user_management": "write", "configuration": "read"}}},
    {"name": "audit-logging", "image": f"{_REGISTRY}/audit-logging", "tag": "1.0.0", "instances": 8, "cpu": 2,
     "memory_gib": 6, "min_replicas": 4, "max_replicas": 40, "metric": "memory", "target_utilization": 80,
     "allowed_from": ["claude-api", "user-management", "analytics"],
     "database": {"grants": {"audit": "insert"}}},
    {"name": "analytics", "image": f"{_REGISTRY}/analytics", "tag": "1.0.0", "instances": 6, "cpu": 4,
     "memory_gib": 16, "min_replicas": 3, "max_replicas": 30, "metric": "cpu", "target_utilization": 70,
     "allowed_from": ["claude-api"],
     "database": {"grants": {"analytics": "read"}}},
)  # fmt: skip
for _svc in DEFAULT_SERVICES:
    _svc["digest"] = placeholder_digest(_svc["name"], _svc["tag"])  # type: ignore[index]


class ServiceDatabaseConfig(ConfigModel):
    """The service's own PostgreSQL role (IAM database authentication) and its privileges per schema."""

    user: str | None = Field(
        None, pattern=_PG_ROLE, description="PostgreSQL role; default: the service name with `_` for `-`."
    )
    grants: dict[str, SchemaPrivilege] = Field(
        default_factory=dict,
        description="Schema -> `read` (SELECT), `insert` (INSERT only, e.g. audit), `write` (SELECT, INSERT, "
        "UPDATE, DELETE). Empty: the service gets no database role at all.",
    )


class ServiceCacheConfig(ConfigModel):
    """The service's own ElastiCache user (IAM authentication) and the keys it may touch."""

    key_prefix: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Keys `<prefix>:*`; default: the service name."
    )
    access: Literal["readwrite", "read", "none"] = Field(
        "readwrite", description="Commands on its keys: `readwrite`, `read` only, or `none` (no Redis user)."
    )


class PinnedImage(ConfigModel):
    """An image: repository, informational tag and the digest that is pulled."""

    image: str = Field(
        ...,
        description=(
            "Image repository without tag, e.g. `123456789012.dkr.ecr.{region}.amazonaws.com/api` (`{region}` = "
            "the stack's Region; an ECR registry of another Region is refused by the fleet check)."
        ),
    )
    tag: str | None = Field(None, description="Image tag (never `latest`); kept for readability beside `digest`.")
    digest: str | None = Field(
        None,
        description="Image digest `sha256:<64 hex>`; the image is pulled by digest. `python -m infra check` refuses a "
        "production stack (environment `prod*`) whose services have a tag but no digest.",
    )

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        if "@" in value or not _IMAGE_REPO.match(value):
            raise ConfigFix(
                f"'{value}' is not an image repository without tag or digest",
                "write the repository only, e.g. 123456789012.dkr.ecr.{region}.amazonaws.com/claude-api, and put "
                "the tag in `tag` and the digest in `digest`",
            )
        return value

    @field_validator("tag")
    @classmethod
    def _tag(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if value.lower() == "latest":
            raise ConfigFix(
                "`latest` is mutable and not allowed", "pin an immutable tag (e.g. 1.4.2) and set `digest` beside it"
            )
        if not _TAG.match(value):
            raise ConfigFix(
                f"'{value}' is not a valid image tag",
                "use 1-128 letters, digits and _ . -, not starting with . or - (e.g. 1.4.2)",
            )
        return value

    @field_validator("digest")
    @classmethod
    def _digest(cls, value: str | None) -> str | None:
        if value is not None and not _DIGEST.match(value):
            raise ConfigFix(
                "is not an image digest",
                "write sha256:<64 lowercase hex characters>, as `aws ecr describe-images` or `docker buildx "
                "imagetools inspect` print it",
            )
        return value

    @model_validator(mode="after")
    def _pinned(self) -> PinnedImage:
        if self.tag is None and self.digest is None:
            raise ConfigFix("has neither `tag` nor `digest`", "set `digest` to sha256:<64 hex> (and optionally `tag`)")
        return self

    @property
    def image_ref(self) -> str:
        """`repo:tag@digest` pulls by digest (the tag is informational); `repo:tag` only without a digest."""
        tag = f":{self.tag}" if self.tag else ""
        return f"{self.image}{tag}@{self.digest}" if self.digest else f"{self.image}{tag}"


class ServiceConfig(PinnedImage):
    """One service of seed 001's application layer: size, scaling bounds, image and network reach."""

    name: str = Field(..., pattern=_DNS_LABEL, description="Service name (DNS label), e.g. `claude-api`.")
    namespace: str | None = Field(None, pattern=_DNS_LABEL, description="Namespace; default: the service name.")
    instances: int = Field(..., ge=1, le=1000, description="Seed instance count = initial replicas.")
    cpu: float = Field(..., gt=0, le=192, description="vCPU per pod (seed `resources.cpu`), requests = limits.")
    memory_gib: float = Field(..., gt=0, le=1024, description="Memory GiB per pod (seed `resources.memory`).")
    min_replicas: int = Field(..., ge=1, le=1000, description="HPA minimum (seed `scaling.min_instances`).")
    max_replicas: int = Field(..., ge=1, le=1000, description="HPA maximum (seed `scaling.max_instances`).")
    metric: Literal["cpu", "memory"] = Field("cpu", description="HPA resource metric (seed target_*_utilization).")
    target_utilization: int = Field(70, ge=10, le=100, description="HPA target average utilization (%).")
    scale_up_stabilization_seconds: int = Field(0, ge=0, le=3600, description="HPA scale-up window (cooldown).")
    scale_down_stabilization_seconds: int = Field(300, ge=0, le=3600, description="HPA scale-down window.")
    port: int = Field(8080, ge=1024, le=65535, description="Container port (non-root, so >= 1024).")
    health_path: str = Field("/healthz", pattern=r"^/", description="Liveness/startup probe path.")
    readiness_path: str = Field("/ready", pattern=r"^/", description="Readiness probe path.")
    pdb_max_unavailable: str = Field("10%", pattern=r"^(\d+|\d{1,2}%)$", description="PDB maxUnavailable.")
    public: bool = Field(False, description="Behind the regional ALB (exactly one service, the API).")
    allowed_from: list[str] = Field(
        default_factory=list, description="Other services (names) allowed to call this one (NetworkPolicy)."
    )
    database: ServiceDatabaseConfig = Field(default_factory=ServiceDatabaseConfig)  # type: ignore[arg-type]
    cache: ServiceCacheConfig = Field(default_factory=ServiceCacheConfig)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _bounds(self) -> ServiceConfig:
        if not self.min_replicas <= self.instances <= self.max_replicas:
            within = (
                f"set instances within {self.min_replicas}..{self.max_replicas}"
                if self.min_replicas <= self.max_replicas
                else f"lower minReplicas to at most maxReplicas ({self.max_replicas})"
            )
            raise ConfigFix(
                f"service '{self.name}': need minReplicas <= instances <= maxReplicas "
                f"(got {self.min_replicas} / {self.instances} / {self.max_replicas})",
                f"keep minReplicas <= instances <= maxReplicas in service '{self.name}': {within}",
            )
        return self

    @property
    def ns(self) -> str:
        return self.namespace or self.name

    @property
    def db_user(self) -> str | None:
        """This service's PostgreSQL role, or None when it has no grants (no database access)."""
        if not self.database.grants:
            return None
        return self.database.user or self.name.replace("-", "_")

    @property
    def cache_prefix(self) -> str:
        return self.cache.key_prefix or self.name


class DbBootstrapConfig(PinnedImage):
    """The in-cluster Job (writer Region only) that creates the schemas, the services' roles and their grants."""

    namespace: str = Field(
        "platform-db-bootstrap", pattern=_DNS_LABEL,
        description="Namespace of the Job: the only one whose identity may read the master secret; grant no "
        "team access to it.",
    )  # fmt: skip
    image: str = Field(
        f"{_REGISTRY}/db-bootstrap",
        description="Image with `psql`, `python3` and the AWS CLI v2 (e.g. built FROM postgres:16 + awscli).",
    )
    tag: str | None = Field("1.0.0", description="Image tag (informational beside the digest).")
    digest: str | None = Field(
        placeholder_digest("db-bootstrap", "1.0.0"), description="Image digest `sha256:<64 hex>` (placeholder)."
    )
    schemas: list[str] = Field(
        default_factory=lambda: list(SEED_SCHEMAS), min_length=1, description="Schemas the Job creates (seed 001)."
    )

    @field_validator("schemas")
    @classmethod
    def _schema_names(cls, value: list[str]) -> list[str]:
        bad = [name for name in value if not re.match(_PG_ROLE, name)]
        if bad:
            raise ConfigFix(
                f"schema names {bad} are not lowercase SQL identifiers",
                "start with a letter or _, then letters, digits or _ (at most 63, lower case), e.g. user_management",
            )
        return value


class WorkloadsConfig(ConfigModel):
    """The application services; a stack that is not the writer region runs them scaled by `warmStandbyFactor`."""

    warm_standby_factor: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Fraction of replicas / HPA minimum a non-writer (warm standby) stack runs; HPA maximum kept.",
    )
    services: list[ServiceConfig] = Field(
        default_factory=lambda: [ServiceConfig(**svc) for svc in DEFAULT_SERVICES],
        min_length=1,
        description="The services (seed 001 core_services).",
    )
    db_bootstrap: DbBootstrapConfig = Field(default_factory=DbBootstrapConfig)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _services(self) -> WorkloadsConfig:
        names = [svc.name for svc in self.services]
        if len(set(names)) != len(names):
            twice = sorted({name for name in names if names.count(name) > 1})
            raise ConfigFix(
                f"service names must be unique (got {names})", f"give each service its own name (rename {twice})"
            )
        public = [svc.name for svc in self.services if svc.public]
        if len(public) != 1:
            raise ConfigFix(
                f"exactly one service must be `public: true` (the ALB target); got {public}",
                "set `public: true` on the API service only (claude-api in the seed) and remove it from the others",
            )
        for svc in self.services:
            unknown = [name for name in svc.allowed_from if name not in names]
            if unknown:
                raise ConfigFix(
                    f"service '{svc.name}': allowedFrom names unknown services {unknown}",
                    f"name services from {names} in allowedFrom of service '{svc.name}', or remove {unknown}",
                )
            schemas = [name for name in svc.database.grants if name not in self.db_bootstrap.schemas]
            if schemas:
                raise ConfigFix(
                    f"service '{svc.name}': database.grants names schemas {schemas} that dbBootstrap.schemas "
                    f"does not create ({self.db_bootstrap.schemas})",
                    f"add {schemas} to dbBootstrap.schemas, or remove them from database.grants of service "
                    f"'{svc.name}'",
                )
        users = [svc.db_user for svc in self.services if svc.db_user]
        if len(set(users)) != len(users):
            twice = sorted({user for user in users if users.count(user) > 1})
            raise ConfigFix(
                f"services must have distinct database users (got {users})",
                f"set database.user of the services sharing {twice} to distinct PostgreSQL roles",
            )
        if self.db_bootstrap.namespace in self.namespaces:
            raise ConfigFix(
                f"dbBootstrap.namespace '{self.db_bootstrap.namespace}' must not be a service namespace",
                f"set dbBootstrap.namespace to a namespace no service uses (not {self.namespaces}), e.g. "
                "platform-db-bootstrap",
            )
        return self

    def scaled(self, value: int, standby: bool) -> int:
        """`value` for this stack: unchanged when active, else scaled by the factor (at least 1)."""
        return max(1, math.ceil(value * self.warm_standby_factor)) if standby else value

    @property
    def namespaces(self) -> list[str]:
        return sorted({svc.ns for svc in self.services})
