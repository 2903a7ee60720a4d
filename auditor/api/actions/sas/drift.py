"""ReportCloudDrift: `palisade sync --watch` hands the auditor what it found changed in the
cloud since its last round (the changes it made to the model to follow), and the auditor
raises a `cloud.drift` alert per changed resource, notified like any other.

Parameters: `Changes`, a JSON array of {"Resource": ..., "Change": ...} (at most
MAX_CHANGES, each text at most MAX_TEXT characters), and `Source`, the cloud endpoint the sync
read. The alerts are the record (the sync's own changes are in the audit log already)."""

from __future__ import annotations

import json

from palisade.auditor.alerts.lifecycle import Scope
from palisade.auditor.api.actions.sas.alert_repository import alert_repository
from palisade.auditor.api.actions.sas.common import SERVICE, resource
from palisade.auditor.api.params import Params, invalid
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.checks.drift.check import drift_findings
from palisade.auditor.checks.drift.metadata import CLOUD_DRIFT

MAX_CHANGES = 1000
MAX_TEXT = 1024


def _changes(p: Params) -> list[tuple[str, str]]:
    try:
        given = json.loads(p.req("Changes"))
    except (ValueError, RecursionError):
        raise invalid("Changes", "not JSON; give an array of {Resource, Change}") from None
    if not isinstance(given, list) or not 1 <= len(given) <= MAX_CHANGES:
        raise invalid("Changes", f"give an array of 1 to {MAX_CHANGES} {{Resource, Change}}")
    out = []
    for n, item in enumerate(given, 1):
        if not isinstance(item, dict) or set(item) != {"Resource", "Change"}:
            raise invalid("Changes", f"item {n} is not {{Resource, Change}}")
        texts = item["Resource"], item["Change"]
        if not all(isinstance(t, str) and 0 < len(t) <= MAX_TEXT for t in texts):
            why = f"item {n}: Resource and Change are 1 to {MAX_TEXT} characters"
            raise invalid("Changes", why)
        out.append((item["Resource"], item["Change"]))
    return out


@action(
    "ReportCloudDrift",
    service=SERVICE,
    writes="alerts",  # its own tables, not the cloud state
    resources=resource("cloud-drift"),
    params=("Changes", "Source"),
)
def report_cloud_drift(ctx: ActionContext, p: Params) -> dict:
    changes = _changes(p)
    source = (p.str("Source") or "the cloud")[:MAX_TEXT]
    findings = drift_findings(changes, source)
    scope = Scope(ctx.account_id, None, frozenset({CLOUD_DRIFT.id}))
    events = alert_repository(ctx).apply_findings(scope, findings, ctx.now)
    return {
        "Resources": len(findings),
        "AlertIds": {"AlertId": sorted({e.alert.id for e in events if e.alert.id is not None})},
    }
