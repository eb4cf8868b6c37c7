"""Every policy rule of the platform, in one place.

Used by the Pulumi policy pack (`policy/__main__.py`, run by `pulumi preview --policy-pack policy`) and by the
offline check (`python -m infra plan <stack> --policy`, `infra/policy_check.py`). Rules are plain functions over a
resource's type token and camelCase input properties; see `engine.py`.
"""

from . import compute, credentials, data, edge, kubernetes, platform, security  # noqa: F401  (registers the rules)
from .engine import (
    REGISTRY,
    UNKNOWN,
    Finding,
    Resource,
    Rule,
    UnknownValue,
    evaluate,
    normalize,
)
from .platform import REQUIRED_TAG_KEYS

RULES: dict[str, Rule] = REGISTRY.rules

__all__ = [
    "REQUIRED_TAG_KEYS",
    "RULES",
    "UNKNOWN",
    "Finding",
    "Resource",
    "Rule",
    "UnknownValue",
    "evaluate",
    "normalize",
]
