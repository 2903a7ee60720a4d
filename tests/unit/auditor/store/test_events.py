"""Events in batches (auditor/store/events.py): stored once, read back as single events,
counted per hour; on SQLite and PostgreSQL; and the migration from one row per event."""

from __future__ import annotations

import random

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from palisade.auditor.store import migrate
from palisade.auditor.store.database import Database
from palisade.auditor.store.events import HOUR_MS
from palisade.shared.proto import agent_pb2, facts_pb2

T0 = 1_800_000_000_000 - 1_800_000_000_000 % HOUR_MS  # the start of a clock hour


def login(eid: str, t: int, result: str = "failure", ip: str = "203.0.113.7", user="root"):
    return facts_pb2.Event(
        event_id=eid,
        time_ms=t,
        login=facts_pb2.LoginEvent(user=user, result=result, source_ip=ip, service="sshd"),
    )


def batch(mid: str, iid: str, events) -> agent_pb2.AgentMessage:
    return agent_pb2.AgentMessage(
        message_id=mid, instance_id=iid, events=facts_pb2.EventBatch(events=events)
    )


@pytest.fixture
def store(db_url):
    s = Database(db_url)
    for iid in ("i-1", "i-2"):
        s.record_enrolment(iid, "h", 1, 0)
    yield s
    s.close()


def test_the_same_event_id_on_two_instances_is_two_events(store):
    # keys are scoped by instance: one host cannot suppress another's events by their ids
    store.apply_many([batch("a", "i-1", [login("e", T0)]), batch("b", "i-2", [login("e", T0)])], 1)
    assert store.event_count("i-1") == store.event_count("i-2") == 1


def test_an_event_twice_in_one_commit_is_stored_once(store):
    results = store.apply_many(
        [
            batch("a", "i-1", [login("e1", T0), login("e2", T0 + 1)]),
            batch("b", "i-1", [login("e2", T0 + 1), login("e3", T0 + 2), login("e3", T0 + 2)]),
        ],
        1,
    )
    assert all(r.stored for r in results)
    assert sorted(ev.event_id for _, ev in store.iter_events()) == ["e1", "e2", "e3"]
    assert store.event_count() == 3


def test_events_without_id_or_time_get_them_in_the_store(store):
    store.apply(
        batch("m", "i-1", [facts_pb2.Event(login=facts_pb2.LoginEvent(result="success"))]), 77
    )
    [(iid, ev)] = list(store.iter_events())
    assert (iid, ev.event_id, ev.time_ms) == ("i-1", "m.0", 77)
    # and the id it got is what dedups it when the message comes again under a new id? no:
    # an id-less event is known by its message only, so a re-delivery is refused by message id
    assert not store.apply(batch("m", "i-1", [facts_pb2.Event()]), 78).stored


def test_single_event_messages_are_stored(store):
    msg = agent_pb2.AgentMessage(message_id="s", instance_id="i-1", event=login("x", T0))
    assert store.apply(msg, 1).stored
    assert [ev.event_id for ev in store.recent_events("i-1", 0)] == ["x"]


def test_readers_filter_and_order(store):
    evs = [
        login(f"e{k:02d}", T0 + k * 1000, "success" if k % 5 == 0 else "failure") for k in range(30)
    ]
    random.Random(3).shuffle(evs)
    store.apply_many([batch(f"m{k}", "i-1", evs[k * 10 : k * 10 + 10]) for k in range(3)], 1)
    recent = store.recent_events("i-1", T0 + 10_000, limit=5)
    assert [e.event_id for e in recent] == ["e25", "e26", "e27", "e28", "e29"]  # oldest first
    assert [e.event_id for e in store.recent_events("i-1", T0 + 27_000)] == ["e27", "e28", "e29"]
    assert [e.event_id for e in store.successful_logins("i-1", limit=3)] == ["e00", "e05", "e10"]
    failed = store.failed_logins_since(T0 + 25_000)
    assert [e.event_id for e in failed["i-1"]] == ["e26", "e27", "e28", "e29"]
    logins = store.recent_logins("i-1", limit=2)
    assert [(x["event_id"], x["result"]) for x in logins] == [
        ("e29", "failure"),
        ("e28", "failure"),
    ]


def test_login_counts_per_clock_hour(store):
    evs = [
        login("a", T0 + 5, "failure", "198.51.100.1"),
        login("b", T0 + 6, "invalid_user", "198.51.100.1"),
        login("c", T0 + HOUR_MS + 1, "failure", "198.51.100.2"),
        login("d", T0 + HOUR_MS + 2, "success", "198.51.100.2"),
        login("e", T0 + 3 * HOUR_MS, "failure", ""),
    ]
    store.apply_many([batch("m1", "i-1", evs[:3]), batch("m2", "i-2", evs[3:])], 1)
    assert store.failed_logins_per_hour(T0 + 10, T0 + 4 * HOUR_MS) == [2, 1, 0, 1]
    failed, ok = store.instance_logins_per_hour("i-2", T0, T0 + 4 * HOUR_MS)
    assert (failed, ok) == ([0, 0, 0, 1], [0, 1, 0, 0])
    assert store.top_failed_sources(T0) == [("198.51.100.1", 2), ("198.51.100.2", 1)]
    # a re-delivered event is not counted twice
    store.apply(batch("m3", "i-1", evs[:1]), 2)
    assert store.failed_logins_per_hour(T0, T0 + HOUR_MS) == [2]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.lists(
            st.tuples(st.sampled_from(["i-1", "i-2"]), st.integers(0, 15), st.integers(0, 9)),
            max_size=12,
        ),
        min_size=1,
        max_size=8,
    ),
    st.integers(1, 12),
)
def test_any_mix_of_resent_events_is_stored_once_and_read_back(tmp_path_factory, commits, limit):
    """Property: whatever overlaps between messages and commits, each event (instance, id,
    time: an agent's id is a hash of the line, time included) is stored once and the readers
    agree with a plain list of the distinct events."""
    url = f"sqlite:///{tmp_path_factory.mktemp('ev') / 's.db'}"
    store = Database(url)
    try:
        for iid in ("i-1", "i-2"):
            store.record_enrolment(iid, "h", 1, 0)
        truth: set[tuple[str, str, int]] = set()
        mid = 0
        for commit in commits:
            messages = []
            for iid in ("i-1", "i-2"):
                evs = [login(f"e{n}", T0 + t * 60_000) for i, n, t in commit if i == iid]
                if evs:
                    mid += 1
                    messages.append(batch(f"m{mid}", iid, evs))
                    truth.update((iid, ev.event_id, ev.time_ms) for ev in evs)
            store.apply_many(messages, 1)
        stored = [(iid, ev.event_id, ev.time_ms) for iid, ev in store.iter_events()]
        assert sorted(stored) == sorted(truth)
        assert store.event_count() == len(truth)
        for iid in ("i-1", "i-2"):
            mine = sorted((-t, e) for i, e, t in truth if i == iid)[:limit]
            got = store.recent_events(iid, T0, limit=limit)
            assert [(-e.time_ms, e.event_id) for e in reversed(got)] == mine
        assert sum(store.failed_logins_per_hour(T0, T0 + HOUR_MS)) == len(truth)
    finally:
        store.close()


def test_events_stored_one_row_each_are_moved_into_batches(db_url):
    """A database at revision 0005 (one row per event) keeps every event, id and count."""
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        command.upgrade(migrate._config(conn), "0005")  # noqa: SLF001
        conn.exec_driver_sql(
            "INSERT INTO instances (instance_id, hostname, os_family, os_name, os_version, "
            "agent_version, boot_time, enrolled_at_ms, cert_serial, last_seen_ms, "
            "snapshot_at_ms) VALUES ('i-1', 'h', '', '', '', '', 0, 0, '1', 0, 0)"
        )
        rows = []
        for k in range(2500):
            ev = login(f"old{k}", T0 + k * 1000, "success" if k % 10 == 0 else "failure")
            body = (
                ev.SerializeToString()
                if k % 7
                else facts_pb2.Event(login=ev.login).SerializeToString()
            )
            rows.append({"e": f"old{k}", "t": T0 + k * 1000, "b": body, "r": ev.login.result})
        from sqlalchemy import text

        conn.execute(
            text(
                "INSERT INTO events (event_id, instance_id, time_ms, kind, body, login_result, "
                "source_ip) VALUES (:e, 'i-1', :t, 'login', :b, :r, '203.0.113.7')"
            ),
            rows,
        )
    engine.dispose()
    store = Database(db_url)  # migrates to the head
    try:
        assert migrate.current(store.engine) == migrate.head()
        assert store.event_count("i-1") == 2500
        ids = sorted(ev.event_id for _, ev in store.iter_events())
        assert ids == sorted(f"old{k}" for k in range(2500))
        assert [e.time_ms for e in store.recent_events("i-1", T0, limit=2)] == [
            T0 + 2498_000,
            T0 + 2499_000,
        ]
        assert len(store.successful_logins("i-1")) == 250
        assert sum(store.failed_logins_per_hour(T0, T0 + 2 * HOUR_MS)) == 2250
        # the moved events' keys are there: sending one again stores nothing new
        store.apply(batch("again", "i-1", [login("old5", T0 + 5000)]), 1)
        assert store.event_count("i-1") == 2500
    finally:
        store.close()


def test_the_ingest_path_keys_events_as_event_key_says():
    from palisade.auditor.store.events import _incoming, event_key

    msg = batch("m", "i-1", [login("e1", T0), facts_pb2.Event(time_ms=T0 + 1)])
    assert _incoming(msg).keys == [event_key("i-1", "e1", T0), event_key("i-1", "m.1", T0 + 1)]
    assert len(event_key("i-1", "e1", T0)) == 20
    assert event_key("i-1", "e1", T0) != event_key("i-2", "e1", T0)


def test_login_counts_count_attempts_not_lines(store):
    # one failed password logged twice (pam_unix, then sshd: NEW then SAME), "message repeated
    # 3 times" (NEW, repeat 3), "Invalid user" before its password (NONE), an old agent's
    # line (UNSPECIFIED: one a line), and a success
    def marked(eid, t, result, attempt, repeat=0):
        ev = login(eid, t, result)
        ev.login.attempt, ev.login.repeat = attempt, repeat
        return ev

    A = facts_pb2
    evs = [
        marked("pam", T0 + 1, "failure", A.LOGIN_ATTEMPT_NEW),
        marked("sshd", T0 + 2, "failure", A.LOGIN_ATTEMPT_SAME),
        marked("rep", T0 + 3, "failure", A.LOGIN_ATTEMPT_NEW, repeat=3),
        marked("inv", T0 + 4, "invalid_user", A.LOGIN_ATTEMPT_NONE),
        marked("inv2", T0 + 5, "invalid_user", A.LOGIN_ATTEMPT_NEW),
        marked("old", T0 + 6, "failure", A.LOGIN_ATTEMPT_UNSPECIFIED),
        marked("ok", T0 + 7, "success", A.LOGIN_ATTEMPT_SAME),
    ]
    store.apply(batch("m", "i-1", evs), 1)
    assert store.instance_logins_per_hour("i-1", T0, T0 + HOUR_MS) == ([6], [1])
    assert store.top_failed_sources(T0) == [("203.0.113.7", 6)]
    # the events themselves are all stored: the checks read every line
    assert store.event_count("i-1") == 7
