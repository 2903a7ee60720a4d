"""Exposure reports, rule analysis findings and the nftables rendering."""

from __future__ import annotations

from palisade.auditor.model.network.exposure import exposure, exposure_fleet
from palisade.auditor.model.network.nft_render import render_nft
from palisade.auditor.model.network.rule_analysis import (
    ADVICE,
    CONFLICT,
    DUPLICATE,
    NEAR_LIMIT,
    OVERLY_BROAD,
    SHADOWED,
    analyze_group,
    analyze_model,
    analyze_nic,
)
from palisade.auditor.model.network.security_group import IpProtocol, RuleRequest

from .conftest import NOW


def test_exposure_lists_internet_ranges_and_other_groups_with_deciding_rules(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    web, db, admin = fleet.group(vpc_id=vpc), fleet.group(vpc_id=vpc), fleet.group(vpc_id=vpc)
    w = fleet.instance([web], vpc_id=vpc, public_ip="47.0.0.1")
    fleet.instance([web], vpc_id=vpc)
    fleet.instance([db], vpc_id=vpc)
    fleet.instance([admin], vpc_id=vpc)
    (http,) = m.authorize(web, RuleRequest("ingress", "tcp", "80/80", peer_cidr="0.0.0.0/0"), NOW)
    m.authorize(
        web, RuleRequest("ingress", "tcp", "8000/8100", peer_cidr="1.2.3.0/24", priority=2), NOW
    )
    m.authorize(
        web,
        RuleRequest(
            "ingress", "tcp", "8050/8050", peer_cidr="0.0.0.0/0", policy="drop", priority=1
        ),
        NOW,
    )
    (ssh,) = m.authorize(web, RuleRequest("ingress", "tcp", "22/22", peer_group_id=admin), NOW)
    report = exposure(m, w)
    tcp = [
        (e.port_lo, e.port_hi, tuple(r.rule_id for r in e.rules))
        for e in report.internet
        if e.protocol is IpProtocol.TCP
    ]
    assert (80, 80, (http.rule_id,)) in tcp
    assert [(lo, hi) for lo, hi, _ in tcp if lo >= 8000] == [(8000, 8049), (8051, 8100)]
    assert all(e.port_lo != 22 for e in report.internet)
    assert [(e.port_lo, e.rules[0].rule_id) for e in report.groups[admin]] == [
        (22, ssh.rule_id)
    ] or (22, ssh.rule_id) in [
        (e.port_lo, e.rules[0].rule_id) for e in report.groups[admin] if e.rules
    ]
    assert db not in report.groups or all(e.port_lo != 22 for e in report.groups[db])
    assert report.groups[web][0].reasons == ("same group (InnerAccessPolicy Accept)",)
    assert exposure_fleet(m)[w] == report


def test_exposure_without_public_ip_is_empty_from_the_internet(fleet):
    vpc = fleet.vpc()
    g = fleet.group(vpc_id=vpc, template="web-server-linux")
    i = fleet.instance([g], vpc_id=vpc)
    assert exposure(fleet.model, i).internet == ()


def test_analysis_finds_dead_duplicate_conflicting_and_broad_rules(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    g = fleet.group(vpc_id=vpc)
    g2 = fleet.group(vpc_id=vpc)
    (broad,) = m.authorize(
        g, RuleRequest("ingress", "tcp", "1/65535", peer_cidr="0.0.0.0/0", priority=1), NOW
    )
    (shadowed,) = m.authorize(
        g, RuleRequest("ingress", "tcp", "22/22", peer_cidr="1.2.3.4/32", priority=5), NOW
    )
    (drop,) = m.authorize(
        g,
        RuleRequest("ingress", "udp", "53/53", peer_cidr="0.0.0.0/0", policy="drop", priority=3),
        NOW,
    )
    (dead,) = m.authorize(
        g, RuleRequest("ingress", "udp", "53/53", peer_cidr="8.8.0.0/16", priority=3), NOW
    )
    (everything,) = m.authorize(
        g2, RuleRequest("ingress", "all", "-1/-1", peer_cidr="0.0.0.0/0"), NOW
    )
    findings = analyze_group(m, g)
    kinds = {(f.kind, f.rule_ids[0]) for f in findings}
    assert (SHADOWED, shadowed.rule_id) in kinds
    assert (CONFLICT, dead.rule_id) in kinds
    assert (OVERLY_BROAD, broad.rule_id) in kinds
    assert (OVERLY_BROAD, everything.rule_id) in {
        (f.kind, f.rule_ids[0]) for f in analyze_group(m, g2)
    }
    # Duplicates across groups of one NIC.
    m.authorize(g2, RuleRequest("ingress", "tcp", "22/22", peer_cidr="1.2.3.4/32", priority=5), NOW)
    i = fleet.instance([g, g2], vpc_id=vpc)
    assert DUPLICATE in {f.kind for f in analyze_nic(m, i)}
    assert drop


def test_analysis_near_limits_and_advice(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    g = fleet.group(vpc_id=vpc)
    for port in range(1, 81):
        m.authorize(g, RuleRequest("ingress", "tcp", f"{port}/{port}", peer_cidr="1.1.1.1"), NOW)
    assert NEAR_LIMIT in {f.kind for f in analyze_group(m, g)}
    everyone = fleet.group(vpc_id=vpc)
    m.authorize(everyone, RuleRequest("ingress", "all", "-1/-1", peer_cidr="0.0.0.0/0"), NOW)
    for _ in range(5):
        fleet.instance([everyone], vpc_id=vpc)
    messages = [f.message for f in analyze_model(m) if f.kind == ADVICE]
    assert any("one group" in msg for msg in messages)
    assert any("allow-list" in msg for msg in messages)


def test_analysis_one_group_per_instance(fleet):
    vpc = fleet.vpc()
    for _ in range(3):
        fleet.instance([fleet.group(vpc_id=vpc)], vpc_id=vpc)
    assert any("its own group" in f.message for f in analyze_model(fleet.model))


def test_render_nft_orders_rules_like_the_engine(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    g = fleet.group(vpc_id=vpc)
    i = fleet.instance([g], vpc_id=vpc)
    (a,) = m.authorize(
        g, RuleRequest("ingress", "tcp", "22/22", peer_cidr="0.0.0.0/0", priority=5), NOW
    )
    (d,) = m.authorize(
        g,
        RuleRequest("ingress", "tcp", "22/22", peer_cidr="1.2.3.0/24", policy="drop", priority=5),
        NOW,
    )
    (u,) = m.authorize(
        g, RuleRequest("ingress", "udp", "53/60", peer_cidr="1.2.3.4/32", priority=1), NOW
    )
    text = render_nft(m, i)
    lines = text.splitlines()
    assert lines[0] == "table inet palisade {"
    assert "policy drop;" in lines[2] and lines[3].strip() == "ct state established,related accept"
    pos = {
        rid: next(n for n, line in enumerate(lines) if rid in line)
        for rid in (a.rule_id, d.rule_id, u.rule_id)
    }
    assert pos[u.rule_id] < pos[d.rule_id] < pos[a.rule_id]
    assert "ip saddr 1.2.3.4 udp dport 53-60 accept" in lines[pos[u.rule_id]]
    assert "tcp dport 25 drop" in text and "policy accept;" in text
