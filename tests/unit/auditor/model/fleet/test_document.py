"""The cloud model survives a trip through its JSON document unchanged."""

import json
from datetime import UTC, datetime

import pytest

from palisade.auditor.model.document import DocumentError
from palisade.auditor.model.fleet import document as fleet_document
from palisade.auditor.model.fleet.cloud_model import CloudModel
from palisade.auditor.model.network.security_group import RuleRequest

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _populated() -> CloudModel:
    m = CloudModel()
    m.add_account("1111")
    m.add_region("cn-hangzhou")
    vpc = m.create_vpc("1111", "cn-hangzhou", "192.168.0.0/16")
    web = m.create_security_group(
        "1111", "cn-hangzhou", now=NOW, name="web", vpc_id=vpc.vpc_id, template="web-server-linux"
    )
    db = m.create_security_group("1111", "cn-hangzhou", now=NOW, name="db", vpc_id=vpc.vpc_id)
    m.authorize(
        db.group_id,
        RuleRequest(
            ip_protocol="tcp",
            port_range="5432/5432",
            peer_group_id=web.group_id,
            priority=5,
            description="web to db",
        ),
        NOW,
    )
    m.authorize_egress(
        db.group_id,
        RuleRequest(
            direction="egress",
            ip_protocol="all",
            port_range="-1/-1",
            peer_cidr="10.0.0.0/8",
            policy="drop",
        ),
        NOW,
    )
    m.create_instance(
        "1111",
        "cn-hangzhou",
        created_at=NOW,
        vpc_id=vpc.vpc_id,
        private_ips=["192.168.0.10"],
        public_ip="47.0.0.1",
        security_group_ids=[web.group_id],
    )
    m.create_instance(
        "1111",
        "cn-hangzhou",
        created_at=NOW,
        vpc_id=vpc.vpc_id,
        private_ips=["192.168.0.11"],
        security_group_ids=[db.group_id],
    )
    return m


def test_round_trip_is_identical_and_json_serialisable():
    m = _populated()
    doc = fleet_document.to_document(m)
    text = json.dumps(doc)
    restored = fleet_document.from_document(json.loads(text))
    assert fleet_document.to_document(restored) == doc
    for gid in m.groups:
        assert restored.members(gid) == m.members(gid)
        assert restored.member_private_ips(gid) == m.member_private_ips(gid)


def test_restored_model_keeps_counting_ids_and_enforcing_rules():
    m = _populated()
    restored = fleet_document.from_document(fleet_document.to_document(m))
    vpc_id = next(iter(m.vpcs))
    a = m.create_security_group("1111", "cn-hangzhou", now=NOW, name="x1", vpc_id=vpc_id)
    b = restored.create_security_group("1111", "cn-hangzhou", now=NOW, name="x1", vpc_id=vpc_id)
    assert a.group_id == b.group_id
    web = next(g for g in restored.groups.values() if g.name == "web")
    with pytest.raises(Exception, match="Dependency|instances|in use|InvalidOperation"):
        restored.delete_security_group(web.group_id)


def test_bad_documents_are_refused_clearly():
    with pytest.raises(DocumentError):
        fleet_document.from_document({"format": 99})
    doc = fleet_document.to_document(_populated())
    doc["groups"][0]["rules"][0]["policy"] = "maybe"
    with pytest.raises(DocumentError, match="policy"):
        fleet_document.from_document(doc)


def test_addresses_saved_before_ipaddress_reading_load_canonical():
    """Before issue 18 an address could be stored spelt with another script's digits or a
    trailing newline; such a document loads with the canonical text, and the engine reads it."""
    doc = fleet_document.to_document(_populated())
    doc["vpcs"][0]["cidr"] = "1٩2.168.0.0/16"
    nic = doc["instances"][0]["nics"][0]
    nic["private_ips"], nic["public_ip"] = ["1٩2.168.0.1٠"], "4٧.0.0.1\n"
    doc["instances"][1]["nics"][0]["private_ips"] = ["192.168.0.11\n"]
    restored = fleet_document.from_document(json.loads(json.dumps(doc)))
    assert fleet_document.to_document(restored) == fleet_document.to_document(_populated())
    web = next(g for g in restored.groups.values() if g.name == "web")
    assert restored.member_private_ips(web.group_id) == ["192.168.0.10"]
