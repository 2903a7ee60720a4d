"""Each notification stage alone: routing, window, cap, backoff, templates, messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from palisade.auditor.notify import backoff, rate_cap, routing, templates, window
from palisade.auditor.notify.messages import Delivery, subject, template_values, text_body
from palisade.auditor.notify.models import (
    Channel,
    EmailConfig,
    InboxConfig,
    NotificationSettings,
    NotificationWindow,
    NotifyEvent,
    Subscription,
)
from palisade.auditor.notify.settings_repository import account_inbox


def event(category="login", level="serious", **kw) -> NotifyEvent:
    base = dict(
        account_id="100",
        alert_id="7",
        instance_id="i-abc",
        check_id="login.brute_force",
        category=category,
        level=level,
        title="Brute force",
        message="12 failures from 203.0.113.7",
    )
    base.update(kw)
    return NotifyEvent(**base)


def settings(*subs: Subscription) -> NotificationSettings:
    chans = {
        "inbox": account_inbox("100"),
        "nc-mail": Channel("nc-mail", "100", "ops mail", "email", EmailConfig("smtp")),
        "nc-user": Channel("nc-user", "100", "alice", "inbox", InboxConfig("alice")),
    }
    return NotificationSettings("100", chans, tuple(subs))


def sub(category, levels, *channels) -> Subscription:
    return Subscription("ns-1", "100", category, frozenset(levels), tuple(channels))


# -- routing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "check_category, wanted",
    [
        ("login", "alerts"),
        ("exposure", "alerts"),
        ("keypair", "alerts"),
        ("ddos", "alerts"),
        ("baseline", "baseline"),
        ("secrets", "accesskey_leak"),
        ("vulnerability", "vulnerabilities"),
    ],
)
def test_a_check_category_maps_to_its_notification_category(check_category, wanted):
    assert routing.notification_category(check_category) == wanted


def test_the_account_inbox_always_gets_the_event():
    assert routing.route(event(), settings()) == ["inbox"]


def test_a_subscription_for_the_category_and_level_adds_its_channels():
    s = settings(sub("alerts", {"serious"}, "nc-mail", "nc-user"))
    assert routing.route(event(level="serious"), s) == ["inbox", "nc-mail", "nc-user"]


def test_a_level_not_subscribed_is_not_routed():
    s = settings(sub("alerts", {"serious"}, "nc-mail"))
    assert routing.route(event(level="remind"), s) == ["inbox"]


def test_another_category_is_not_routed():
    s = settings(sub("baseline", {"serious"}, "nc-mail"))
    assert routing.route(event(category="login"), s) == ["inbox"]
    assert routing.route(event(category="baseline"), s) == ["inbox", "nc-mail"]


def test_a_channel_named_twice_or_deleted_is_routed_once_or_not_at_all():
    s = settings(
        sub("alerts", {"serious"}, "nc-mail", "nc-gone"), sub("alerts", {"serious"}, "nc-mail")
    )
    assert routing.route(event(), s) == ["inbox", "nc-mail"]


# -- window ----------------------------------------------------------------------------------

SHANGHAI = NotificationWindow("08:00", "22:00", "Asia/Shanghai")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_window_is_open_in_local_hours():
    assert window.is_open(SHANGHAI, utc(2026, 3, 1, 2, 0))  # 10:00 in Shanghai
    assert not window.is_open(SHANGHAI, utc(2026, 3, 1, 15, 0))  # 23:00 in Shanghai


def test_outside_the_window_the_next_opening_is_the_local_start():
    # 23:00 in Shanghai -> opens at 08:00 the next day = 00:00 UTC
    assert window.next_open(SHANGHAI, utc(2026, 3, 1, 15, 0)) == utc(2026, 3, 2, 0, 0)
    # 05:00 in Shanghai -> 08:00 the same day
    assert window.next_open(SHANGHAI, utc(2026, 2, 28, 21, 0)) == utc(2026, 3, 1, 0, 0)


def test_a_window_that_wraps_midnight():
    night = NotificationWindow("22:00", "06:00", "UTC")
    assert window.is_open(night, utc(2026, 3, 1, 23, 0))
    assert window.is_open(night, utc(2026, 3, 1, 5, 59))
    assert not window.is_open(night, utc(2026, 3, 1, 12, 0))
    assert window.next_open(night, utc(2026, 3, 1, 12, 0)) == utc(2026, 3, 1, 22, 0)


def test_equal_start_and_end_means_all_day():
    assert window.is_open(NotificationWindow("00:00", "00:00", "UTC"), utc(2026, 1, 1, 3))


def test_the_window_follows_daylight_saving_time():
    ny = NotificationWindow("08:00", "22:00", "America/New_York")
    # 08:00 EST is 13:00 UTC in winter, 08:00 EDT is 12:00 UTC in summer
    assert window.next_open(ny, utc(2026, 1, 15, 4, 0)) == utc(2026, 1, 15, 13, 0)
    assert window.next_open(ny, utc(2026, 7, 15, 4, 0)) == utc(2026, 7, 15, 12, 0)


@pytest.mark.parametrize(
    "bad", [("8:00", "22:00", "UTC"), ("08:00", "24:00", "UTC"), ("08:00", "22:00", "Mars/Base")]
)
def test_a_bad_window_is_refused(bad):
    with pytest.raises(ValueError):
        window.validate(NotificationWindow(*bad))


# -- cap -------------------------------------------------------------------------------------

H = rate_cap.HOUR_MS


def test_no_cap_lets_everything_go():
    assert rate_cap.decide(None, [1, 2, 3], 10).free is None


def test_under_the_cap_the_rest_of_the_hour_is_free():
    d = rate_cap.decide(3, [1_000], 2_000)
    assert d.free == 2
    # after spending both now, the 1_000 delivery is the one that must leave the hour
    assert d.next_slot_ms == 1_000 + H


def test_at_the_cap_nothing_goes_until_the_oldest_delivery_leaves_the_hour():
    now = 10 * H
    d = rate_cap.decide(2, [now - H + 5, now - 100], now)
    assert d.free == 0 and d.next_slot_ms == now + 5


def test_deliveries_older_than_an_hour_do_not_count():
    now = 10 * H
    assert rate_cap.decide(1, [now - H - 1], now).free == 1


# -- backoff ---------------------------------------------------------------------------------


def test_retry_delays_double_with_jitter_and_are_capped():
    lows = [backoff.retry_delay(n, 2, 300, rand=lambda: 0.0) for n in range(1, 12)]
    highs = [backoff.retry_delay(n, 2, 300, rand=lambda: 1.0) for n in range(1, 12)]
    assert highs[:6] == [2, 4, 8, 16, 32, 64]
    assert lows[:3] == [1, 2, 4]  # equal jitter: half to all of the step
    assert highs[-1] == 300 and lows[-1] == 150  # capped: a channel down for long
    assert backoff.retry_delay(10_000, 2, 300, rand=lambda: 1.0) == 300


def test_retry_delays_are_the_shared_backoff_at_any_attempt_count():
    from palisade.shared import backoff as shared

    for attempts in (0, 1, 2, 31, 1024, 1025, 10**6):
        for r in (0.0, 0.3, 1.0):
            assert backoff.retry_delay(attempts, 2, 300, rand=lambda r=r: r) == shared.delay(
                attempts - 1, 2, 300, "equal", rand=lambda r=r: r
            )
    assert backoff.retry_delay(0, 2, 300, rand=lambda: 1.0) == 2  # as for the first failure


# -- templates -------------------------------------------------------------------------------


def test_the_default_template_gives_the_fields():
    d = Delivery("nt-1", account_inbox("100"), (event(count=3),), (1,))
    body = json.loads(templates.render(templates.DEFAULT_TEMPLATE, template_values(d)))
    assert body["title"] == "Brute force" and body["count"] == 3
    assert body["level"] == "serious" and body["instance_id"] == "i-abc"
    assert body["category"] == "alerts"


def test_a_placeholder_outside_a_string_becomes_a_json_literal():
    out = templates.render('{"n": {count}, "t": {title}}', {"count": 4, "title": 'a"b'})
    assert json.loads(out) == {"n": 4, "t": 'a"b'}


def test_braces_that_are_not_placeholders_are_kept():
    out = templates.render('{"x": "{unknown} {title}", "y": {}}', {"title": "t"})
    assert json.loads(out) == {"x": "{unknown} t", "y": {}}


def test_an_invalid_template_is_refused():
    with pytest.raises(templates.TemplateError):
        templates.validate('{"a": {unknown}}')
    with pytest.raises(templates.TemplateError):
        templates.validate('["{title}"]')


TEMPLATES = [
    templates.DEFAULT_TEMPLATE,
    '{"text": "[{level}] {title} on {instance_id}: {message} (x{count})"}',
    '{"msg": {message}, "n": {count}, "nested": {"t": "\\"{title}\\""}}',
]


@given(
    title=st.text(),
    message=st.text(),
    instance_id=st.text(max_size=40),
    count=st.integers(min_value=0, max_value=10**12),
    template=st.sampled_from(TEMPLATES),
)
def test_any_alert_text_gives_valid_json(title, message, instance_id, count, template):
    values = {"title": title, "message": message, "instance_id": instance_id, "count": count}
    body = json.loads(templates.render(template, values))
    assert isinstance(body, dict)
    if template == TEMPLATES[0]:
        assert body["title"] == title and body["message"] == message
        assert body["count"] == count
    if template == TEMPLATES[2]:
        assert body["msg"] == message and body["nested"]["t"] == f'"{title}"'


# -- messages --------------------------------------------------------------------------------


def test_the_subject_names_the_level_title_and_instance():
    d = Delivery("nt-1", account_inbox("100"), (event(),), (1,))
    assert subject(d) == "[Palisade][serious] Brute force on i-abc"
    assert "12 failures from 203.0.113.7" in text_body(d)


def test_a_digest_summarises_its_notifications():
    events = (event(alert_id="1"), event(alert_id="2", level="remind", title="Old kernel"))
    d = Delivery("dg-1", account_inbox("100"), events, (1, 2))
    assert subject(d) == "[Palisade][digest] 2 notifications (1 serious, 1 remind)"
    body = text_body(d)
    assert "Brute force on i-abc" in body and "Old kernel on i-abc" in body
    values = template_values(d)
    assert values["count"] == 2 and values["level"] == "serious"
