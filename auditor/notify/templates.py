"""The SMS hook's JSON body: a template with {placeholders}, always valid JSON (pure).

A placeholder inside a JSON string gets the value's escaped characters ("{title}" with a
quote in the title stays one string); outside a string it becomes a JSON literal
({count} -> 3, {title} -> "..."). Any alert text thus gives a body that parses.
"""

from __future__ import annotations

import json
import re
from typing import Any

PLACEHOLDERS = (
    "title",
    "level",
    "instance_id",
    "message",
    "count",
    "category",
    "alert_id",
    "check_id",
    "account_id",
    "subject",
    "time",
)
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")

DEFAULT_TEMPLATE = (
    '{"title": "{title}", "level": "{level}", "instance_id": "{instance_id}", '
    '"message": "{message}", "count": {count}, "category": "{category}", '
    '"alert_id": "{alert_id}", "time": "{time}"}'
)

SAMPLE_VALUES: dict[str, Any] = {
    "title": 'Brute force "x"',
    "level": "serious",
    "instance_id": "i-sample",
    "message": "line one\nline two \\ end",
    "count": 2,
    "category": "alerts",
    "alert_id": "al-sample",
    "check_id": "login.brute_force",
    "account_id": "1000000000000000",
    "subject": "203.0.113.7",
    "time": "2026-01-01T00:00:00Z",
}


class TemplateError(ValueError):
    pass


def render(template: str, values: dict[str, Any]) -> str:
    out: list[str] = []
    in_string = escaped = False
    i, n = 0, len(template)
    while i < n:
        ch = template[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        if ch == "{" and not escaped:
            m = _PLACEHOLDER.match(template, i)
            if m:
                value = values.get(m.group(1), "")
                if in_string:
                    out.append(json.dumps(str(value), ensure_ascii=False)[1:-1])
                else:
                    out.append(json.dumps(value, ensure_ascii=False))
                i = m.end()
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def validate(template: str) -> None:
    """Refuses a template that would not give a JSON object (checked when it is saved)."""
    try:
        body = json.loads(render(template, SAMPLE_VALUES))
    except ValueError as exc:
        raise TemplateError(f"the body template is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise TemplateError("the body template must be a JSON object")
