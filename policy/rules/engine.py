"""The rule engine shared by the Pulumi policy pack and the offline check (`python -m infra plan <stack> --policy`).

A rule is a plain function over one resource (type token, camelCase input properties, URN, name) or over the
whole stack (every resource, with dependencies). It yields violation messages. Nothing here imports Pulumi, so the
same functions run inside `pulumi preview --policy-pack policy` (see policy/__main__.py) and on the offline plan.

Unknown values (`pulumi preview` before a resource exists, or `[unknown]` in the offline plan) are never guessed:
reading one through `get()` raises `UnknownValue` and the rule is reported as "not evaluated" for that resource.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Enforcement = Literal["mandatory", "advisory"]

# The offline plan writes unknown values as "[unknown]"; pulumi-policy uses these sentinels (pulumi_policy/proxy.py).
UNKNOWN_STRINGS = frozenset(
    {
        "[unknown]",
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)


class _Unknown:
    """The single marker for a value that is not known yet."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()


class UnknownValue(Exception):
    """A rule read a value that is not known yet; the rule cannot be evaluated on this resource."""

    def __init__(self, path: str) -> None:
        super().__init__(f"value at .{path} is not known yet")
        self.path = path


def normalize(value: Any) -> Any:
    """Plain dicts/lists with unknowns replaced by UNKNOWN (accepts pulumi-policy's read-only proxies)."""
    if isinstance(value, str):
        return UNKNOWN if value in UNKNOWN_STRINGS else value
    if isinstance(value, Mapping):
        out = {}
        for key in value:
            try:
                out[key] = normalize(value[key])
            except Exception as exc:  # pulumi_policy.proxy.UnknownValueError
                if type(exc).__name__ != "UnknownValueError":
                    raise
                out[key] = UNKNOWN
        return out
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        items = []
        for index in range(len(value)):
            try:
                items.append(normalize(value[index]))
            except Exception as exc:
                if type(exc).__name__ != "UnknownValueError":
                    raise
                items.append(UNKNOWN)
        return items
    return value


_MISSING = object()


def get(props: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """`get(props, "vpcConfig.endpointPublicAccess")`; list indexes are numbers (`"rules.0.name"`).

    Missing or None -> `default`; an unknown value anywhere on the path -> `UnknownValue`.
    """
    current: Any = props
    for part in path.split("."):
        if current is UNKNOWN:
            raise UnknownValue(path)
        if isinstance(current, Mapping):
            current = current.get(part, _MISSING)
        elif isinstance(current, list) and part.isdigit():
            index = int(part)
            current = current[index] if index < len(current) else _MISSING
        else:
            current = _MISSING
        if current is _MISSING or current is None:
            return default
    if current is UNKNOWN:
        raise UnknownValue(path)
    return current


def items(props: Mapping[str, Any], path: str) -> list[Any]:
    """A list-valued property (a single object counts as a one-element list; missing -> [])."""
    value = get(props, path, [])
    if isinstance(value, list):
        for index, item in enumerate(value):
            if item is UNKNOWN:
                raise UnknownValue(f"{path}.{index}")
        return value
    return [value]


def is_true(value: Any) -> bool:
    """pulumi-aws sends some booleans as strings (launch template `encrypted: "true"`)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


@dataclass(frozen=True)
class Resource:
    """One resource as a rule sees it."""

    type: str
    props: Mapping[str, Any]
    urn: str = ""
    name: str = ""
    dependencies: tuple[str, ...] = ()

    @property
    def ancestor_types(self) -> tuple[str, ...]:
        """Types of the parent chain encoded in the URN (`...::platform:compute:RegionalAlb$aws:...::name`)."""
        parts = self.urn.split("::")
        if len(parts) < 4:
            return ()
        return tuple(parts[2].split("$")[:-1])

    @property
    def label(self) -> str:
        return self.name or self.urn or self.type


ResourceCheck = Callable[[Resource], Iterable[str]]
StackCheck = Callable[[list[Resource]], Iterable[tuple[Resource, str]]]


@dataclass(frozen=True)
class Rule:
    """A policy: which resources it looks at, what it requires, how hard, and why."""

    id: str
    description: str
    enforcement: Enforcement
    reason: str
    controls: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    check: ResourceCheck | None = None
    stack_check: StackCheck | None = None

    @property
    def scope(self) -> str:
        return "stack" if self.stack_check else "resource"

    def applies_to(self, resource_type: str) -> bool:
        return not self.types or resource_type in self.types

    def check_resource(self, resource: Resource) -> list[str]:
        if self.check is None or not self.applies_to(resource.type):
            return []
        return list(self.check(resource))

    def check_stack(self, resources: list[Resource]) -> list[tuple[Resource, str]]:
        if self.stack_check is None:
            return []
        return list(self.stack_check(resources))


@dataclass
class Finding:
    rule: Rule
    resource: Resource | None
    message: str
    evaluated: bool = True

    @property
    def enforcement(self) -> Enforcement:
        return self.rule.enforcement


@dataclass
class Registry:
    rules: dict[str, Rule] = field(default_factory=dict)

    def add(self, rule: Rule) -> Rule:
        if rule.id in self.rules:
            raise ValueError(f"duplicate rule id {rule.id}")
        if rule.enforcement not in ("mandatory", "advisory"):
            raise ValueError(f"{rule.id}: enforcement must be mandatory or advisory")
        self.rules[rule.id] = rule
        return rule


REGISTRY = Registry()


def resource_rule(
    id: str,
    *,
    types: Sequence[str],
    enforcement: Enforcement,
    description: str,
    reason: str,
    controls: Sequence[str] = (),
) -> Callable[[ResourceCheck], ResourceCheck]:
    """Register `fn(resource) -> Iterable[message]` as a rule on `types`."""

    def register(fn: ResourceCheck) -> ResourceCheck:
        REGISTRY.add(Rule(id, description, enforcement, reason, tuple(controls), tuple(types), check=fn))
        return fn

    return register


def stack_rule(
    id: str,
    *,
    enforcement: Enforcement,
    description: str,
    reason: str,
    controls: Sequence[str] = (),
    types: Sequence[str] = (),
) -> Callable[[StackCheck], StackCheck]:
    """Register `fn(resources) -> Iterable[(resource, message)]` as a rule over the whole stack."""

    def register(fn: StackCheck) -> StackCheck:
        REGISTRY.add(Rule(id, description, enforcement, reason, tuple(controls), tuple(types), stack_check=fn))
        return fn

    return register


def evaluate(resources: Iterable[Resource], rules: Iterable[Rule] | None = None) -> list[Finding]:
    """Run every rule on every resource (and every stack rule once). Unknowns become `evaluated=False` findings."""
    resources = list(resources)
    selected = list(REGISTRY.rules.values() if rules is None else rules)
    findings: list[Finding] = []
    for rule in selected:
        if rule.check is not None:
            for resource in resources:
                try:
                    messages = rule.check_resource(resource)
                except UnknownValue as exc:
                    findings.append(Finding(rule, resource, str(exc), evaluated=False))
                    continue
                findings.extend(Finding(rule, resource, message) for message in messages)
        if rule.stack_check is not None:
            try:
                findings.extend(Finding(rule, res, message) for res, message in rule.check_stack(resources))
            except UnknownValue as exc:
                findings.append(Finding(rule, None, str(exc), evaluated=False))
    return findings


def of_type(resources: Iterable[Resource], *types: str) -> Iterator[Resource]:
    return (r for r in resources if r.type in types)


def depends_on(resource: Resource, target: Resource, props_key: str | None = None, value: Any = None) -> bool:
    """Whether `resource` references `target`: by dependency URN (both engines record it) or by an input value."""
    if target.urn and target.urn in resource.dependencies:
        return True
    if props_key is not None and value not in (None, UNKNOWN):
        try:
            return get(resource.props, props_key) == value
        except UnknownValue:
            return False
    return False
