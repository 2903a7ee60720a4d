"""The agent's spool: durable, ordered, acknowledged by id, snapshots superseded."""

import pytest

from palisade.agent.spool import Spool, SpoolFull
from palisade.shared.proto import agent_pb2, facts_pb2


def _event(i: int) -> agent_pb2.AgentMessage:
    return agent_pb2.AgentMessage(
        message_id=f"ev{i}", instance_id="i-1", event=facts_pb2.Event(event_id=f"e{i}")
    )


def _snap(i: int) -> agent_pb2.AgentMessage:
    return agent_pb2.AgentMessage(
        message_id=f"sn{i}", instance_id="i-1", snapshot=facts_pb2.Snapshot(snapshot_id=f"s{i}")
    )


def test_messages_survive_a_restart_in_order(tmp_path):
    spool = Spool(tmp_path)
    for i in range(5):
        spool.put(_event(i))
    reopened = Spool(tmp_path)
    assert [m.message_id for _, m in reopened.pending()] == [f"ev{i}" for i in range(5)]
    reopened.put(_event(5))
    assert [m.message_id for _, m in reopened.pending()][-1] == "ev5"


def test_ack_deletes_only_that_message(tmp_path):
    spool = Spool(tmp_path)
    spool.put(_event(1))
    spool.put(_event(2))
    spool.ack("ev1")
    assert [m.message_id for _, m in spool.pending()] == ["ev2"]
    spool.ack("unknown")  # an ack for something already gone is harmless
    assert len(spool) == 1


def test_a_new_snapshot_supersedes_unsent_snapshots_but_never_events(tmp_path):
    spool = Spool(tmp_path)
    spool.put(_snap(1))
    spool.put(_event(1))
    spool.put(_snap(2))
    assert [m.message_id for _, m in spool.pending()] == ["ev1", "sn2"]


def test_torn_files_are_dropped_and_leftover_tmp_files_removed(tmp_path):
    spool = Spool(tmp_path)
    spool.put(_event(1))
    (tmp_path / "0000000000000099-event-torn.pb").write_bytes(b"\xff\xff\xff")
    (tmp_path / "0000000000000100-event-x.tmp").write_bytes(b"half")
    reopened = Spool(tmp_path)
    assert [m.message_id for _, m in reopened.pending()] == ["ev1"]
    assert not list(tmp_path.glob("*.tmp"))


def _batch(i: int, n: int) -> agent_pb2.AgentMessage:
    return agent_pb2.AgentMessage(
        message_id=f"b{i}",
        instance_id="i-1",
        events=facts_pb2.EventBatch(
            events=[facts_pb2.Event(event_id=f"e{i}.{k}") for k in range(n)]
        ),
    )


def test_full_spool_drops_the_oldest_events_and_counts_them(tmp_path):
    size = len(_batch(0, 10).SerializeToString())
    spool = Spool(tmp_path, max_bytes=size * 3 + 10)
    for i in range(3):
        spool.put(_batch(i, 10))
    spool.put(_batch(3, 10))  # no room: b0 goes
    assert [m.message_id for _, m in spool.pending()] == ["b1", "b2", "b3"]
    assert spool.dropped_events == 10
    spool.put(_snap(1))  # a snapshot makes room too
    assert [m.message_id for _, m in spool.pending()] == ["b2", "b3", "sn1"]
    assert Spool(tmp_path, max_bytes=size * 3 + 10).dropped_events == 20  # survives restarts


def test_a_message_larger_than_the_spool_is_refused(tmp_path):
    spool = Spool(tmp_path, max_bytes=50)
    with pytest.raises(SpoolFull):
        spool.put(_batch(0, 100))
    assert len(spool) == 0
