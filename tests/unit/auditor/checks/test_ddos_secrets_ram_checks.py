"""DDoS thresholds, plaintext AccessKeys and RAM hygiene."""

from __future__ import annotations

from palisade.auditor.checks import FleetInput
from palisade.auditor.checks.ddos import check as ddos
from palisade.auditor.checks.ram import check as ram
from palisade.auditor.checks.secrets import check as secrets
from palisade.auditor.model.ddos.protection import InstanceDdos
from palisade.auditor.model.ddos.thresholds import DdosThreshold, load_default_thresholds
from palisade.shared.proto import facts_pb2

from .conftest import NOW, NOW_MS, snapshot


def _traffic(
    bps: float, pps: float = 1000, name: str = "eth0", age_ms: int = 0
) -> facts_pb2.Snapshot:
    t = facts_pb2.Traffic(measured_at_ms=NOW_MS - age_ms, interval_ms=10_000)
    t.interfaces.add(name=name, has_rates=True, rx_bits_per_second=bps, rx_packets_per_second=pps)
    t.interfaces.add(
        name="docker0", has_rates=True, rx_bits_per_second=bps, rx_packets_per_second=pps
    )
    return snapshot(traffic=t)


def test_the_instance_type_thresholds_table_is_packaged():
    table = load_default_thresholds()
    assert len(table) == 163
    assert table["ecs.g5.2xlarge"] == DdosThreshold(2500e6, 800_000)


def test_scrubbing_above_the_instance_type_threshold(world):
    i = world.instance([world.group()], instance_type="ecs.g5.2xlarge")  # 2500 Mbit/s, 800k pps
    (f,) = ddos.scrubbing(world.input(i, _traffic(3000e6)))
    assert f.subject == "scrubbing" and f.details["threshold_bps"] == 2500e6
    (p,) = ddos.scrubbing(world.input(i, _traffic(100e6, pps=900_000)))
    assert "pps" in p.message
    # near miss: just under (docker0 carries the same packets and is not counted)
    assert ddos.scrubbing(world.input(i, _traffic(2400e6))) == []


def test_threshold_lowered_per_instance(world):
    i = world.instance([world.group()], instance_type="ecs.g5.2xlarge")
    # the user's threshold is in the state (ModifyDdosThreshold)
    world.state.ddos.put(i, InstanceDdos(lowered=DdosThreshold(500e6, 10**9)))
    assert len(ddos.scrubbing(world.input(i, _traffic(600e6)))) == 1
    world.state.ddos.put(i, InstanceDdos(lowered=DdosThreshold(10e9, 10**9)))  # cannot raise
    assert len(ddos.scrubbing(world.input(i, _traffic(3000e6)))) == 1


def test_black_hole_above_5_gbit(world):
    i = world.instance([world.group()], instance_type="ecs.g5.16xlarge")
    (f,) = ddos.black_hole(world.input(i, _traffic(6e9)))
    assert f.subject == "black_hole"
    assert ddos.black_hole(world.input(i, _traffic(4.9e9))) == []


def test_stale_or_missing_traffic_is_not_evaluated(world):
    i = world.instance([world.group()], instance_type="ecs.g5.2xlarge")
    assert ddos.scrubbing(world.input(i, _traffic(9e9, age_ms=600_000))) is None
    assert ddos.black_hole(world.input(i, snapshot())) is None


def test_plaintext_access_key_of_an_active_ram_user(world):
    i = world.instance([world.group()])
    world.state.ram.create_user("ci", NOW)
    key = world.state.ram.create_access_key("ci", NOW)
    snap = snapshot(
        plaintext_access_keys=[
            facts_pb2.PlaintextAccessKey(
                path="/root/.aliyun/config.json",
                line=3,
                access_key_id=key.access_key_id,
                user="root",
            ),
            facts_pb2.PlaintextAccessKey(
                path="/srv/app/.env", line=1, access_key_id="LTAI4FzXrT2bC7dE9gH1"
            ),
        ]
    )
    found = {f.subject: f for f in secrets.plaintext_access_key(world.input(i, snap))}
    assert found[key.access_key_id].severity == "serious"
    assert found[key.access_key_id].details["ram_user"] == "ci"
    assert found["LTAI4FzXrT2bC7dE9gH1"].severity == "suspicious"
    # near miss: nothing found
    assert secrets.plaintext_access_key(world.input(i, snapshot())) == []


def test_ram_user_with_password_and_access_key(world):
    world.state.ram.create_user("ops", NOW)
    world.state.ram.create_access_key("ops", NOW)
    world.state.ram.create_user("bot", NOW)  # near miss: key only
    world.state.ram.create_access_key("bot", NOW)
    subjects = {f.subject for f in ram.user_password_and_access_key(FleetInput(world.state, NOW))}
    assert "ops" not in subjects and "bot" not in subjects  # neither has a password yet
    world.state.ram.create_login_profile("ops", "Str0ng-Passw0rd!x", NOW)
    subjects = {f.subject for f in ram.user_password_and_access_key(FleetInput(world.state, NOW))}
    assert "ops" in subjects and "bot" not in subjects
