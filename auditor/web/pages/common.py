"""What the pages of several areas use: the list page size and number, the `?message=` a
form's redirect carries, and API calls whose refusal is the page's answer."""

from __future__ import annotations

import re
from urllib.parse import quote

from palisade.auditor.model.errors import ModelError
from palisade.auditor.web.errors import Forbidden

PAGE_SIZE = 50


def page_number(p) -> int:
    text = p.params.get("page", "1")
    return max(1, min(int(text), 10**6)) if text.isdigit() else 1


def message_query(text: str) -> str:
    """A message for the page a form redirects to, quoted for its query string."""
    return quote(text[:300], safe="")


def error_text(body: dict) -> str:
    """An API error as a page shows it: `Code: Message`."""
    return f"{body.get('Code')}: {body.get('Message')}"


def back_to(p, path: str, message: str):
    """The redirect after a form: back to `path` (a dashboard path) with the message."""
    sep = "&" if "?" in path else "?"
    return p.app.redirect(f"{path}{sep}message={message_query(message)}")


def run_form(p, back: str, done: str, action: str, **params: str | None):
    """Runs an API action for a form and goes back to `back` saying `done` or the API's
    error (RAM refusals included: the action authorises, as it does for `palisade api`)."""
    ok, body = p.call(action, **params)
    return back_to(p, back, done if ok else error_text(body))


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> list:
    """Sort key: digits by value (`key-2` before `key-10`), the rest without case. Split on
    digit runs, text and numbers alternate, so two keys compare position by position."""
    parts: list = _DIGITS.split(text.lower())
    parts[1::2] = map(int, parts[1::2])
    return parts


def paged(p, rows: list) -> tuple[list, int, int]:
    """One page of `rows`: (the rows shown, the page number, the number of pages)."""
    number = page_number(p)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    number = min(number, pages)
    return rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE], number, pages


def api_or_forbidden(p, action: str, **params: str) -> dict:
    """The body of a successful API action; a refusal by RAM is a 403 page, any other
    error a 400 page."""
    ok, body = p.call(action, **params)
    if not ok:
        if body.get("Code", "").startswith("Forbidden"):
            raise Forbidden(body.get("Message", action))
        raise ModelError(body.get("Code", "Error"), body.get("Message", ""))
    return body
