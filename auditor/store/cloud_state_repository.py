"""The audit log, ClientToken answers and signature nonces; and the whole cloud state as one
document over the rows (store/cloud_rows.py), for tools and tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from palisade.auditor.model.units import document_from_units, units_from_document
from palisade.auditor.store import schema
from palisade.auditor.store.cloud_rows import LOAD_ORDER, CloudRows
from palisade.auditor.store.database import Database
from palisade.auditor.store.live_state import StateConflict

__all__ = ["AuditRow", "ClientTokenRow", "CloudStateRepository", "StateConflict"]


@dataclass
class AuditRow:
    at_ms: int
    request_id: str
    actor: str
    source_ip: str
    action: str
    resource: str
    before: object
    after: object


@dataclass(frozen=True)
class ClientTokenRow:
    """The first answer to a call made with a ClientToken (see `CloudStateRepository`)."""

    token_key: str
    fingerprint: str
    answer: dict
    expires_at_ms: int


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class CloudStateRepository:
    def __init__(self, store: Database):
        self.store = store
        self.engine = store.engine
        self.rows = CloudRows(store)

    def load(self) -> tuple[int, dict] | None:
        """The newest change number and the whole state document put together from the rows
        (None: no state yet). For tools and tests; the auditor keeps a live state instead
        (store/live_state.py)."""
        seq, units = self.rows.load_all()
        if seq == 0:
            return None
        return seq, document_from_units(units)

    def version(self) -> int:
        return self.rows.head()

    def save(
        self,
        expected_version: int,
        document: dict,
        audit: list[AuditRow],
        now: datetime,
        client_token: ClientTokenRow | None = None,
    ) -> int:
        """Makes the stored state `document` (version `expected_version` must still be the
        newest, else StateConflict), writing only the units that differ, with the audit rows
        and the answer to a ClientToken, in one transaction. For tools, tests and benchmarks
        that build a state in memory; the API writes through `LiveState.write`."""
        new = units_from_document(document)
        try:
            with self.rows.transaction() as conn:
                if self.rows.head(conn) != expected_version:
                    raise StateConflict(f"version {expected_version} is no longer current")
                stored = dict(CloudRows.read_kinds(conn, LOAD_ORDER))
                updates = {u: new.get(u) for u in stored.keys() | new.keys()}
                updates = {u: b for u, b in updates.items() if b != stored.get(u)}
                # new units in document order (their order is their creation order)
                ordered = {u: updates[u] for u in new if u in updates}
                ordered.update({u: None for u in updates if u not in new})
                version = self.rows.write(conn, ordered, _ms(now))
                self.insert_audit(conn, audit)
                if client_token is not None:
                    self.insert_client_token(conn, client_token, now)
        except IntegrityError:
            raise StateConflict("written concurrently") from None
        return version

    def insert_audit(self, conn, audit: list[AuditRow]) -> None:
        if audit:
            conn.execute(
                insert(schema.audit_log),
                [
                    {
                        "at_ms": a.at_ms,
                        "request_id": a.request_id,
                        "actor": a.actor,
                        "source_ip": a.source_ip,
                        "action": a.action,
                        "resource": a.resource,
                        "before": None if a.before is None else json.dumps(a.before, default=str),
                        "after": None if a.after is None else json.dumps(a.after, default=str),
                    }
                    for a in audit
                ],
            )

    # -- ClientToken answers ---------------------------------------------------------------

    def client_token(self, token_key: str, now: datetime) -> ClientTokenRow | None:
        """The unexpired answer recorded for `token_key`, if any."""
        t = schema.api_client_tokens
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.token_key == token_key)).first()
        if row is None or row.expires_at_ms <= _ms(now):
            return None
        return ClientTokenRow(
            row.token_key, row.fingerprint, json.loads(row.answer), row.expires_at_ms
        )

    def record_client_token(self, row: ClientTokenRow, now: datetime) -> bool:
        """Records an answer on its own (for actions whose changes live outside the state
        document); False when the token was recorded concurrently."""
        try:
            with self.store.write_transaction() as conn:
                self.insert_client_token(conn, row, now)
        except IntegrityError:  # the token's primary key: recorded concurrently
            return False
        return True

    def insert_client_token(self, conn, row: ClientTokenRow, now: datetime) -> None:
        t = schema.api_client_tokens
        conn.execute(delete(t).where(t.c.expires_at_ms <= _ms(now)))
        conn.execute(
            insert(t).values(
                token_key=row.token_key,
                fingerprint=row.fingerprint,
                answer=json.dumps(row.answer, separators=(",", ":")),
                expires_at_ms=row.expires_at_ms,
            )
        )

    def audit_log(self, limit: int = 100, resource: str | None = None) -> list[AuditRow]:
        a = schema.audit_log
        q = select(a).order_by(a.c.id.desc()).limit(limit)
        if resource:
            q = q.where(a.c.resource == resource)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [
            AuditRow(
                r.at_ms,
                r.request_id,
                r.actor,
                r.source_ip,
                r.action,
                r.resource,
                None if r.before is None else json.loads(r.before),
                None if r.after is None else json.loads(r.after),
            )
            for r in rows
        ]


class DatabaseNonceRegistry:
    """The RAM signing core's nonce store, shared by every replica through the database."""

    def __init__(self, store: Database, now: datetime):
        self.store = store
        self.now = now

    def seen(self, nonce: str) -> bool:
        n = schema.api_nonces
        with self.store.engine.connect() as conn:
            row = conn.execute(select(n.c.expires_at_ms).where(n.c.nonce == nonce)).first()
        return row is not None and row.expires_at_ms > _ms(self.now)

    def add(self, nonce: str, expires: datetime) -> bool:
        n = schema.api_nonces
        try:  # one transaction (one commit per request): the expired go as the new one comes
            with self.store.write_transaction() as conn:
                conn.execute(delete(n).where(n.c.expires_at_ms <= _ms(self.now)))
                conn.execute(insert(n).values(nonce=nonce[:128], expires_at_ms=_ms(expires)))
        except IntegrityError:  # another request (or replica) used it first
            return False
        return True
