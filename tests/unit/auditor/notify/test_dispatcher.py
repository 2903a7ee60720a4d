"""The dispatcher's stages over a real store (SQLite and PostgreSQL), with recording
transports: routing at enqueue, window hold and one digest, cap and digest, retries with
backoff, lease takeover, deleted channels."""

from __future__ import annotations

from datetime import timedelta

import pytest

from palisade.auditor.notify import outbox, settings_repository
from palisade.auditor.notify.transports import PermanentDeliveryError
from tests.unit.auditor.notify.dispatcher_bench import T0, Bench, event


@pytest.fixture
def bench(db_url):
    b = Bench(db_url)
    yield b
    b.close()


def test_an_event_is_queued_for_its_subscribed_channels_and_the_inbox(bench):
    ids = bench.enqueue(event("1"))
    assert len(ids) == 3
    assert [r.channel_id for r in bench.rows()] == ["inbox", "nc-mail", "nc-hook"]
    assert {r.state for r in bench.rows()} == {"queued"}


def test_enqueue_is_part_of_the_callers_transaction(bench):
    with pytest.raises(RuntimeError):
        with bench.store.engine.begin() as conn:
            outbox.enqueue(conn, event("1"), T0)
            raise RuntimeError("the alert's transaction fails")
    assert bench.rows() == []


def test_an_alert_event_that_is_not_an_opening_sends_nothing(bench):
    class AlertEvent:
        kind = "count"
        alert = event("1")

    with bench.store.engine.begin() as conn:
        assert outbox.enqueue(conn, AlertEvent(), T0) == []


def test_due_rows_are_sent_once_and_marked_sent(bench):
    bench.enqueue(event("1"), event("2", level="remind"))
    d = bench.dispatcher()
    assert d.run_once(T0) == 4  # 2 inbox + email and hook for the serious one
    assert bench.email.alert_ids() == [["1"]] and bench.hook.alert_ids() == [["1"]]
    assert sorted(bench.inbox_titles()) == [
        "[remind] Brute force 2 on i-abc",
        "[serious] Brute force 1 on i-abc",
    ]
    assert {r.state for r in bench.rows()} == {"sent"}
    assert d.run_once(T0 + timedelta(minutes=5)) == 0
    assert len(bench.email.sent) == 1


def test_outside_the_window_messages_are_held_and_go_as_one_digest_when_it_opens(bench):
    bench.set_window("08:00", "22:00", "Asia/Shanghai")
    night = T0 + timedelta(hours=11)  # 23:00 in Shanghai
    bench.enqueue(event("1"), event("2"), event("3", level="suspicious"), now=night)
    d = bench.dispatcher()
    d.run_once(night)
    assert bench.email.sent == [] and bench.hook.sent == []
    assert len(bench.inbox_titles()) == 3  # the inbox is silent: never held
    opens = T0 + timedelta(hours=20)  # 08:00 the next day in Shanghai
    assert {r.next_attempt_at_ms for r in bench.rows("nc-mail")} == {int(opens.timestamp() * 1000)}
    assert {r.state for r in bench.rows("nc-mail")} == {"held"}
    d.run_once(opens - timedelta(seconds=1))
    assert bench.email.sent == []
    d.run_once(opens)
    assert bench.email.alert_ids() == [["1", "2", "3"]]  # one digest per channel
    assert bench.hook.alert_ids() == [["1", "2", "3"]]
    assert bench.email.sent[0].is_digest
    assert {r.state for r in bench.rows()} == {"sent"}


def test_over_the_hourly_cap_messages_are_held_into_the_next_digest(bench):
    bench.set_cap("nc-mail", 2)
    bench.enqueue(*[event(str(n)) for n in range(1, 6)])
    d = bench.dispatcher()
    d.run_once(T0)
    assert bench.email.alert_ids() == [["1"], ["2"]]
    assert len(bench.hook.sent) == 5  # the cap is per channel
    held = bench.rows("nc-mail")[2:]
    assert {r.state for r in held} == {"held"}
    free_at = T0 + timedelta(hours=1)
    assert {r.next_attempt_at_ms for r in held} == {int(free_at.timestamp() * 1000)}
    bench.enqueue(event("6"), now=T0 + timedelta(minutes=30))
    d.run_once(T0 + timedelta(minutes=30))  # still at the cap: 6 joins the held ones
    assert len(bench.email.sent) == 2
    d.run_once(free_at)
    assert bench.email.alert_ids()[2:] == [["3", "4", "5", "6"]]


def test_a_failing_channel_is_retried_with_backoff_until_it_is_back(bench):
    bench.email.down = True
    bench.enqueue(event("1"))
    d = bench.dispatcher(retry_base_s=2, retry_cap_s=300)
    now = T0
    schedule = []
    for _ in range(10):
        d.run_once(now)
        row = bench.rows("nc-mail")[0]
        assert row.state == "queued" and "refused" in row.last_error
        due = row.next_attempt_at_ms
        schedule.append(round((due - now.timestamp() * 1000) / 1000))
        d.run_once(now + timedelta(milliseconds=(due - now.timestamp() * 1000) - 1))
        now = now + timedelta(milliseconds=due - now.timestamp() * 1000)
    assert schedule == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert bench.email.tries == 10  # nothing tried before it was due
    bench.email.down = False
    d.run_once(now)
    assert bench.email.alert_ids() == [["1"]]
    assert bench.rows("nc-mail")[0].state == "sent"


def test_a_digest_that_fails_is_retried_as_one_digest(bench):
    bench.set_window("08:00", "22:00", "Asia/Shanghai")
    night = T0 + timedelta(hours=11)
    bench.enqueue(event("1"), event("2"), now=night)
    d = bench.dispatcher()
    d.run_once(night)
    bench.email.down = True
    opens = T0 + timedelta(hours=20)
    d.run_once(opens)
    assert {r.state for r in bench.rows("nc-mail")} == {"held"}
    bench.email.down = False
    d.run_once(opens + timedelta(minutes=10))
    assert bench.email.alert_ids() == [["1", "2"]]


class Killed(BaseException):
    """The replica dies in the middle of a send."""


def test_a_lease_left_by_a_dead_dispatcher_is_taken_over_when_it_expires(bench):
    bench.enqueue(event("1"))

    class Dying:
        def send(self, delivery):
            raise Killed()

    a = bench.dispatcher(lease_s=60, owner="a")
    a.transports["email"] = Dying()
    with pytest.raises(Killed):
        a.run_once(T0)
    row = bench.rows("nc-mail")[0]
    assert row.state == "sending" and row.lease_owner == "a"
    b = bench.dispatcher(lease_s=60, owner="b")
    b.run_once(T0 + timedelta(seconds=59))
    assert bench.email.sent == []
    b.run_once(T0 + timedelta(seconds=61))
    assert bench.email.alert_ids() == [["1"]]
    assert bench.rows("nc-mail")[0].state == "sent"


def test_a_deleted_channel_fails_its_rows(bench):
    bench.enqueue(event("1"))
    with bench.store.engine.begin() as conn:
        settings_repository.remove_channel(conn, "1000000000000001", "nc-mail")
    bench.dispatcher().run_once(T0)
    row = bench.rows("nc-mail")[0]
    assert row.state == "failed" and "deleted" in row.last_error
    assert len(bench.hook.sent) == 1


def test_a_permanent_refusal_is_not_retried(bench):
    class Refusing:
        def send(self, delivery):
            raise PermanentDeliveryError("HTTP 400")

    bench.transports["sms_hook"] = Refusing()
    bench.enqueue(event("1"))
    bench.dispatcher().run_once(T0)
    assert bench.rows("nc-hook")[0].state == "failed"
