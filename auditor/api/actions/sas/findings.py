"""Findings: DescribeFindings, the conditions of the open alerts."""

from __future__ import annotations

from palisade.auditor.alerts.lifecycle import Alert
from palisade.auditor.api.actions.sas.alert_params import FILTER_PARAMS, alert_filter
from palisade.auditor.api.actions.sas.alert_repository import alert_repository
from palisade.auditor.api.actions.sas.common import SERVICE, iso, resource
from palisade.auditor.api.params import Params, paginate
from palisade.auditor.api.registry import ActionContext, action


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


@action(
    "DescribeFindings",
    service=SERVICE,
    writes=False,
    resources=resource("alert"),
    params=FILTER_PARAMS,
)
def describe_findings(ctx: ActionContext, p: Params) -> dict:
    """The current findings: the open (pending, handling) alerts' conditions."""
    number, size = p.page(default_size=50, max_size=500)
    where = alert_filter(p, ("pending", "handling"))
    found = alert_repository(ctx).open_findings(where)
    return {
        "TotalCount": len(found),
        "PageNumber": number,
        "PageSize": size,
        "Findings": {"Finding": [finding_view(a) for a in paginate(found, number, size)]},
    }
