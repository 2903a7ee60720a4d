"""What the pages of several areas use: the list page size and number, the `?message=` a
form's redirect carries, and API calls whose refusal is the page's answer."""

from __future__ import annotations

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


def api_or_forbidden(p, action: str, **params: str) -> dict:
    """The body of a successful API action; a refusal by RAM is a 403 page, any other
    error a 400 page."""
    ok, body = p.call(action, **params)
    if not ok:
        if body.get("Code", "").startswith("Forbidden"):
            raise Forbidden(body.get("Message", action))
        raise ModelError(body.get("Code", "Error"), body.get("Message", ""))
    return body
