"""Alerts in the database (auditor/alerts/repository.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from palisade.auditor.alerts.lifecycle import Scope, Silence, WhitelistEntry, to_ms
from palisade.auditor.alerts.repository import AlertFilter, AlertRepository, AuditInfo
from palisade.auditor.model.errors import ModelError
from palisade.auditor.store import schema
from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from palisade.auditor.store.database import Database
from tests.helpers.alert_findings import (
    ACCOUNT,
    EVENT_CHECKS,
    SCOPE,
    T0,
    Finding,
    brute,
    port,
)


@pytest.fixture
def store(db_url):
    s = Database(db_url)
    yield s
    s.close()


@pytest.fixture
def alerts(store):
    return AlertRepository(store, event_checks=EVENT_CHECKS)


def audit(action: str) -> AuditInfo:
    return AuditInfo("REQ-1", "user/alice", "127.0.0.1", action, to_ms(T0), "acs:sas:*:1:")


def test_a_round_opens_counts_and_resolves_and_is_stored(alerts):
    opened = alerts.apply_findings(SCOPE, [brute(), port()], T0)
    assert sorted((e.kind, e.alert.check_id) for e in opened) == [
        ("opened", "exposure.port"),
        ("opened", "login.brute_force"),
    ]
    assert all(e.notify and e.alert.id for e in opened)
    later = T0 + timedelta(minutes=1)
    events = alerts.apply_findings(SCOPE, [brute()], later)
    assert sorted(e.kind for e in events) == ["count", "resolved"]
    total, stored = alerts.list_alerts()
    assert total == 2
    by_check = {a.check_id: a for a in stored}
    assert by_check["login.brute_force"].count == 2
    assert by_check["login.brute_force"].last_seen_ms == to_ms(later)
    assert by_check["login.brute_force"].details == {"source_ip": "203.0.113.7"}
    assert (by_check["exposure.port"].status, by_check["exposure.port"].resolution) == (
        "handled",
        "auto",
    )
    assert [h.status for h in by_check["exposure.port"].history] == ["pending", "handled"]


def test_on_opened_runs_in_the_transaction_and_its_failure_rolls_the_round_back(alerts):
    seen = []

    def hook(conn, event):
        # the alert is visible inside the transaction: notify's outbox row goes in here
        row = conn.execute(select(schema.alerts).where(schema.alerts.c.id == event.alert.id))
        seen.append((event.kind, row.first().check_id))

    alerts.apply_findings(SCOPE, [port()], T0, on_opened=hook)
    assert seen == [("opened", "exposure.port")]

    def failing(conn, event):
        raise RuntimeError("the outbox is broken")

    with pytest.raises(RuntimeError):
        alerts.apply_findings(SCOPE, [port(), brute()], T0, on_opened=failing)
    assert alerts.list_alerts()[0] == 1  # the brute-force alert was not committed
    assert alerts.get(1).count == 1  # nor the repeat


def test_silenced_openings_are_stored_but_not_handed_to_the_hook(alerts):
    alerts.create_silence(
        Silence(
            None, ACCOUNT, to_ms(T0), to_ms(T0 + timedelta(hours=1)), "u", "mw", subject="tcp/*"
        )
    )
    called = []
    events = alerts.apply_findings(SCOPE, [port(), brute()], T0, lambda c, e: called.append(e))
    assert [e.alert.check_id for e in called] == ["login.brute_force"]
    silenced = next(e.alert for e in events if e.alert.check_id == "exposure.port")
    assert not silenced.notified and alerts.get(silenced.id).silenced_by is not None


def test_a_handled_alert_frees_its_key_for_a_new_alert_once_it_cleared(alerts):
    (ev,) = alerts.apply_findings(SCOPE, [port()], T0)
    alerts.set_status(ev.alert.id, "handled", "user/alice", "closed", T0)
    # still present: the same alert, "handled, still present", nothing notified
    (still,) = alerts.apply_findings(SCOPE, [port()], T0 + timedelta(minutes=1))
    assert (still.kind, still.alert.id, still.alert.status) == ("seen", ev.alert.id, "handled")
    assert still.alert.still_present and not still.notifies
    (cleared,) = alerts.apply_findings(SCOPE, [], T0 + timedelta(minutes=2))
    assert cleared.kind == "resolved" and not alerts.get(ev.alert.id).live
    (again,) = alerts.apply_findings(SCOPE, [port()], T0 + timedelta(minutes=3))
    assert again.kind == "opened" and again.alert.id != ev.alert.id


def test_ignored_keeps_the_key_and_counts_quietly(alerts):
    (ev,) = alerts.apply_findings(SCOPE, [port()], T0)
    alerts.set_status(ev.alert.id, "ignored", "user/alice", "lab box", T0, audit("HandleAlert"))
    (repeat,) = alerts.apply_findings(SCOPE, [port()], T0 + timedelta(minutes=1))
    assert (repeat.kind, repeat.notify, repeat.alert.status) == ("seen", False, "ignored")
    assert repeat.alert.count == 1  # the same occurrence, evaluated again
    history = alerts.get(ev.alert.id).history
    assert (history[-1].status, history[-1].actor, history[-1].comment) == (
        "ignored",
        "user/alice",
        "lab box",
    )


def test_the_database_refuses_two_live_alerts_for_one_key(store, alerts):
    alerts.apply_findings(SCOPE, [port()], T0)
    with store.engine.connect() as conn:
        original = conn.execute(select(schema.alerts)).mappings().one()
    copy = {k: v for k, v in original.items() if k != "id"}
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(insert(schema.alerts).values(**copy))


def test_status_changes_are_validated_and_audited(store, alerts):
    (ev,) = alerts.apply_findings(SCOPE, [port()], T0)
    with pytest.raises(ModelError) as err:
        alerts.set_status(999, "handled", "u", "", T0)
    assert err.value.code == "InvalidAlertId.NotFound"
    with pytest.raises(ModelError):
        alerts.set_status(ev.alert.id, "pending", "u", "", T0)
    alerts.set_status(ev.alert.id, "handled", "user/alice", "done", T0, audit("HandleAlert"))
    alerts.apply_findings(SCOPE, [], T0)  # the condition cleared: the alert is final
    with pytest.raises(ModelError) as err:
        alerts.set_status(ev.alert.id, "ignored", "u", "", T0)
    assert err.value.code == "IncorrectAlertStatus"
    (row,) = CloudStateRepository(store).audit_log()
    assert (row.action, row.actor, row.resource) == (
        "HandleAlert",
        "user/alice",
        f"acs:sas:*:1:alert/{ev.alert.id}",
    )
    assert row.before == {"Status": "pending"} and row.after["Status"] == "handled"


def test_queries_filter_and_count(alerts):
    other = Scope(ACCOUNT, "i-2", frozenset({"exposure.port"}))
    alerts.apply_findings(SCOPE, [brute(), port()], T0)
    alerts.apply_findings(
        other,
        [Finding("exposure.port", "i-2", "tcp/22", severity="remind", category="exposure")],
        T0,
    )
    assert alerts.list_alerts(AlertFilter(instance_id="i-2"))[0] == 1
    assert alerts.list_alerts(AlertFilter(severities=("remind",)))[0] == 1
    assert alerts.list_alerts(AlertFilter(category="login"))[0] == 1
    assert alerts.list_alerts(AlertFilter(check_id="exposure.port"))[0] == 2
    total, page = alerts.list_alerts(offset=1, limit=1)
    assert total == 3 and len(page) == 1
    alerts.apply_findings(SCOPE, [brute()], T0 + timedelta(minutes=1))  # the port clears
    assert alerts.list_alerts(AlertFilter(statuses=("handled",)))[0] == 1
    assert {a.subject for a in alerts.open_findings()} == {"203.0.113.7", "tcp/22"}
    counts = alerts.counts()
    assert counts.open_by_level == {"serious": 1, "remind": 1}
    assert counts.by_status == {"pending": 2, "handled": 1}


def test_silences_and_whitelist_entries_round_trip_and_are_audited(store, alerts):
    s = alerts.create_silence(
        Silence(
            None,
            "*",
            to_ms(T0),
            to_ms(T0 + timedelta(hours=1)),
            "user/alice",
            "why",
            check_id="login.*",
        ),
        audit("CreateSilence"),
    )
    assert alerts.silences() == [s] and s.check_id == "login.*"
    assert alerts.silences(active_at=T0 + timedelta(hours=2)) == []
    with pytest.raises(ModelError):
        alerts.create_silence(Silence(None, "*", to_ms(T0), to_ms(T0) + 1, "u", "matches all"))
    w = alerts.add_whitelist_entry(
        WhitelistEntry(None, "*", "ip", "203.0.113.5/24", "user/alice", "office"),
        audit("CreateWhitelistEntry"),
    )
    assert w.value == "203.0.113.0/24" and alerts.whitelist() == [w]
    with pytest.raises(ModelError):
        alerts.add_whitelist_entry(WhitelistEntry(None, "*", "ip", "nope", "u", "c"))
    # the "*" entries apply to the scope's account
    events = alerts.apply_findings(SCOPE, [brute("203.0.113.9")], T0)
    assert events == []
    alerts.delete_silence(s.id, audit("DeleteSilence"))
    alerts.delete_whitelist_entry(w.id, audit("DeleteWhitelistEntry"))
    assert alerts.silences() == [] and alerts.whitelist() == []
    with pytest.raises(ModelError) as err:
        alerts.delete_silence(s.id)
    assert err.value.code == "InvalidSilenceId.NotFound"
    actions = [r.action for r in CloudStateRepository(store).audit_log()]
    assert sorted(actions) == sorted(
        ["CreateSilence", "CreateWhitelistEntry", "DeleteSilence", "DeleteWhitelistEntry"]
    )


def test_expire_stale_sweeps_every_scope(alerts):
    alerts.apply_findings(SCOPE, [brute()], T0)
    assert alerts.expire_stale(T0 + timedelta(days=6)) == []
    (ev,) = alerts.expire_stale(T0 + timedelta(days=8))
    assert (ev.kind, ev.alert.status) == ("resolved", "expired")
    assert alerts.get(ev.alert.id).status == "expired"


def test_replicas_applying_the_same_findings_at_once_open_exactly_one_alert(db_url):
    # two Store instances = two replicas (on SQLite: two engines on one file)
    stores = [Database(db_url), Database(db_url)]
    try:
        services = [AlertRepository(s) for s in stores]
        hooked: list[int] = []
        lock = threading.Lock()

        def hook(conn, event):
            with lock:
                hooked.append(event.alert.id)

        n = 8
        barrier = threading.Barrier(n)
        results: list = [None] * n

        def replica(i: int) -> None:
            barrier.wait()
            results[i] = services[i % 2].apply_findings(SCOPE, [brute(), port()], T0, hook)

        threads = [threading.Thread(target=replica, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        kinds = sorted(e.kind for events in results for e in events)
        # the brute force (an event check) counts the repeats, the port (a condition) does not
        assert kinds == ["count"] * (n - 1) + ["opened"] * 2 + ["seen"] * (n - 1)
        assert len(hooked) == 2
        total, stored = services[0].list_alerts()
        counts = {a.check_id: a.count for a in stored}
        assert total == 2 and counts == {"login.brute_force": n, "exposure.port": 1}
    finally:
        for s in stores:
            s.close()


def test_event_checks_default_to_the_registry_s_event_kind(store):
    from palisade.auditor.checks import all_metas

    events = AlertRepository(store).event_checks
    assert "login.brute_force" in events
    assert events == {m.id for m in all_metas() if m.kind == "event"}


def test_an_opened_event_carries_what_notify_reads(alerts):
    from palisade.auditor.notify.outbox import as_notify_event

    (opened,) = alerts.apply_findings(SCOPE, [port()], T0)
    ev = as_notify_event(opened)
    assert (ev.account_id, ev.alert_id, ev.instance_id, ev.check_id, ev.subject) == (
        ACCOUNT,
        str(opened.alert.id),
        "i-1",
        "exposure.port",
        "tcp/6379",
    )
    assert (ev.level, ev.category, ev.count, ev.details["port"]) == ("serious", "exposure", 1, 6379)
    (count,) = alerts.apply_findings(SCOPE, [port()], T0 + timedelta(minutes=1))
    assert as_notify_event(count) is None  # a count going up sends nothing


def test_rounds_of_many_instances_commit_together_or_not_at_all(alerts):
    """apply_rounds: the check runner applies many instances' findings in one transaction;
    each scope is reconciled as apply_findings would, and a failing hook keeps none."""
    from dataclasses import replace as dc_replace

    scopes = [dc_replace(SCOPE, instance_id=f"i-{n}") for n in range(5)]

    def attack(scope):
        return dc_replace(brute(), instance_id=scope.instance_id)

    def failing(_conn, _ev):
        raise RuntimeError("outbox down")

    with pytest.raises(RuntimeError):
        alerts.apply_rounds([(s, [attack(s)]) for s in scopes], T0, on_opened=failing)
    assert alerts.list_alerts()[0] == 0
    events = alerts.apply_rounds([(s, [attack(s)]) for s in scopes], T0)
    assert sorted((e.kind, e.alert.instance_id) for e in events) == [
        ("opened", f"i-{n}") for n in range(5)
    ]
    # the next round: counts where the attack goes on, resolves nothing of an event check
    later = T0 + timedelta(minutes=1)
    events = alerts.apply_rounds([(s, [attack(s)]) for s in scopes[:3]] + [(scopes[3], [])], later)
    assert sorted((e.kind, e.alert.instance_id) for e in events) == [
        ("count", f"i-{n}") for n in range(3)
    ]
    assert alerts.apply_rounds([(scopes[4], [])], later) == []
