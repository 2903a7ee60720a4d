"""The pipeline re-evaluated at send time (auditor/notify/stages.py, dispatcher.py) over a
real store (SQLite and PostgreSQL): alerts opened by the alert repository queue their
notifications in its transaction, as in the auditor; recording transports receive them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from palisade.auditor.alerts.lifecycle import Scope, Silence, to_ms
from palisade.auditor.alerts.repository import AlertRepository
from palisade.auditor.notify import outbox, settings_repository, stages
from palisade.auditor.notify.dispatcher import Dispatcher
from palisade.auditor.notify.inhibition import RULES, inhibitor
from palisade.auditor.notify.messages import subject, text_body
from palisade.auditor.notify.models import Channel, EmailConfig, NotifyEvent, Subscription
from palisade.auditor.notify.settings_repository import NotificationSettingsCache
from tests.helpers.alert_findings import Finding
from tests.unit.auditor.notify.dispatcher_bench import ACCOUNT, T0, Bench

LOGIN = frozenset({"login.brute_force", "login.brute_force_success", "login.new_source"})
SCOPE = Scope(ACCOUNT, "i-abc", LOGIN | {"exposure.port"})
EVENTS = frozenset(LOGIN)


def login(check_id: str, source: str = "203.0.113.7", title: str = "") -> Finding:
    return Finding(
        check_id,
        "i-abc",
        source,
        title=title or check_id,
        details={"source_ip": source, "last_ms": to_ms(T0)},
    )


def redis(port: int = 6379) -> Finding:
    return Finding(
        "exposure.port",
        "i-abc",
        f"tcp/{port}",
        category="exposure",
        title=f"Port {port} reachable from the internet",
        details={"port": port, "protocol": "tcp"},
    )


@pytest.fixture
def bench(db_url):
    b = Bench(db_url)
    b.alerts = AlertRepository(b.store, on_opened=outbox.enqueue, event_checks=EVENTS)
    yield b
    b.close()


def apply(bench, findings, at, scope=SCOPE):
    return bench.alerts.apply_findings(scope, findings, at)


def mail(bench) -> list[str]:
    return [text_body(d) for d in bench.email.sent]


def test_an_alert_silenced_while_the_window_holds_it_is_left_out_of_the_digest(bench):
    bench.set_window("08:00", "22:00", "Asia/Shanghai")
    night = T0 + timedelta(hours=11)  # 23:00 in Shanghai
    opened = apply(bench, [redis(6379), redis(5432)], night)
    ids = {e.alert.subject: e.alert.id for e in opened}
    d = bench.dispatcher()
    d.run_once(night)
    assert bench.email.sent == []
    # the user silences 6379 during the night; the held message is not sent when it opens
    bench.alerts.create_silence(
        Silence(
            None,
            ACCOUNT,
            to_ms(night),
            to_ms(night + timedelta(days=1)),
            "user/alice",
            "maintenance",
            subject="tcp/6379",
        )  # fmt: skip
    )
    opens = T0 + timedelta(hours=20)  # 08:00 the next day in Shanghai
    d.run_once(opens)
    (digest,) = bench.email.sent
    assert [e.alert_id for e in digest.events] == [str(ids["tcp/5432"])]
    assert digest.is_digest
    (dropped,) = digest.dropped
    assert dropped[0].alert_id == str(ids["tcp/6379"])
    assert dropped[1].startswith("silenced by silence") and "maintenance" in dropped[1]
    body = text_body(digest)
    assert "Not sent on their own" in body and f"(alert {ids['tcp/6379']}): silenced" in body
    states = {r.alert_id: (r.state, r.drop_reason) for r in bench.rows("nc-mail")}
    assert states[str(ids["tcp/6379"])][0] == "dropped"
    assert states[str(ids["tcp/5432"])] == ("sent", None)


def test_an_alert_handled_while_held_is_not_sent_and_the_digest_says_why(bench):
    bench.set_window("08:00", "22:00", "Asia/Shanghai")
    night = T0 + timedelta(hours=11)
    opened = apply(bench, [redis(6379), redis(5432)], night)
    ids = {e.alert.subject: e.alert.id for e in opened}
    bench.dispatcher().run_once(night)
    bench.alerts.set_status(ids["tcp/6379"], "handled", "user/alice", "closed", night)
    bench.dispatcher().run_once(T0 + timedelta(hours=20))
    (digest,) = bench.email.sent
    assert [e.alert_id for e in digest.events] == [str(ids["tcp/5432"])]
    assert digest.dropped[0][1] == "the alert is handled, still present now"


def test_a_resolved_alert_is_not_sent(bench):
    bench.set_grouping(30, 300)
    apply(bench, [login("login.brute_force")], T0)
    apply(bench, [], T0 + timedelta(seconds=5), Scope(ACCOUNT, "i-abc", frozenset()))
    (alert,) = bench.alerts.list_alerts()[1]
    bench.alerts.set_status(alert.id, "handled", "u", "", T0 + timedelta(seconds=10))
    bench.dispatcher().run_once(T0 + timedelta(seconds=30))
    assert bench.email.sent == [] and bench.inbox_titles() == []
    assert {r.drop_reason for r in bench.rows()} == {"the alert is resolved (handled) now"}


def test_a_brute_force_and_its_success_are_one_message_naming_both(bench):
    bench.set_grouping(10, 300)
    apply(bench, [login("login.brute_force", title="Brute-force login attempts")], T0)
    d = bench.dispatcher()
    assert d.run_once(T0 + timedelta(seconds=3)) == 0  # the group waits for the rest of it
    success = login("login.brute_force_success", title="Successful login after failures")
    later = T0 + timedelta(seconds=4)
    apply(bench, [login("login.brute_force"), success, login("login.new_source")], later)
    assert d.run_once(T0 + timedelta(seconds=9)) == 0
    d.run_once(T0 + timedelta(seconds=10))
    (message,) = bench.email.sent
    assert [e.check_id for e in message.events] == ["login.brute_force_success"]
    assert sorted(e.check_id for e, _ in message.dropped) == [
        "login.brute_force",
        "login.new_source",
    ]
    body = text_body(message)
    assert "Successful login after failures" in body and "Brute-force login attempts" in body
    assert "inhibited by [serious] Successful login after failures on i-abc" in body
    assert len(bench.hook.sent) == 1 and len(bench.inbox_titles()) == 1


def test_the_alerts_of_one_group_go_as_one_message_and_later_ones_wait_the_interval(bench):
    bench.set_grouping(10, 300)
    apply(bench, [login("login.brute_force"), login("login.new_source", "198.51.100.9")], T0)
    apply(bench, [login("login.new_source")], T0 + timedelta(seconds=2))
    d = bench.dispatcher()
    d.run_once(T0 + timedelta(seconds=10))
    groups = sorted(sorted(e.check_id for e in m.events) for m in bench.email.sent)
    assert groups == [["login.brute_force", "login.new_source"], ["login.new_source"]]
    together = next(m for m in bench.email.sent if len(m.events) == 2)
    assert subject(together).endswith("(+1 related)") and together.is_group
    # a new alert of a group that had a message waits until group_interval after it
    apply(bench, [login("login.unusual_account")], T0 + timedelta(seconds=20))
    scope = Scope(ACCOUNT, "i-abc", frozenset({"login.unusual_account"}))
    apply(bench, [login("login.unusual_account", "203.0.113.7")], T0 + timedelta(seconds=21), scope)
    d.run_once(T0 + timedelta(seconds=60))
    assert len(bench.inbox_titles()) == 2
    d.run_once(T0 + timedelta(seconds=310))
    assert len(bench.inbox_titles()) == 3


def test_a_channel_created_just_before_is_found_despite_the_settings_cache(bench):
    cache = NotificationSettingsCache(bench.store, ttl_s=3600)
    d = Dispatcher(bench.store, cache, bench.transports, rand=lambda: 1.0)
    cache.settings(ACCOUNT)  # cached before the channel exists
    with bench.store.engine.begin() as conn:
        settings_repository.add_channel(
            conn, Channel("nc-new", ACCOUNT, "new", "email", EmailConfig("smtp")), 0
        )
        settings_repository.add_subscription(
            conn, Subscription("ns-2", ACCOUNT, "baseline", frozenset({"remind"}), ("nc-new",)), 0
        )
        outbox.enqueue(
            conn,
            NotifyEvent(ACCOUNT, "9", "i-abc", "baseline.x", "baseline", "remind", "t", "m"),
            T0,
        )
    d.run_once(T0)
    assert {r.channel_id: r.state for r in bench.rows()} == {"inbox": "sent", "nc-new": "sent"}
    assert [d.channel.channel_id for d in bench.email.sent] == ["nc-new"]


def test_the_pipeline_is_alertmanager_s_order():
    assert stages.PIPELINE == (
        "route", "group", "inhibit", "silence", "window", "rate_cap", "send"
    )  # fmt: skip
    assert [name for name, _ in stages.FILTERS] == ["route", "inhibit", "silence"]


def _ev(alert_id: str, check_id: str, source: str, instance: str = "i-1") -> NotifyEvent:
    return NotifyEvent(ACCOUNT, alert_id, instance, check_id, "login", "serious", "t", "m",
                       subject=source, source=source)  # fmt: skip


@pytest.mark.parametrize(
    "target,firing,inhibited",
    [
        (("1", "login.brute_force", "a"), [("2", "login.brute_force_success", "a")], True),
        (("1", "login.new_source", "a"), [("2", "login.brute_force_success", "a")], True),
        (("1", "login.brute_force", "a"), [("2", "login.brute_force_success", "b")], False),
        (("1", "login.brute_force", "a"), [("2", "login.brute_force_success", "a", "i-2")],
         False),
        (("1", "login.brute_force_success", "a"), [("2", "login.brute_force", "a")], False),
        (("1", "login.unusual_hour", "a"), [("2", "login.brute_force_success", "a")], False),
        (("1", "login.brute_force", "a"), [], False),
    ],
)  # fmt: skip
def test_inhibition_rules_need_a_firing_source_with_equal_labels(target, firing, inhibited):
    found = inhibitor(_ev(*target), [_ev(*f) for f in firing], RULES)
    assert (found is not None) is inhibited
