"""Exposure checks: listeners against what the security groups let in from the internet."""

from __future__ import annotations

from datetime import timedelta

from palisade.auditor.checks.exposure import check as exposure
from palisade.auditor.model.ddos.protection import DdosStatus, InstanceDdos

from .conftest import NOW, listener, snapshot


def _run(fn, world, iid, snap):
    return fn(world.input(iid, snap))


def test_redis_reachable_from_internet_is_serious_and_names_the_rule(world):
    g = world.group()
    rule = world.allow(g, "tcp", "6379/6379")
    i = world.instance([g])
    (f,) = _run(
        exposure.internet_listener_common_port,
        world,
        i,
        snapshot(listeners=[listener(6379, process="redis-server")]),
    )
    assert (f.check_id, f.subject, f.severity) == (
        exposure.LISTENER_COMMON_PORT.id,
        "tcp/6379",
        "serious",
    )
    assert rule.rule_id in f.message and f.details["rules"][0]["rule_id"] == rule.rule_id
    assert f.details["service"] == "Redis"


def test_near_miss_redis_on_loopback_or_rule_limited_to_office_is_not_exposed(world):
    g = world.group()
    world.allow(g, "tcp", "6379/6379", cidr="198.51.100.0/24")
    world.allow(g, "tcp", "5432/5432")
    i = world.instance([g])
    snap = snapshot(
        listeners=[
            listener(5432, address="127.0.0.1"),
            listener(5432, address="::1"),
            listener(6379),
        ]
    )
    # 6379 open to one office CIDR is still internet-reachable (a public CIDR), so narrow it:
    world2_findings = _run(exposure.internet_listener_common_port, world, i, snap)
    assert [f.subject for f in world2_findings] == ["tcp/6379"]
    g2 = world.group()
    world.allow(g2, "tcp", "5432/5432")
    j = world.instance([g2])
    assert _run(exposure.internet_listener_common_port, world, j, snap) == []


def test_a_black_holed_instance_is_not_exposed_to_the_internet_until_the_hole_ends(world):
    g = world.group()
    world.allow(g, "tcp", "6379/6379")
    i = world.instance([g])
    snap = snapshot(listeners=[listener(6379, process="redis-server")])
    until = NOW + timedelta(hours=2)
    world.state.ddos.put(i, InstanceDdos(DdosStatus.BLACK_HOLE, NOW, until))
    assert _run(exposure.internet_listener_common_port, world, i, snap) == []
    world.state.ddos.put(i, InstanceDdos(DdosStatus.BLACK_HOLE, NOW - timedelta(hours=3), NOW))
    assert len(_run(exposure.internet_listener_common_port, world, i, snap)) == 1  # time is up


def test_no_public_ip_means_no_internet_exposure(world):
    g = world.group()
    world.allow(g, "tcp", "3306/3306")
    i = world.instance([g], public_ip=None)
    snap = snapshot(listeners=[listener(3306)])
    assert _run(exposure.internet_listener_common_port, world, i, snap) == []
    assert _run(exposure.high_risk_port_open_to_world, world, i, snap) == []


def test_unrecognised_port_reachable_from_internet(world):
    g = world.group()
    world.allow(g, "tcp", "31337/31337")
    i = world.instance([g])
    (f,) = _run(
        exposure.internet_listener_unrecognised_port,
        world,
        i,
        snapshot(listeners=[listener(31337, process="nc")]),
    )
    assert f.subject == "tcp/31337" and f.severity == "suspicious" and "nc" in f.message
    # near miss: the same listener with no rule opening it
    j = world.instance([world.group()])
    assert (
        _run(
            exposure.internet_listener_unrecognised_port,
            world,
            j,
            snapshot(listeners=[listener(31337)]),
        )
        == []
    )
    # and a recognised port is not "unrecognised"
    assert (
        _run(
            exposure.internet_listener_unrecognised_port,
            world,
            i,
            snapshot(listeners=[listener(22)]),
        )
        == []
    )


def test_listener_on_the_instance_private_ip_is_exposed_but_on_a_bridge_is_not(world):
    g = world.group()
    world.allow(g, "tcp", "9000/9000")
    i = world.instance([g])
    ip = world.model.instances[i].primary_nic.private_ips[0]
    hit = _run(
        exposure.internet_listener_unrecognised_port,
        world,
        i,
        snapshot(listeners=[listener(9000, address=ip)]),
    )
    assert [f.subject for f in hit] == ["tcp/9000"]
    miss = _run(
        exposure.internet_listener_unrecognised_port,
        world,
        i,
        snapshot(listeners=[listener(9000, address="172.17.0.1")]),
    )
    assert miss == []


def test_rule_opening_ports_where_nothing_listens(world):
    g = world.group()
    unused = world.allow(g, "tcp", "8000/8100")
    used = world.allow(g, "tcp", "22/22")
    i = world.instance([g])
    (f,) = _run(exposure.rule_opens_unused_ports, world, i, snapshot(listeners=[listener(22)]))
    assert f.subject == unused.rule_id and f.details["unused_port_count"] == 101
    assert used.rule_id not in {f.subject}
    # a range where one port listens is still too wide (least privilege) ...
    (g2,) = _run(
        exposure.rule_opens_unused_ports,
        world,
        i,
        snapshot(listeners=[listener(22), listener(8080)]),
    )
    assert g2.details["listening_ports"] == [8080] and g2.details["unused_port_count"] == 100
    # ... and a single port that listens is fine (near miss)
    h = world.group()
    world.allow(h, "tcp", "443/443")
    j = world.instance([h])
    assert (
        _run(exposure.rule_opens_unused_ports, world, j, snapshot(listeners=[listener(443)])) == []
    )


def test_high_risk_port_open_to_world_per_rule(world):
    g = world.group()
    broad = world.allow(g, "tcp", "1/65535")
    i = world.instance([g])
    (f,) = _run(exposure.high_risk_port_open_to_world, world, i, None)
    assert f.subject == broad.rule_id and f.severity == "serious"
    assert "tcp/3306 MySQL" in f.details["services"] and "tcp/22 SSH" in f.details["services"]


def test_high_risk_near_misses_office_cidr_and_web_port(world):
    g = world.group()
    world.allow(g, "tcp", "3306/3306", cidr="198.51.100.7/32")
    world.allow(g, "tcp", "443/443")
    i = world.instance([g])
    assert _run(exposure.high_risk_port_open_to_world, world, i, None) == []


def test_ssh_open_to_world_is_suspicious_not_serious(world):
    g = world.group()
    world.allow(g, "tcp", "22/22")
    i = world.instance([g])
    (f,) = _run(exposure.high_risk_port_open_to_world, world, i, None)
    assert f.severity == "suspicious"


def test_checks_needing_facts_are_not_evaluated_without_a_snapshot(world):
    i = world.instance([world.group()])
    assert _run(exposure.internet_listener_common_port, world, i, None) is None
    assert _run(exposure.rule_opens_unused_ports, world, i, None) is None
