"""The auditor's store: SQLAlchemy Core over SQLite (default) or PostgreSQL.

Every write that answers an agent commits before the auditor acknowledges it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, delete, event, insert, select, update
from sqlalchemy.engine import Connection, Engine

from palisade.auditor.store import events, history, migrate, schema
from palisade.shared.proto import agent_pb2, facts_pb2
from palisade.shared.snapshot_delta import apply_delta

TOKEN_BYTES = 24


class StoreError(Exception):
    """A request the store refuses; `code` is stable, the message says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ApplyResult:
    stored: bool  # False: stored before, or refused for want of a full snapshot
    need_full_snapshot: bool = False
    # a snapshot whose boot time differs from the one stored before: the instance restarted
    # (unix seconds; 0 otherwise)
    restarted_at_boot_time: int = 0


class _NeedFullSnapshot(Exception):
    """A delta whose base is not the stored snapshot: roll back, ask for a full one."""


@dataclass
class TokenGrant:
    instance_id: str
    token_id: str


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir).resolve() / 'palisade.db'}"


def _sqlite_connect(dbapi_conn, _record) -> None:
    # pysqlite opens transactions lazily and its SAVEPOINT handling then commits a
    # released savepoint on its own: a message id could be committed without its
    # events. Taking transaction control away from the driver (and emitting BEGIN
    # ourselves, below) makes savepoints and atomicity what SQLAlchemy says they are.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")  # an acknowledged message survives a power cut
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _sqlite_begin(conn) -> None:
    # A write transaction BEGINs IMMEDIATE: it takes SQLite's write lock at BEGIN, waiting
    # busy_timeout for it. A deferred one that reads before it writes fails at once with
    # "database is locked" (SQLITE_BUSY_SNAPSHOT, which the busy timeout does not cover) when
    # another process (a CLI, a replica) committed in between. Read transactions stay deferred.
    immediate = conn.get_execution_options().get("palisade_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    def __init__(self, url: str):
        self.url = url
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        self.engine: Engine = create_engine(url, future=True)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        # SQLite allows one writer; serialising here avoids "database is locked" retries.
        self._write_lock = threading.Lock() if self.is_sqlite else None
        self._events = events.EventWriter(self.is_sqlite)
        migrate.upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def write_transaction(self) -> Iterator[Connection]:
        """One write transaction: BEGIN .. COMMIT, rolled back on any error. On SQLite it also
        holds this process's writer lock (SQLite allows one writer; waiting here avoids its
        "database is locked" retries) and takes SQLite's own write lock at BEGIN (IMMEDIATE),
        so that a transaction that reads what it then writes cannot fail because another
        process wrote in between."""
        with self._write_lock or nullcontext(), self.engine.connect() as conn:
            conn.execution_options(palisade_immediate=True)
            with conn.begin():
                yield conn

    # -- enrolment -------------------------------------------------------------------------

    def create_token(self, instance_id: str, now_ms: int, ttl_ms: int) -> str:
        """Returns "<token id>.<secret>"; only the secret's hash is stored."""
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(TOKEN_BYTES)
        with self.write_transaction() as conn:
            conn.execute(
                insert(schema.enrolment_tokens).values(
                    token_id=token_id,
                    secret_sha256=hashlib.sha256(secret.encode()).hexdigest(),
                    instance_id=instance_id,
                    created_at_ms=now_ms,
                    expires_at_ms=now_ms + ttl_ms,
                )
            )
        return f"{token_id}.{secret}"

    def redeem_token(self, token: str, now_ms: int) -> TokenGrant:
        """Marks a token used (once, atomically) and returns the instance it enrols."""
        token_id, _, secret = token.partition(".")
        if not token_id or not secret:
            raise StoreError("InvalidToken.Malformed", "the enrolment token is malformed")
        t = schema.enrolment_tokens
        with self.write_transaction() as conn:
            row = conn.execute(select(t).where(t.c.token_id == token_id)).first()
            digest = hashlib.sha256(secret.encode()).hexdigest()
            if row is None or not hmac.compare_digest(row.secret_sha256, digest):
                raise StoreError("InvalidToken.NotFound", "the enrolment token is not valid")
            if row.used_at_ms is not None:
                raise StoreError(
                    "InvalidToken.Used", "the enrolment token was already used; create a new one"
                )
            if row.expires_at_ms <= now_ms:
                raise StoreError(
                    "InvalidToken.Expired", "the enrolment token has expired; create a new one"
                )
            done = conn.execute(
                update(t)
                .where(t.c.token_id == token_id, t.c.used_at_ms.is_(None))
                .values(used_at_ms=now_ms)
            )
            if done.rowcount != 1:  # another replica redeemed it in between
                raise StoreError("InvalidToken.Used", "the enrolment token was already used")
        return TokenGrant(row.instance_id, token_id)

    def record_enrolment(
        self, instance_id: str, hostname: str, cert_serial: int, now_ms: int
    ) -> None:
        i = schema.instances
        with self.write_transaction() as conn:
            exists = conn.execute(
                select(i.c.instance_id).where(i.c.instance_id == instance_id)
            ).first()
            if exists:
                conn.execute(
                    update(i)
                    .where(i.c.instance_id == instance_id)
                    .values(cert_serial=str(cert_serial), enrolled_at_ms=now_ms, hostname=hostname)
                )
            else:
                conn.execute(
                    insert(i).values(
                        instance_id=instance_id,
                        hostname=hostname,
                        cert_serial=str(cert_serial),
                        enrolled_at_ms=now_ms,
                    )
                )

    def revoke_cert(self, instance_id: str, cert_serial: int) -> bool:
        """Revokes the instance's certificate if `cert_serial` is still its current one (an
        agent uninstalling itself): no serial matches afterwards, so every call with it is
        refused until the instance enrols again. The instance's facts stay. False when
        another certificate had superseded it in between."""
        i = schema.instances
        with self.write_transaction() as conn:
            done = conn.execute(
                update(i)
                .where(i.c.instance_id == instance_id, i.c.cert_serial == str(cert_serial))
                .values(cert_serial=f"revoked:{cert_serial}")  # <= 57 of its 64 characters
            )
            return done.rowcount == 1

    def current_cert_serial(self, instance_id: str) -> str | None:
        i = schema.instances
        with self.engine.connect() as conn:
            return conn.execute(
                select(i.c.cert_serial).where(i.c.instance_id == instance_id)
            ).scalar()

    # -- ingest ----------------------------------------------------------------------------

    def apply(self, message: agent_pb2.AgentMessage, now_ms: int) -> ApplyResult:
        """Stores one agent message (committed when this returns); see apply_many."""
        result = self.apply_many([message], now_ms)[0]
        if isinstance(result, Exception):
            raise result
        return result

    def apply_many(
        self, messages: list[agent_pb2.AgentMessage], now_ms: int
    ) -> list[ApplyResult | StoreError]:
        """Stores several agents' messages in ONE transaction (group commit: one fsync for
        all), committed when this returns. Each message is all-or-nothing on its own: a
        message stored before (same id) changes nothing but `last_seen`; a refused one
        (StoreError, or a delta on another base) leaves no trace; events seen before (same
        event id) are kept once."""
        if not messages:
            return []
        results: dict[int, ApplyResult | StoreError] = {}  # message index -> its outcome
        with self.write_transaction() as conn:
            fresh = self._claim_message_ids(conn, messages, now_ms)
            with_events: list[agent_pb2.AgentMessage] = []
            for n, message in enumerate(messages):
                if n not in fresh:
                    results[n] = ApplyResult(stored=False)
                    continue
                if message.WhichOneof("payload") in ("event", "events"):
                    with_events.append(message)
                    results[n] = ApplyResult(stored=True)
                    continue
                try:
                    with conn.begin_nested():  # a savepoint: this message alone
                        restarted = self._apply_payload(conn, message, now_ms)
                    results[n] = ApplyResult(stored=True, restarted_at_boot_time=restarted)
                except _NeedFullSnapshot:
                    self._release_message_id(conn, message.message_id)
                    results[n] = ApplyResult(stored=False, need_full_snapshot=True)
                except StoreError as exc:
                    self._release_message_id(conn, message.message_id)
                    results[n] = exc
            if with_events:
                self._events.write(conn, with_events, now_ms)
            seen = sorted({m.instance_id for m in messages})
            mark = "?" if self.is_sqlite else "%s"
            for at in range(0, len(seen), 500):  # few statements: see events.EventWriter
                chunk = seen[at : at + 500]
                conn.exec_driver_sql(
                    f"UPDATE instances SET last_seen_ms = {mark} "
                    f"WHERE instance_id IN ({', '.join([mark] * len(chunk))})",
                    (now_ms, *chunk),
                )
        return [results[n] for n in range(len(messages))]

    def _claim_message_ids(self, conn, messages, now_ms: int) -> set[int]:
        """Records the ids not stored before; returns the indexes of those messages."""
        table = schema.received_messages
        first: dict[str, int] = {}
        for n, m in enumerate(messages):
            first.setdefault(m.message_id, n)  # the same id twice in one batch: once
        inserted = (
            conn.execute(
                self._insert_ignoring_duplicates(table).returning(table.c.message_id),
                [
                    {
                        "message_id": mid,
                        "instance_id": messages[n].instance_id,
                        "received_at_ms": now_ms,
                    }
                    for mid, n in first.items()
                ],
            )
            .scalars()
            .all()
        )
        return {first[mid] for mid in inserted}

    def _release_message_id(self, conn, message_id: str) -> None:
        t = schema.received_messages
        conn.execute(delete(t).where(t.c.message_id == message_id))

    # -- what the checks read ----------------------------------------------------------------

    def recent_events(
        self, instance_id: str, since_ms: int, limit: int = 20_000
    ) -> list[facts_pb2.Event]:
        """An instance's events since `since_ms`, oldest first (the newest `limit`)."""
        with self.engine.connect() as conn:
            return list(reversed(events.newest(conn, instance_id, since_ms, limit)))

    def successful_logins(self, instance_id: str, limit: int = 20_000) -> list[facts_pb2.Event]:
        """The instance's successful logins (what the learning checks learn from), oldest
        first."""
        b = schema.event_batches
        with self.engine.connect() as conn:
            found = events.oldest(
                conn,
                (b.c.instance_id == instance_id, b.c.successes > 0),
                limit,
                events.is_successful_login,
            )
        return [ev for _, ev in found]

    def failed_logins_since(self, since_ms: int, limit: int = 100_000) -> dict[str, list]:
        """Failed logins of every instance since `since_ms` (for the fleet-wide checks)."""
        b = schema.event_batches
        out: dict[str, list] = {}
        with self.engine.connect() as conn:
            found = events.oldest(
                conn,
                (b.c.last_ms >= since_ms, b.c.failures > 0),
                limit,
                events.is_failed_login,
                since_ms,
            )
        for iid, ev in found:
            out.setdefault(iid, []).append(ev)
        return out

    def iter_events(self, instance_id: str | None = None):
        """Every stored event as (instance id, event), in the order stored (tools, tests)."""
        with self.engine.connect() as conn:
            yield from events.all_events(conn, instance_id)

    # -- what the dashboard counts -----------------------------------------------------------

    def _login_counts(self, since_ms: int, until_ms: int, instance_id: str | None = None):
        """(failed, successful) logins per clock hour, of one instance or of the fleet."""
        from sqlalchemy import func

        c = schema.login_counts
        hours = events.hour_buckets(since_ms, until_ms)
        q = (
            select(c.c.hour_ms, c.c.result, func.sum(c.c.n))
            .where(c.c.hour_ms >= hours[0], c.c.hour_ms <= hours[-1])
            .group_by(c.c.hour_ms, c.c.result)
        )
        if instance_id is not None:
            q = q.where(c.c.instance_id == instance_id)
        with self.engine.connect() as conn:
            return events.per_hour(conn.execute(q), since_ms, until_ms)

    def failed_logins_per_hour(self, since_ms: int, until_ms: int) -> list[int]:
        """Failed logins per clock hour, from the hour holding `since_ms` to the one holding
        `until_ms - 1`."""
        return self._login_counts(since_ms, until_ms)[0]

    def instance_logins_per_hour(
        self, instance_id: str, since_ms: int, until_ms: int
    ) -> tuple[list[int], list[int]]:
        """(failed, successful) logins of one instance per clock hour (the instance page's
        timeline), hours as in failed_logins_per_hour."""
        return self._login_counts(since_ms, until_ms, instance_id)

    def top_failed_sources(self, since_ms: int, limit: int = 10) -> list[tuple[str, int]]:
        """The sources of the most failed logins from the clock hour holding `since_ms` on."""
        from sqlalchemy import func

        c = schema.login_counts
        n = func.sum(c.c.n).label("n")
        q = (
            select(c.c.source_ip, n)
            .where(
                c.c.hour_ms >= events.hour_of(since_ms),
                c.c.result.in_(events.FAILED),
                c.c.source_ip != "",
            )
            .group_by(c.c.source_ip)
            .order_by(n.desc(), c.c.source_ip)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(r.source_ip, int(r.n)) for r in conn.execute(q)]

    def _apply_payload(self, conn, message: agent_pb2.AgentMessage, now_ms: int) -> int:
        """Stores a snapshot or delta; returns the new boot time if the instance restarted."""
        kind = message.WhichOneof("payload")
        if kind == "snapshot":
            return self._apply_snapshot(conn, message.instance_id, message.snapshot, now_ms)
        base = self._stored_snapshot(conn, message.instance_id)
        if base is None or base.snapshot_id != message.delta.base_snapshot_id:
            raise _NeedFullSnapshot()
        try:
            full = apply_delta(base, message.delta)
        except ValueError as exc:
            raise StoreError("InvalidDelta", str(exc)) from None
        return self._apply_snapshot(conn, message.instance_id, full, now_ms)

    def _insert_ignoring_duplicates(self, table):
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        return dialect_insert(table).on_conflict_do_nothing()

    def _stored_snapshot(self, conn, instance_id: str) -> facts_pb2.Snapshot | None:
        i = schema.instances
        blob = conn.execute(select(i.c.snapshot).where(i.c.instance_id == instance_id)).scalar()
        if not blob:
            return None
        snap = facts_pb2.Snapshot()
        snap.ParseFromString(blob)
        return snap

    def _apply_snapshot(self, conn, instance_id: str, snap: facts_pb2.Snapshot, now_ms: int) -> int:
        i = schema.instances
        row = conn.execute(
            select(i.c.snapshot, i.c.snapshot_at_ms, i.c.boot_time).where(
                i.c.instance_id == instance_id
            )
        ).first()
        if row is None:
            raise StoreError(
                "InvalidInstanceId.NotFound", f"instance {instance_id} is not enrolled"
            )
        if snap.collected_at_ms and snap.collected_at_ms < row.snapshot_at_ms:
            return 0  # an older snapshot arriving late changes nothing
        old = None
        if row.snapshot:
            old = facts_pb2.Snapshot()
            old.ParseFromString(row.snapshot)
        at = snap.collected_at_ms or now_ms
        found = history.diff(old, snap)
        if found:
            conn.execute(
                insert(schema.changes),
                [
                    {
                        "instance_id": instance_id,
                        "at_ms": at,
                        "kind": c.kind,
                        "subject": c.subject,
                        "detail": c.detail,
                    }
                    for c in found
                ],
            )
        h = snap.host
        conn.execute(
            update(i)
            .where(i.c.instance_id == instance_id)
            .values(
                snapshot=snap.SerializeToString(),
                snapshot_at_ms=at,
                hostname=h.hostname,
                os_family=h.os_family,
                os_name=h.os_name,
                os_version=h.os_version,
                agent_version=h.agent_version,
                boot_time=h.boot_time,
            )
        )
        before = int(row.boot_time or 0)
        return h.boot_time if before and h.boot_time and h.boot_time != before else 0

    # -- queries ---------------------------------------------------------------------------

    def _summary_columns(self):
        i = schema.instances
        # everything but the snapshot itself (tens of KB each: packages, baseline, ...)
        return [c for c in i.c if c.name != "snapshot"]

    def last_seen_by_instance(self) -> dict[str, int]:
        """instance id -> when its agent last reported (the dashboard's shields)."""
        i = schema.instances
        with self.engine.connect() as conn:
            return dict(conn.execute(select(i.c.instance_id, i.c.last_seen_ms)).all())

    def instances(self) -> list[dict]:
        i = schema.instances
        with self.engine.connect() as conn:
            rows = conn.execute(select(*self._summary_columns()).order_by(i.c.instance_id)).all()
        return [self._instance_dict(r) for r in rows]

    def instance(self, instance_id: str) -> dict | None:
        i = schema.instances
        with self.engine.connect() as conn:
            row = conn.execute(
                select(*self._summary_columns()).where(i.c.instance_id == instance_id)
            ).first()
        return self._instance_dict(row) if row else None

    def boot_times(self, instance_ids: list[str]) -> dict[str, int]:
        """instance id -> the boot time (unix seconds) of its latest snapshot; instances that
        never reported one are left out."""
        i = schema.instances
        found: dict[str, int] = {}
        with self.engine.connect() as conn:
            for at in range(0, len(instance_ids), 500):
                q = select(i.c.instance_id, i.c.boot_time).where(
                    i.c.instance_id.in_(instance_ids[at : at + 500]), i.c.boot_time > 0
                )
                found.update((r.instance_id, int(r.boot_time)) for r in conn.execute(q))
        return found

    def latest_snapshot(self, instance_id: str) -> facts_pb2.Snapshot | None:
        i = schema.instances
        with self.engine.connect() as conn:
            blob = conn.execute(select(i.c.snapshot).where(i.c.instance_id == instance_id)).scalar()
        if not blob:
            return None
        snap = facts_pb2.Snapshot()
        snap.ParseFromString(blob)
        return snap

    def history(self, instance_id: str, limit: int = 200) -> list[dict]:
        c = schema.changes
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c)
                .where(c.c.instance_id == instance_id)
                .order_by(c.c.at_ms.desc(), c.c.id.desc())
                .limit(limit)
            ).all()
        return [
            {"at_ms": r.at_ms, "kind": r.kind, "subject": r.subject, "detail": r.detail}
            for r in rows
        ]

    def event_count(self, instance_id: str | None = None) -> int:
        with self.engine.connect() as conn:
            return events.count(conn, instance_id)

    def recent_logins(self, instance_id: str, limit: int = 100) -> list[dict]:
        """The newest login events of an instance, newest first."""
        from google.protobuf import json_format

        with self.engine.connect() as conn:
            found = events.newest(conn, instance_id, 0, limit, events.is_login)
        out = []
        for ev in found:
            item = json_format.MessageToDict(ev.login, preserving_proto_field_name=True)
            item["event_id"], item["time_ms"] = ev.event_id, ev.time_ms
            out.append(item)
        return out

    _INSTANCE_FIELDS = (
        "instance_id", "hostname", "os_family", "os_name", "os_version", "agent_version",
        "boot_time", "enrolled_at_ms", "last_seen_ms", "snapshot_at_ms",
    )  # fmt: skip

    @classmethod
    def _instance_dict(cls, row) -> dict:
        mapping = row._mapping  # noqa: SLF001 (public Row API); attribute access costs ~9 us a field
        return {name: mapping[name] for name in cls._INSTANCE_FIELDS}
