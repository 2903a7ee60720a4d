"""Every status transition of an alert, table-driven (auditor/alerts/lifecycle.py), pure.

A row: the steps that bring an alert to a status, then one step, then what must hold: the
alert's status (as the dashboard shows it), whether it is still the key's (live) alert, its
count, and the events of the last step (a notification only on "opened"/"reopened")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from palisade.auditor.alerts.lifecycle import (
    Alert,
    AlertKey,
    LifecycleSettings,
    change_status,
    reconcile,
)
from palisade.auditor.checks.taxonomy import ALERT_STATUSES, USER_STATUSES, AlertStatus
from palisade.auditor.model.errors import ModelError
from tests.helpers.alert_findings import EVENT_CHECKS, SCOPE, T0, brute, port

MINUTE = timedelta(minutes=1)
REOPEN = LifecycleSettings(handled_reopen_after=timedelta(hours=1))


@dataclass
class Run:
    """The key's alert across rounds and user decisions, as the store keeps it."""

    settings: LifecycleSettings = LifecycleSettings()
    now = T0
    alerts: dict[AlertKey, Alert] | None = None
    last_events: list = None  # type: ignore[assignment]
    opened: int = 0

    def __post_init__(self):
        self.alerts = {}
        self.last_events = []

    def step(self, what: str):
        self.now += MINUTE
        if what.startswith("user:"):
            status, _, rest = what[5:].partition(":")
            (key,) = self.alerts
            until = self.now + timedelta(minutes=int(rest)) if rest else None
            comment = "reviewed" if status == "accepted_risk" else ""
            self.alerts[key] = change_status(
                self.alerts[key], status, "user/alice", comment, self.now, until
            )
            self.last_events = []
            return
        if what.startswith("wait:"):
            self.now += timedelta(minutes=int(what[5:]))
            what = "present"
        findings = {"present": [port()], "cleared": [], "burst": [brute()]}[what]
        live = [a for a in self.alerts.values() if a.live]
        changes = reconcile(
            live, findings, SCOPE, self.now, settings=self.settings, event_checks=EVENT_CHECKS
        )
        for alert in changes.new:
            self.opened += 1
            alert.id = self.opened
        for alert in [*changes.new, *changes.updated, *changes.reopened, *changes.resolved]:
            self.alerts = {alert.key: alert}
        self.last_events = [(e.kind, e.notifies) for e in changes.events()]

    @property
    def alert(self) -> Alert:
        (alert,) = self.alerts.values()
        return alert


# (name, steps before, the step, shown status, live, count, events of the step, alerts opened)
TRANSITIONS = [
    ("new -> pending", [], "present", "pending", True, 1, [("opened", True)], 1),
    ("pending, still present", ["present"], "present", "pending", True, 1, [("seen", False)], 1),
    ("pending -> cleared", ["present"], "cleared", "handled", False, 1, [("resolved", False)], 1),
    ("pending -> handling", ["present"], "user:handling", "handling", True, 1, [], 1),
    ("handling -> cleared", ["present", "user:handling"], "cleared", "handled", False, 1,
     [("resolved", False)], 1),
    ("pending -> handled (present)", ["present"], "user:handled", "handled, still present",
     True, 1, [], 1),
    ("handled, still present", ["present", "user:handled"], "present",
     "handled, still present", True, 1, [("seen", False)], 1),
    ("handled -> cleared: released", ["present", "user:handled"], "cleared", "handled",
     False, 1, [("resolved", False)], 1),
    ("handled, cleared, back: a new alert", ["present", "user:handled", "cleared"], "present",
     "pending", True, 1, [("opened", True)], 2),
    ("pending -> accepted risk", ["present"], "user:accepted_risk:60", "accepted_risk",
     True, 1, [], 1),
    ("accepted risk, before its expiry", ["present", "user:accepted_risk:60"], "present",
     "accepted_risk", True, 1, [("seen", False)], 1),
    ("accepted risk expired -> reopened", ["present", "user:accepted_risk:60"], "wait:60",
     "pending", True, 1, [("reopened", True)], 1),
    ("accepted risk -> cleared", ["present", "user:accepted_risk:60"], "cleared", "handled",
     False, 1, [("resolved", False)], 1),
    ("pending -> ignored", ["present"], "user:ignored", "ignored", True, 1, [], 1),
    ("ignored, still present", ["present", "user:ignored"], "present", "ignored", True, 1,
     [("seen", False)], 1),
    ("ignored stays when cleared", ["present", "user:ignored"], "cleared", "ignored", True, 1,
     [], 1),
    ("pending -> false positive", ["present"], "user:false_positive", "false_positive", True,
     1, [], 1),
    ("false positive stays when cleared", ["present", "user:false_positive"], "cleared",
     "false_positive", True, 1, [], 1),
    ("ignored -> handling", ["present", "user:ignored"], "user:handling", "handling", True, 1,
     [], 1),
    ("event: a new burst counts up", ["burst"], "burst", "pending", True, 2,
     [("count", False)], 1),
    ("event: handled is final at once", ["burst"], "user:handled", "handled", False, 1, [], 1),
]  # fmt: skip


@pytest.mark.parametrize(
    "before,step,shown,live,count,events,opened",
    [t[1:] for t in TRANSITIONS],
    ids=[t[0] for t in TRANSITIONS],
)
def test_a_status_transition(before, step, shown, live, count, events, opened):
    run = Run()
    for what in before:
        run.step(what)
    run.step(step)
    assert run.alert.display_status == shown
    assert run.alert.live is live
    assert run.alert.count == count
    assert run.last_events == events
    assert run.opened == opened


def test_a_handled_condition_still_present_through_ten_rounds_is_one_quiet_alert():
    run = Run()
    run.step("present")
    run.step("user:handled")
    for _ in range(10):
        run.step("present")
        assert run.last_events == [("seen", False)]  # no new alert, no notification
    assert run.opened == 1
    assert (run.alert.display_status, run.alert.count) == ("handled, still present", 1)


def test_a_handled_condition_reopens_after_the_setting_s_delay():
    run = Run(settings=REOPEN)
    run.step("present")
    run.step("user:handled")
    run.step("wait:30")
    assert run.last_events == [("seen", False)]
    run.step("wait:30")
    assert run.last_events == [("reopened", True)]
    assert (run.alert.status, run.opened) == ("pending", 1)


@pytest.mark.parametrize(
    "comment,until_min,code",
    [
        ("", 60, "MissingParameter"),
        ("reviewed", None, "MissingParameter"),
        ("reviewed", -1, "InvalidParameter.EndTime"),
    ],
)
def test_an_accepted_risk_needs_a_comment_and_a_future_expiry(comment, until_min, code):
    run = Run()
    run.step("present")
    until = None if until_min is None else run.now + timedelta(minutes=until_min)
    with pytest.raises(ModelError) as err:
        change_status(run.alert, "accepted_risk", "u", comment, run.now, until)
    assert err.value.code == code


def test_only_an_accepted_risk_has_an_expiry():
    run = Run()
    run.step("present")
    with pytest.raises(ModelError) as err:
        change_status(run.alert, "ignored", "u", "", run.now, run.now + MINUTE)
    assert err.value.code == "InvalidParameter.EndTime"


@pytest.mark.parametrize("status", sorted(set(ALERT_STATUSES) - set(USER_STATUSES)))
def test_a_user_cannot_choose_a_system_status(status):
    run = Run()
    run.step("present")
    with pytest.raises(ModelError) as err:
        change_status(run.alert, status, "u", "", run.now)
    assert err.value.code == "InvalidParameter.Status"


@pytest.mark.parametrize("status", USER_STATUSES)
def test_a_final_alert_cannot_change(status):
    run = Run()
    run.step("present")
    run.step("cleared")
    assert not run.alert.live
    with pytest.raises(ModelError) as err:
        change_status(run.alert, status, "u", "x", run.now, run.now + MINUTE)
    assert err.value.code == "IncorrectAlertStatus"


def test_expired_is_the_end_of_an_event_alert_nobody_answered():
    run = Run(settings=LifecycleSettings(expire_after=timedelta(hours=1)))
    run.step("burst")
    run.now += timedelta(hours=2)
    run.step("cleared")
    assert (run.alert.status, run.alert.live) == (AlertStatus.EXPIRED, False)
