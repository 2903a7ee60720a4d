"""A DDoS black hole (an input of the pure network model) drops the instance's inbound traffic
from the internet in the engine, in explain (reachability), in exposure and in the nftables
rendering; private traffic and egress are untouched."""

from __future__ import annotations

from palisade.auditor.model.network.engine import (
    BLACK_HOLE,
    SESSION,
    Flow,
    SessionTable,
    compile_nic,
    decide_stateful,
    naive_decide,
    resolve_nic_policy,
)
from palisade.auditor.model.network.exposure import exposure, exposure_fleet
from palisade.auditor.model.network.nft_render import render_nft
from palisade.auditor.model.network.reachability import reachable
from palisade.auditor.model.network.security_group import (
    Direction,
    IpProtocol,
    NicType,
    RuleRequest,
)

from .conftest import NOW

PUBLIC_IP = "47.0.0.1"


def _web(fleet):
    vpc = fleet.vpc()
    g = fleet.group(vpc_id=vpc)
    fleet.model.authorize(g, RuleRequest("ingress", "tcp", "80/80", peer_cidr="0.0.0.0/0"), NOW)
    i = fleet.instance([g], vpc_id=vpc, public_ip=PUBLIC_IP)
    other = fleet.instance([g], vpc_id=vpc)
    return i, other


def test_engine_drops_internet_ingress_only(fleet):
    i, _ = _web(fleet)
    m = fleet.model
    private_ip = m.instances[i].private_ips[0]
    from_internet = Flow(Direction.INGRESS, IpProtocol.TCP, "198.51.100.7", private_ip, 80)
    from_vpc = Flow(Direction.INGRESS, IpProtocol.TCP, "172.16.9.9", private_ip, 80)
    egress = Flow(Direction.EGRESS, IpProtocol.TCP, private_ip, "198.51.100.7", 443)
    normal, holed = compile_nic(m, i), compile_nic(m, i, black_holed=True)
    assert normal.decide(from_internet).allowed
    d = holed.decide(from_internet)
    assert not d.allowed and d.kind == BLACK_HOLE and "black hole" in d.reason
    assert holed.decide(from_vpc) == normal.decide(from_vpc)
    assert holed.decide(egress).allowed
    policy = resolve_nic_policy(m, i, black_holed=True)
    for flow in (from_internet, from_vpc, egress):  # the compiled form agrees with the oracle
        assert naive_decide(policy, flow) == holed.decide(flow)


def test_a_black_hole_drops_established_sessions_too(fleet):
    i, _ = _web(fleet)
    m = fleet.model
    private_ip = m.instances[i].private_ips[0]
    out = Flow(Direction.EGRESS, IpProtocol.TCP, private_ip, "198.51.100.7", 443, src_port=40000)
    back = Flow(Direction.INGRESS, IpProtocol.TCP, "198.51.100.7", private_ip, 40000, src_port=443)
    sessions = SessionTable()
    assert decide_stateful(compile_nic(m, i), out, sessions, 0.0).allowed
    assert decide_stateful(compile_nic(m, i), back, sessions, 1.0).kind == SESSION
    holed = decide_stateful(compile_nic(m, i, black_holed=True), back, sessions, 2.0)
    assert holed.kind == BLACK_HOLE


def test_explain_reports_public_ingress_dropped(fleet):
    i, other = _web(fleet)
    m = fleet.model
    assert reachable(m, "internet", i, "tcp", 80).reachable
    result = reachable(m, "internet", i, "tcp", 80, black_holed=True)
    assert not result.reachable and result.paths
    assert {p.ingress.kind for p in result.paths} == {BLACK_HOLE}
    assert all(p.target_ip == PUBLIC_IP for p in result.paths)
    # a CIDR of internet and private addresses: only the internet part is dropped
    mixed = reachable(m, "0.0.0.0/0", i, "tcp", 80, black_holed=True)
    public = {p.ingress.kind for p in mixed.paths if p.target_ip == PUBLIC_IP}
    assert public == {BLACK_HOLE} and mixed.reachable  # the VPC still gets in
    # over the private network a black hole changes nothing
    assert reachable(m, other, i, "tcp", 80, black_holed=True).reachable


def test_exposure_has_nothing_from_the_internet_while_black_holed(fleet):
    i, _ = _web(fleet)
    m = fleet.model
    assert exposure(m, i).internet
    report = exposure(m, i, black_holed=True)
    assert report.internet == () and any("black hole" in n for n in report.notes)
    assert report.groups == exposure(m, i).groups
    fleet_reports = exposure_fleet(m, black_holed=frozenset({i}))
    assert fleet_reports[i] == report


def test_render_nft_drops_internet_sources_first(fleet):
    i, _ = _web(fleet)
    m = fleet.model
    assert "black hole" not in render_nft(m, i)
    lines = render_nft(m, i, black_holed=True).splitlines()
    assert "black hole" in lines[3] and lines[3].strip().startswith("ip saddr {")
    assert lines[3].rstrip().split(" comment ")[0].endswith("drop")
    # the IPv6 internet too (issue 20: IPv6 rules), still before established connections
    assert lines[4].strip().startswith("ip6 saddr 2000::/3 drop") and "black hole" in lines[4]
    assert lines[5].strip() == "ct state established,related accept"
    assert sum("black hole" in line for line in lines) == 2  # ingress only, both families
    classic = fleet.group()
    c = fleet.instance([classic], public_ip="47.0.0.2")
    text = render_nft(m, c, {NicType.INTERNET: "eth1", NicType.INTRANET: "eth0"}, None, True)
    assert "black hole" in text
