"""PALISADE_VERIFY_CHANGES on a state too big to read whole on every write: the check knows the
rows from its mirror (what was loaded, caught up and written), reads back what each write
stored, and reads every row every FULL_CHECK_EVERY-th time. Each way a unit can be lost is
still caught: a change not touched, a unit stored otherwise than written, rows changed behind
the live state's back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from palisade.auditor.model.cloud_state import DEFAULT_REGION, CloudState
from palisade.auditor.store import schema
from palisade.auditor.store.cloud_rows import CloudRows
from palisade.auditor.store.database import Database
from palisade.auditor.store.live_state import (
    FULL_CHECK_EVERY,
    SMALL_STATE,
    LiveState,
    UntouchedChange,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def live(db_url, monkeypatch):
    monkeypatch.setenv("PALISADE_VERIFY_CHANGES", "1")
    store = Database(db_url)
    live = LiveState(store)
    state, _admin = CloudState.create(NOW)
    assert live.create(state, 0)

    def many(conn, st: CloudState) -> None:  # a state past SMALL_STATE units
        for n in range(SMALL_STATE + 10):
            st.cloud.create_vpc(st.account_id, DEFAULT_REGION, f"10.{n % 250}.0.0/16")

    live.write(many, lambda: 0)
    assert live._mirror is not None and len(live._mirror) > SMALL_STATE  # noqa: SLF001
    yield live
    store.close()


def _rename(name: str, touch: bool):
    def change(conn, st: CloudState) -> str:
        vpc = sorted(st.cloud.vpcs.values(), key=lambda v: v.vpc_id)[0]
        vpc.name = name
        if touch:
            st.changes.touch("vpc", vpc.vpc_id)
        return vpc.vpc_id

    return change


def _no_full_reads(monkeypatch):
    def refuse(*_a, **_k):
        raise AssertionError("read every row")

    monkeypatch.setattr(CloudRows, "read_kinds", staticmethod(refuse))


def test_a_change_not_touched_is_caught_without_reading_every_row(live, monkeypatch):
    live.write(_rename("touched", touch=True), lambda: 0)  # fine, and checked by the mirror
    _no_full_reads(monkeypatch)
    live._checks = 1  # noqa: SLF001  (not a full check's turn)
    with pytest.raises(UntouchedChange, match="changed but not stored"):
        live.write(_rename("sneaky", touch=False), lambda: 0)


def test_a_unit_stored_otherwise_than_written_is_caught(live, monkeypatch):
    real = live.rows.write

    def corrupting(conn, updates, at_ms):
        return real(conn, {u: {**b, "name": "garbled"} for u, b in updates.items()}, at_ms)

    monkeypatch.setattr(live.rows, "write", corrupting)
    _no_full_reads(monkeypatch)
    live._checks = 1  # noqa: SLF001
    with pytest.raises(UntouchedChange, match="read back otherwise than written"):
        live.write(_rename("x", touch=True), lambda: 0)


def test_rows_changed_behind_the_live_states_back_are_caught_by_a_full_check(live):
    vpc_id = sorted(live.state.cloud.vpcs)[1]
    t = schema.cloud_vpcs
    with live.store.engine.begin() as conn:
        body = json.loads(conn.execute(t.select().where(t.c.id == vpc_id)).one().body)
        conn.execute(update(t).where(t.c.id == vpc_id).values(body=json.dumps(
            {**body, "name": "behind your back"})))  # fmt: skip
    with pytest.raises(UntouchedChange, match="the mirror of the rows is wrong"):
        for _ in range(FULL_CHECK_EVERY):
            live.write(_rename("x", touch=True), lambda: 0)
