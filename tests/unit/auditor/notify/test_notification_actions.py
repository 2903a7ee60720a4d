"""The notification actions through the in-process API pipeline: channels with write-only
secrets, subscriptions, window, caps, inbox, outbox."""

from __future__ import annotations

import json

import pytest

from palisade.auditor.notify import outbox
from palisade.auditor.notify.dispatcher import Dispatcher
from palisade.auditor.notify.models import NotifyEvent
from palisade.auditor.notify.settings_repository import NotificationSettingsCache
from palisade.auditor.notify.transports.inbox import InboxTransport
from tests.helpers.in_process_api import ApiHarness


@pytest.fixture
def h(tmp_path):
    harness = ApiHarness(tmp_path / "api")
    yield harness
    harness.store.close()


def email_channel(h, **extra) -> str:
    params = dict(
        Kind="email",
        Name="ops",
        SmtpHost="smtp.example.com",
        SmtpPort="587",
        Username="palisade",
        Password="s3cret-password",
        From="palisade@example.com",
        To="ops@example.com,oncall@example.com",
    )
    params.update(extra)
    return h.ok("CreateNotificationChannel", **params)["ChannelId"]


def test_channel_secrets_are_write_only(h):
    mail = email_channel(h)
    hook = h.ok(
        "CreateNotificationChannel",
        Kind="sms_hook",
        Name="sms",
        Url="https://sms.example.com/send",
        SecretHeaderName="X-Token",
        SecretHeaderValue="hook-secret-value",
    )["ChannelId"]
    body = h.ok("DescribeNotificationChannels")
    channels = {c["ChannelId"]: c for c in body["Channels"]["Channel"]}
    assert set(channels) == {"inbox", mail, hook}
    assert channels[mail]["Config"]["PasswordSet"] is True
    assert channels[mail]["Config"]["To"] == ["ops@example.com", "oncall@example.com"]
    assert channels[hook]["Config"]["SecretValueSet"] is True
    assert channels[hook]["Config"]["SecretHeader"] == "X-Token"
    h.ok("ModifyNotificationChannel", ChannelId=mail, SmtpPort="2525")
    everything = json.dumps(h.ok("DescribeNotificationChannels")) + json.dumps(
        [(a.before, a.after) for a in h.audit()]
    )
    assert "s3cret-password" not in everything and "hook-secret-value" not in everything
    # the password given at creation is kept by a change that does not name it
    cfg = NotificationSettingsCache(h.store).settings(h.state.account_id).channels[mail].config
    assert cfg.password == "s3cret-password" and cfg.port == 2525
    assert "s3cret-password" not in repr(cfg)


def test_bad_channels_are_refused(h):
    assert h.error("CreateNotificationChannel", Kind="email", Name="x", SmtpHost="h")[1] == (
        "MissingParameter"
    )
    code = h.error(
        "CreateNotificationChannel",
        Kind="sms_hook",
        Name="x",
        Url="https://x",
        BodyTemplate='{"a": {nope}}',
    )[1]
    assert code == "InvalidParameter.BodyTemplate"
    assert h.error("CreateNotificationChannel", Kind="sms_hook", Name="x", Url="ftp://x")[1] == (
        "InvalidParameter.Url"
    )
    code = h.error(
        "CreateNotificationChannel", Kind="sms_hook", Name="x", Url="https://x", SmtpHost="h"
    )[1]
    assert code == "InvalidParameter"
    assert h.error("DeleteNotificationChannel", ChannelId="inbox")[1] == "OperationDenied.BuiltIn"
    assert h.error("DeleteNotificationChannel", ChannelId="nc-nope")[0] == 404


def test_subscriptions_window_and_cap(h):
    mail = email_channel(h)
    sub = h.ok(
        "CreateSubscription", Category="alerts", Levels="serious,suspicious", ChannelIds=mail
    )
    assert h.error("CreateSubscription", Category="alerts", ChannelIds="nc-nope")[0] == 404
    assert h.error("CreateSubscription", Category="weather", ChannelIds=mail)[1] == (
        "InvalidParameter.Category"
    )
    subs = h.ok("DescribeSubscriptions")["Subscriptions"]["Subscription"]
    assert subs == [
        {
            "SubscriptionId": sub["SubscriptionId"],
            "Category": "alerts",
            "Levels": ["serious", "suspicious"],
            "ChannelIds": [mail],
            "CreationTime": subs[0]["CreationTime"],
        }
    ]
    h.ok("ModifyNotificationWindow", Start="08:00", End="22:00", TimeZone="Asia/Shanghai")
    window = h.ok("DescribeNotificationWindow")
    assert (window["Start"], window["End"], window["TimeZone"]) == (
        "08:00",
        "22:00",
        "Asia/Shanghai",
    )
    assert h.error("ModifyNotificationWindow", Start="8", End="22:00", TimeZone="UTC")[0] == 400
    assert h.error("ModifyNotificationWindow", Start="08:00", End="22:00", TimeZone="X/Y")[0] == 400
    h.ok("ModifyNotificationCap", ChannelId=mail, MaxPerHour="10")
    got = h.ok("DescribeNotificationChannels", ChannelIds=mail)["Channels"]["Channel"][0]
    assert got["MaxPerHour"] == 10
    settings = NotificationSettingsCache(h.store).settings(h.state.account_id)
    assert settings.channels[mail].max_per_hour == 10
    assert settings.window.time_zone == "Asia/Shanghai"
    # deleting the channel takes it out of the subscriptions naming it
    h.ok("DeleteNotificationChannel", ChannelId=mail)
    assert h.ok("DescribeSubscriptions")["Subscriptions"]["Subscription"] == []
    assert h.error("DeleteSubscription", SubscriptionId=sub["SubscriptionId"])[0] == 404
    actions = [a.action for a in h.audit()]
    for name in ("CreateSubscription", "ModifyNotificationWindow", "ModifyNotificationCap"):
        assert name in actions


def test_the_inbox_pages_filters_unread_and_marks_read(h):
    account = h.state.account_id
    with h.store.engine.begin() as conn:
        for n in range(5):
            event = NotifyEvent(account, str(n), "i-1", "c", "login", "serious", f"T{n}", "m")
            outbox.enqueue(conn, event, h.now)
    d = Dispatcher(h.store, NotificationSettingsCache(h.store), {"inbox": InboxTransport(h.store)})
    d.run_once(h.now)
    body = h.ok("DescribeInbox", PageSize="2")
    assert body["TotalCount"] == 5 and body["UnreadCount"] == 5
    assert len(body["Messages"]["Message"]) == 2
    first = body["Messages"]["Message"][0]
    assert first["Read"] is False and first["Level"] == "serious"
    assert h.ok("MarkInboxRead", MessageIds=str(first["MessageId"]))["MarkedCount"] == 1
    unread = h.ok("DescribeInbox", Unread="true", PageSize="100")
    assert unread["TotalCount"] == 4 and unread["UnreadCount"] == 4
    assert h.ok("MarkInboxRead", All="true")["MarkedCount"] == 4
    assert h.ok("DescribeInbox")["UnreadCount"] == 0
    outbox_view = h.ok("DescribeOutbox", State="sent")
    assert outbox_view["TotalCount"] == 5
    assert outbox_view["Notifications"]["Notification"][0]["ChannelId"] == "inbox"
    assert h.error("DescribeOutbox", State="lost")[0] == 400


def grouping(h, action: str, **params: str) -> dict:
    body = h.ok(action, **params)
    return {k: body[k] for k in ("GroupWait", "GroupInterval")}


def test_notification_grouping_is_set_through_the_api_and_audited(h):
    assert grouping(h, "DescribeNotificationGrouping") == {"GroupWait": 10, "GroupInterval": 60}
    assert grouping(h, "ModifyNotificationGrouping", GroupWait="0") == {
        "GroupWait": 0,
        "GroupInterval": 60,
    }
    h.ok("ModifyNotificationGrouping", GroupInterval="120")
    assert grouping(h, "DescribeNotificationGrouping") == {"GroupWait": 0, "GroupInterval": 120}
    status, code, _ = h.error("ModifyNotificationGrouping", GroupWait="-1")
    assert status == 400 and code == "InvalidParameter.GroupWait"
    assert h.error("ModifyNotificationGrouping", GroupInterval="86401")[0] == 400
    settings = NotificationSettingsCache(h.store).settings(h.state.account_id)
    assert (settings.grouping.group_wait_s, settings.grouping.group_interval_s) == (0, 120)
    assert "ModifyNotificationGrouping" in [a.action for a in h.audit()]
