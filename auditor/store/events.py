"""Host events (logins, ...) in the store: batches, keys and hourly login counts.

Agents send events a hundred or a thousand at a time, and a fleet under a brute-force
storm sends tens of thousands a second. Storing each event as its own indexed row cost
three B-tree inserts per event (SQLite managed ~55,000 a second on a whole core), so:

- `event_batches`: one row per agent message, holding that message's *new* events as
  one serialized EventBatch, with the instance, the time span and the number of failed and
  successful logins in it. Readers find batches by instance and time and filter inside.
- `event_keys`: one 20-byte key per event ever stored: the event's time (8 bytes, big
  endian) then BLAKE2b-96 of (instance id, event id), so an event sent again (a re-read log
  line, a re-formed batch: same id, same time) is stored once. An event is thus known by
  (instance, id, time); the agent's ids hash the log line with its time, so the id alone
  would say the same. Time first keeps inserts at
  the B-tree's hot right edge instead of at random places in an ever larger index (about
  280,000 keys/s instead of 90,000-150,000 once the index outgrows the page cache). The key
  is scoped by instance: one host cannot pre-empt another host's events by guessing ids.
- `login_counts`: failed/successful logins per clock hour, instance, result and source
  address, kept up to date in the same transaction: what the dashboard's charts count. They
  count attempts, not lines (`logins_counted`).
"""

from __future__ import annotations

import hashlib
import struct
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from palisade.auditor.store import schema
from palisade.shared.proto import agent_pb2, facts_pb2

HOUR_MS = 3_600_000
FAILED = ("failure", "invalid_user")
MAX_RESULT_LEN = 32
MAX_SOURCE_LEN = 64


_TIME = struct.Struct(">q")


def event_key(instance_id: str, event_id: str, time_ms: int) -> bytes:
    return (
        _TIME.pack(time_ms)
        + hashlib.blake2b(
            f"{instance_id}\x1f{event_id}".encode("utf-8", "surrogatepass"), digest_size=12
        ).digest()
    )


def hour_of(time_ms: int) -> int:
    return time_ms - time_ms % HOUR_MS


_NOT_AN_ATTEMPT = (facts_pb2.LOGIN_ATTEMPT_SAME, facts_pb2.LOGIN_ATTEMPT_NONE)


def logins_counted(login: facts_pb2.LoginEvent) -> int:
    """How many logins one event adds to `login_counts` (the dashboard's charts): attempts,
    not log lines. A failed password is often logged twice (pam_unix's "authentication
    failure", then sshd's "Failed password"): the agent marks the second line SAME, and a line
    that is no attempt at all (a close, "Invalid user" before the password) NONE; neither adds
    one. "message repeated N times" adds N. An event of an agent that predates the marks
    (UNSPECIFIED) counts as one attempt a line, as before. A success is counted once a line
    (sshd logs one "Accepted" per login)."""
    if not login.result:
        return 0
    if login.result != "success" and login.attempt in _NOT_AN_ATTEMPT:
        return 0
    return max(1, login.repeat)


@dataclass
class _Incoming:
    message: agent_pb2.AgentMessage
    events: Sequence[facts_pb2.Event]  # the message's events, in order
    times: list[int]  # their time_ms (0: none given)
    ids: list[str]  # their ids ("<message id>.<n>" where none was given)
    complete: bool  # every event has its own id and time: the message's bytes can be kept
    keys: list[bytes]


def _incoming(message: agent_pb2.AgentMessage) -> _Incoming:
    # Column by column, with list comprehensions and C-level builtins: this runs for every
    # event the fleet sends, under the GIL the gRPC side needs too.
    if message.WhichOneof("payload") == "event":
        events: Sequence[facts_pb2.Event] = [message.event]
    else:
        events = message.events.events
    times = [ev.time_ms for ev in events]
    ids = [ev.event_id for ev in events]
    have_ids = all(ids)
    complete = have_ids and all(times)
    if not have_ids:
        mid = message.message_id
        ids = [eid or f"{mid}.{n}" for n, eid in enumerate(ids)]
    blake, pack = hashlib.blake2b, _TIME.pack
    prefix = f"{message.instance_id}\x1f".encode()
    keys = [  # event_key(), inlined
        pack(t) + blake(prefix + eid.encode(), digest_size=12).digest()
        for t, eid in zip(times, ids, strict=True)
    ]
    return _Incoming(message, events, times, ids, complete, keys)


def _rows_sql(head: str, columns: int, rows: int, mark: str, tail: str = "") -> str:
    one = f"({', '.join([mark] * columns)})"
    return f"{head} VALUES {', '.join([one] * rows)}{tail}"


class EventWriter:
    """Stores the events of several messages inside the caller's transaction.

    Few statements, each for many rows: Python's sqlite3 lets go of the GIL around every
    statement step, and with the gRPC loop busy in another thread each step could wait up
    to a switch interval to get it back; an executemany of 50,000 rows did exactly that."""

    CHUNK = 500  # rows per multi-row statement

    def __init__(self, is_sqlite: bool):
        self.is_sqlite = is_sqlite
        self.mark = "?" if is_sqlite else "%s"

    def write(self, conn, messages: list[agent_pb2.AgentMessage], now_ms: int) -> None:
        incoming = [_incoming(m) for m in messages]
        fresh = self._claim_keys(conn, [k for item in incoming for k in item.keys])
        rows, counts, at = [], Counter(), 0
        for item in incoming:
            flags = fresh[at : at + len(item.keys)]
            at += len(item.keys)
            row = _batch_row(item, flags, now_ms, counts)
            if row is not None:
                rows.append(row)
        self._insert(
            conn,
            "INSERT INTO event_batches (instance_id, first_ms, last_ms, count, failures, "
            "successes, body)",
            rows,
        )
        # in key order: replicas upserting the same hours take their row locks alike
        self._insert(
            conn,
            "INSERT INTO login_counts (hour_ms, instance_id, result, source_ip, n)",
            [(*key, n) for key, n in sorted(counts.items())],
            " ON CONFLICT (hour_ms, instance_id, result, source_ip) "
            "DO UPDATE SET n = login_counts.n + excluded.n",
        )

    def _insert(self, conn, head: str, rows: list[tuple], tail: str = "") -> None:
        for at in range(0, len(rows), self.CHUNK):
            chunk = rows[at : at + self.CHUNK]
            sql = _rows_sql(head, len(chunk[0]), len(chunk), self.mark, tail)
            conn.exec_driver_sql(sql, tuple(v for row in chunk for v in row))

    def _claim_keys(self, conn, keys: list[bytes]) -> list[bool]:
        """Inserts the keys not stored before; True where this is an event's first time
        (a key twice in `keys`: its first occurrence only)."""
        if not keys:
            return []
        if self.is_sqlite:
            return self._claim_keys_sqlite(conn.connection.driver_connection, keys)
        # PostgreSQL: one statement, the keys as one blob cut on the server (an array
        # parameter costs a regex per element in psycopg); in key order, so concurrent
        # replicas take their index locks in one order
        width = len(keys[0])
        blob = b"".join(keys)
        inserted = conn.exec_driver_sql(
            "WITH b(v) AS (SELECT %b::bytea), ins AS ("
            "INSERT INTO event_keys (key) "
            f"SELECT substring(b.v from i for {width}) FROM b, "
            f"generate_series(1, length(b.v), {width}) AS g(i) ORDER BY 1 "
            "ON CONFLICT DO NOTHING RETURNING key) "
            "SELECT coalesce(string_agg(key, ''::bytea), ''::bytea) FROM ins",
            (blob,),
        ).scalar_one()
        if len(inserted) == len(blob):  # the usual case: every event is new
            return [True] * len(keys)
        new = {inserted[at : at + width] for at in range(0, len(inserted), width)}
        fresh = []
        for k in keys:
            fresh.append(k in new)
            new.discard(k)
        return fresh

    @staticmethod
    def _claim_keys_sqlite(db, keys: list[bytes]) -> list[bool]:
        # One statement for all the keys: they go in as one blob, cut by a recursive CTE.
        width = len(keys[0])
        before = db.total_changes
        db.execute("SAVEPOINT event_keys")
        try:
            db.execute(
                f"WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + {width} FROM k "
                f"WHERE i + {width} <= length(?1)) "
                f"INSERT OR IGNORE INTO event_keys (key) SELECT substr(?1, i, {width}) FROM k",
                (b"".join(keys),),
            )
            if db.total_changes - before == len(keys):  # the usual case: every event is new
                return [True] * len(keys)
            # some were stored before: undo, and find out which, one at a time
            db.execute("ROLLBACK TO event_keys")
            fresh = []
            for k in keys:
                cur = db.execute("INSERT OR IGNORE INTO event_keys (key) VALUES (?)", (k,))
                fresh.append(cur.rowcount == 1)
            return fresh
        finally:
            db.execute("RELEASE event_keys")


def _batch_row(item: _Incoming, flags: list[bool], now_ms: int, counts: Counter):
    """The event_batches row of one message's new events (None: nothing new), counting its
    logins into `counts`."""
    message = item.message
    iid = message.instance_id
    if all(flags):
        events, times, complete = item.events, item.times, item.complete
    else:
        keep = [n for n, new in enumerate(flags) if new]
        if not keep:
            return None
        events = [item.events[n] for n in keep]
        times = [item.times[n] for n in keep]
        complete = False
    if not item.complete:
        times = [t or now_ms for t in times]
    logins = [ev.login for ev in events]  # an event of another kind: an empty login
    results = [login.result for login in logins]
    by_result = Counter(results)
    for time_ms, login in zip(times, logins, strict=True):
        n = logins_counted(login)
        if n:
            key = (hour_of(time_ms), iid, login.result[:MAX_RESULT_LEN])
            counts[(*key, login.source_ip[:MAX_SOURCE_LEN])] += n
    failures = sum(by_result[r] for r in FAILED)
    if complete and message.WhichOneof("payload") == "events":
        body = message.events.SerializeToString()
    else:
        batch = facts_pb2.EventBatch()
        for n, new in enumerate(flags):
            if new:
                stored = batch.events.add()
                stored.CopyFrom(item.events[n])
                stored.event_id = item.ids[n]
                stored.time_ms = item.times[n] or now_ms
        body = batch.SerializeToString()
    return (iid, min(times), max(times), len(times), failures, by_result["success"], body)


# -- reading -----------------------------------------------------------------------------------


def _parse(body: bytes) -> list[facts_pb2.Event]:
    return list(facts_pb2.EventBatch.FromString(body).events)


def _order_key(ev: facts_pb2.Event):
    return (-ev.time_ms, ev.event_id)


def _pair_order_key(pair: tuple[str, facts_pb2.Event]):
    return (pair[1].time_ms, pair[1].event_id)


def newest(
    conn,
    instance_id: str,
    since_ms: int,
    limit: int,
    keep: Callable[[facts_pb2.Event], bool] | None = None,
) -> list[facts_pb2.Event]:
    """The newest `limit` events of an instance at or after `since_ms`, newest first
    (ties by event id), optionally only those `keep` accepts."""
    b = schema.event_batches
    q = (
        select(b.c.last_ms, b.c.body)
        .where(b.c.instance_id == instance_id, b.c.last_ms >= since_ms)
        .order_by(b.c.last_ms.desc())
    )
    out: list[facts_pb2.Event] = []
    floor = since_ms
    for last_ms, body in conn.execute(q):
        if len(out) >= limit and last_ms < floor:
            break  # every later batch is older than the newest `limit` found
        out.extend(
            ev for ev in _parse(body) if ev.time_ms >= since_ms and (keep is None or keep(ev))
        )
        if len(out) >= limit:
            out.sort(key=_order_key)
            del out[limit:]
            floor = out[-1].time_ms
    out.sort(key=_order_key)
    return out[:limit]


def oldest(conn, where, limit: int, keep: Callable[[facts_pb2.Event], bool], since_ms: int = 0):
    """(instance id, event) pairs of the batches `where` selects, oldest first, at most
    `limit`, only events `keep` accepts at or after `since_ms`."""
    b = schema.event_batches
    q = select(b.c.instance_id, b.c.first_ms, b.c.body).where(*where).order_by(b.c.first_ms)
    out: list[tuple[str, facts_pb2.Event]] = []
    ceiling = None
    for iid, first_ms, body in conn.execute(q):
        if ceiling is not None and first_ms > ceiling:
            break  # every later batch is newer than the oldest `limit` found
        out.extend((iid, ev) for ev in _parse(body) if ev.time_ms >= since_ms and keep(ev))
        if len(out) >= limit:
            out.sort(key=_pair_order_key)
            del out[limit:]
            ceiling = out[-1][1].time_ms
    out.sort(key=_pair_order_key)
    return out[:limit]


def is_login(ev: facts_pb2.Event) -> bool:
    return ev.HasField("login")


def is_failed_login(ev: facts_pb2.Event) -> bool:
    return ev.HasField("login") and ev.login.result in FAILED


def is_successful_login(ev: facts_pb2.Event) -> bool:
    return ev.HasField("login") and ev.login.result == "success"


def all_events(conn, instance_id: str | None = None) -> Iterator[tuple[str, facts_pb2.Event]]:
    b = schema.event_batches
    q = select(b.c.instance_id, b.c.body).order_by(b.c.id)
    if instance_id is not None:
        q = q.where(b.c.instance_id == instance_id)
    for iid, body in conn.execute(q):
        for ev in _parse(body):
            yield iid, ev


def count(conn, instance_id: str | None = None) -> int:
    b = schema.event_batches
    q = select(func.coalesce(func.sum(b.c.count), 0))
    if instance_id is not None:
        q = q.where(b.c.instance_id == instance_id)
    return int(conn.execute(q).scalar() or 0)


def hour_buckets(since_ms: int, until_ms: int) -> list[int]:
    """The clock hours (their start) from the one holding `since_ms` to the one holding
    `until_ms - 1`."""
    return list(range(hour_of(since_ms), hour_of(max(since_ms, until_ms - 1)) + 1, HOUR_MS))


def per_hour(rows: Iterable[tuple[int, str, int]], since_ms: int, until_ms: int):
    """(failed, successful) counts per clock hour from (hour, result, n) rows."""
    hours = hour_buckets(since_ms, until_ms)
    start = hours[0]
    failed, succeeded = [0] * len(hours), [0] * len(hours)
    for hour, result, n in rows:
        i = (hour - start) // HOUR_MS
        if 0 <= i < len(hours):
            if result in FAILED:
                failed[i] += int(n)
            elif result == "success":
                succeeded[i] += int(n)
    return failed, succeeded
