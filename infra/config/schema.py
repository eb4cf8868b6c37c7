"""JSON Schema of a stack file (`python -m infra schema`), generated from the pydantic models."""

from __future__ import annotations

from typing import Any

from infra.config.stack import NAMESPACE, StackConfig


def stack_file_schema() -> dict[str, Any]:
    """A schema for the whole `Pulumi.<stack>.yaml` document: `config:` with `platform:<key>` entries."""
    model_schema = StackConfig.model_json_schema(by_alias=True)
    defs = model_schema.pop("$defs", {})
    properties = {f"{NAMESPACE}:{key}": value for key, value in model_schema["properties"].items()}
    required = [f"{NAMESPACE}:{key}" for key in model_schema.get("required", [])]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Pulumi stack file of the multi-region platform",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "properties": properties,
                "required": required,
                # Other namespaces (aws:, pulumi:, kubernetes:) are the providers' business.
                "patternProperties": {r"^(?!platform:)[a-zA-Z][\w-]*:": {}},
                "additionalProperties": False,
            },
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
        },
        "required": ["config"],
        "$defs": defs,
    }
