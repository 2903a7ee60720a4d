"""The auditor's store: SQLAlchemy Core over SQLite (default) or PostgreSQL.

Every write that answers an agent commits before the auditor acknowledges it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Integer, create_engine, delete, event, insert, select, update
from sqlalchemy.engine import Engine

from palisade.auditor.store import history, migrate, schema
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
    conn.exec_driver_sql("BEGIN")


class Store:
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
        migrate.upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def _writing(self):
        return self._write_lock or _NullLock()

    # -- enrolment -------------------------------------------------------------------------

    def create_token(self, instance_id: str, now_ms: int, ttl_ms: int) -> str:
        """Returns "<token id>.<secret>"; only the secret's hash is stored."""
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(TOKEN_BYTES)
        with self._writing(), self.engine.begin() as conn:
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
        with self._writing(), self.engine.begin() as conn:
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
        with self._writing(), self.engine.begin() as conn:
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
        results: list[ApplyResult | StoreError | None] = [None] * len(messages)
        with self._writing(), self.engine.begin() as conn:
            fresh = self._claim_message_ids(conn, messages, now_ms)
            event_rows: list[dict] = []
            for n, message in enumerate(messages):
                if n not in fresh:
                    results[n] = ApplyResult(stored=False)
                    continue
                if message.WhichOneof("payload") in ("event", "events"):
                    event_rows.extend(self._event_rows(message, now_ms))
                    results[n] = ApplyResult(stored=True)
                    continue
                try:
                    with conn.begin_nested():  # a savepoint: this message alone
                        self._apply_payload(conn, message, now_ms)
                    results[n] = ApplyResult(stored=True)
                except _NeedFullSnapshot:
                    self._release_message_id(conn, message.message_id)
                    results[n] = ApplyResult(stored=False, need_full_snapshot=True)
                except StoreError as exc:
                    self._release_message_id(conn, message.message_id)
                    results[n] = exc
            if event_rows:
                self._insert_events(conn, event_rows)
            seen = sorted({m.instance_id for m in messages})
            mark = "?" if self.is_sqlite else "%s"
            conn.exec_driver_sql(  # one executemany: a commit may touch hundreds of agents
                f"UPDATE instances SET last_seen_ms = {mark} WHERE instance_id = {mark}",
                [(now_ms, iid) for iid in seen],
            )
        return results  # type: ignore[return-value]

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

    @staticmethod
    def _event_rows(message: agent_pb2.AgentMessage, now_ms: int) -> list[tuple]:
        kind = message.WhichOneof("payload")
        batch = [message.event] if kind == "event" else message.events.events
        iid, mid = message.instance_id, message.message_id
        rows = []
        for n, ev in enumerate(batch):
            body = ev.WhichOneof("body")
            login = ev.login if body == "login" else None
            rows.append(
                (
                    ev.event_id or f"{mid}.{n}",
                    iid,
                    ev.time_ms or now_ms,
                    body or "unknown",
                    ev.SerializeToString(),
                    login.result[:32] if login is not None else None,
                    login.source_ip[:64] if login is not None else None,
                )
            )
        return rows

    def _insert_events(self, conn, rows: list[tuple]) -> None:
        """The hot path of ingest: plain DBAPI executemany (SQLAlchemy's per-row parameter
        processing cost more than SQLite's insert itself)."""
        columns = "event_id, instance_id, time_ms, kind, body, login_result, source_ip"
        if self.is_sqlite:
            sql = f"INSERT OR IGNORE INTO events ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        else:
            sql = (
                f"INSERT INTO events ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (event_id) DO NOTHING"
            )
        conn.exec_driver_sql(sql, rows)

    # -- what the checks read ----------------------------------------------------------------

    def _events(self, q) -> list[facts_pb2.Event]:
        out = []
        with self.engine.connect() as conn:
            for (body,) in conn.execute(q):
                ev = facts_pb2.Event()
                ev.ParseFromString(body)
                out.append(ev)
        return out

    def recent_events(
        self, instance_id: str, since_ms: int, limit: int = 20_000
    ) -> list[facts_pb2.Event]:
        """An instance's events since `since_ms`, oldest first (the newest `limit`)."""
        e = schema.events
        q = (
            select(e.c.body)
            .where(e.c.instance_id == instance_id, e.c.time_ms >= since_ms)
            .order_by(e.c.time_ms.desc(), e.c.event_id)
            .limit(limit)
        )
        return list(reversed(self._events(q)))

    def successful_logins(self, instance_id: str, limit: int = 20_000) -> list[facts_pb2.Event]:
        """The instance's successful logins (what the learning checks learn from), oldest
        first."""
        e = schema.events
        q = (
            select(e.c.body)
            .where(e.c.instance_id == instance_id, e.c.login_result == "success")
            .order_by(e.c.time_ms)
            .limit(limit)
        )
        return self._events(q)

    def failed_logins_since(self, since_ms: int, limit: int = 100_000) -> dict[str, list]:
        """Failed logins of every instance since `since_ms` (for the fleet-wide checks)."""
        e = schema.events
        q = (
            select(e.c.instance_id, e.c.body)
            .where(e.c.time_ms >= since_ms, e.c.login_result.in_(("failure", "invalid_user")))
            .order_by(e.c.time_ms)
            .limit(limit)
        )
        out: dict[str, list] = {}
        with self.engine.connect() as conn:
            for iid, body in conn.execute(q):
                ev = facts_pb2.Event()
                ev.ParseFromString(body)
                out.setdefault(iid, []).append(ev)
        return out

    # -- what the dashboard counts -----------------------------------------------------------

    def failed_logins_per_hour(self, since_ms: int, until_ms: int) -> list[int]:
        from sqlalchemy import func

        e = schema.events
        hour = 3600 * 1000
        bucket = ((e.c.time_ms - since_ms) / hour).label("bucket")
        if self.is_sqlite:
            bucket = func.cast((e.c.time_ms - since_ms) / hour, Integer).label("bucket")
        else:
            bucket = func.floor((e.c.time_ms - since_ms) / hour).label("bucket")
        q = (
            select(bucket, func.count())
            .where(
                e.c.time_ms >= since_ms,
                e.c.time_ms < until_ms,
                e.c.login_result.in_(("failure", "invalid_user")),
            )
            .group_by(bucket)
        )
        buckets = [0] * max(1, -(-(until_ms - since_ms) // hour))
        with self.engine.connect() as conn:
            for b, n in conn.execute(q):
                buckets[min(len(buckets) - 1, max(0, int(b)))] += int(n)
        return buckets

    def instance_logins_per_hour(
        self, instance_id: str, since_ms: int, until_ms: int
    ) -> tuple[list[int], list[int]]:
        """(failed, successful) logins of one instance per hour (the instance page's timeline)."""
        e = schema.events
        hour = 3600 * 1000
        failed = [0] * max(1, -(-(until_ms - since_ms) // hour))
        succeeded = list(failed)
        q = select(e.c.time_ms, e.c.login_result).where(
            e.c.instance_id == instance_id,
            e.c.time_ms >= since_ms,
            e.c.time_ms < until_ms,
            e.c.login_result.is_not(None),
        )
        with self.engine.connect() as conn:
            for t, result in conn.execute(q):
                n = min(len(failed) - 1, (t - since_ms) // hour)
                if result == "success":
                    succeeded[n] += 1
                elif result in ("failure", "invalid_user"):
                    failed[n] += 1
        return failed, succeeded

    def top_failed_sources(self, since_ms: int, limit: int = 10) -> list[tuple[str, int]]:
        from sqlalchemy import func

        e = schema.events
        n = func.count().label("n")
        q = (
            select(e.c.source_ip, n)
            .where(
                e.c.time_ms >= since_ms,
                e.c.login_result.in_(("failure", "invalid_user")),
                e.c.source_ip.is_not(None),
            )
            .group_by(e.c.source_ip)
            .order_by(n.desc(), e.c.source_ip)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(r.source_ip, int(r.n)) for r in conn.execute(q)]

    def _apply_payload(self, conn, message: agent_pb2.AgentMessage, now_ms: int) -> None:
        kind = message.WhichOneof("payload")
        if kind == "snapshot":
            self._apply_snapshot(conn, message.instance_id, message.snapshot, now_ms)
        elif kind == "delta":
            base = self._stored_snapshot(conn, message.instance_id)
            if base is None or base.snapshot_id != message.delta.base_snapshot_id:
                raise _NeedFullSnapshot()
            try:
                full = apply_delta(base, message.delta)
            except ValueError as exc:
                raise StoreError("InvalidDelta", str(exc)) from None
            self._apply_snapshot(conn, message.instance_id, full, now_ms)
        elif kind in ("event", "events"):
            rows = self._event_rows(message, now_ms)
            if rows:
                self._insert_events(conn, rows)

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

    def _apply_snapshot(
        self, conn, instance_id: str, snap: facts_pb2.Snapshot, now_ms: int
    ) -> None:
        i = schema.instances
        row = conn.execute(
            select(i.c.snapshot, i.c.snapshot_at_ms).where(i.c.instance_id == instance_id)
        ).first()
        if row is None:
            raise StoreError(
                "InvalidInstanceId.NotFound", f"instance {instance_id} is not enrolled"
            )
        if snap.collected_at_ms and snap.collected_at_ms < row.snapshot_at_ms:
            return  # an older snapshot arriving late changes nothing
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
        from sqlalchemy import func

        e = schema.events
        q = select(func.count()).select_from(e)
        if instance_id:
            q = q.where(e.c.instance_id == instance_id)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar() or 0)

    def recent_logins(self, instance_id: str, limit: int = 100) -> list[dict]:
        """The newest login events of an instance, newest first."""
        from google.protobuf import json_format

        e = schema.events
        q = (
            select(e.c.event_id, e.c.time_ms, e.c.body)
            .where(e.c.instance_id == instance_id, e.c.kind == "login")
            .order_by(e.c.time_ms.desc(), e.c.event_id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        out = []
        for row in rows:
            ev = facts_pb2.Event()
            ev.ParseFromString(row.body)
            item = json_format.MessageToDict(ev.login, preserving_proto_field_name=True)
            item["event_id"], item["time_ms"] = row.event_id, row.time_ms
            out.append(item)
        return out

    _INSTANCE_FIELDS = (
        "instance_id", "hostname", "os_family", "os_name", "os_version", "agent_version",
        "boot_time", "enrolled_at_ms", "last_seen_ms", "snapshot_at_ms",
    )  # fmt: skip

    @classmethod
    def _instance_dict(cls, row) -> dict:
        mapping = row._mapping  # by-name attribute access on a Row costs ~9 us a field
        return {name: mapping[name] for name in cls._INSTANCE_FIELDS}


class _NullLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
