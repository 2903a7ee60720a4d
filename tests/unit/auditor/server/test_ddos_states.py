"""The check runner moves an instance's DDoS state by its agent's reported traffic: saved in the
state document (every replica reads it), audited as a system change, nothing written when
nothing changes; the sweep ends a black hole whose time is up."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from palisade.auditor.alerts.repository import AlertRepository
from palisade.auditor.api.pipeline import ApiService
from palisade.auditor.checks import CheckSettings
from palisade.auditor.model.cloud_state import DEFAULT_REGION, CloudState
from palisade.auditor.server.check_runner import CheckRunner
from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from palisade.shared.proto import agent_pb2, facts_pb2
from tests.helpers.in_process_api import ApiHarness

SETTINGS = CheckSettings(ddos_black_hole_bps=2000e6, ddos_black_hole_s=60)


@pytest.fixture
def h(tmp_path) -> Iterator[ApiHarness]:
    harness = ApiHarness(tmp_path / "auditor")

    def build(state: CloudState) -> None:
        cloud = state.cloud
        vpc = cloud.create_vpc(state.account_id, DEFAULT_REGION, "172.16.0.0/12", vpc_id="vpc-1")
        cloud.create_instance(
            state.account_id,
            DEFAULT_REGION,
            created_at=harness.now,
            vpc_id=vpc.vpc_id,
            private_ips=["172.16.0.10"],
            public_ip="47.0.0.1",
            instance_id="i-1",
            instance_type="ecs.g5.large",  # 1000 Mbit/s, 300,000 pps
        )

    harness.save(build)
    harness.store.record_enrolment("i-1", "i-1", 100, _ms(harness))
    yield harness
    harness.store.close()


def _ms(h: ApiHarness) -> int:
    return int(h.now.timestamp() * 1000)


def _report(h: ApiHarness, mbit: float) -> None:
    """A snapshot whose eth0 received `mbit` Mbit/s (docker0 is not counted)."""
    traffic = facts_pb2.Traffic(measured_at_ms=_ms(h), interval_ms=1000)
    for name, rate in (("eth0", mbit), ("docker0", mbit)):
        traffic.interfaces.append(
            facts_pb2.InterfaceTraffic(
                name=name, has_rates=True, rx_bits_per_second=rate * 1e6, rx_packets_per_second=10
            )
        )
    snap = facts_pb2.Snapshot(
        snapshot_id=uuid.uuid4().hex, instance_id="i-1", collected_at_ms=_ms(h), traffic=traffic
    )
    message = agent_pb2.AgentMessage(message_id=uuid.uuid4().hex, instance_id="i-1", snapshot=snap)
    h.store.apply(message, _ms(h))


def _runner(h: ApiHarness) -> CheckRunner:
    return CheckRunner(h.store, h.api, AlertRepository(h.store), SETTINGS, clock=lambda: h.now)


def _status(api: ApiService) -> str:
    return api.current().ddos.get("i-1").status.value


def test_traffic_drives_scrubbing_then_black_hole_then_normal(h):
    runner = _runner(h)
    versions = CloudStateRepository(h.store)
    _report(h, 10)
    runner.evaluate("i-1")
    assert _status(h.api) == "normal" and h.state.ddos.instances == {}
    quiet = versions.version()
    runner.evaluate("i-1")
    assert versions.version() == quiet  # nothing changed: nothing written
    _report(h, 1200)
    runner.evaluate("i-1")
    assert _status(h.api) == "defense"
    _report(h, 2500)  # above the black-hole level of these settings
    runner.evaluate("i-1")
    assert _status(h.api) == "blackhole"
    replica = ApiService(h.store, clock=lambda: h.now)  # another auditor on the same database
    assert replica.current().ddos.get("i-1").black_holed(h.now)
    answer = h.ok(
        "ExplainSecurityGroupDecision", InstanceId="i-1", Source="internet", IpProtocol="tcp",
        Port="22",
    )  # fmt: skip
    assert not answer["Reachable"]
    assert {p["Ingress"]["Kind"] for p in answer["Paths"]["Path"]} == {"ddos-black-hole"}
    changes = [e for e in h.audit() if e.action == "DdosStatusChanged"]
    assert [e.after["status"] for e in reversed(changes)] == ["defense", "blackhole"]
    assert {e.actor for e in changes} == {"system"}
    h.advance(30)
    _report(h, 0)
    runner.evaluate("i-1")
    assert _status(h.api) == "blackhole"  # not lifted early
    h.advance(31)  # the black hole's 60 s are up; no new report: the sweep ends it
    runner.sweep()
    assert _status(h.api) == "normal"
    assert h.ok("ExplainSecurityGroupDecision", InstanceId="i-1", Source="internet",
                IpProtocol="tcp", Port="22")["Paths"]["Path"][0]["Ingress"]["Kind"] != (
        "ddos-black-hole"
    )  # fmt: skip


def test_a_lowered_threshold_scrubs_sooner(h):
    runner = _runner(h)
    h.ok("ModifyDdosThreshold", DdosRegionId=DEFAULT_REGION, InstanceId="i-1", Bps="50", Pps="1000")
    _report(h, 60)
    runner.evaluate("i-1")
    assert _status(h.api) == "defense"
