"""The overview: exposures counted by service name (never by rule id), charts with a scale,
hour labels and counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from palisade.auditor.alerts.lifecycle import Scope
from palisade.auditor.web.app import exposure_services
from tests.helpers.alert_findings import Finding
from tests.helpers.in_process_dashboard import DashboardHarness


def test_exposure_services_are_named():
    assert exposure_services("tcp/6379", {"service": "Redis", "port": 6379}) == ["Redis (tcp/6379)"]
    assert exposure_services("sgr-1", {"services": ["tcp/3306 MySQL", "tcp/22 SSH"]}) == [
        "tcp/3306 MySQL",
        "tcp/22 SSH",
    ]
    assert exposure_services("tcp/5432", {}) == ["PostgreSQL (tcp/5432)"]
    assert exposure_services("tcp/40123", {}) == ["tcp/40123 (unrecognised)"]
    assert exposure_services("sgr-2", {"unused_port_count": 9}) == ["open ports, nothing listening"]


def test_the_overview_names_services_and_draws_readable_charts(tmp_path):
    dash = DashboardHarness(tmp_path / "dash")
    account = dash.api.current().account_id
    checks = frozenset({"exposure.high_risk_port_open_to_world", "exposure.port"})
    findings = [
        Finding(
            "exposure.high_risk_port_open_to_world",
            "i-1",
            "sgr-000000000042",
            category="exposure",
            details={"services": ["tcp/3306 MySQL"]},
        ),
        Finding("exposure.port", "i-1", "tcp/6379", category="exposure", details={}),
    ]
    dash.alerts.apply_findings(Scope(account, "i-1", checks), findings, datetime.now(UTC))
    page = dash.text(dash.get("/ui/"))
    exposures = page.split('id="exposures"', 1)[1].split("</section>", 1)[0]
    assert "tcp/3306 MySQL" in exposures and "Redis" in exposures
    assert "sgr-000000000042" not in exposures
    chart = page.split('aria-label="Alerts opened, last 24 h"', 1)[1].split("</svg>", 1)[0]
    assert len(re.findall(r'class="hour"', chart)) == 9  # every third hour and the last
    assert re.search(r'class="value"[^>]*>2</text>', chart)  # the bar's count
    assert 'class="axis"' in chart and 'class="tick"' in chart
    dash.store.close()


def test_the_overview_says_how_old_the_advisory_feed_is(tmp_path):
    from palisade.auditor.store import advisories as feed

    dash = DashboardHarness(tmp_path / "dash")
    line = dash.text(dash.get("/ui/")).split('id="advisory-feed"', 1)[1].split("</p>", 1)[0]
    assert "none imported" in line
    now_ms = int(dash.api.clock().timestamp() * 1000)
    modified = datetime.fromtimestamp(now_ms / 1000 - 3 * 86400 - 60, UTC)
    stamp = modified.strftime("%Y-%m-%dT%H:%M:%SZ")
    feed.import_advisories(
        dash.store, [feed.StoredAdvisory("DSA-1", stamp, ("Debian:12",), "{}")], "x", now_ms
    )
    line = dash.text(dash.get("/ui/")).split('id="advisory-feed"', 1)[1].split("</p>", 1)[0]
    assert "1 records" in line and stamp in line and "age 3d" in line
    dash.lang = "zh"
    line = dash.text(dash.get("/ui/")).split('id="advisory-feed"', 1)[1].split("</p>", 1)[0]
    assert "漏洞公告库" in line and "距今 3d" in line
    dash.store.close()
