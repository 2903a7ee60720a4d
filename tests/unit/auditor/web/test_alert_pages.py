"""The alert list puts serious alerts first across its pages; an alert's page shows the
check's rationale and remediation, the evidence and the history, and handles it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from palisade.auditor.alerts.lifecycle import Scope
from tests.helpers.alert_findings import Finding
from tests.helpers.in_process_dashboard import DashboardHarness

CHECK = "login.brute_force"


@pytest.fixture
def dash(tmp_path):
    h = DashboardHarness(tmp_path / "dash")
    account = h.api.current().account_id
    t0 = datetime.now(UTC) - timedelta(hours=1)
    findings = [
        Finding(
            CHECK, "i-1", f"198.51.100.{n}", severity="remind", title="Brute-force login attempts"
        )
        for n in range(60)
    ] + [
        Finding(
            CHECK,
            "i-1",
            f"203.0.113.{n}",
            severity="serious",
            title="Brute-force login attempts",
            details={"source_ip": f"203.0.113.{n}", "failures": 12},
        )
        for n in range(3)
    ]
    # the serious ones are the oldest: the API alone would list them last
    h.alerts.apply_findings(Scope(account, "i-1", frozenset({CHECK})), findings[60:], t0)
    h.alerts.apply_findings(
        Scope(account, "i-1", frozenset({CHECK})), findings[:60], t0 + timedelta(minutes=5)
    )
    yield h
    h.store.close()


def _levels(page: str) -> list[str]:
    return re.findall(r'<tr class="level-(\w+)">', page)


def test_serious_alerts_come_first_and_pages_continue_with_the_rest(dash):
    first = _levels(dash.text(dash.get("/ui/alerts")))
    assert first[:3] == ["serious"] * 3 and first[3:] == ["remind"] * 47
    second = _levels(dash.text(dash.get("/ui/alerts?page=2")))
    assert second == ["remind"] * 13
    assert _levels(dash.text(dash.get("/ui/alerts?level=remind&page=2"))) == ["remind"] * 10


def test_the_alert_page_explains_and_handles(dash):
    alert = dash.call("DescribeAlerts", Levels="serious")["Alerts"]["Alert"][0]
    page = dash.text(dash.get(f"/ui/alerts/{alert['AlertId']}"))
    for part in ('id="rationale"', 'id="remediation"', 'id="evidence"', "failures"):
        assert part in page
    reply = dash.post(
        f"/ui/alerts/{alert['AlertId']}/status",
        status="handled",
        comment="blocked the source",
        back=f"/ui/alerts/{alert['AlertId']}",
    )
    page = dash.text(dash.follow(reply))
    assert "blocked the source" in page.split('id="history"', 1)[1]
    assert dash.call("DescribeAlert", AlertId=str(alert["AlertId"]))["Alert"]["Status"] == "handled"


def test_in_chinese_the_alert_reads_in_chinese_from_its_details(dash):
    dash.lang = "zh"
    alert = dash.call("DescribeAlerts", Levels="serious")["Alerts"]["Alert"][0]
    page = dash.text(dash.get(f"/ui/alerts/{alert['AlertId']}"))
    assert "暴力破解登录尝试" in page  # the check's title
    assert "同一来源在短时间内多次登录失败" in page  # its rationale
    assert "在安全组中封禁该来源" in page  # its remediation
    # the test findings lack some of the check's fields: the English message stays
    assert "message" in page.split('id="alert-message"', 1)[1].split("</p>", 1)[0]


def test_a_message_template_fills_from_the_details_or_keeps_the_english():
    from palisade.auditor.web.i18n_checks import zh_message

    details = {
        "source_ip": "203.0.113.7",
        "failures_in_window": 9,
        "failures_total": 12,
        "users": ["root", "admin"],
    }
    text = zh_message("login.brute_force", "203.0.113.7", details, "English")
    assert (
        text == "来自 203.0.113.7 的登录失败 9 次（近期事件中共 12 次），尝试的用户：root、admin。"
    )
    assert zh_message("login.brute_force", "x", {"source_ip": "x"}, "English") == "English"
    assert zh_message("no.such.check", "x", details, "English") == "English"
