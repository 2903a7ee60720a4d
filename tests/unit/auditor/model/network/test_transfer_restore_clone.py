"""Export/import (identical across regions, per-rule preview, <= 100 rules, never overwrites),
restore full/partial (previews match what happens), clone across region and network type."""

from __future__ import annotations

import json

from palisade.auditor.model.network.security_group import RuleRequest

from .conftest import NOW

RULES = [
    RuleRequest("ingress", "tcp", "22/22", peer_cidr="1.2.3.4/32", description="ssh from office"),
    RuleRequest("ingress", "tcp", "80/90", peer_cidr="0.0.0.0/0", priority=5),
    RuleRequest("ingress", "icmp", "-1/-1", peer_cidr="10.0.0.0/8", policy="drop", priority=2),
    RuleRequest("egress", "udp", "53/53", peer_cidr="8.8.8.8/32"),
    RuleRequest("egress", "all", "-1/-1", peer_cidr="0.0.0.0/0", policy="drop", priority=100),
]


def _semantic(rules):
    return sorted(map(repr, (r.content() for r in rules)))


def _filled(fleet, vpc, rules=RULES):
    gid = fleet.group(vpc_id=vpc)
    for r in rules:
        fleet.model.authorize(gid, r, NOW)
    return gid


def test_export_then_import_into_another_region_is_identical(fleet):
    m = fleet.model
    src = _filled(fleet, fleet.vpc())
    exported = m.export_rules(src)
    assert exported.filename == f"ecs_cn-hangzhou_{src}.json"
    document = json.loads(json.dumps(exported.document))  # it is plain JSON
    assert document["Permissions"]["Permission"][0]["SourceCidrIp"] == "1.2.3.4/32"
    m.add_region("cn-qingdao")
    vpc2 = m.create_vpc("1001", "cn-qingdao", "192.168.0.0/16").vpc_id
    dst = m.create_security_group("1001", "cn-qingdao", now=NOW, vpc_id=vpc2).group_id
    preview = m.import_preview(dst, document)
    assert [r.status for r in preview.results] == ["added"] * len(RULES)
    assert m.groups[dst].rules == []  # a preview changes nothing
    result = m.import_rules(dst, document, NOW)
    assert result == preview
    assert _semantic(m.groups[dst].rules) == _semantic(m.groups[src].rules)
    again = m.import_rules(dst, document, NOW)  # never overwrites, never duplicates
    assert {r.status for r in again.results} == {"exists"}
    assert len(m.groups[dst].rules) == len(RULES)


def test_import_reports_a_reason_per_failed_rule_and_caps_at_100(fleet):
    m = fleet.model
    dst = fleet.group(vpc_id=fleet.vpc())
    perms = [
        {
            "Direction": "ingress",
            "IpProtocol": "TCP",
            "PortRange": "22/22",
            "SourceCidrIp": "1.2.3.4/32",
            "Policy": "Accept",
            "Priority": "1",
        },
        {
            "Direction": "ingress",
            "IpProtocol": "TCP",
            "PortRange": "99999/1",
            "SourceCidrIp": "1.2.3.4/32",
        },
        {
            "Direction": "ingress",
            "IpProtocol": "TCP",
            "PortRange": "22/22",
            "SourceGroupId": "sg-elsewhere",
        },
        "not an object",
    ]
    preview = m.import_preview(dst, {"Permissions": {"Permission": perms}})
    assert [r.status for r in preview.results] == ["added", "failed", "failed", "failed"]
    assert [r.code for r in preview.failed] == [
        "InvalidPortRange.Malformed",
        "InvalidSourceGroupId.NotFound",
        "InvalidParameter.Malformed",
    ]
    many = [
        {
            "Direction": "ingress",
            "IpProtocol": "tcp",
            "PortRange": f"{p}/{p}",
            "SourceCidrIp": "1.1.1.1/32",
        }
        for p in range(1, 106)
    ]
    preview = m.import_preview(dst, many)
    assert sum(r.status == "added" for r in preview.results) == 100
    assert {r.code for r in preview.failed} == {"QuotaExceed.ImportRules"}
    m.import_rules(dst, many, NOW)
    assert len(m.groups[dst].rules) == 100


def test_restore_full_makes_groups_identical_and_matches_preview(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    target = _filled(fleet, vpc)
    source = _filled(
        fleet, vpc, [RULES[0], RuleRequest("ingress", "tcp", "3306/3306", peer_cidr="0.0.0.0/0")]
    )
    preview = m.restore_preview(source, target, "full")
    assert [r.port_range.start for r in preview.removed] == [3306]
    assert len(preview.added) == len(RULES) - 1
    before = {r.content() for r in m.groups[source].rules}
    done = m.restore(source, target, "full", NOW)
    assert done == preview
    after = {r.content() for r in m.groups[source].rules}
    assert after == (before - {r.content() for r in preview.removed}) | {
        r.content() for r in preview.added
    }
    assert _semantic(m.groups[source].rules) == _semantic(m.groups[target].rules)


def test_restore_partial_only_adds(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    target = _filled(fleet, vpc)
    source = _filled(
        fleet, vpc, [RuleRequest("ingress", "tcp", "3306/3306", peer_cidr="0.0.0.0/0")]
    )
    kept = list(m.groups[source].rules)
    preview = m.restore_preview(source, target, "partial")
    assert preview.removed == []
    m.restore(source, target, "partial", NOW)
    rules = m.groups[source].rules
    assert rules[: len(kept)] == kept
    assert [r.content() for r in rules[len(kept) :]] == [r.content() for r in preview.added]
    assert {r.key() for r in m.groups[target].rules} <= {r.key() for r in rules}


def test_restore_skips_system_rules_with_reason(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    inst = fleet.instance([], vpc_id=vpc)
    default = m.instances[inst].primary_nic.security_group_ids[0]
    other = fleet.group(vpc_id=vpc)
    preview = m.restore_preview(other, default, "full")
    assert preview.added == [] and len(preview.skipped) == 4
    assert "110" in preview.skipped[0][1]


def test_clone_to_other_region_and_network_type(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    peer = fleet.group(vpc_id=vpc)
    src = _filled(
        fleet, vpc, RULES + [RuleRequest("ingress", "tcp", "5432/5432", peer_group_id=peer)]
    )
    m.add_region("cn-qingdao")
    clone = m.clone_security_group(
        src, now=NOW, region_id="cn-qingdao", network_type="classic", name="copy"
    )
    assert clone.group.region_id == "cn-qingdao" and clone.group.network_type.value == "classic"
    assert len(clone.group.rules) == len(RULES)
    assert len(clone.skipped) == 1 and "cn-hangzhou" in clone.skipped[0][1]
    same = m.clone_security_group(src, now=NOW)
    assert _semantic(same.group.rules) == _semantic(m.groups[src].rules)
