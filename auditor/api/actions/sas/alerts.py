"""Alerts, findings, silences and whitelist: Security Center ("sas") style actions.

RAM actions are `sas:<Action>` (Alibaba's Security Center owns alerts there), resources
`acs:sas:*:<account>:alert/<id>`, `.../silence/<id>`, `.../whitelist/<id>`. Levels are
serious / suspicious / remind, as in Security Center.

These actions change the alert store, not the cloud state document, so they are declared
`writes=False`: the pipeline neither saves the document nor replays the handler after a
state conflict (which would apply a change twice). Each change writes its own audit-log row
in the same transaction as the change (`AuditInfo`). The store comes from `ctx.services`:
"alerts" (the auditor's AlertService, with its settings) when the auditor provides it, else an
AlertService over "store".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from palisade.auditor.alerts.lifecycle import (
    ANY_ACCOUNT,
    SEVERITIES,
    STATUSES,
    USER_STATUSES,
    WHITELIST_KINDS,
    Alert,
    Silence,
    WhitelistEntry,
    to_ms,
)
from palisade.auditor.alerts.repository import AlertFilter, AlertRepository, AuditInfo
from palisade.auditor.api.actions.sas.common import SERVICE, actor, arn, iso, resource
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params, invalid, paginate
from palisade.auditor.api.registry import ActionContext, action

MAX_COMMENT = 1024
_FILTERS = ("Status", "Levels", "CheckId", "InstanceId", "Category", "PageNumber", "PageSize")


def alert_service(ctx: ActionContext) -> AlertRepository:
    service = ctx.services.get("alerts")
    if service is not None:
        return service
    store = ctx.services.get("store")
    if store is None:
        raise ApiError("ServiceUnavailable", "the alert store is not available", 503)
    return AlertRepository(store)


def _audit(ctx: ActionContext, name: str) -> AuditInfo:
    return AuditInfo(
        ctx.request_id,
        actor(ctx),
        ctx.source_ip,
        name,
        to_ms(ctx.now),
        resource_prefix=arn(ctx, ""),
    )


# -- parameters ---------------------------------------------------------------------------------


def _choices(p: Params, name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated (or `Name.N` / JSON) list of values out of `allowed`."""
    values = [v.strip() for item in p.list(name) for v in item.split(",") if v.strip()]
    for v in values:
        if v not in allowed:
            raise invalid(name, f"{v[:32]!r} is not one of {', '.join(allowed)}")
    return tuple(dict.fromkeys(values))


def _id(p: Params, name: str) -> int:
    value = p.int(name, minimum=1, maximum=2**62, required=True)
    assert value is not None
    return value


def _comment(p: Params, required: bool) -> str:
    text = p.str("Comment", required=required) or ""
    if len(text) > MAX_COMMENT:
        raise invalid("Comment", f"longer than {MAX_COMMENT} characters")
    return text


def _time_param(p: Params, name: str) -> datetime | None:
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


def _duration_param(p: Params, name: str) -> timedelta | None:
    text = p.str(name)
    if text is None:
        return None
    match = _DURATION.fullmatch(text)
    if not match:
        raise invalid(name, f"{text[:40]!r} is not a duration like 90s, 15m, 2h or 7d")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})


def _end(p: Params, start: datetime, required: bool) -> datetime | None:
    end, duration = _time_param(p, "EndTime"), _duration_param(p, "Duration")
    if end is not None and duration is not None:
        raise ApiError("InvalidParameter", "give EndTime or Duration, not both")
    if duration is not None:
        end = start + duration
    if end is None and required:
        raise ApiError(
            "MissingParameter", 'The input parameter "EndTime" (or "Duration") is not supplied.'
        )
    return end


def _account(ctx: ActionContext, p: Params) -> str:
    """AccountId: one account of the model, or "*" (the default): every account."""
    account = p.str("AccountId", ANY_ACCOUNT)
    assert account is not None
    if account != ANY_ACCOUNT and account not in {ctx.account_id, *_model_accounts(ctx)}:
        raise ApiError("InvalidAccountId.NotFound", f"account {account[:32]!r} is not modelled")
    return account


def _model_accounts(ctx: ActionContext) -> set[str]:
    return set(ctx.state.cloud.accounts)


# -- views ----------------------------------------------------------------------------------------


def alert_view(alert: Alert, history: bool = True) -> dict:
    view = {
        "AlertId": alert.id,
        "AccountId": alert.key.account_id,
        "InstanceId": alert.instance_id,
        "CheckId": alert.check_id,
        "Subject": alert.subject,
        "Status": alert.status,
        "Resolution": alert.resolution,
        "Level": alert.severity,
        "Category": alert.category,
        "Title": alert.title,
        "Message": alert.message,
        "Details": alert.details,
        "Count": alert.count,
        "EventLike": alert.event_like,
        "Notified": alert.notified,
        "SilencedBy": alert.silenced_by,
        "FirstSeen": iso(alert.first_seen_ms),
        "LastSeen": iso(alert.last_seen_ms),
        "ResolvedTime": iso(alert.resolved_at_ms),
    }
    if history:
        view["History"] = [
            {
                "Status": h.status,
                "Time": iso(h.at_ms),
                "Actor": h.actor,
                "Comment": h.comment,
                "Resolution": h.resolution,
            }
            for h in alert.history
        ]
    return view


def finding_view(alert: Alert) -> dict:
    return {
        "CheckId": alert.check_id,
        "InstanceId": alert.instance_id,
        "Subject": alert.subject,
        "Level": alert.severity,
        "Category": alert.category,
        "Title": alert.title,
        "Message": alert.message,
        "Details": alert.details,
        "AlertId": alert.id,
        "AlertStatus": alert.status,
        "Count": alert.count,
        "FirstSeen": iso(alert.first_seen_ms),
        "LastSeen": iso(alert.last_seen_ms),
    }


def silence_view(s: Silence) -> dict:
    return {
        "SilenceId": s.id,
        "AccountId": s.account_id,
        "CheckId": s.check_id,
        "InstanceId": s.instance_id,
        "Subject": s.subject,
        "Category": s.category,
        "Level": s.severity,
        "StartTime": iso(s.starts_at_ms),
        "EndTime": iso(s.ends_at_ms),
        "CreatedBy": s.created_by,
        "CreationTime": iso(s.created_at_ms),
        "Comment": s.comment,
    }


def whitelist_view(w: WhitelistEntry) -> dict:
    return {
        "WhitelistEntryId": w.id,
        "AccountId": w.account_id,
        "Kind": w.kind,
        "Value": w.value,
        "CheckId": w.check_id,
        "InstanceId": w.instance_id,
        "Category": w.category,
        "EndTime": iso(w.expires_at_ms),
        "CreatedBy": w.created_by,
        "CreationTime": iso(w.created_at_ms),
        "Comment": w.comment,
    }


def _filter(p: Params, statuses: tuple[str, ...] = STATUSES) -> AlertFilter:
    return AlertFilter(
        statuses=_choices(p, "Status", statuses),
        severities=_choices(p, "Levels", SEVERITIES),
        check_id=p.str("CheckId"),
        instance_id=p.str("InstanceId"),
        category=p.str("Category"),
    )


# -- alerts ---------------------------------------------------------------------------------------


@action(
    "DescribeAlerts", service=SERVICE, writes=False, resources=resource("alert"), params=_FILTERS
)
def describe_alerts(ctx: ActionContext, p: Params) -> dict:
    number, size = p.page(default_size=20, max_size=100)
    total, alerts = alert_service(ctx).list_alerts(_filter(p), (number - 1) * size, size)
    return {
        "TotalCount": total,
        "PageNumber": number,
        "PageSize": size,
        "Alerts": {"Alert": [alert_view(a, history=False) for a in alerts]},
    }


@action(
    "DescribeAlert",
    service=SERVICE,
    writes=False,
    resources=resource("alert", "AlertId"),
    params=("AlertId",),
)
def describe_alert(ctx: ActionContext, p: Params) -> dict:
    alert_id = _id(p, "AlertId")
    alert = alert_service(ctx).get(alert_id)
    if alert is None:
        raise ApiError("InvalidAlertId.NotFound", f"alert {alert_id} does not exist", 404)
    return {"Alert": alert_view(alert)}


@action(
    "HandleAlert",
    service=SERVICE,
    writes=False,  # the alert store, not the state document (see the module docstring)
    resources=resource("alert", "AlertId"),
    params=("AlertId", "Status", "Comment"),
)
def handle_alert(ctx: ActionContext, p: Params) -> dict:
    alert_id = _id(p, "AlertId")
    status = p.req("Status")
    if status not in USER_STATUSES:
        raise invalid("Status", f"{status[:32]!r} is not one of {', '.join(USER_STATUSES)}")
    alert = alert_service(ctx).set_status(
        alert_id, status, actor(ctx), _comment(p, False), ctx.now, _audit(ctx, "HandleAlert")
    )
    return {"Alert": alert_view(alert)}


@action(
    "DescribeFindings",
    service=SERVICE,
    writes=False,
    resources=resource("alert"),
    params=_FILTERS,
)
def describe_findings(ctx: ActionContext, p: Params) -> dict:
    """The current findings: the open (pending, handling) alerts' conditions."""
    number, size = p.page(default_size=50, max_size=500)
    where = _filter(p, ("pending", "handling"))
    found = alert_service(ctx).open_findings(where)
    return {
        "TotalCount": len(found),
        "PageNumber": number,
        "PageSize": size,
        "Findings": {"Finding": [finding_view(a) for a in paginate(found, number, size)]},
    }


@action(
    "DescribeAlertSummary",
    service=SERVICE,
    writes=False,
    resources=resource("alert"),
    params=(),
)
def describe_alert_summary(ctx: ActionContext, p: Params) -> dict:
    """Open alerts by level and all alerts by status (the dashboard's counters)."""
    counts = alert_service(ctx).counts()
    return {
        "OpenByLevel": {level: counts.open_by_level.get(level, 0) for level in SEVERITIES},
        "ByStatus": {status: counts.by_status.get(status, 0) for status in STATUSES},
    }


# -- silences -------------------------------------------------------------------------------------


@action(
    "CreateSilence",
    service=SERVICE,
    writes=False,
    resources=resource("silence"),
    params=(
        "AccountId",
        "CheckId",
        "InstanceId",
        "Subject",
        "Category",
        "Level",
        "StartTime",
        "EndTime",
        "Duration",
        "Comment",
    ),
)
def create_silence(ctx: ActionContext, p: Params) -> dict:
    start = _time_param(p, "StartTime") or ctx.now
    end = _end(p, start, required=True)
    assert end is not None
    if end <= ctx.now:
        raise invalid("EndTime", "the silence would already be over")
    level = p.str("Level")
    if level is not None and level not in SEVERITIES:
        raise invalid("Level", f"{level[:32]!r} is not one of {', '.join(SEVERITIES)}")
    silence = Silence(
        id=None,
        account_id=_account(ctx, p),
        starts_at_ms=to_ms(start),
        ends_at_ms=to_ms(end),
        created_by=actor(ctx),
        comment=_comment(p, True),
        created_at_ms=to_ms(ctx.now),
        check_id=p.str("CheckId"),
        instance_id=p.str("InstanceId"),
        subject=p.str("Subject"),
        category=p.str("Category"),
        severity=level,
    )
    saved = alert_service(ctx).create_silence(silence, _audit(ctx, "CreateSilence"))
    return {"SilenceId": saved.id, "Silence": silence_view(saved)}


@action(
    "DescribeSilences",
    service=SERVICE,
    writes=False,
    resources=resource("silence"),
    params=("Active", "PageNumber", "PageSize"),
)
def describe_silences(ctx: ActionContext, p: Params) -> dict:
    number, size = p.page(default_size=50, max_size=500)
    found = alert_service(ctx).silences(active_at=ctx.now if p.bool("Active") else None)
    return {
        "TotalCount": len(found),
        "PageNumber": number,
        "PageSize": size,
        "Silences": {"Silence": [silence_view(s) for s in paginate(found, number, size)]},
    }


@action(
    "DeleteSilence",
    service=SERVICE,
    writes=False,
    resources=resource("silence", "SilenceId"),
    params=("SilenceId",),
)
def delete_silence(ctx: ActionContext, p: Params) -> dict:
    alert_service(ctx).delete_silence(_id(p, "SilenceId"), _audit(ctx, "DeleteSilence"))
    return {}


# -- whitelist ------------------------------------------------------------------------------------


@action(
    "CreateWhitelistEntry",
    service=SERVICE,
    writes=False,
    resources=resource("whitelist"),
    params=(
        "AccountId",
        "Kind",
        "Value",
        "CheckId",
        "InstanceId",
        "Category",
        "EndTime",
        "Duration",
        "Comment",
    ),
)
def create_whitelist_entry(ctx: ActionContext, p: Params) -> dict:
    kind = p.req("Kind")
    if kind not in WHITELIST_KINDS:
        raise invalid("Kind", f"{kind[:32]!r} is not one of {', '.join(WHITELIST_KINDS)}")
    end = _end(p, ctx.now, required=False)
    if end is not None and end <= ctx.now:
        raise invalid("EndTime", "the entry would already be over")
    entry = WhitelistEntry(
        id=None,
        account_id=_account(ctx, p),
        kind=kind,
        value=p.req("Value"),
        created_by=actor(ctx),
        comment=_comment(p, True),
        created_at_ms=to_ms(ctx.now),
        check_id=p.str("CheckId"),
        instance_id=p.str("InstanceId"),
        category=p.str("Category"),
        expires_at_ms=None if end is None else to_ms(end),
    )
    saved = alert_service(ctx).add_whitelist_entry(entry, _audit(ctx, "CreateWhitelistEntry"))
    return {"WhitelistEntryId": saved.id, "WhitelistEntry": whitelist_view(saved)}


@action(
    "DescribeWhitelist",
    service=SERVICE,
    writes=False,
    resources=resource("whitelist"),
    params=("Active", "PageNumber", "PageSize"),
)
def describe_whitelist(ctx: ActionContext, p: Params) -> dict:
    number, size = p.page(default_size=50, max_size=500)
    found = alert_service(ctx).whitelist(active_at=ctx.now if p.bool("Active") else None)
    return {
        "TotalCount": len(found),
        "PageNumber": number,
        "PageSize": size,
        "WhitelistEntries": {
            "WhitelistEntry": [whitelist_view(w) for w in paginate(found, number, size)]
        },
    }


@action(
    "DeleteWhitelistEntry",
    service=SERVICE,
    writes=False,
    resources=resource("whitelist", "WhitelistEntryId"),
    params=("WhitelistEntryId",),
)
def delete_whitelist_entry(ctx: ActionContext, p: Params) -> dict:
    alert_service(ctx).delete_whitelist_entry(
        _id(p, "WhitelistEntryId"), _audit(ctx, "DeleteWhitelistEntry")
    )
    return {}
