"""Read a stack's `platform:*` config once, from a stack file or from the Pulumi engine, into StackConfig.

Both paths share `parse_stack_config`, so `python -m infra check`, the offline plan and `pulumi up` accept and
reject exactly the same files with the same messages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from infra.config.errors import ConfigError, ConfigIssue
from infra.config.stack import NAMESPACE, StackConfig
from infra.config.strict import (
    DuplicateKeyError,
    StrictLoader,
    document_issues,
    duplicate_issue,
    looks_secret,
    redact,
    redact_credentials,
)

PREFIX = f"{NAMESPACE}:"


def stack_file_name(stack: str) -> str:
    """`Pulumi.<stack>.yaml`: the file a user edits for a stack."""
    return f"Pulumi.{stack}.yaml"


def read_stack_file(path: Path) -> dict[str, Any]:
    """The whole `config:` mapping of a stack file (all namespaces), or a ConfigError naming the file."""
    name = path.name
    if not path.is_file():
        raise ConfigError([ConfigIssue(name, "-", "the stack file does not exist.", f"create {path}.")])
    try:
        document = yaml.load(path.read_text(), Loader=StrictLoader) or {}  # a SafeLoader subclass
    except DuplicateKeyError as exc:
        raise ConfigError([duplicate_issue(name, exc)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(
            [
                ConfigIssue(
                    name,
                    "-",
                    redact_credentials(f"is not valid YAML ({exc}).".replace("\n", " ")),
                    "fix the YAML syntax.",
                )
            ]
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise ConfigError(
            [ConfigIssue(name, "config", "must be a mapping of config keys.", "see docs/configuration.md.")]
        )
    issues = document_issues(name, document)
    if issues:
        raise ConfigError(issues)
    return dict(document.get("config") or {})


def platform_keys(config: dict[str, Any]) -> dict[str, Any]:
    """The keys of our namespace with the prefix removed; `secure:` values become the marker `[secret]`."""
    raw: dict[str, Any] = {}
    for key, value in config.items():
        if key.startswith(PREFIX):
            raw[key[len(PREFIX) :]] = _unsecure(value)
    return raw


def _unsecure(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return "[secret]"
        return {k: _unsecure(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsecure(v) for v in value]
    return value


def parse_stack_config(raw: dict[str, Any], source: str) -> StackConfig:
    """Validate the namespace's keys (prefix removed) into a StackConfig; errors name `source` and key paths."""
    try:
        return StackConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError([_issue(source, error) for error in exc.errors()]) from None


def load_stack_file(path: Path) -> StackConfig:
    """Validate one `Pulumi.<stack>.yaml` file."""
    return parse_stack_config(platform_keys(read_stack_file(path)), path.name)


def load_from_engine(stack: str) -> StackConfig:
    """Validate the config the Pulumi engine hands the program (used by `pulumi up` / `preview`)."""
    from pulumi.runtime.config import CONFIG, get_config_env

    merged = {**get_config_env(), **CONFIG.get()}
    raw = {key[len(PREFIX) :]: _decode(value) for key, value in merged.items() if key.startswith(PREFIX)}
    return parse_stack_config(raw, stack_file_name(stack))


def engine_config(config: dict[str, Any]) -> dict[str, str]:
    """Encode a stack file's config the way the engine passes it to a program (objects as JSON strings)."""
    out: dict[str, str] = {}
    for key, value in config.items():
        value = _unsecure(value)
        out[key] = value if isinstance(value, str) else json.dumps(value)
    return out


def _decode(value: Any) -> Any:
    # The engine passes structured values as JSON strings and plain strings as themselves.
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


def _key_path(loc: tuple[Any, ...]) -> str:
    path = PREFIX.rstrip(":")
    for i, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += (":" if i == 0 else ".") + str(part)
    return path


def _field_info(loc: tuple[Any, ...]):
    """The pydantic FieldInfo at `loc` (aliases) and the model that holds it, when there is one."""
    model: type[BaseModel] | None = StackConfig
    info = None
    holder = None
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        fields = {(f.alias or n): f for n, f in model.model_fields.items()}
        info = fields.get(str(part))
        holder = model
        if info is None:
            return None, model
        model = _model_of(info.annotation)
    return info, holder


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _issue(source: str, error: dict[str, Any]) -> ConfigIssue:
    loc = tuple(error.get("loc", ()))
    kind = error.get("type", "")
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        _, holder = _field_info((*loc[:-1], "__none__"))
        allowed = sorted((f.alias or n) for n, f in holder.model_fields.items()) if holder else []
        return ConfigIssue(
            source,
            _key_path(loc),
            "is not a known setting.",
            f"remove it or correct the spelling; allowed keys here: {', '.join(allowed)}.",
        )
    info, _ = _field_info(loc)
    description = (info.description or "") if info is not None else ""
    if kind == "missing":
        return ConfigIssue(source, _key_path(loc), "is required but missing.", f"add it. {description}".strip())
    if "input" in error and kind not in {"missing"}:
        shown = error["input"]
        if looks_secret(_key_path(loc), shown):  # never echo a credential, not even inside the message
            message = redact(message, shown)
        elif not isinstance(shown, dict | list):
            message = f"{message} (got {shown!r})."
    if not message.endswith("."):
        message += "."
    fix = description or "see docs/configuration.md for the allowed values."
    return ConfigIssue(source, _key_path(loc), message, fix)
