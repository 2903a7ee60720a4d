"""The alert pages: the list with its filters, and the forms that handle or silence an alert.
They run the API actions themselves, so RAM decides exactly as it does for `palisade api`."""

from __future__ import annotations

from palisade.auditor.web.pages.common import (
    PAGE_SIZE,
    api_or_forbidden,
    message_query,
    page_number,
)
from palisade.auditor.web.pages.router import page

LEVELS = ("serious", "suspicious", "remind")
STATUSES = ("pending", "handling", "handled", "ignored", "false_positive", "expired")


@page("GET", "/alerts")
def alerts(p):
    level = p.params.get("level", "")
    status = p.params.get("status", "")
    check = p.params.get("check", "")[:128]
    iid = p.params.get("instance", "")[:128]
    number = page_number(p)
    params = {"PageNumber": str(number), "PageSize": str(PAGE_SIZE)}
    if level in LEVELS:
        params["Levels"] = level
    if status in STATUSES:
        params["Status"] = status
    if check:
        params["CheckId"] = check
    if iid:
        params["InstanceId"] = iid
    body = api_or_forbidden(p, "DescribeAlerts", **params)
    rows = body.get("Alerts", {}).get("Alert", [])
    total = int(body.get("TotalCount", len(rows)))
    return p.app.render(
        "alerts.html",
        p,
        p.lang,
        rows=rows,
        level=level,
        status_filter=status,
        check=check,
        instance=iid,
        number=number,
        total=total,
        pages=max(1, -(-total // PAGE_SIZE)),
        levels=LEVELS,
        statuses=STATUSES,
        message=p.params.get("message", ""),
    )


@page("POST", "/alerts/([0-9]{1,18})/status")
def alert_status(p, alert_id: str):
    status = p.form.get("status", "")
    ok, body = p.call(
        "HandleAlert", AlertId=alert_id, Status=status, Comment=p.form.get("comment") or None
    )
    message = f"Alert {alert_id}: {status}." if ok else f"{body.get('Code')}: {body.get('Message')}"
    back = p.form.get("back", "/ui/alerts")
    if not back.startswith("/ui/") or "//" in back or "\\" in back:
        back = "/ui/alerts"
    sep = "&" if "?" in back else "?"
    return p.app.redirect(f"{back}{sep}message={message_query(message)}")


@page("POST", "/alerts/([0-9]{1,18})/silence")
def alert_silence(p, alert_id: str):
    """Silences this alert's condition (check, instance, subject) for a while."""
    found, body = p.call("DescribeAlert", AlertId=alert_id)
    if not found:
        message = f"{body.get('Code')}: {body.get('Message')}"
    else:
        alert = body["Alert"]
        duration = p.form.get("duration", "24h")
        ok, result = p.call(
            "CreateSilence",
            CheckId=alert["CheckId"],
            InstanceId=alert.get("InstanceId") or None,
            Subject=alert.get("Subject") or None,
            Duration=duration if duration in ("1h", "24h", "7d") else "24h",
            Comment=p.form.get("comment") or f"silenced from the dashboard (alert {alert_id})",
        )
        message = (
            f"Silenced for {duration}." if ok else f"{result.get('Code')}: {result.get('Message')}"
        )
    return p.app.redirect("/ui/alerts?message=" + message_query(message))
