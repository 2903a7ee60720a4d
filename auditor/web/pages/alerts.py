"""The alert pages: the list with its filters, and the forms that handle or silence an alert.
They run the API actions themselves, so RAM decides exactly as it does for `palisade api`."""

from __future__ import annotations

from palisade.auditor.checks.registry import all_metas
from palisade.auditor.checks.taxonomy import ALERT_STATUSES, SEVERITIES
from palisade.auditor.web.pages.common import (
    PAGE_SIZE,
    api_or_forbidden,
    back_to,
    message_query,
    page_number,
)
from palisade.auditor.web.pages.router import page

LEVELS = SEVERITIES
STATUSES = ALERT_STATUSES


@page("GET", "/alerts")
def alerts(p):
    level = p.params.get("level", "")
    status = p.params.get("status", "")
    check = p.params.get("check", "")[:128]
    iid = p.params.get("instance", "")[:128]
    number = page_number(p)
    params = {}
    if status in STATUSES:
        params["Status"] = status
    if check:
        params["CheckId"] = check
    if iid:
        params["InstanceId"] = iid
    rows, total = _serious_first(p, params, (level,) if level in LEVELS else LEVELS, number)
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


def _serious_first(p, params: dict, levels: tuple[str, ...], number: int) -> tuple[list, int]:
    """One page of alerts, serious ones first (the API lists the latest first): the levels'
    lists one after the other, each read through DescribeAlerts (so RAM decides), only the
    API pages that overlap the page shown."""
    start, stop = (number - 1) * PAGE_SIZE, number * PAGE_SIZE
    rows: list = []
    total = 0
    for level in levels:
        first = api_or_forbidden(
            p, "DescribeAlerts", **params, Levels=level, PageNumber="1", PageSize=str(PAGE_SIZE)
        )
        count = int(first.get("TotalCount", 0))
        lo, hi = max(start - total, 0), min(stop - total, count)
        for api_page in range(lo // PAGE_SIZE + 1, (hi - 1) // PAGE_SIZE + 2) if lo < hi else ():
            body = first
            if api_page > 1:
                body = api_or_forbidden(
                    p,
                    "DescribeAlerts",
                    **params,
                    Levels=level,
                    PageNumber=str(api_page),
                    PageSize=str(PAGE_SIZE),
                )
            base = (api_page - 1) * PAGE_SIZE
            rows.extend(body.get("Alerts", {}).get("Alert", [])[max(lo - base, 0) : hi - base])
        total += count
    return rows, total


@page("GET", "/alerts/([0-9]{1,18})")
def alert_detail(p, alert_id: str):
    """One alert: what the check found (message, evidence), why it matters (the check's
    rationale), what to do (its remediation), and the alert's history; the handle forms."""
    alert = api_or_forbidden(p, "DescribeAlert", AlertId=alert_id)["Alert"]
    meta = check_metas().get(alert["CheckId"])
    return p.app.render(
        "alert.html",
        p,
        p.lang,
        a=alert,
        meta=meta,
        evidence=sorted((alert.get("Details") or {}).items()),
        message=p.params.get("message", ""),
        can_handle=p.can("sas:HandleAlert", p.arn("sas", "*", f"alert/{alert_id}")),
    )


def check_metas() -> dict:
    return {m.id: m for m in all_metas()}


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
    back = p.form.get("back", "/ui/alerts")
    if not back.startswith("/ui/") or "//" in back or "\\" in back:
        back = "/ui/alerts"
    return back_to(p, back, message)
