"""The baseline engine (Wazuh SCA style): policies are YAML data, this evaluates them against a
plain dict view of the agent's baseline facts (`baseline_facts`).

A policy file:

    policy: {id, title, description, platform: linux|windows|any}
    requires: [rule, ...]          # the policy applies only when these hold (e.g. sshd present)
    checks:
      - id, title, severity (serious|suspicious|remind), rationale, remediation,
        compliance: [{cis_debian_12: ["5.1.20"]}, ...]
        condition: all | any | none          # over the rules (default all)
        each: files                          # optional: evaluate per item of a list fact ...
        where: {role: host_key, exists: true}  # ... that matches these fields
        rules:
          - {fact: sshd.config.maxauthtries, op: le, value: 4, default: 6}

A fact missing with no `default` makes a rule unknown; a check whose outcome depends on an
unknown rule is "not_applicable" (no finding either way).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from pydantic import BeforeValidator, model_validator

from palisade.auditor.model.schema import Schema, SchemaError, ShortText, Text, validate
from palisade.shared.proto import facts_pb2

STATUSES = ("passed", "failed", "not_applicable")
_MISSING = object()


class BaselinePolicyError(ValueError):
    """A policy file is not valid (unknown operator, missing field, ...)."""


@dataclass(frozen=True)
class Rule:
    fact: str
    op: str
    value: Any = None
    default: Any = _MISSING

    def describe(self) -> str:
        return (
            f"{self.fact} {self.op} {self.value!r}"
            if self.value is not None
            else (f"{self.fact} {self.op}")
        )


@dataclass(frozen=True)
class BaselineCheck:
    id: str
    title: str
    severity: str
    rationale: str
    remediation: str
    rules: tuple[Rule, ...]
    condition: str = "all"
    compliance: tuple[dict, ...] = ()
    each: str | None = None
    where: dict = field(default_factory=dict)


@dataclass(frozen=True)
class BaselinePolicy:
    id: str
    title: str
    platform: str
    checks: tuple[BaselineCheck, ...]
    requires: tuple[Rule, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class CheckResult:
    policy_id: str
    check: BaselineCheck
    status: str
    failures: tuple[dict, ...] = ()  # what failed: {"item": ..., "rules": [...]}


# ------------------------------------------------------------------ loading


def _operator(value: object) -> object:
    if not isinstance(value, str) or value not in OPERATORS:
        raise ValueError(f"unknown operator {value!r}; use one of {sorted(OPERATORS)}")
    return value


class RuleDoc(Schema):
    """`{fact, op, value, default}` as a policy file writes it."""

    fact: Text
    op: Annotated[str, BeforeValidator(_operator)]
    value: Any = None
    default: Any = None  # given or not: `model_fields_set` tells

    @model_validator(mode="after")
    def _value_fits_the_operator(self) -> RuleDoc:
        if self.op in _LIST_OPERATORS and not isinstance(self.value, list):
            raise ValueError(f"{self.op} takes a list as its value")
        if self.op == "between" and not (isinstance(self.value, list) and len(self.value) == 2):
            raise ValueError("between takes [low, high] as its value")
        return self


_LIST_OPERATORS = ("in", "not_in", "contains_none")


class CheckDoc(Schema):
    id: ShortText
    title: Text
    severity: Literal["serious", "suspicious", "remind"]
    rationale: Text
    remediation: Text
    rules: list[RuleDoc]
    condition: Literal["all", "any", "none"] = "all"
    compliance: list[dict[ShortText, list[ShortText]]] = []
    each: ShortText | None = None
    where: dict[ShortText, Any] = {}


class PolicyHeadDoc(Schema):
    id: ShortText
    title: Text | None = None
    description: Text = ""
    platform: Literal["linux", "windows", "any"] = "any"


class PolicyDoc(Schema):
    """A baseline policy file (the format in this module's docstring)."""

    policy: PolicyHeadDoc
    requires: list[RuleDoc] = []
    checks: list[CheckDoc] = []


def _rule(doc: RuleDoc) -> Rule:
    given = "default" in doc.model_fields_set
    return Rule(doc.fact, doc.op, doc.value, doc.default if given else _MISSING)


def parse_policy(doc: Any, name: str = "policy") -> BaselinePolicy:
    """A policy from parsed YAML; a BaselinePolicyError names the file, the path of the
    problem and the key (an unknown key such as `condtion` is an error, never ignored)."""
    try:
        parsed = validate(PolicyDoc, {} if doc is None else doc)
    except SchemaError as err:
        raise BaselinePolicyError(f"{name}: {err.where}: {err.message}") from None
    seen: set[str] = set()
    for i, c in enumerate(parsed.checks):
        if c.id in seen:
            raise BaselinePolicyError(f"{name}: $.checks[{i}].id: duplicate id {c.id!r}")
        seen.add(c.id)
    head = parsed.policy
    return BaselinePolicy(
        id=head.id,
        title=head.title if head.title is not None else head.id,
        platform=head.platform,
        checks=tuple(
            BaselineCheck(
                id=c.id,
                title=c.title,
                severity=c.severity,
                rationale=c.rationale.strip(),
                remediation=c.remediation.strip(),
                rules=tuple(_rule(r) for r in c.rules),
                condition=c.condition,
                compliance=tuple(c.compliance),
                each=c.each,
                where=dict(c.where),
            )
            for c in parsed.checks
        ),
        requires=tuple(_rule(r) for r in parsed.requires),
        description=head.description.strip(),
    )


def load_policy_text(text: str, name: str = "policy") -> BaselinePolicy:
    try:
        doc = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as exc:
        raise BaselinePolicyError(f"{name}: not valid YAML: {str(exc)[:300]}") from None
    return parse_policy(doc, name)


@lru_cache(maxsize=1)
def _packaged_policies() -> tuple[BaselinePolicy, ...]:
    folder = resources.files("palisade.auditor.checks.baseline") / "policies"
    out = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            out.append(load_policy_text(entry.read_text(encoding="utf-8"), entry.name))
    return tuple(out)


def load_default_policies() -> list[BaselinePolicy]:
    """The policies shipped in auditor/checks/baseline/policies/*.yaml."""
    return list(_packaged_policies())


# ------------------------------------------------------------------ facts as plain data


def message_dict(msg) -> dict:
    """A protobuf message as a dict with the proto's field names; optional fields that are
    unset (and unset sub-messages) are left out, so "unknown" stays unknown."""
    out: dict = {}
    for fd in msg.DESCRIPTOR.fields:
        repeated = fd.is_repeated
        if not repeated and fd.has_presence and not msg.HasField(fd.name):
            continue
        value = getattr(msg, fd.name)
        is_msg = fd.type == fd.TYPE_MESSAGE
        if repeated:
            out[fd.name] = [message_dict(v) if is_msg else v for v in value]
        else:
            out[fd.name] = message_dict(value) if is_msg else value
    return out


def baseline_facts(snapshot: facts_pb2.Snapshot) -> dict:
    """The snapshot's baseline facts as the engine reads them:
    os_family; sshd.source / sshd.config (keyword lower-cased -> value, the first occurrence);
    accounts.*; files[]; windows.* (absent when not reported)."""
    b = snapshot.baseline
    config: dict[str, str] = {}
    for entry in b.sshd_config:
        config.setdefault(entry.key.lower(), entry.value)
    facts: dict = {
        "os_family": snapshot.host.os_family,
        "sshd": {"source": b.sshd_config_source, "config": config},
        "files": [message_dict(f) for f in b.files],
        "errors": [message_dict(e) for e in b.errors],
    }
    if b.HasField("accounts"):
        facts["accounts"] = message_dict(b.accounts)
    if b.HasField("windows"):
        facts["windows"] = message_dict(b.windows)
    return facts


# ------------------------------------------------------------------ evaluation

_DURATION = re.compile(r"(\d+)([smhdwSMHDW]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def as_number(value: Any) -> float | None:
    """Numbers, digit strings, and sshd time values ("2m", "1h30m") in seconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    text = str(value).strip()
    if not text:
        return None
    pos, total = 0, 0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            return None
        total += int(m.group(1)) * _UNITS[m.group(2).lower()]
        pos = m.end()
    return total if pos == len(text) else None


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).lower() for v in value]
    return [v.strip().lower() for v in re.split(r"[,\s]+", str(value)) if v.strip()]


def _eq(actual: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(actual, bool) and actual is expected
    a, b = as_number(actual), as_number(expected)
    if a is not None and b is not None:
        return a == b
    return str(actual).strip().lower() == str(expected).strip().lower()


def _cmp(fn):
    def op(actual: Any, expected: Any, item: dict) -> bool | None:
        a, b = as_number(actual), as_number(expected)
        if a is None or b is None:
            return None
        return fn(a, b)

    return op


def _between(actual: Any, expected: Any, item: dict) -> bool | None:
    a = as_number(actual)
    lo, hi = (as_number(x) for x in expected)
    if a is None or lo is None or hi is None:
        return None
    return lo <= a <= hi


def _contains_none(actual: Any, expected: Any, item: dict) -> bool:
    have = _as_list(actual)
    return not any(fnmatch.fnmatchcase(h, str(p).lower()) for h in have for p in expected)


def _mode_at_most(actual: Any, expected: Any, item: dict) -> bool | None:
    if not isinstance(actual, int) or isinstance(actual, bool):
        return None
    allowed = int(str(expected), 8)
    return actual & ~allowed & 0o7777 == 0


def _eq_field(actual: Any, expected: Any, item: dict) -> bool | None:
    other = _lookup(item, str(expected))
    return None if other is _MISSING else _eq(actual, other)


OPERATORS = {
    "eq": lambda a, v, i: _eq(a, v),
    "ne": lambda a, v, i: not _eq(a, v),
    "in": lambda a, v, i: any(_eq(a, x) for x in v),
    "not_in": lambda a, v, i: not any(_eq(a, x) for x in v),
    "lt": _cmp(lambda a, b: a < b),
    "le": _cmp(lambda a, b: a <= b),
    "gt": _cmp(lambda a, b: a > b),
    "ge": _cmp(lambda a, b: a >= b),
    "between": _between,
    "empty": lambda a, v, i: len(a) == 0 if isinstance(a, (list, str, dict)) else not a,
    "not_empty": lambda a, v, i: len(a) > 0 if isinstance(a, (list, str, dict)) else bool(a),
    "contains_none": _contains_none,
    "contains": lambda a, v, i: str(v).lower() in _as_list(a),
    "mode_at_most": _mode_at_most,
    "eq_field": _eq_field,
    "matches": lambda a, v, i: re.search(str(v), str(a)) is not None,
}


def _lookup(facts: Any, path: str) -> Any:
    cur = facts
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            return _MISSING
    return cur


def evaluate_rule(rule: Rule, facts: dict) -> tuple[bool | None, Any]:
    """(outcome, the value looked at); outcome None: unknown."""
    actual = _lookup(facts, rule.fact)
    if actual is _MISSING:
        if rule.default is _MISSING:
            return None, None
        actual = rule.default
    try:
        return OPERATORS[rule.op](actual, rule.value, facts), actual
    except (TypeError, ValueError):
        return None, actual


def _combine(condition: str, outcomes: list[bool | None]) -> str:
    if condition == "all":
        if False in outcomes:
            return "failed"
        return "not_applicable" if None in outcomes else "passed"
    if condition == "any":
        if True in outcomes:
            return "passed"
        return "not_applicable" if None in outcomes else "failed"
    if True in outcomes:  # none
        return "failed"
    return "not_applicable" if None in outcomes else "passed"


def _evaluate_one(check: BaselineCheck, facts: dict) -> tuple[str, list[dict]]:
    results = [(r, *evaluate_rule(r, facts)) for r in check.rules]
    status = _combine(check.condition, [o for _, o, _ in results])
    bad = check.condition == "none"
    failed = [
        {"rule": r.describe(), "actual": _jsonable(a)}
        for r, o, a in results
        if o is (True if bad else False)
    ]
    return status, failed


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _item_name(item: dict) -> str:
    for key in ("path", "user", "subcategory", "name"):
        if item.get(key):
            return str(item[key])
    return "item"


def evaluate_check(check: BaselineCheck, facts: dict) -> tuple[str, list[dict]]:
    if check.each is None:
        status, failed = _evaluate_one(check, facts)
        return status, ([{"item": None, "rules": failed}] if status == "failed" else [])
    items = _lookup(facts, check.each)
    if items is _MISSING or not isinstance(items, list):
        return "not_applicable", []
    failures, unknown = [], False
    for item in items:
        if not all(_eq(item.get(k, _MISSING), v) for k, v in check.where.items()):
            continue
        status, failed = _evaluate_one(check, item)
        if status == "failed":
            failures.append({"item": _item_name(item), "rules": failed})
        elif status == "not_applicable":
            unknown = True
    if failures:
        return "failed", failures
    return ("not_applicable" if unknown else "passed"), []


def policy_applies(policy: BaselinePolicy, facts: dict) -> bool:
    if policy.platform not in ("any", facts.get("os_family")):
        return False
    return all(evaluate_rule(r, facts)[0] is True for r in policy.requires)


def evaluate_policies(policies: list[BaselinePolicy], facts: dict) -> list[CheckResult]:
    results = []
    for policy in policies:
        if not policy_applies(policy, facts):
            continue
        for check in policy.checks:
            status, failures = evaluate_check(check, facts)
            results.append(CheckResult(policy.id, check, status, tuple(failures)))
    return results
