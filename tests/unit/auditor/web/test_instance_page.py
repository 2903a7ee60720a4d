"""The instance page draws each interface's inbound traffic against the instance type's
scrubbing threshold."""

from __future__ import annotations

import time

from palisade.shared.proto import agent_pb2, facts_pb2
from tests.helpers.in_process_dashboard import DashboardHarness

R = {"RegionId": "cn-hangzhou"}


def test_traffic_is_drawn_against_the_scrubbing_threshold(tmp_path):
    dash = DashboardHarness(tmp_path / "dash")
    vpc = dash.call("CreateVpc", **R, CidrBlock="172.16.0.0/16")["VpcId"]
    group = dash.call("CreateSecurityGroup", **R, VpcId=vpc)["SecurityGroupId"]
    dash.call(
        "RunInstances",
        **R,
        VpcId=vpc,
        SecurityGroupIds=group,
        InstanceId="i-1",
        InstanceType="ecs.g5.2xlarge",
        PrivateIpAddress="172.16.0.5",
    )
    now_ms = int(time.time() * 1000)
    dash.store.record_enrolment("i-1", "host", 1, now_ms)
    snap = facts_pb2.Snapshot(snapshot_id="s", instance_id="i-1", collected_at_ms=now_ms)
    snap.traffic.interfaces.add(
        name="eth0", has_rates=True, rx_bits_per_second=5e9, rx_packets_per_second=1e6
    )
    dash.store.apply(
        agent_pb2.AgentMessage(message_id="m", instance_id="i-1", snapshot=snap), now_ms
    )
    page = dash.text(dash.get("/ui/instances/i-1"))
    chart = page.split('id="traffic-chart"', 1)[1].split("</div>", 1)[0]
    assert 'class="over"' in chart  # 5 Gbit/s is above this type's threshold
    assert 'class="limit"' in chart and "5000.0 Mbit/s" in chart
    dash.store.close()
