"""The parameters the alert actions (alerts, findings, silences, whitelist) share: ids,
comments, times and durations, the account, and the alert filter."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from palisade.auditor.alerts.lifecycle import ANY_ACCOUNT
from palisade.auditor.alerts.repository import AlertFilter
from palisade.auditor.api.actions.sas.common import list_values
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params, invalid
from palisade.auditor.api.registry import ActionContext
from palisade.auditor.checks.taxonomy import ALERT_STATUSES as STATUSES
from palisade.auditor.checks.taxonomy import SEVERITIES

MAX_COMMENT = 1024
FILTER_PARAMS = ("Status", "Levels", "CheckId", "InstanceId", "Category", "PageNumber", "PageSize")


def choices(p: Params, name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated (or `Name.N` / JSON) list of values out of `allowed`."""
    values = list_values(p, name)
    for v in values:
        if v not in allowed:
            raise invalid(name, f"{v[:32]!r} is not one of {', '.join(allowed)}")
    return tuple(dict.fromkeys(values))


def positive_id(p: Params, name: str) -> int:
    value = p.int(name, minimum=1, maximum=2**62, required=True)
    assert value is not None
    return value


def comment_param(p: Params, required: bool) -> str:
    text = p.str("Comment", required=required) or ""
    if len(text) > MAX_COMMENT:
        raise invalid("Comment", f"longer than {MAX_COMMENT} characters")
    return text


def time_param(p: Params, name: str) -> datetime | None:
    """ISO 8601 (`2026-12-01T08:00:00Z`, `2026-12-01T08:00Z`); no zone means UTC."""
    text = p.str(name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise invalid(name, f"{text[:40]!r} is not a time like 2026-12-01T08:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_DURATION = re.compile(r"([1-9][0-9]{0,6})([smhd])")


def duration_param(p: Params, name: str) -> timedelta | None:
    text = p.str(name)
    if text is None:
        return None
    match = _DURATION.fullmatch(text)
    if not match:
        raise invalid(name, f"{text[:40]!r} is not a duration like 90s, 15m, 2h or 7d")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})


def end_time(p: Params, start: datetime, required: bool) -> datetime | None:
    end, duration = time_param(p, "EndTime"), duration_param(p, "Duration")
    if end is not None and duration is not None:
        raise ApiError("InvalidParameter", "give EndTime or Duration, not both")
    if duration is not None:
        end = start + duration
    if end is None and required:
        raise ApiError(
            "MissingParameter", 'The input parameter "EndTime" (or "Duration") is not supplied.'
        )
    return end


def account_param(ctx: ActionContext, p: Params) -> str:
    """AccountId: one account of the model, or "*" (the default): every account."""
    account = p.str("AccountId", ANY_ACCOUNT)
    assert account is not None
    if account != ANY_ACCOUNT and account not in {ctx.account_id, *_model_accounts(ctx)}:
        raise ApiError("InvalidAccountId.NotFound", f"account {account[:32]!r} is not modelled")
    return account


def _model_accounts(ctx: ActionContext) -> set[str]:
    return set(ctx.state.cloud.accounts)


def alert_filter(p: Params, statuses: tuple[str, ...] = STATUSES) -> AlertFilter:
    return AlertFilter(
        statuses=choices(p, "Status", statuses),
        severities=choices(p, "Levels", SEVERITIES),
        check_id=p.str("CheckId"),
        instance_id=p.str("InstanceId"),
        category=p.str("Category"),
    )
