"""Persistence of the cloud model document, the audit log and signature nonces."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from palisade.auditor.store import schema
from palisade.auditor.store.database import Database


class StateConflict(Exception):
    """Another replica saved a newer version in between; reload and retry."""


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

    def load(self) -> tuple[int, dict] | None:
        t = schema.cloud_state
        with self.engine.connect() as conn:
            row = conn.execute(select(t.c.version, t.c.document).where(t.c.id == 1)).first()
        if row is None:
            return None
        return row.version, json.loads(row.document)

    def version(self) -> int:
        t = schema.cloud_state
        with self.engine.connect() as conn:
            return int(conn.execute(select(t.c.version).where(t.c.id == 1)).scalar() or 0)

    def save(
        self,
        expected_version: int,
        document: dict,
        audit: list[AuditRow],
        now: datetime,
        client_token: ClientTokenRow | None = None,
    ) -> int:
        """Writes version expected_version + 1 with its audit rows (and the answer to the
        ClientToken of the call that made it), in one transaction. A token recorded
        concurrently (another replica ran the same call) is a StateConflict: the caller
        reloads and finds the answer."""
        t = schema.cloud_state
        text = json.dumps(document, separators=(",", ":"), sort_keys=True)
        new_version = expected_version + 1
        with self.store.write_transaction() as conn:
            if expected_version == 0:
                try:
                    conn.execute(
                        insert(t).values(id=1, version=1, document=text, updated_at_ms=_ms(now))
                    )
                except IntegrityError:
                    raise StateConflict("the state was created concurrently") from None
            else:
                done = conn.execute(
                    update(t)
                    .where(t.c.id == 1, t.c.version == expected_version)
                    .values(version=new_version, document=text, updated_at_ms=_ms(now))
                )
                if done.rowcount != 1:
                    raise StateConflict(f"version {expected_version} is no longer current")
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
                            "before": None
                            if a.before is None
                            else json.dumps(a.before, default=str),
                            "after": None if a.after is None else json.dumps(a.after, default=str),
                        }
                        for a in audit
                    ],
                )
            if client_token is not None:
                try:
                    self._insert_client_token(conn, client_token, now)
                except IntegrityError:  # the whole transaction rolls back
                    raise StateConflict("the ClientToken was recorded concurrently") from None
        return new_version

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
                self._insert_client_token(conn, row, now)
        except IntegrityError:  # the token's primary key: recorded concurrently
            return False
        return True

    def _insert_client_token(self, conn, row: ClientTokenRow, now: datetime) -> None:
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
        with self.store.write_transaction() as conn:
            conn.execute(delete(n).where(n.c.expires_at_ms <= _ms(self.now)))
        try:
            with self.store.write_transaction() as conn:
                conn.execute(insert(n).values(nonce=nonce[:128], expires_at_ms=_ms(expires)))
        except IntegrityError:  # another request (or replica) used it first
            return False
        return True
