"""RAM's policy language: a policy document (JSON text) parsed into typed statements.

Grammar (RAM's, https://help.aliyun.com/document_detail/93738.html):

    {"Version": "1",
     "Statement": [{"Effect": "Allow" | "Deny",
                    "Action" | "NotAction": "svc:Name" | ["svc:Na*e", ...],
                    "Resource" | "NotResource": "acs:svc:region:account:type/id" | [...],
                    "Condition": {"Operator": {"key": value | [values]}}}]}

A trust policy (a role's AssumeRolePolicyDocument) has `Principal` instead of `Resource`.
Anything else is refused with a `PolicyError` whose position says where.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from palisade.auditor.model.ram.conditions import ConditionClause, find_operator, parse_policy_value
from palisade.auditor.model.ram.errors import PolicyError
from palisade.auditor.model.ram.wildcard import wildcard_match
from palisade.auditor.model.schema import Schema, SchemaError, validate

MAX_POLICY_DOCUMENT_LENGTH = 6144
MALFORMED = "MalformedPolicyDocument"
TOO_LONG = "InvalidParameter.PolicyDocument.Length"

# `*`, or `service:ActionName`; either part may carry `*`/`?`.
_ACTION_RE = re.compile(r"\*|[A-Za-z0-9*?_-]+:[A-Za-z0-9*?_.-]+")
# acs:<service>:<region>:<account>:<relative id>; the relative id may hold further colons.
_RESOURCE_RE = re.compile(r"\*|acs:[A-Za-z0-9*?_-]*:[A-Za-z0-9*?_-]*:[A-Za-z0-9*?_-]*:\S+")
_CONDITION_KEY_RE = re.compile(r"[A-Za-z0-9_.*-]+:[A-Za-z0-9_.:/*-]+")


class Effect(enum.Enum):
    ALLOW = "Allow"
    DENY = "Deny"


class PolicyKind(enum.Enum):
    PERMISSION = "permission"
    TRUST = "trust"


@dataclass(frozen=True)
class Principal:
    """Who a trust policy lets assume the role: service names, RAM ARNs, IdP ARNs."""

    services: tuple[str, ...] = ()
    ram: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()


@dataclass(frozen=True)
class Statement:
    index: int
    effect: Effect
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[ConditionClause, ...]
    principal: Principal | None = None

    def matches_action(self, action: str) -> bool:
        hit = any(wildcard_match(p, action, ignore_case=True) for p in self.actions)
        return not hit if self.not_action else hit

    def matches_resource(self, resource: str) -> bool:
        if not self.resources and not self.not_resource:
            return True  # trust policies carry no Resource
        hit = any(wildcard_match(p, resource) for p in self.resources)
        return not hit if self.not_resource else hit

    def matches_principal_service(self, service: str) -> bool:
        if self.principal is None:
            return False
        return any(wildcard_match(p, service, ignore_case=True) for p in self.principal.services)


@dataclass(frozen=True)
class PolicyDocument:
    version: str
    statements: tuple[Statement, ...]
    kind: PolicyKind = PolicyKind.PERMISSION


class _Object(dict):
    """A JSON object that remembers keys given twice (json keeps only the last)."""

    duplicates: tuple[str, ...] = ()


def _object_hook(pairs: list[tuple[str, object]]) -> _Object:
    obj = _Object()
    seen: list[str] = []
    for key, value in pairs:
        if key in obj:
            seen.append(key)
        obj[key] = value
    obj.duplicates = tuple(seen)
    return obj


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def _decode(text: str) -> object:
    try:
        return json.loads(text, object_pairs_hook=_object_hook, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise PolicyError(
            MALFORMED,
            f"the policy document is not valid JSON: {exc.msg}",
            f"line {exc.lineno} column {exc.colno}",
            line=exc.lineno,
            column=exc.colno,
        ) from None
    except ValueError as exc:  # NaN / Infinity, or an integer with too many digits
        raise PolicyError(MALFORMED, f"the policy document is not valid JSON: {exc}", "") from None
    except RecursionError:
        raise PolicyError(MALFORMED, "the policy document is nested too deeply", "") from None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _fail(message: str, path: str) -> PolicyError:
    return PolicyError(MALFORMED, message, path)


def _require_object(value: object, path: str, what: str) -> _Object:
    if not isinstance(value, _Object):
        raise _fail(f"{what} must be a JSON object, not {_type_name(value)}", path)
    if value.duplicates:
        raise _fail(
            f"field {value.duplicates[0]!r} is given twice", _join(path, value.duplicates[0])
        )
    return value


# The keys of each object of the language, as schemas: a key not listed is an error at its
# path. The values are RAM's grammar (action names, ARNs, condition operators and values),
# read below; JSON's duplicate keys, which a schema cannot see, by `_require_object`.
class _Document(Schema):
    Version: Any = None
    Statement: Any = None


class _PermissionStatement(Schema):
    Effect: Any = None
    Action: Any = None
    NotAction: Any = None
    Resource: Any = None
    NotResource: Any = None
    Condition: Any = None


class _TrustStatement(Schema):
    Effect: Any = None
    Action: Any = None
    NotAction: Any = None
    Principal: Any = None
    Condition: Any = None


class _Principal(Schema):
    Service: Any = None
    RAM: Any = None
    Federated: Any = None


_KEYS: dict[type[Schema], frozenset[str]] = {}


def _check_fields(obj: _Object, path: str, shape: type[Schema]) -> None:
    keys = _KEYS.get(shape)
    if keys is None:
        keys = _KEYS[shape] = frozenset(shape.model_fields)
    if obj.keys() <= keys:
        return  # the common case, without a validation call: documents are parsed on load
    try:
        validate(shape, obj, path)
    except SchemaError as err:
        expected = ", ".join(shape.model_fields)
        raise _fail(f"{err.message} (expected one of {expected})", err.where.lstrip(".")) from None


def _string_list(value: object, path: str, what: str) -> Iterator[tuple[str, str]]:
    """(item path, item) for a string or a non-empty list of strings."""
    if isinstance(value, str):
        yield path, value
        return
    if not isinstance(value, list):
        raise _fail(f"{what} must be a string or an array of strings", path)
    if not value:
        raise _fail(f"{what} must not be empty", path)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise _fail(f"{what} must be a string, not {_type_name(item)}", f"{path}[{i}]")
        yield f"{path}[{i}]", item


def _parse_actions(value: object, path: str) -> tuple[str, ...]:
    actions = []
    for item_path, action in _string_list(value, path, "an action"):
        if not action:
            raise _fail("an action must not be empty", item_path)
        if ":" not in action and action != "*":
            raise _fail(f"action {action!r} is not of the form service:ActionName", item_path)
        if not _ACTION_RE.fullmatch(action):
            raise _fail(f"action {action!r} is not a valid action name", item_path)
        actions.append(action)
    return tuple(actions)


def _parse_resources(value: object, path: str) -> tuple[str, ...]:
    resources = []
    for item_path, resource in _string_list(value, path, "a resource"):
        if not _RESOURCE_RE.fullmatch(resource):
            raise _fail(
                f"resource {resource!r} is neither * nor an ARN "
                "acs:<service>:<region>:<account>:<resource>",
                item_path,
            )
        resources.append(resource)
    return tuple(resources)


def _parse_conditions(value: object, path: str) -> tuple[ConditionClause, ...]:
    block = _require_object(value, path, "Condition")
    clauses = []
    for op_name, keys in block.items():
        op_path = _join(path, op_name)
        operator = find_operator(op_name)
        if operator is None:
            raise _fail(f"unknown condition operator {op_name!r}", op_path)
        key_block = _require_object(keys, op_path, f"the keys of {op_name}")
        if not key_block:
            raise _fail(f"{op_name} names no condition key", op_path)
        for key, raw_values in key_block.items():
            key_path = _join(op_path, key)
            if not _CONDITION_KEY_RE.fullmatch(key):
                raise _fail(f"condition key {key!r} is not of the form service:KeyName", key_path)
            items = raw_values if isinstance(raw_values, list) else [raw_values]
            listed = isinstance(raw_values, list)
            if not items:
                raise _fail(f"{key} lists no value", key_path)
            values = []
            for i, raw in enumerate(items):
                item_path = f"{key_path}[{i}]" if listed else key_path
                if isinstance(raw, (list, dict)) or raw is None:
                    raise _fail(
                        f"a condition value must be a string, number or boolean, "
                        f"not {_type_name(raw)}",
                        item_path,
                    )
                try:
                    values.append(parse_policy_value(operator.kind, raw))
                except (ValueError, TypeError) as exc:
                    raise _fail(f"bad value for {operator.name}: {exc}", item_path) from None
            clauses.append(ConditionClause(operator, key, tuple(values)))
    return tuple(clauses)


def _parse_principal(value: object, path: str) -> Principal:
    block = _require_object(value, path, "Principal")
    _check_fields(block, path, _Principal)
    if not block:
        raise _fail("Principal names nobody", path)
    parts = {
        kind: tuple(item for _, item in _string_list(block[kind], _join(path, kind), kind))
        for kind in block
    }
    for kind, items in parts.items():
        for i, item in enumerate(items):
            if not item:
                raise _fail(f"a {kind} principal must not be empty", f"{_join(path, kind)}[{i}]")
    return Principal(
        services=parts.get("Service", ()),
        ram=parts.get("RAM", ()),
        federated=parts.get("Federated", ()),
    )


def _parse_statement(value: object, index: int, path: str, kind: PolicyKind) -> Statement:
    obj = _require_object(value, path, "a statement")
    _check_fields(
        obj, path, _PermissionStatement if kind is PolicyKind.PERMISSION else _TrustStatement
    )

    if "Effect" not in obj:
        raise _fail("the statement has no Effect", _join(path, "Effect"))
    effect_raw = obj["Effect"]
    try:
        effect = Effect(effect_raw) if isinstance(effect_raw, str) else None
    except ValueError:
        effect = None
    if effect is None:
        raise _fail(f"Effect must be Allow or Deny, not {effect_raw!r}", _join(path, "Effect"))

    if "Action" in obj and "NotAction" in obj:
        raise _fail("a statement has Action or NotAction, not both", _join(path, "NotAction"))
    if "Action" not in obj and "NotAction" not in obj:
        raise _fail("the statement has no Action", _join(path, "Action"))
    action_field = "Action" if "Action" in obj else "NotAction"
    actions = _parse_actions(obj[action_field], _join(path, action_field))

    resources: tuple[str, ...] = ()
    not_resource = False
    principal = None
    if kind is PolicyKind.PERMISSION:
        if "Resource" in obj and "NotResource" in obj:
            raise _fail(
                "a statement has Resource or NotResource, not both", _join(path, "NotResource")
            )
        if "Resource" not in obj and "NotResource" not in obj:
            raise _fail("the statement has no Resource", _join(path, "Resource"))
        resource_field = "Resource" if "Resource" in obj else "NotResource"
        not_resource = resource_field == "NotResource"
        resources = _parse_resources(obj[resource_field], _join(path, resource_field))
    else:
        if "Principal" not in obj:
            raise _fail("a trust policy statement needs a Principal", _join(path, "Principal"))
        principal = _parse_principal(obj["Principal"], _join(path, "Principal"))

    conditions: tuple[ConditionClause, ...] = ()
    if "Condition" in obj:
        conditions = _parse_conditions(obj["Condition"], _join(path, "Condition"))

    return Statement(
        index=index,
        effect=effect,
        actions=actions,
        not_action=action_field == "NotAction",
        resources=resources,
        not_resource=not_resource,
        conditions=conditions,
        principal=principal,
    )


def parse_policy(text: str, kind: PolicyKind = PolicyKind.PERMISSION) -> PolicyDocument:
    """Parse and validate a policy document; raises PolicyError naming the bad spot."""
    if not isinstance(text, str):
        raise PolicyError(MALFORMED, "the policy document must be text", "")
    if not text.strip():
        raise PolicyError(MALFORMED, "the policy document is empty", "")
    if len(text) > MAX_POLICY_DOCUMENT_LENGTH:
        raise PolicyError(
            TOO_LONG,
            f"the policy document has {len(text)} characters; "
            f"RAM allows at most {MAX_POLICY_DOCUMENT_LENGTH}",
            "",
        )
    top = _require_object(_decode(text), "", "the policy document")
    _check_fields(top, "", _Document)
    if "Version" not in top:
        raise _fail("the policy document has no Version", "Version")
    if top["Version"] != "1":
        raise _fail(f'Version must be "1", not {json.dumps(top["Version"])}', "Version")
    if "Statement" not in top:
        raise _fail("the policy document has no Statement", "Statement")
    raw_statements = top["Statement"]
    statements: tuple[Statement, ...]
    if isinstance(raw_statements, _Object):
        statements = (_parse_statement(raw_statements, 0, "Statement", kind),)
    elif isinstance(raw_statements, list):
        if not raw_statements:
            raise _fail("Statement must not be empty", "Statement")
        statements = tuple(
            _parse_statement(item, i, f"Statement[{i}]", kind)
            for i, item in enumerate(raw_statements)
        )
    else:
        raise _fail("Statement must be an object or an array of objects", "Statement")
    return PolicyDocument(version="1", statements=statements, kind=kind)


def parse_trust_policy(text: str) -> PolicyDocument:
    """Parse a role's AssumeRolePolicyDocument."""
    return parse_policy(text, PolicyKind.TRUST)


def trusts_service(trust: PolicyDocument, service: str) -> bool:
    """Whether `trust` lets `service` (e.g. `ecs.aliyuncs.com`) call sts:AssumeRole.

    Conditions cannot be judged without a request, so a statement with conditions counts for
    an Allow only when it has none and always counts for a Deny (the cautious reading).
    """
    allowed = False
    for statement in trust.statements:
        if not (
            statement.matches_action("sts:AssumeRole")
            and statement.matches_principal_service(service)
        ):
            continue
        if statement.effect is Effect.DENY:
            return False
        if not statement.conditions:
            allowed = True
    return allowed


__all__ = [
    "Effect",
    "MAX_POLICY_DOCUMENT_LENGTH",
    "PolicyDocument",
    "PolicyKind",
    "Principal",
    "Statement",
    "parse_policy",
    "parse_trust_policy",
    "trusts_service",
]
