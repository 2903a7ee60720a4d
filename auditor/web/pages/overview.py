"""The overview page: the fleet's security states, open alerts and 24-hour activity."""

from __future__ import annotations

from palisade.auditor.store import advisories as feed_store
from palisade.auditor.web.pages.instances import shield
from palisade.auditor.web.pages.router import page


@page("GET", "/")
def overview(p):
    p.require("ecs:DescribeInstances", p.arn("ecs", "*", "instance/*"))
    now_ms = int(p.app.api.clock().timestamp() * 1000)
    seen = p.store.last_seen_by_instance()
    alerts = p.app.alert_counts_by_instance()
    by_state: dict[str, int] = {}
    ids = set(p.state.cloud.instances) | set(seen)
    for iid in ids:
        agent = {"last_seen_ms": seen[iid]} if iid in seen else None
        state = shield(agent, alerts.get(iid, {}), now_ms)
        by_state[state] = by_state.get(state, 0) + 1
    feed = feed_store.feed_status(p.store)  # the vulnerability check's advisories
    return p.app.render(
        "overview.html",
        p,
        p.lang,
        by_state=by_state,
        total=len(ids),
        alerts_by_level=p.app.alert_counts_by_level(),
        failed_logins=p.app.failed_logins_per_hour(now_ms),
        alerts_opened=p.app.alerts_opened_per_hour(now_ms),
        exposures=p.app.exposures_by_service(),
        hours=p.app.hour_labels(now_ms),
        top_sources=p.app.top_failed_sources(now_ms),
        feed=feed,
        feed_age=feed_store.describe_age(feed.age_s(now_ms)),
    )
