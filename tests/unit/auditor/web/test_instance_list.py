"""The instance list's shield and its state filter, and the alert list's status filter."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest

from palisade.auditor.alerts.lifecycle import Scope
from palisade.shared.proto import agent_pb2, facts_pb2
from tests.helpers.alert_findings import Finding
from tests.helpers.in_process_dashboard import DashboardHarness

R = {"RegionId": "cn-hangzhou"}


@pytest.fixture
def dash(tmp_path):
    h = DashboardHarness(tmp_path / "dash")
    vpc = h.call("CreateVpc", **R, CidrBlock="172.16.0.0/16")["VpcId"]
    group = h.call("CreateSecurityGroup", **R, VpcId=vpc, SecurityGroupName="web")
    for n, iid in enumerate(("i-green", "i-orange", "i-red", "i-grey")):
        h.call(
            "RunInstances",
            **R,
            VpcId=vpc,
            SecurityGroupIds=group["SecurityGroupId"],
            InstanceId=iid,
            PrivateIpAddress=f"172.16.0.{10 + n}",
        )
    now_ms = int(time.time() * 1000)
    for serial, iid in enumerate(("i-green", "i-orange", "i-red"), 1):
        h.store.record_enrolment(iid, f"host-{iid}", serial, now_ms)
        snap = facts_pb2.Snapshot(snapshot_id=iid, instance_id=iid, collected_at_ms=now_ms)
        h.store.apply(
            agent_pb2.AgentMessage(message_id=iid, instance_id=iid, snapshot=snap), now_ms
        )
    account = h.api.current().account_id
    now = datetime.now(UTC)
    for iid, severity in (("i-orange", "suspicious"), ("i-red", "serious")):
        check = "login.brute_force"
        finding = Finding(check, iid, "203.0.113.7", severity=severity, title="Brute force")
        h.alerts.apply_findings(Scope(account, iid, frozenset({check})), [finding], now)
    yield h
    h.store.close()


def _listed(dash, query: str) -> list[str]:
    page = dash.text(dash.get("/ui/instances" + query))
    table = page.split('id="instances"', 1)[1].split("</table>", 1)[0]
    return sorted(set(re.findall(r'/ui/instances/(i-[a-z]+)"', table)))


def test_each_instance_shows_its_own_shield(dash):
    page = dash.text(dash.get("/ui/instances"))
    for iid, colour in (
        ("i-green", "green"),
        ("i-orange", "orange"),
        ("i-red", "red"),
        ("i-grey", "grey"),
    ):
        row = page.split(f'href="/ui/instances/{iid}"', 1)[0].rsplit("<tr", 1)[1]
        assert f'class="shield {colour}"' in row, (iid, row)


@pytest.mark.parametrize("colour", ["green", "orange", "red", "grey"])
def test_the_state_filter_finds_the_instances_of_that_colour(dash, colour):
    assert _listed(dash, f"?state={colour}") == [f"i-{colour}"]


def test_an_unknown_state_filters_nothing(dash):
    assert len(_listed(dash, "?state=purple")) == 4


def test_the_alert_status_filter_is_kept_selected_and_filters(dash):
    alert = dash.call("DescribeAlerts", InstanceId="i-red")["Alerts"]["Alert"][0]
    dash.call("HandleAlert", AlertId=str(alert["AlertId"]), Status="handled")
    page = dash.text(dash.get("/ui/alerts?status=handled"))
    assert '<option value="handled" selected' in page
    table = page.split('id="alerts"', 1)[1]
    assert "i-red" in table and "i-orange" not in table
    pending = dash.text(dash.get("/ui/alerts?status=pending")).split('id="alerts"', 1)[1]
    assert "i-orange" in pending and "i-red" not in pending
