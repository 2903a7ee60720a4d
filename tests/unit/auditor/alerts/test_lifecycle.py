"""The alert lifecycle's rules (auditor/alerts/lifecycle.py), pure: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from palisade.auditor.alerts.lifecycle import (
    Alert,
    AlertKey,
    LifecycleSettings,
    Scope,
    Silence,
    WhitelistEntry,
    change_status,
    expire,
    reconcile,
    to_ms,
    validate_whitelist_value,
)
from palisade.auditor.model.errors import ModelError
from tests.helpers.alert_findings import ACCOUNT, EVENT_CHECKS, SCOPE, T0, Finding, brute, port


class Round:
    """Keeps the live alerts between rounds, as the store does."""

    def __init__(self, **kw):
        kw.setdefault("event_checks", EVENT_CHECKS)
        self.live: dict[AlertKey, Alert] = {}
        self.final: list[Alert] = []
        self.kw = kw
        self.next_id = 1

    def run(self, findings, now, scope=SCOPE):
        changes = reconcile(list(self.live.values()), findings, scope, now, **self.kw)
        for a in changes.new:
            a.id = self.next_id
            self.next_id += 1
            assert a.key not in self.live
            self.live[a.key] = a
        for a in [*changes.updated, *changes.reopened]:
            self.live[a.key] = a
        for a in changes.resolved:
            del self.live[a.key]
            self.final.append(a)
        return changes


def test_a_new_finding_opens_a_pending_alert_that_is_notified():
    changes = Round().run([brute()], T0)
    (alert,) = changes.new
    assert alert.status == "pending" and alert.count == 1 and alert.notified
    assert alert.first_seen_ms == alert.last_seen_ms == to_ms(T0)
    assert [e.kind for e in changes.events()] == ["opened"]


def test_a_repeat_counts_up_without_a_second_alert():
    r = Round()
    r.run([brute()], T0)
    changes = r.run([brute(message="again")], T0 + timedelta(minutes=1))
    assert not changes.new
    (alert,) = changes.updated
    assert alert.count == 2 and alert.last_seen_ms == to_ms(T0 + timedelta(minutes=1))
    assert alert.first_seen_ms == to_ms(T0) and alert.message == "again"
    assert [(e.kind, e.notify) for e in changes.events()] == [("count", False)]


def test_the_same_key_twice_in_one_round_is_one_occurrence():
    changes = Round().run([brute(), brute()], T0)
    assert len(changes.new) == 1 and changes.new[0].count == 1


def test_a_cleared_condition_resolves_its_alert_automatically():
    r = Round()
    r.run([port()], T0)
    changes = r.run([], T0 + timedelta(minutes=5))
    (alert,) = changes.resolved
    assert (alert.status, alert.resolution) == ("handled", "auto")
    assert alert.history[-1].actor == "system"


def test_only_the_checks_evaluated_resolve():
    r = Round()
    r.run([port()], T0)
    other = Scope(ACCOUNT, "i-1", frozenset({"login.brute_force"}))
    assert not r.run([], T0 + timedelta(minutes=5), scope=other).resolved


def test_a_crashed_check_resolves_nothing():
    r = Round()
    r.run([port()], T0)
    crash = Finding(
        "palisade.check_error", "i-1", "exposure.port", details={"check_id": "exposure.port"}
    )
    assert not r.run([crash], T0 + timedelta(minutes=1)).resolved


def test_an_event_like_alert_stays_open_so_a_new_burst_counts_up():
    r = Round()
    (alert,) = r.run([brute()], T0).new
    assert alert.event_like
    assert not r.run([], T0 + timedelta(minutes=10)).resolved  # the burst left the window
    changes = r.run([brute()], T0 + timedelta(minutes=20))
    assert not changes.new and changes.updated[0].count == 2


def test_after_being_handled_the_condition_coming_back_opens_a_new_alert():
    r = Round()
    r.run([port()], T0)
    r.run([], T0 + timedelta(minutes=1))
    changes = r.run([port()], T0 + timedelta(minutes=2))
    assert len(changes.new) == 1 and changes.new[0].notified


def test_ignored_and_false_positive_stay_suppressed():
    for status in ("ignored", "false_positive"):
        r = Round()
        (alert,) = r.run([port()], T0).new
        r.live[alert.key] = change_status(alert, status, "user/alice", "known", T0)
        changes = r.run([port()], T0 + timedelta(minutes=1))
        assert not changes.new and changes.updated[0].count == 1  # the same occurrence
        assert changes.updated[0].status == status
        assert not [e for e in changes.events() if e.notify]
        # and the condition clearing does not end the user's decision
        assert not r.run([], T0 + timedelta(minutes=2)).resolved


def test_an_alert_not_seen_for_the_expiry_period_expires():
    r = Round(settings=LifecycleSettings(expire_after=timedelta(days=7)))
    r.run([brute()], T0)
    assert not r.run([], T0 + timedelta(days=6)).resolved
    (alert,) = r.run([], T0 + timedelta(days=7, seconds=1)).resolved
    assert (alert.status, alert.resolution) == ("expired", "expired")


def test_expire_sweeps_open_alerts_only():
    r = Round()
    (a,) = r.run([port()], T0).new
    ignored = change_status(replace(a, id=9), "ignored", "u", "", T0)
    late = T0 + timedelta(days=8)
    assert [x.status for x in expire([a, ignored], late, LifecycleSettings())] == ["expired"]


def test_a_silence_stores_the_alert_but_does_not_notify_it():
    silence = Silence(
        7,
        ACCOUNT,
        to_ms(T0),
        to_ms(T0 + timedelta(hours=2)),
        "user/alice",
        "maintenance",
        check_id="login.*",
    )
    changes = Round(silences=[silence]).run([brute(), port()], T0 + timedelta(minutes=1))
    by_check = {a.check_id: a for a in changes.new}
    assert not by_check["login.brute_force"].notified
    assert by_check["login.brute_force"].silenced_by == 7
    assert by_check["exposure.port"].notified
    assert changes.suppressed == [by_check["login.brute_force"]]


def test_a_silence_outside_its_time_does_not_match():
    silence = Silence(
        1, ACCOUNT, to_ms(T0), to_ms(T0 + timedelta(hours=1)), "u", "c", subject="203.0.113.*"
    )
    changes = Round(silences=[silence]).run([brute()], T0 + timedelta(hours=1))
    assert changes.new[0].notified


def test_a_whitelisted_source_raises_no_alert_and_ends_an_open_one():
    entry = WhitelistEntry(1, ACCOUNT, "ip", "203.0.113.0/24", "u", "office")
    r = Round()
    r.run([brute("203.0.113.7"), brute("198.51.100.1")], T0)
    r.kw["whitelist"] = [entry]
    changes = r.run(
        [brute("203.0.113.7"), brute("198.51.100.1"), brute("203.0.113.9")],
        T0 + timedelta(minutes=1),
    )
    assert not changes.new
    assert [f.subject for f in changes.whitelisted] == ["203.0.113.7", "203.0.113.9"]
    (ended,) = changes.resolved
    assert (ended.subject, ended.resolution) == ("203.0.113.7", "whitelist")


def test_a_whitelisted_port_matches_details_or_subject_and_protocol():
    tcp = WhitelistEntry(1, ACCOUNT, "port", "tcp/6379", "u", "c")
    anyproto = WhitelistEntry(2, ACCOUNT, "port", "443", "u", "c")
    key = AlertKey(ACCOUNT, "i-1", "exposure.port", "tcp/6379")
    assert tcp.matches(key, "exposure", {"port": 6379, "protocol": "tcp"})
    assert not tcp.matches(key, "exposure", {"port": 6379, "protocol": "udp"})
    assert tcp.matches(key, "exposure", {})  # from the subject
    assert anyproto.matches(replace(key, subject="udp/443"), "exposure", {})
    assert not anyproto.matches(key, "exposure", {})


def test_whitelist_values_are_validated_and_canonical():
    assert validate_whitelist_value("ip", "10.0.0.7/8") == "10.0.0.0/8"
    assert validate_whitelist_value("port", "TCP/22") == "tcp/22"
    for kind, value in (("ip", "10.0.0.300"), ("port", "70000"), ("port", "ssh"), ("x", "1")):
        with pytest.raises(ModelError):
            validate_whitelist_value(kind, value)


def test_status_changes_are_recorded_and_final_alerts_do_not_change():
    (alert,) = Round().run([port()], T0).new
    handling = change_status(alert, "handling", "user/alice", "looking", T0)
    handled = change_status(handling, "handled", "user/alice", "closed 6379", T0)
    # a handled condition stays the key's alert until a round no longer reports it
    assert (handled.status, handled.resolution, handled.live) == ("handled", "manual", True)
    r = Round()
    r.live[handled.key] = handled
    (done,) = r.run([], T0 + timedelta(minutes=1)).resolved
    assert (done.status, done.resolution, done.live) == ("handled", "manual", False)
    assert [(h.status, h.actor, h.comment) for h in done.history[1:]] == [
        ("handling", "user/alice", "looking"),
        ("handled", "user/alice", "closed 6379"),
        ("handled", "system", "the condition cleared"),
    ]
    with pytest.raises(ModelError) as err:
        change_status(done, "ignored", "user/alice", "", T0)
    assert err.value.code == "IncorrectAlertStatus"
    with pytest.raises(ModelError):
        change_status(alert, "expired", "user/alice", "", T0)


def test_a_finding_for_another_instance_is_refused_in_an_instance_scope():
    with pytest.raises(ValueError):
        Round().run([Finding("exposure.port", "i-2", "tcp/1")], T0)


def test_a_fleet_scope_covers_every_instance_of_its_checks():
    fleet = Scope(ACCOUNT, None, frozenset({"login.fleet_spray"}))
    r = Round()
    spray = [
        Finding("login.fleet_spray", None, "203.0.113.7"),
        Finding("login.fleet_spray", "i-9", "203.0.113.8"),
    ]
    assert [a.instance_id for a in r.run(spray, T0, scope=fleet).new] == ["", "i-9"]
    assert len(r.run([], T0 + timedelta(minutes=1), scope=fleet).resolved) == 2


# -- properties --------------------------------------------------------------------------------

CHECKS = ("c.one", "c.two", "c.three")
findings_st = st.builds(
    Finding,
    check_id=st.sampled_from(CHECKS),
    instance_id=st.just("i-1"),
    subject=st.sampled_from(("a", "b", "c")),
)
round_st = st.tuples(
    st.lists(findings_st, max_size=6),
    st.sets(st.sampled_from(CHECKS), min_size=0),  # the checks evaluated
    st.integers(min_value=0, max_value=3 * 24 * 60),  # minutes since the previous round
    st.sampled_from((None, "ignored", "handling", "handled")),  # a user acts on one alert
)


@settings(max_examples=300, deadline=None)
@given(st.lists(round_st, max_size=12), st.frozensets(st.sampled_from(CHECKS)))
def test_any_sequence_of_rounds_keeps_the_lifecycle_invariants(rounds, event_checks):
    r = Round(settings=LifecycleSettings(expire_after=timedelta(days=2)), event_checks=event_checks)
    now = T0
    opened = event_reports = 0
    for findings, evaluated, gap, user_status in rounds:
        now += timedelta(minutes=gap)
        scope = Scope(ACCOUNT, "i-1", frozenset(evaluated))
        before = dict(r.live)
        changes = r.run(findings, now, scope)
        keys = {(f.check_id, f.subject) for f in findings}
        event_reports += len({k for k in keys if k[0] in event_checks})
        opened += len(changes.new)
        # every reported key has exactly one live alert afterwards
        assert {(k.check_id, k.subject) for k in r.live} >= keys
        # new + updated + reopened = the distinct keys reported (nothing is whitelisted here)
        assert len(changes.new) + len(changes.updated) + len(changes.reopened) == len(keys)
        for a in changes.resolved:
            old = before[a.key]
            assert old.status in ("pending", "handling") or old.still_present
            if old.still_present:  # released: it cleared, or was not seen for the expiry
                assert (a.status, a.resolution) == ("handled", "manual") and not a.live
            elif a.status == "handled":  # auto-resolved: its check was evaluated, or reported
                assert a.check_id in evaluated or a.check_id in {f.check_id for f in findings}
                assert (a.check_id, a.subject) not in keys
                assert a.check_id not in event_checks  # events end by a user or expiry
            else:
                assert a.status == "expired"
        for a in changes.new:
            assert a.notified and a.status == "pending" and a.count == 1
        if user_status and r.live:
            key = sorted(r.live)[0]
            if r.live[key].status != user_status:
                changed = change_status(r.live[key], user_status, "u", "", now)
                if changed.live:
                    r.live[key] = changed
                else:
                    del r.live[key]
                    r.final.append(changed)
    # counts add up: every reported event key is one count on exactly one alert (a burst
    # without its end time counts each round); a condition is one occurrence per alert
    everything = [*r.live.values(), *r.final]
    assert sum(a.count for a in everything if a.event_like) == event_reports
    assert all(a.count == 1 for a in everything if not a.event_like)
    assert len(r.live) + len(r.final) == opened


# -- bursts of an event check ------------------------------------------------------------------


def _burst(last_ms: int):
    from palisade.auditor.checks.logins.check import BruteForceEvidence
    from palisade.auditor.checks.logins.metadata import BRUTE_FORCE

    evidence = BruteForceEvidence(
        source_ip="203.0.113.7",
        last_ms=last_ms,
        failures_in_window=8,
        failures_total=8,
        first_ms=last_ms - 1000,
        users=("root",),
    )
    return BRUTE_FORCE.finding("i-1", "203.0.113.7", "8 failures", evidence)


def _round(existing, findings, closed=()):
    from palisade.auditor.alerts.lifecycle import Scope, reconcile

    scope = Scope("acct", "i-1", frozenset({"login.brute_force"}))
    return reconcile(
        existing,
        findings,
        scope,
        datetime(2026, 11, 29, tzinfo=UTC),
        event_checks=frozenset({"login.brute_force"}),
        closed=list(closed),
    )


def test_the_same_burst_evaluated_again_is_not_a_repeat():
    first = _round([], [_burst(1000)]).new[0]
    again = _round([first], [_burst(1000)])
    assert again.updated == [] and again.new == [] and again.resolved == []
    later = _round([first], [_burst(2000)])
    assert later.updated[0].count == 2


def test_a_handled_burst_does_not_reopen_but_a_new_one_does():
    from dataclasses import replace

    first = _round([], [_burst(1000)]).new[0]
    handled = replace(first, status="handled", id=1)
    assert _round([], [_burst(1000)], closed=[handled]).new == []
    assert len(_round([], [_burst(5000)], closed=[handled]).new) == 1
