"""The live state on both backends: a replica follows another's writes by itself (LISTEN/NOTIFY
on PostgreSQL, a poll on SQLite), unit by unit, RAM included."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from palisade.auditor.model import changes as K
from palisade.auditor.model.cloud_state import DEFAULT_REGION, CloudState
from palisade.auditor.store.database import Database
from palisade.auditor.store.live_state import LiveState

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _wait(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_a_replica_follows_writes_without_being_asked(db_url):
    a_store, b_store = Database(db_url), Database(db_url)
    stop = threading.Event()
    try:
        a, b = LiveState(a_store), LiveState(b_store)
        state, _admin = CloudState.create(NOW)
        assert a.create(state, 0)
        assert b.current() is not None
        heard: list = []
        b.listeners.append(heard.append)
        # on PostgreSQL the poll is too slow to pass: only the NOTIFY can wake the replica
        b.follow(stop, poll_s=0.2 if b_store.is_sqlite else 60)
        time.sleep(0.5)  # LISTENing

        def change(conn, st: CloudState) -> str:
            vpc = st.cloud.create_vpc(st.account_id, DEFAULT_REGION, "10.0.0.0/16")
            st.ram.create_user("bob", NOW)
            st.changes.touch(K.RAM_USER, "bob")
            st.changes.touch(K.VPC, vpc.vpc_id)
            st.changes.touch(K.FLEET, "")
            return vpc.vpc_id

        vpc_id = a.write(change, lambda: 0)
        assert _wait(lambda: b.seq == a.seq)
        replica = b.state
        assert replica is not None
        assert vpc_id in replica.cloud.vpcs and "bob" in replica.ram.users
        assert replica.ram.changes is replica.changes  # the reloaded RAM account records too
        assert heard and (K.VPC, vpc_id) in heard[-1]
        assert replica.to_document() == a.state.to_document()
    finally:
        stop.set()
        a_store.close()
        b_store.close()
