"""The cloud state a process works on: loaded once from the rows, kept current from the change
sequence, and changed through one write path.

`write(change)` is the only way the state changes. Under the cloud lock (no other replica
writes meanwhile) it catches up with the newest change, runs `change` on the live state, and
writes exactly the units the model touched (model/changes.py), in the same transaction as
whatever `change` wrote itself (audit rows, a ClientToken's answer). Any error rolls the
transaction back and puts the touched units back as stored: the memory never holds a change the
database does not. A replica catches up by reading the change sequence after its last change
and reloading only the units named there (`catch_up`, on every call and on a NOTIFY or a poll
tick); the groups and instances that changed are handed to the listeners (the compiled engine's
caches) so nothing else is recompiled.

With `PALISADE_VERIFY_CHANGES=1` (the test suite sets it) every write is checked: the whole
state in memory must equal the stored rows, unit by unit. A model method that changed something
without touching its unit fails the test that made it. The rows are known without reading them
all again on every write: a mirror of them is kept from what was loaded, caught up and written
(the rows of a unit change only so), the units a write stored are read back, and every
FULL_CHECK_EVERY-th check (and every check of a small state) reads all rows as well.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from palisade.auditor.model.changes import Unit
from palisade.auditor.model.cloud_state import CloudState
from palisade.auditor.model.units import (
    RAM_KINDS,
    apply_units,
    document_from_units,
    unit_body,
    units_from_document,
)
from palisade.auditor.store.cloud_rows import LOAD_ORDER, CloudRows
from palisade.auditor.store.database import Database

log = logging.getLogger("palisade.store")
T = TypeVar("T")
_RAM_ORDER = [k for k in LOAD_ORDER if k in RAM_KINDS]
Listener = Callable[[set[Unit] | None], None]  # None: everything changed (a whole reload)


class StateConflict(Exception):
    """The write met another replica's (the state was created concurrently, a ClientToken
    was recorded concurrently, the database refused to serialise it): run it again."""


class UntouchedChange(AssertionError):
    """PALISADE_VERIFY_CHANGES: a write changed a unit it did not touch (it would be lost)."""


def verifying() -> bool:
    return os.environ.get("PALISADE_VERIFY_CHANGES") == "1"


FULL_CHECK_EVERY = 25  # checks against the mirror between two that read every row
SMALL_STATE = 200  # units: a state this small is checked against every row each time


class LiveState:
    def __init__(self, store: Database):
        self.store = store
        self.rows = CloudRows(store)
        self.lock = threading.RLock()
        self.state: CloudState | None = None
        self.seq = 0  # the last change the live state holds
        self.listeners: list[Listener] = []
        # PALISADE_VERIFY_CHANGES: the stored rows as of `seq`, unit by unit (see _check)
        self._mirror: dict[Unit, dict] | None = None
        self._checks = 0

    # -- reading -------------------------------------------------------------------------------

    def current(self) -> CloudState | None:
        """The state as of the newest committed change (None: no state yet)."""
        with self.lock:
            self.catch_up()
            return self.state

    def catch_up(self, conn: Connection | None = None) -> bool:
        """Brings the live state to the newest change; False when there is no state yet."""
        with self.lock:
            if conn is None:
                with self.rows.snapshot() as own:
                    return self.catch_up(own)
            head = self.rows.head(conn)
            if head == 0:
                return False
            if self.state is None:
                self._load_all(conn)
                return True
            if head == self.seq:
                return True
            units = self.rows.changes_since(conn, self.seq, head)
            if units is None:  # too far behind: the sequence was pruned
                self._load_all(conn)
                return True
            self._apply(conn, units)
            self.seq = head
            self._notify(units)
            return True

    def invalidate(self) -> None:
        """Forget the live state: the next call reloads it whole."""
        with self.lock:
            self.state, self.seq, self._mirror = None, 0, None

    def _load_all(self, conn: Connection) -> None:
        seq, units = self.rows.load_all(conn)
        self.state = CloudState.from_document(document_from_units(units))
        self.seq = seq
        self._mirror = dict(units) if verifying() else None
        self._notify(None)

    def _apply(self, conn: Connection, units: set[Unit]) -> None:
        assert self.state is not None
        stored = CloudRows.read_units(conn, units)
        apply_units(self.state, stored, lambda: CloudRows.read_kinds(conn, _RAM_ORDER))
        self.state.changes.take()  # applying is not a change of this process
        if self._mirror is not None:
            _mirror_update(self._mirror, stored)

    def _notify(self, units: set[Unit] | None) -> None:
        for listener in list(self.listeners):
            try:
                listener(units)
            except Exception:  # a cache must not break the state
                log.exception("a state listener failed")

    # -- writing -------------------------------------------------------------------------------

    def create(self, state: CloudState, at_ms: int) -> bool:
        """Stores a new state whole; False when another replica created one first (it is
        loaded instead)."""
        with self.lock:
            units = units_from_document(state.to_document())
            try:
                with self.rows.transaction() as conn:
                    if self.rows.head(conn) != 0:
                        raise StateConflict("the state exists")
                    seq = self.rows.write(conn, dict(units), at_ms)
            except (StateConflict, IntegrityError):
                self.catch_up()
                return False
            state.changes.take()
            self._mirror = None  # read whole at the first check
            self.state, self.seq = state, seq
            self._notify(None)
            return True

    def write(self, change: Callable[[Connection, CloudState], T], at_ms: Callable[[], int]) -> T:
        """Runs `change(conn, state)` on the caught-up state under the cloud lock and stores
        the units it touched, with what it wrote on `conn`, in one transaction. Any error
        restores the touched units as stored and is raised; a conflict is `StateConflict`."""
        with self.lock:
            touched: list[Unit] = []
            checked: dict[Unit, dict] | None = None
            try:
                with self.rows.transaction() as conn:
                    if not self.catch_up(conn):
                        raise StateConflict("no state yet")
                    state = self.state
                    assert state is not None
                    state.changes.take()
                    result = change(conn, state)
                    touched = state.changes.take()
                    seq = self.seq
                    updates: dict[Unit, dict | None] = {}
                    if touched:
                        updates = {u: unit_body(state, u) for u in touched}
                        seq = self.rows.write(conn, updates, at_ms())
                        if not self.store.is_sqlite:  # delivered when the commit is
                            conn.execute(
                                text("SELECT pg_notify(:channel, :seq)"),
                                {"channel": CHANNEL, "seq": str(seq)},
                            )
                    if verifying():  # before the commit, under the lock: same version; also
                        checked = self._check(conn, updates)  # when nothing was touched
            except IntegrityError as exc:
                self._restore(touched)
                raise StateConflict(str(exc.orig)[:200]) from None
            except BaseException:
                self._restore(touched)
                raise
            self.seq = seq
            self._mirror = checked  # committed: the rows are what was checked
            if touched:
                self._notify(set(touched))
            return result

    def run_read_only(self, read: Callable[[CloudState], T], what: str) -> T:
        """Runs `read` on the caught-up state; a read that touched the state (an action
        declared `writes=False` that changes it) is undone and refused."""
        with self.lock:
            if not self.catch_up():
                raise StateConflict("no state yet")
            state = self.state
            assert state is not None
            state.changes.take()
            try:
                result = read(state)
            finally:
                touched = state.changes.take()
                if touched:
                    self._restore(touched)
            if touched:
                raise UntouchedChange(
                    f"{what} is declared read-only but changed {sorted(touched)[:5]}"
                )
            return result

    def private_copy(self) -> CloudState:
        """A copy of the caught-up state that shares nothing with it (for an action that
        changes what it reads and throws it away: a plan). Only the dump runs under the lock;
        at 10,000 instances that is 0.7 s of the 2.6 s a copy takes."""
        with self.lock:
            if not self.catch_up():
                raise StateConflict("no state yet")
            assert self.state is not None
            blob = self.state.snapshot()
        return CloudState.from_snapshot(blob)

    def _restore(self, touched: list[Unit]) -> None:
        """Puts the touched units back as stored (the transaction that would have written
        them rolled back)."""
        state = self.state
        if state is None:
            return
        touched = touched + state.changes.take()
        if not touched:
            return
        try:
            with self.rows.snapshot() as conn:
                self._apply(conn, set(touched))
                self._notify(set(touched))  # a cache may have compiled the undone change
                self.catch_up(conn)
        except Exception:  # cannot read them back: reload everything at the next call
            log.exception("restoring the state after a failed write failed; reloading it")
            self.invalidate()

    # -- following the other replicas ----------------------------------------------------------

    def follow(self, stop: threading.Event, poll_s: float = 1.0) -> threading.Thread:
        """Keeps the live state current without waiting for a call: on PostgreSQL a NOTIFY from
        the writing replica wakes it at once (LISTEN), with a poll every `poll_s` as a safety
        net; on SQLite (one host, no notifications) the poll alone. The listeners (compiled
        caches) hear every change as it is applied."""

        def run() -> None:
            listen = None
            while not stop.is_set():
                try:
                    if listen is None and not self.store.is_sqlite:
                        listen = _listen(self.store)
                    if listen is not None:
                        for _ in listen.notifies(timeout=poll_s, stop_after=1):
                            pass
                    else:
                        stop.wait(poll_s)
                    if not stop.is_set():
                        self.catch_up()
                except Exception:  # the database went away: try again after a pause
                    log.warning("following the cloud state failed; retrying", exc_info=True)
                    if listen is not None:
                        _close(listen)
                        listen = None
                    stop.wait(poll_s)
            if listen is not None:
                _close(listen)

        thread = threading.Thread(target=run, name="state-follower", daemon=True)
        thread.start()
        return thread

    # -- checking ------------------------------------------------------------------------------

    def _check(self, conn: Connection, updates: dict[Unit, dict | None]) -> dict[Unit, dict]:
        """PALISADE_VERIFY_CHANGES, inside a write's transaction before it commits: what the
        write stored reads back as written, and the whole state in memory equals the rows,
        known from the mirror (every row read when there is no mirror, for a small state, and
        every FULL_CHECK_EVERY-th time). Returns the rows as of this write (the next mirror)."""
        assert self.state is not None
        live = units_from_document(self.state.to_document())
        back = CloudRows.read_units(conn, updates)
        _compare(back, updates, "read back otherwise than written")
        self._checks += 1
        expected = None  # the rows as the mirror and this write say they are
        if self._mirror is not None:
            expected = dict(self._mirror)
            _mirror_update(expected, updates)
        if expected is None or len(expected) < SMALL_STATE or self._checks % FULL_CHECK_EVERY == 0:
            stored = dict(CloudRows.read_kinds(conn, LOAD_ORDER))
            if expected is not None:  # the mirror itself is checked too
                _compare(stored, expected, "the mirror of the rows is wrong")
        else:
            stored = expected
        _compare(stored, live, "changed but not stored (not touched)")
        return stored


def _mirror_update(mirror: dict[Unit, dict], stored: dict[Unit, dict | None]) -> None:
    for unit, body in stored.items():
        if body is None:
            mirror.pop(unit, None)
        else:
            mirror[unit] = body


def _compare(stored: dict, live: dict, what: str) -> None:
    wrong = sorted(u for u in stored.keys() | live.keys() if stored.get(u) != live.get(u))
    if wrong:
        raise UntouchedChange(f"{what}: {wrong[:10]}")


CHANNEL = "palisade_cloud"  # the NOTIFY channel a committed change is announced on


def _listen(store: Database):
    """A psycopg connection of its own, LISTENing on CHANNEL (autocommit: notifications are
    delivered between transactions)."""
    import psycopg

    url = store.engine.url.set(drivername="postgresql")
    conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
    conn.execute(f"LISTEN {CHANNEL}")
    return conn


def _close(conn) -> None:
    try:
        conn.close()
    except Exception:
        log.debug("closing the LISTEN connection failed", exc_info=True)
