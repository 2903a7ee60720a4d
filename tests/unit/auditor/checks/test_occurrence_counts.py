"""Occurrences, not evaluations: the real checks' findings through the alert repository
(SQLite and PostgreSQL). An exposure that does not change is one alert with count 1 however
many rounds evaluate it; it counts again only when it clears and comes back."""

from __future__ import annotations

from datetime import timedelta

from palisade.auditor.alerts.lifecycle import Scope
from palisade.auditor.alerts.repository import AlertFilter, AlertRepository
from palisade.auditor.checks import evaluate_instance
from palisade.auditor.checks.exposure import check as exposure
from palisade.auditor.store.database import Database

from .conftest import NOW, listener, snapshot


def _round(alerts: AlertRepository, world, iid, snap, at):
    run = evaluate_instance(world.input(iid, snap))
    scope = Scope(world.account, iid, frozenset(run.evaluated))
    return alerts.apply_findings(scope, run.findings, at)


def test_an_unchanged_exposure_over_50_check_rounds_keeps_count_1(world, db_url):
    store = Database(db_url)
    try:
        alerts = AlertRepository(store)
        i = world.instance([world.group(("tcp", "6379/6379"))])
        snap = snapshot(listeners=[listener(6379, process="redis-server")])
        notified = 0
        for n in range(50):
            events = _round(alerts, world, i, snap, NOW + timedelta(minutes=n))
            notified += sum(
                e.notifies for e in events if e.alert.check_id == exposure.LISTENER_COMMON_PORT.id
            )
        found = alerts.list_alerts(AlertFilter(check_id=exposure.LISTENER_COMMON_PORT.id))[1]
        (alert,) = found
        assert alerts.list_alerts()[0] == len({a.check_id for a in alerts.list_alerts()[1]})
        assert (alert.status, alert.count, notified) == ("pending", 1, 1)
        assert alert.first_seen_ms < alert.last_seen_ms  # seen 50 times, one occurrence
    finally:
        store.close()
