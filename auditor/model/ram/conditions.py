"""Condition operators: how a policy's values are parsed, and how they meet the request's.

Semantics follow RAM: the values listed under one key are ORed; keys and operators are
ANDed by the statement; a condition on a key the request does not carry does not match
(for the negated operators too).
"""

from __future__ import annotations

import enum
import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from palisade.auditor.model.ram.request_context import ContextScalar, RequestContext
from palisade.auditor.model.ram.wildcard import wildcard_match

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
ConditionValue = str | Decimal | datetime | bool | IpNetwork


class ValueKind(enum.Enum):
    STRING = "string"
    NUMERIC = "numeric"
    DATE = "date"
    BOOL = "bool"
    IP = "ip"


class Comparison(enum.Enum):
    EQUALS = "equals"
    EQUALS_IGNORE_CASE = "equals-ignore-case"
    LIKE = "like"
    LESS = "less"
    LESS_EQUALS = "less-equals"
    GREATER = "greater"
    GREATER_EQUALS = "greater-equals"
    IN_NETWORK = "in-network"


@dataclass(frozen=True)
class Operator:
    name: str
    kind: ValueKind
    comparison: Comparison
    negated: bool = False


def _operators() -> dict[str, Operator]:
    ops = [
        Operator("StringEquals", ValueKind.STRING, Comparison.EQUALS),
        Operator("StringNotEquals", ValueKind.STRING, Comparison.EQUALS, True),
        Operator("StringEqualsIgnoreCase", ValueKind.STRING, Comparison.EQUALS_IGNORE_CASE),
        Operator(
            "StringNotEqualsIgnoreCase", ValueKind.STRING, Comparison.EQUALS_IGNORE_CASE, True
        ),
        Operator("StringLike", ValueKind.STRING, Comparison.LIKE),
        Operator("StringNotLike", ValueKind.STRING, Comparison.LIKE, True),
        Operator("Bool", ValueKind.BOOL, Comparison.EQUALS),
        Operator("IpAddress", ValueKind.IP, Comparison.IN_NETWORK),
        Operator("NotIpAddress", ValueKind.IP, Comparison.IN_NETWORK, True),
    ]
    for prefix, kind in (("Numeric", ValueKind.NUMERIC), ("Date", ValueKind.DATE)):
        ops += [
            Operator(f"{prefix}Equals", kind, Comparison.EQUALS),
            Operator(f"{prefix}NotEquals", kind, Comparison.EQUALS, True),
            Operator(f"{prefix}LessThan", kind, Comparison.LESS),
            Operator(f"{prefix}LessThanEquals", kind, Comparison.LESS_EQUALS),
            Operator(f"{prefix}GreaterThan", kind, Comparison.GREATER),
            Operator(f"{prefix}GreaterThanEquals", kind, Comparison.GREATER_EQUALS),
        ]
    return {op.name.casefold(): op for op in ops}


OPERATORS: dict[str, Operator] = _operators()


def find_operator(name: str) -> Operator | None:
    """The operator called `name` (matched case-insensitively), or None."""
    return OPERATORS.get(name.casefold())


_DATE_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"(Z|z|[+-]\d{2}:?\d{2})?"
)


def parse_iso_datetime(text: str) -> datetime:
    """An aware datetime from ISO 8601 (`2019-08-12`, `...T11:00:00Z`, `...+08:00`).

    A time without an offset is taken as UTC. Raises ValueError for anything else.
    """
    m = _DATE_RE.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"not an ISO 8601 date-time: {text!r}")
    year, month, day, hour, minute, second, fraction, offset = m.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = UTC
    if offset and offset not in ("Z", "z"):
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            raise ValueError(f"bad UTC offset in {text!r}")
        delta = timedelta(hours=hours, minutes=minutes)
        tz = timezone(-delta if offset[0] == "-" else delta)
    return datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        micro,
        tzinfo=tz,
    )


def parse_policy_value(kind: ValueKind, raw: object) -> ConditionValue:
    """A policy's JSON value for an operator of `kind`; ValueError/TypeError when unusable."""
    if kind is ValueKind.STRING:
        if isinstance(raw, bool):
            return "true" if raw else "false"
        if isinstance(raw, (str, int, float)):
            return str(raw)
        raise TypeError("must be a string")
    if kind is ValueKind.NUMERIC:
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            raise TypeError("must be a number")
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {raw!r}") from None
        if not number.is_finite():
            raise ValueError(f"not a finite number: {raw!r}")
        return number
    if kind is ValueKind.DATE:
        if not isinstance(raw, str):
            raise TypeError("must be an ISO 8601 date-time string")
        return parse_iso_datetime(raw)
    if kind is ValueKind.BOOL:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.casefold() in ("true", "false"):
            return raw.casefold() == "true"
        raise ValueError(f"not a boolean: {raw!r}")
    if not isinstance(raw, str):
        raise TypeError("must be an IP address or CIDR block string")
    return ipaddress.ip_network(raw.strip(), strict=False)


def _context_value(kind: ValueKind, value: ContextScalar) -> ConditionValue | IpAddress | None:
    """The request's value seen as `kind`, or None when it cannot be (then nothing matches)."""
    try:
        if kind is ValueKind.STRING:
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, datetime):
                return _as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")
            return str(value)
        if kind is ValueKind.NUMERIC:
            if isinstance(value, (bool, datetime)):
                return None
            number = Decimal(str(value))
            return number if number.is_finite() else None
        if kind is ValueKind.DATE:
            if isinstance(value, datetime):
                return _as_utc(value)
            return parse_iso_datetime(value) if isinstance(value, str) else None
        if kind is ValueKind.BOOL:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.casefold() in ("true", "false"):
                return value.casefold() == "true"
            return None
        if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
            address: IpAddress = value
        elif isinstance(value, str):
            address = ipaddress.ip_address(value.strip())
        else:
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            return address.ipv4_mapped
        return address
    except (ValueError, TypeError, InvalidOperation):
        return None


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _compare(comparison: Comparison, actual: object, expected: ConditionValue) -> bool:
    """`actual` has the operator's kind, as `expected` does (both were converted to it), so
    the two compare; the types cannot say so, hence the ignores below."""
    if comparison is Comparison.EQUALS:
        return actual == expected
    if comparison is Comparison.EQUALS_IGNORE_CASE:
        return str(actual).casefold() == str(expected).casefold()
    if comparison is Comparison.LIKE:
        return wildcard_match(str(expected), str(actual))
    if comparison is Comparison.IN_NETWORK:
        return isinstance(expected, (ipaddress.IPv4Network, ipaddress.IPv6Network)) and (
            actual.version == expected.version and actual in expected  # type: ignore[attr-defined]
        )
    if comparison is Comparison.LESS:
        return actual < expected  # type: ignore[operator]
    if comparison is Comparison.LESS_EQUALS:
        return actual <= expected  # type: ignore[operator]
    if comparison is Comparison.GREATER:
        return actual > expected  # type: ignore[operator]
    return actual >= expected  # type: ignore[operator]


@dataclass(frozen=True)
class ConditionClause:
    """One `"Operator": {"key": [values]}` entry of a statement's Condition block."""

    operator: Operator
    key: str
    values: tuple[ConditionValue, ...]

    def matches(self, context: RequestContext) -> bool:
        actual_values = [
            converted
            for raw in context.values(self.key)
            if (converted := _context_value(self.operator.kind, raw)) is not None
        ]
        if not actual_values:
            return False  # an absent key never matches, whatever the operator
        comparison = self.operator.comparison
        hit = any(
            _compare(comparison, actual, expected)
            for actual in actual_values
            for expected in self.values
        )
        return not hit if self.operator.negated else hit
