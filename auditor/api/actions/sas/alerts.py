"""Alerts: DescribeAlerts, DescribeAlert, HandleAlert, DescribeAlertSummary.

Levels are serious / suspicious / remind, as in Security Center; statuses are
checks/taxonomy.py's AlertStatus. HandleAlert Status=accepted_risk needs a Comment and an
expiry (EndTime or Duration); a handled condition that is still reported is shown with
StillPresent true ("handled, still present").
"""

from __future__ import annotations

from palisade.auditor.alerts.lifecycle import Alert
from palisade.auditor.api.actions.sas.alert_params import (
    FILTER_PARAMS,
    alert_filter,
    comment_param,
    end_time,
    positive_id,
)
from palisade.auditor.api.actions.sas.alert_repository import alert_repository, audit_info
from palisade.auditor.api.actions.sas.common import SERVICE, actor, iso, resource
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params, invalid
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.checks.taxonomy import ALERT_STATUSES as STATUSES
from palisade.auditor.checks.taxonomy import SEVERITIES, USER_STATUSES


def alert_view(alert: Alert, history: bool = True) -> dict:
    view = {
        "AlertId": alert.id,
        "AccountId": alert.key.account_id,
        "InstanceId": alert.instance_id,
        "CheckId": alert.check_id,
        "Subject": alert.subject,
        "Status": alert.status,
        "StillPresent": alert.still_present,
        "DisplayStatus": alert.display_status,
        "AcceptedUntil": iso(alert.accepted_until_ms),
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


@action(
    "DescribeAlerts",
    service=SERVICE,
    writes=False,
    resources=resource("alert"),
    params=FILTER_PARAMS,
)
def describe_alerts(ctx: ActionContext, p: Params) -> dict:
    number, size = p.page(default_size=20, max_size=100)
    total, alerts = alert_repository(ctx).list_alerts(alert_filter(p), (number - 1) * size, size)
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
    alert_id = positive_id(p, "AlertId")
    alert = alert_repository(ctx).get(alert_id)
    if alert is None:
        raise ApiError("InvalidAlertId.NotFound", f"alert {alert_id} does not exist", 404)
    return {"Alert": alert_view(alert)}


@action(
    "HandleAlert",
    service=SERVICE,
    writes="alerts",  # its own tables, not the cloud state
    resources=resource("alert", "AlertId"),
    params=("AlertId", "Status", "Comment", "EndTime", "Duration"),
)
def handle_alert(ctx: ActionContext, p: Params) -> dict:
    alert_id = positive_id(p, "AlertId")
    status = p.req("Status")
    if status not in USER_STATUSES:
        raise invalid("Status", f"{status[:32]!r} is not one of {', '.join(USER_STATUSES)}")
    accepting = status == "accepted_risk"
    until = end_time(p, ctx.now, required=accepting)
    if until is not None and not accepting:
        raise invalid("EndTime", "only Status=accepted_risk has an expiry")
    alert = alert_repository(ctx).set_status(
        alert_id,
        status,
        actor(ctx),
        comment_param(p, accepting),
        ctx.now,
        audit_info(ctx, "HandleAlert"),
        until,
    )
    return {"Alert": alert_view(alert)}


@action(
    "DescribeAlertSummary",
    service=SERVICE,
    writes=False,
    resources=resource("alert"),
    params=(),
)
def describe_alert_summary(ctx: ActionContext, p: Params) -> dict:
    """Open alerts by level and all alerts by status (the dashboard's counters)."""
    counts = alert_repository(ctx).counts()
    return {
        "OpenByLevel": {level: counts.open_by_level.get(level, 0) for level in SEVERITIES},
        "ByStatus": {status: counts.by_status.get(status, 0) for status in STATUSES},
    }
