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

from infra.config.errors import ConfigError, ConfigFix, ConfigIssue
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
    text = path.read_text()
    if not text.strip() or all(line.lstrip().startswith("#") for line in text.splitlines() if line.strip()):
        raise ConfigError(
            [
                ConfigIssue(
                    name,
                    "-",
                    "the stack file is empty.",
                    "copy a stack file of the same role and edit it (README, Adding a Region), or delete the file.",
                )
            ]
        )
    try:
        document = yaml.load(text, Loader=StrictLoader)  # a SafeLoader subclass
    except DuplicateKeyError as exc:
        raise ConfigError([duplicate_issue(name, exc)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([_yaml_issue(name, text, exc)]) from None
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise ConfigError(
            [
                ConfigIssue(
                    name,
                    "config",
                    "must be a mapping of config keys.",
                    "write `config:` and below it one `platform:<section>:` key per line (see docs/configuration.md).",
                )
            ]
        )
    issues = document_issues(name, document)
    if issues:
        raise ConfigError(issues)
    return dict(document.get("config") or {})


def _yaml_issue(name: str, text: str, exc: yaml.YAMLError) -> ConfigIssue:
    """A YAML syntax error at its line and column, with the offending line and a caret under the column."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    started = getattr(exc, "context_mark", None)
    if context and started is not None:
        context += f" that starts at line {started.line + 1}, column {started.column + 1}"
    what = f"{problem} ({context})" if context else problem
    if mark is None:
        return ConfigIssue(name, "-", redact_credentials(f"is not valid YAML: {what}."), "fix the YAML syntax.")
    line, column = mark.line + 1, mark.column + 1
    lines = text.splitlines()
    shown = lines[mark.line] if mark.line < len(lines) else ""
    gutter = f"    {line} | "
    excerpt = f"\n{gutter}{shown}\n{' ' * (len(gutter) - 2)}| {' ' * mark.column}^"
    return ConfigIssue(
        name,
        "-",
        redact_credentials(f"line {line}, column {column}: not valid YAML: {what}.{excerpt}\n"),
        "correct the syntax at that position (indent with spaces, `key: value`, quote values containing `: ` or `#`).",
    )


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
    if kind == "missing":
        return ConfigIssue(source, _key_path(loc), "is required but missing.", _missing_fix(loc, info))
    ctx = error.get("ctx") or {}
    raised = ctx.get("error")
    # A custom validator's ConfigFix carries its own fix; pydantic's built-in errors get one from their type.
    fix = _custom_fix(raised, info, loc) if isinstance(raised, ConfigFix) else _fix(kind, ctx, info, loc)
    if "input" in error and kind not in {"missing"}:
        shown = error["input"]
        if looks_secret(_key_path(loc), shown):  # never echo a credential, not even inside the message or fix
            message, fix = redact(message, shown), redact(fix, shown)
        elif not isinstance(shown, dict | list):
            message = f"{message} (got {shown!r})."
    if not message.endswith("."):
        message += "."
    # A model-level rule may quote any value of its section: drop credential-shaped ones there too.
    return ConfigIssue(source, _key_path(loc), redact_credentials(message), redact_credentials(fix))


def _bounds(info) -> str:
    """`from 2 to 6`, `at least 1`, `at most 35` from a field's constraints ('' without any)."""
    low = high = None
    for item in getattr(info, "metadata", []) or []:
        low = getattr(item, "ge", None) if getattr(item, "ge", None) is not None else low
        low = f"more than {item.gt}" if getattr(item, "gt", None) is not None else low
        high = getattr(item, "le", None) if getattr(item, "le", None) is not None else high
        high = f"less than {item.lt}" if getattr(item, "lt", None) is not None else high
    if low is not None and high is not None:
        return f"from {low} to {high}" if not isinstance(low, str) and not isinstance(high, str) else f"{low}, {high}"
    if low is not None:
        return f"at least {low}" if not isinstance(low, str) else low
    if high is not None:
        return f"at most {high}" if not isinstance(high, str) else high
    return ""


def _default_hint(info, loc: tuple[Any, ...]) -> str:
    leaf = str(loc[-1]) if loc else "it"
    if info is None or info.is_required():
        return ""
    default = info.get_default(call_default_factory=True)
    if isinstance(default, BaseModel):
        return f", or remove `{leaf}` to use the defaults"
    return f", or remove `{leaf}` to use the default ({json.dumps(default, default=str)})"


def _custom_fix(raised: ConfigFix, info, loc: tuple[Any, ...]) -> str:
    """A custom validator's fix, plus how to get the default back when the key has a plain (scalar) default."""
    default = None if info is None or info.is_required() else info.get_default(call_default_factory=True)
    plain = isinstance(default, bool | int | float | str) and bool(loc) and isinstance(loc[-1], str)
    return f"{raised.fix.rstrip('.')}{_default_hint(info, loc) if plain else ''}."


def _fix(kind: str, ctx: dict[str, Any], info, loc: tuple[Any, ...]) -> str:
    """What to write instead: the allowed values or range, the right type; never just the field's description."""
    bounds = _bounds(info)
    default = _default_hint(info, loc)
    if kind in ("literal_error", "enum"):
        return f"use one of {ctx.get('expected', 'the documented values')}{default}."
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"use a value {bounds or 'in the documented range'}{default}."
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"use a whole number{' ' + bounds if bounds else ''}{default}."
    if kind in ("float_parsing", "float_type"):
        return f"use a number{' ' + bounds if bounds else ''}{default}."
    if kind in ("bool_parsing", "bool_type"):
        return f"use true or false{default}."
    if kind in ("string_type",):
        return f"use a string (quote it in YAML){default}."
    if kind in ("list_type", "tuple_type", "set_type"):
        return f"use a YAML list (`[a, b]`, or one `- item` per line){default}."
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "use a mapping (`key: value` lines indented below it); docs/configuration.md lists its keys."
    if kind == "string_pattern_mismatch":
        return f"use a value matching the pattern {ctx.get('pattern')}{default}."
    if kind in ("too_short", "too_long", "string_too_short", "string_too_long"):
        limits = {k: v for k, v in ctx.items() if k in ("min_length", "max_length")}
        sizes = " and ".join(f"{k.replace('_', ' ')} {v}" for k, v in limits.items())
        return f"give it {sizes or 'the documented length'}{default}."
    if bounds:
        return f"use a value {bounds}{default}."
    if default:
        return f"give it a value this rule allows{default}."
    section = _key_path(loc[:1]) if loc else "platform"
    return f"give it a value this rule allows (docs/configuration.md, `{section}`)."


def _missing_fix(loc: tuple[Any, ...], info) -> str:
    leaf = str(loc[-1]) if loc else "it"
    bounds = _bounds(info)
    what = f" ({info.description.rstrip('.')})" if info is not None and info.description else ""
    return f"add `{leaf}: <value>`{what}{'; ' + bounds if bounds else ''}."
