"""The one write path (auditor/store/live_state.py through the pipeline): a write that meets a
conflict runs again without authenticating again, an error undoes everything in memory too,
and a replica writes on the newest state and catches up unit by unit."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from palisade.auditor.model import changes as K
from palisade.auditor.model.errors import ModelError
from palisade.auditor.store.cloud_rows import CloudRows
from palisade.auditor.store.live_state import StateConflict
from tests.helpers.in_process_api import ApiHarness

REGION = "cn-hangzhou"


@pytest.fixture
def h(tmp_path):
    return ApiHarness(tmp_path)


def _group(h) -> str:
    vpc = h.ok("CreateVpc", RegionId=REGION, CidrBlock="192.168.0.0/16")["VpcId"]
    return h.ok("CreateSecurityGroup", RegionId=REGION, VpcId=vpc)["SecurityGroupId"]


def _rules(h, group: str) -> list[dict]:
    body = h.ok("DescribeSecurityGroupAttribute", RegionId=REGION, SecurityGroupId=group)
    return body["Permissions"]["Permission"]


class _Db:
    """An error object as the drivers raise them."""

    def __init__(self, text: str, sqlstate: str | None = None):
        self.text, self.sqlstate = text, sqlstate

    def __str__(self) -> str:
        return self.text


@pytest.mark.parametrize(
    "conflict",
    [
        StateConflict("another replica recorded the ClientToken"),
        OperationalError("UPDATE", {}, _Db("could not serialize access", "40001")),
        OperationalError("UPDATE", {}, _Db("database is locked")),
    ],
    ids=["state-conflict", "serialization-failure", "sqlite-busy"],
)
def test_a_signed_write_that_meets_a_conflict_succeeds_on_its_retry(h, monkeypatch, conflict):
    group = _group(h)
    real_write = CloudRows.write
    calls = []

    def conflicting_once(self, conn, updates, at_ms):
        calls.append(dict(updates))
        if len(calls) == 1:
            raise conflict
        return real_write(self, conn, updates, at_ms)

    monkeypatch.setattr(CloudRows, "write", conflicting_once)
    answer = h.call(  # one signed request, one nonce: the retry must not meet it again
        "AuthorizeSecurityGroup",
        RegionId=REGION,
        SecurityGroupId=group,
        IpProtocol="tcp",
        PortRange="22/22",
        SourceCidrIp="10.0.0.0/8",
    )
    assert answer.status == 200, answer.body
    assert len(calls) == 2  # the handler ran again on the state as stored
    monkeypatch.undo()
    h.api.state = None  # read back what is stored
    assert [r["PortRange"] for r in _rules(h, group)] == ["22/22"]
    audit = [a for a in h.audit() if a.action == "AuthorizeSecurityGroup"]
    assert len(audit) == 1  # the failed attempt's audit rows rolled back with it


def test_an_error_after_a_change_undoes_it_in_memory_and_stores_nothing(h, monkeypatch):
    group = _group(h)
    before = h.state.to_document()
    seq = h.api.version

    def failing(self, *args, **kwargs):
        self.get_group(group).name = "half-changed"
        self.changes.touch(K.GROUP, group)
        raise ModelError("InvalidParameter", "refused after changing")

    monkeypatch.setattr(type(h.state.cloud), "modify_security_group_attribute", failing)
    code = h.error(
        "ModifySecurityGroupAttribute",
        RegionId=REGION,
        SecurityGroupId=group,
        SecurityGroupName="new",
    )[1]
    assert code == "InvalidParameter"
    assert h.state.to_document() == before  # memory as stored
    assert h.api.version == seq  # nothing written


def test_a_stale_replica_writes_on_the_newest_state(h):
    other = h.via(h.replica())
    group = _group(h)
    h.ok(
        "AuthorizeSecurityGroup",
        RegionId=REGION,
        SecurityGroupId=group,
        IpProtocol="tcp",
        PortRange="80/80",
        SourceCidrIp="0.0.0.0/0",
    )
    # the replica has not read since before the group existed; its write must see both
    other.ok(
        "AuthorizeSecurityGroup",
        RegionId=REGION,
        SecurityGroupId=group,
        IpProtocol="tcp",
        PortRange="443/443",
        SourceCidrIp="0.0.0.0/0",
    )
    assert sorted(r["PortRange"] for r in _rules(h, group)) == ["443/443", "80/80"]
    assert sorted(r["PortRange"] for r in _rules(other, group)) == ["443/443", "80/80"]


def test_a_replica_catches_up_unit_by_unit(h):
    replica = h.replica()
    other = h.via(replica)
    group = _group(h)
    other.ok("DescribeSecurityGroups", RegionId=REGION)
    state = replica.current()
    heard: list = []
    replica.live.listeners.append(heard.append)
    h.ok(
        "ModifySecurityGroupAttribute",
        RegionId=REGION,
        SecurityGroupId=group,
        SecurityGroupName="renamed",
    )
    assert replica.current() is state  # the same live state, not a reload
    assert state.cloud.groups[group].name == "renamed"
    assert heard == [{(K.GROUP, group)}]
    assert replica.version == h.api.version
