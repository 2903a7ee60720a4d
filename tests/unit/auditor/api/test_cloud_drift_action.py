"""ReportCloudDrift: what `palisade sync --watch` found changed in the cloud becomes one
`cloud.drift` alert per resource; a repeat counts up the same alert; bad input changes
nothing."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from palisade.auditor.checks import all_metas
from tests.helpers.in_process_api import ApiHarness


def _changes(*pairs: tuple[str, str]) -> str:
    return json.dumps([{"Resource": r, "Change": c} for r, c in pairs])


def test_one_alert_per_drifted_resource_naming_its_changes(h: ApiHarness):
    got = h.ok(
        "ReportCloudDrift",
        Changes=_changes(
            ("sg-web", "Revoke sg-web: tcp 443/443"),
            ("sg-web", "Authorize sg-web: tcp 8443/8443"),
            ("i-new", "RunInstances i-new"),
        ),
        Source="https://ecs.cn-hangzhou.aliyuncs.com",
    )
    assert got["Resources"] == 2 and len(got["AlertIds"]["AlertId"]) == 2
    alerts = h.ok("DescribeAlerts", CheckId="cloud.drift")["Alerts"]["Alert"]
    by_subject = {a["Subject"]: a for a in alerts}
    assert set(by_subject) == {"sg-web", "i-new"}
    web = by_subject["sg-web"]
    assert "443/443" in web["Message"] and "8443/8443" in web["Message"]
    assert web["Level"] == "suspicious" or web.get("Severity") == "suspicious", web
    # the same resource drifting again is the same alert, counted (an event check)
    h.ok("ReportCloudDrift", Changes=_changes(("sg-web", "Authorize sg-web: udp 53/53")))
    again = h.ok("DescribeAlerts", CheckId="cloud.drift")["Alerts"]["Alert"]
    assert len(again) == 2


def test_the_check_is_known_everywhere_checks_are_listed():
    meta = {m.id: m for m in all_metas()}["cloud.drift"]
    assert meta.kind == "event" and meta.category == "cloud"


def test_bad_changes_are_refused_by_name_and_open_nothing(h: ApiHarness):
    for bad in (
        "[",
        "{}",
        "[]",
        json.dumps([{"Resource": "x"}]),
        json.dumps([{"Resource": "", "Change": "c"}]),
    ):
        status, code, _ = h.error("ReportCloudDrift", Changes=bad)
        assert (status, code) == (400, "InvalidParameter.Changes")
    assert h.ok("DescribeAlerts", CheckId="cloud.drift")["Alerts"]["Alert"] == []


@settings(max_examples=50, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
        max_leaves=8,
    )
)
def test_any_json_is_an_alert_or_a_clear_error(tmp_path_factory, value):
    h = ApiHarness(tmp_path_factory.mktemp("drift"))
    response = h.call("ReportCloudDrift", Changes=json.dumps(value))
    assert response.status in (200, 400), response.body
    if response.status == 400:
        assert response.body["Code"] == "InvalidParameter.Changes"
