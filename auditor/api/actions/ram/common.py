"""What the RAM actions share: RAM ARNs (`acs:ram:*:<account>:user/<name>`, `group/`,
`policy/`, `role/`), the resources of an action on named entities, RAM's timestamps, and RAM's
list paging (`Marker`, `MaxItems`)."""

from __future__ import annotations

from datetime import datetime

from palisade.auditor.api.params import Params, invalid
from palisade.auditor.api.registry import ActionContext, Resources
from palisade.auditor.model.ram.signing import format_timestamp


def ram_arn(ctx: ActionContext, kind: str, name: str | None) -> str:
    return ctx.arn("ram", "*", f"{kind}/{name or '*'}")


def entity(*pairs: tuple[str, str]) -> Resources:
    """The ARNs of the entities named by parameters: `entity(("user", "UserName"), ...)`."""

    def arns(ctx: ActionContext, p: Params) -> list[str]:
        return [ram_arn(ctx, kind, p.str(param)) for kind, param in pairs]

    return arns


def ts(moment: datetime | None) -> str | None:
    return None if moment is None else format_timestamp(moment)


def marker_page(p: Params, items: list, key) -> tuple[list, dict]:
    """RAM's list paging: `MaxItems` (1..1000) and `Marker` (where the previous page ended)."""
    max_items = p.int("MaxItems", 100, minimum=1, maximum=1000)
    assert max_items is not None
    start = 0
    marker = p.str("Marker")
    if marker is not None:
        names = [key(item) for item in items]
        if marker not in names:
            raise invalid("Marker", "not a marker this list returned")
        start = names.index(marker)
    page = items[start : start + max_items]
    rest = items[start + max_items :]
    paging = {"IsTruncated": bool(rest)}
    if rest:
        paging["Marker"] = key(rest[0])
    return page, paging
