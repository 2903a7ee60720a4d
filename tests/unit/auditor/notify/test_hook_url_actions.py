"""Issue 18, defect 5 at the API: CreateNotificationChannel / ModifyNotificationChannel refuse
an SMS hook URL that is not http(s), carries credentials, or reaches loopback, link-local,
metadata or private addresses, unless the auditor allows the host by name."""

from __future__ import annotations

import pytest

from tests.helpers.fake_dns import fake_dns
from tests.helpers.in_process_api import ApiHarness


@pytest.fixture
def h(tmp_path):
    harness = ApiHarness(tmp_path / "api")
    yield harness
    harness.store.close()


def create(h, url: str):
    return h.call("CreateNotificationChannel", Kind="sms_hook", Name="sms", Url=url)


REFUSED = [
    ("ftp://hooks.example.com/send", "InvalidParameter.Url", "http://"),
    ("file:///etc/passwd", "InvalidParameter.Url", "http://"),
    ("https://user:pass@hooks.example.com/send", "InvalidParameter.Url", "password"),
    ("https://token@hooks.example.com/send", "InvalidParameter.Url", "password"),
    ("http://127.0.0.1:8080/sms", "InvalidParameter.UrlDestination", "loopback"),
    ("http://[::1]:8080/sms", "InvalidParameter.UrlDestination", "loopback"),
    ("http://localhost:8080/sms", "InvalidParameter.UrlDestination", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "InvalidParameter.UrlDestination", "metadata"),
    ("http://100.100.100.200/latest/meta-data/", "InvalidParameter.UrlDestination", "metadata"),
    ("http://10.0.0.1/sms", "InvalidParameter.UrlDestination", "private"),
    ("http://192.168.1.1/sms", "InvalidParameter.UrlDestination", "private"),
    ("http://172.16.5.4/sms", "InvalidParameter.UrlDestination", "private"),
    ("http://169.254.10.1/sms", "InvalidParameter.UrlDestination", "link-local"),
    ("http://[fe80::1]/sms", "InvalidParameter.UrlDestination", "link-local"),
    ("http://[::ffff:127.0.0.1]/sms", "InvalidParameter.UrlDestination", "loopback"),
    ("http://2130706433/sms", "InvalidParameter.UrlDestination", "loopback"),  # 127.0.0.1
    ("http://0.0.0.0/sms", "InvalidParameter.UrlDestination", "unspecified"),
]


@pytest.mark.parametrize(("url", "code", "why"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_hook_urls(h, url, code, why):
    response = create(h, url)
    assert response.status == 400, response.body
    assert response.body["Code"] == code
    assert why in response.body["Message"]
    assert "sms_hook" not in str(h.ok("DescribeNotificationChannels"))


def test_a_name_that_resolves_to_loopback_is_refused(h, monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.com": ["127.0.0.1"]})
    status, code, message = h.error(
        "CreateNotificationChannel", Kind="sms_hook", Name="sms", Url="https://hooks.example.com/"
    )
    assert (status, code) == (400, "InvalidParameter.UrlDestination")
    assert "hooks.example.com resolves to 127.0.0.1, which is a loopback address" in message


def test_one_refused_address_among_public_ones_refuses_the_name(h, monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.com": ["93.184.215.14", "169.254.169.254"]})
    code = h.error(
        "CreateNotificationChannel", Kind="sms_hook", Name="sms", Url="https://hooks.example.com/"
    )[1]
    assert code == "InvalidParameter.UrlDestination"


def test_public_destinations_are_accepted_and_a_change_is_checked_too(h, monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.com": ["93.184.215.14", "2606:2800:21f:cb07::1"]})
    channel = h.ok(
        "CreateNotificationChannel",
        Kind="sms_hook",
        Name="sms",
        Url="https://hooks.example.com/send?to=ops",
    )["ChannelId"]
    code = h.error("ModifyNotificationChannel", ChannelId=channel, Url="http://10.1.2.3/")[1]
    assert code == "InvalidParameter.UrlDestination"
    code = h.error("ModifyNotificationChannel", ChannelId=channel, Url="http://u:p@8.8.8.8/")[1]
    assert code == "InvalidParameter.Url"
    h.ok("ModifyNotificationChannel", ChannelId=channel, Url="https://8.8.8.8:8443/hook")
    [hook] = [
        c
        for c in h.ok("DescribeNotificationChannels")["Channels"]["Channel"]
        if c["ChannelId"] == channel
    ]
    assert hook["Config"]["Url"] == "https://8.8.8.8:8443/hook"


def test_an_allowed_host_may_be_private(h):
    from palisade.auditor.notify.hook_targets import HookPolicy

    h.api.services["hook_policy"] = HookPolicy(allowed_hosts=frozenset({"127.0.0.1"}))
    h.ok("CreateNotificationChannel", Kind="sms_hook", Name="sms", Url="http://127.0.0.1:9/x")
    # only the host named: another loopback spelling, or credentials, are still refused
    assert create(h, "http://localhost:9/x").body["Code"] == "InvalidParameter.UrlDestination"
    assert create(h, "http://a:b@127.0.0.1:9/x").body["Code"] == "InvalidParameter.Url"
