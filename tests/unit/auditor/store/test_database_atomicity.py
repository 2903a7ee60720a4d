"""A message id and its payload are committed together or not at all."""

import pytest
from sqlalchemy import select

from palisade.auditor.store import schema
from palisade.auditor.store.database import Database
from palisade.shared.proto import agent_pb2, facts_pb2


def _batch(mid: str, ids: list[str]) -> agent_pb2.AgentMessage:
    return agent_pb2.AgentMessage(
        message_id=mid,
        instance_id="i-1",
        events=facts_pb2.EventBatch(events=[facts_pb2.Event(event_id=e, time_ms=1) for e in ids]),
    )


@pytest.fixture
def store(db_url):
    s = Database(db_url)
    s.record_enrolment("i-1", "h", 1, 0)
    yield s
    s.close()


def test_failure_after_the_message_id_rolls_back_the_message_id(store, monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("crash between the id and the payload")

    monkeypatch.setattr(store._events, "write", boom)  # noqa: SLF001
    with pytest.raises(RuntimeError):
        store.apply(_batch("m1", ["a", "b"]), 10)
    monkeypatch.undo()
    with store.engine.connect() as conn:
        assert conn.execute(select(schema.received_messages)).all() == []
    # the re-sent message is stored, not mistaken for a duplicate
    assert store.apply(_batch("m1", ["a", "b"]), 11).stored
    assert store.event_count("i-1") == 2


def test_events_seen_before_are_kept_once_in_a_new_batch(store):
    assert store.apply(_batch("m1", ["a", "b"]), 10).stored
    assert store.apply(_batch("m2", ["b", "c"]), 11).stored
    assert not store.apply(_batch("m2", ["b", "c"]), 12).stored
    assert store.event_count("i-1") == 3


def test_a_delta_on_another_base_asks_for_a_full_snapshot(store):
    full = agent_pb2.AgentMessage(
        message_id="s1",
        instance_id="i-1",
        snapshot=facts_pb2.Snapshot(snapshot_id="A", collected_at_ms=5),
    )
    assert store.apply(full, 10).stored
    delta = agent_pb2.AgentMessage(
        message_id="s2",
        instance_id="i-1",
        delta=facts_pb2.SnapshotDelta(
            base_snapshot_id="Z", changed=facts_pb2.Snapshot(snapshot_id="B", collected_at_ms=6)
        ),
    )
    result = store.apply(delta, 11)
    assert result.need_full_snapshot and not result.stored
    delta.delta.base_snapshot_id = "A"
    assert store.apply(delta, 12).stored  # not recorded as received the first time
    assert store.latest_snapshot("i-1").snapshot_id == "B"


def test_group_commit_keeps_each_message_on_its_own(store):
    full = agent_pb2.AgentMessage(
        message_id="s1",
        instance_id="i-1",
        snapshot=facts_pb2.Snapshot(snapshot_id="A", collected_at_ms=5),
    )
    bad_delta = agent_pb2.AgentMessage(
        message_id="d1", instance_id="i-1", delta=facts_pb2.SnapshotDelta(base_snapshot_id="nope")
    )
    results = store.apply_many(
        [_batch("m1", ["a"]), full, bad_delta, _batch("m1", ["a"]), _batch("m2", ["a", "b"])], 10
    )
    assert [getattr(r, "stored", None) for r in results] == [True, True, False, False, True]
    assert results[2].need_full_snapshot
    assert store.event_count("i-1") == 2
    assert store.latest_snapshot("i-1").snapshot_id == "A"
    # the refused delta left no id behind: it is judged again when re-sent
    assert store.apply(bad_delta, 11).need_full_snapshot


def test_a_write_that_reads_first_survives_another_process_writing_in_between(db_url):
    # Two Database objects on one database are two processes (a CLI beside the server): no
    # shared in-process lock. The first reads, the second writes, then the first writes. On
    # SQLite a deferred BEGIN fails that last write at once ("database is locked"); a write
    # transaction must wait for the other writer instead, on either backend.
    import threading

    from palisade.auditor.store import advisories as feed

    one, other = Database(db_url), Database(db_url)
    read_done, other_started = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def other_writer() -> None:
        read_done.wait(10)
        other_started.set()
        try:
            feed.import_advisories(
                other, [feed.StoredAdvisory("B-1", "2024-01-01T00:00:00Z", (), "{}")], "b", 2
            )
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=other_writer)
    t.start()
    try:
        with one.write_transaction() as conn:
            conn.execute(select(schema.advisories.c.advisory_id)).all()
            read_done.set()
            other_started.wait(10)
            t.join(0.5)  # the other writer commits now if nothing holds it back
            conn.execute(
                schema.advisories.insert().values(
                    advisory_id="A-1", modified="x", ecosystems="", document="{}",
                    imported_at_ms=1,
                )
            )  # fmt: skip
        t.join(20)
        assert not errors
        with one.engine.connect() as c:
            ids = sorted(c.execute(select(schema.advisories.c.advisory_id)).scalars())
        assert ids == ["A-1", "B-1"]
    finally:
        read_done.set()
        t.join(20)
        one.close()
        other.close()
