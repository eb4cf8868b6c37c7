"""A strict reading of stack files: what plain YAML loading and the models let through silently.

- a key given twice in one mapping (YAML keeps the last one; Pulumi's own loader refuses the file);
- the same setting spelt twice, `camelCase` and `snake_case` (the models accept both names);
- an unknown top-level key, a config key without a namespace or with an unknown one (`platfrom:`): a whole
  section would silently fall back to its defaults;
- a plaintext credential: a secret-named key whose value is not `secure:`, or a value shaped like a known
  credential, anywhere in `config:`. Errors never echo such a value (`redact`).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import yaml
from pydantic.alias_generators import to_camel

from infra.config.errors import ConfigIssue

NAMESPACE = "platform"
# Top-level keys of a Pulumi stack settings file (pulumi/pulumi sdk/go/common/workspace/project.go, ProjectStack).
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
# Config namespaces this project reads or passes to its providers; anything else is a typo until added here.
KNOWN_NAMESPACES = (NAMESPACE, "aws", "kubernetes", "random", "pulumi")
# Keys whose value is a credential: Pulumi expects them as `secure:` (encrypted with the stack's secrets provider).
SECRET_KEY = re.compile(
    r"(password|passwd|passphrase|secret|secretkey|token|apikey|privatekey|accesskey|credential)$", re.IGNORECASE
)
# Values shaped like well-known credentials (AWS access key ids, private keys, GitHub/Slack tokens, JWTs).
SECRET_VALUE = re.compile(
    r"(\b(AKIA|ASIA)[A-Z0-9]{16}\b|-----BEGIN [A-Z ]*PRIVATE KEY-----|\bgh[pousr]_[A-Za-z0-9]{36,}\b"
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.)"
)
REDACTED = "[redacted]"


class DuplicateKeyError(yaml.YAMLError):
    def __init__(self, key: Any, first: yaml.Mark, again: yaml.Mark):
        super().__init__(f"key '{key}' is given twice")
        self.key, self.first, self.again = key, first, again


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (merge keys `<<` may still be overridden)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise DuplicateKeyError(key, seen[key], key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def duplicate_issue(file: str, exc: DuplicateKeyError) -> ConfigIssue:
    return ConfigIssue(
        file,
        str(exc.key),
        f"is given twice (line {exc.first.line + 1} and line {exc.again.line + 1}, column {exc.again.column + 1}); "
        "YAML would silently keep the last one.",
        "keep one of them and delete the other.",
    )


def looks_secret(key: str, value: Any) -> bool:
    """A plaintext value that must not be echoed: a secret-named key's string or a credential-shaped string."""
    if not isinstance(value, str) or not value or value == "[secret]":
        return False
    last = re.split(r"[:.\[\]]", key.rstrip("]"))[-1].replace("_", "").replace("-", "")
    return bool(SECRET_KEY.search(last) or SECRET_VALUE.search(value))


def redact(text: str, value: Any) -> str:
    return text.replace(str(value), REDACTED) if str(value) else text


def redact_credentials(text: str) -> str:
    """Credential-shaped substrings removed (e.g. from a YAML parser's quote of the offending line)."""
    return SECRET_VALUE.sub(REDACTED, text)


def document_issues(file: str, document: dict[str, Any]) -> list[ConfigIssue]:
    """Problems in a parsed stack file that the `platform:` models cannot see."""
    issues: list[ConfigIssue] = []
    for key in document:
        if key not in STACK_FILE_KEYS:
            issues.append(
                ConfigIssue(
                    file,
                    str(key),
                    "is not a key of a Pulumi stack file (its settings would be ignored).",
                    f"{did_you_mean(str(key), STACK_FILE_KEYS)}allowed top-level keys: {', '.join(STACK_FILE_KEYS)}.",
                )
            )
    config = document.get("config") or {}
    if isinstance(config, dict):
        issues.extend(config_issues(file, config))
    return issues


def config_issues(file: str, config: dict[str, Any]) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    for key, value in config.items():
        key = str(key)
        namespace, sep, _ = key.partition(":")
        if not sep:
            issues.append(
                ConfigIssue(
                    file,
                    key,
                    "has no namespace: Pulumi reads it as the project's key 'platform:" + key + "', and a second "
                    "spelling of a setting is a mistake waiting to happen.",
                    f"write it as 'platform:{key}'.",
                )
            )
        elif namespace not in KNOWN_NAMESPACES:
            issues.append(
                ConfigIssue(
                    file,
                    key,
                    f"is in the unknown config namespace '{namespace}': nothing reads it, so its settings would "
                    "silently fall back to the defaults.",
                    f"{did_you_mean(namespace, KNOWN_NAMESPACES)}namespaces read here: {', '.join(KNOWN_NAMESPACES)}.",
                )
            )
        issues.extend(_secret_issues(file, key, value))
        if namespace == NAMESPACE:
            issues.extend(_spelling_twice(file, key, value))
    return issues


def _secret_issues(file: str, path: str, value: Any) -> list[ConfigIssue]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return []
        return [i for k, v in value.items() for i in _secret_issues(file, f"{path}.{k}", v)]
    if isinstance(value, list):
        return [i for n, v in enumerate(value) for i in _secret_issues(file, f"{path}[{n}]", v)]
    if not looks_secret(path, value):
        return []
    return [
        ConfigIssue(
            file,
            path,
            "holds a plaintext secret (value not shown); stack files are committed, and Pulumi encrypts secrets "
            "only when they are given as `secure:`.",
            f"remove it and run `pulumi config set --secret {path.split('.')[0]} <value>` (a structured key: "
            "`--path --secret`), which stores it as `secure: <ciphertext>`; rotate the exposed credential.",
        )
    ]


def _spelling_twice(file: str, path: str, value: Any) -> list[ConfigIssue]:
    """`writerInstanceClass` and `writer_instance_class` in one mapping: both are accepted, one silently wins."""
    issues: list[ConfigIssue] = []
    if isinstance(value, dict):
        by_name: dict[str, list[str]] = {}
        for key in value:
            by_name.setdefault(to_camel(str(key)), []).append(str(key))
        for names in by_name.values():
            if len(names) > 1:
                issues.append(
                    ConfigIssue(
                        file,
                        f"{path}.{names[0]}",
                        f"is given twice, as {' and '.join(repr(n) for n in names)}.",
                        f"keep only the camelCase key '{to_camel(names[0])}'.",
                    )
                )
        for key, child in value.items():
            issues.extend(_spelling_twice(file, f"{path}.{key}", child))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            issues.extend(_spelling_twice(file, f"{path}[{index}]", child))
    return issues


def did_you_mean(word: str, choices: tuple[str, ...]) -> str:
    """`did you mean 'x'? ` for the closest of `choices` (a prefix for a fix), or '' when none is close."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'? " if close else ""
