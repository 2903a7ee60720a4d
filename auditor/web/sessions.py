"""Dashboard sessions: server-side (revocable, shared by replicas through the database).

The cookie carries a random token; the database keeps only its SHA-256, the user,
the CSRF token, the expiry and the fingerprint of the console credential the user signed in
with (RamAccount.console_credential), which the dashboard compares with the current one on
every request. Failed logins are throttled per user and source.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from palisade.auditor.store import schema
from palisade.auditor.store.database import Database

SESSION_TTL_MS = 8 * 3600 * 1000
IDLE_TTL_MS = 60 * 60 * 1000
MAX_FAILURES = 5
FAILURE_WINDOW_S = 15 * 60


@dataclass(frozen=True)
class Session:
    user_name: str
    csrf_token: str
    expires_at_ms: int
    credential: str | None = None  # None: opened before credentials were recorded


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class DashboardSessions:
    def __init__(self, store: Database):
        self.store = store
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def create(self, user_name: str, now_ms: int, credential: str) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        session = Session(user_name, secrets.token_urlsafe(32), now_ms + SESSION_TTL_MS, credential)
        t = schema.web_sessions
        with self.store.write_transaction() as conn:
            conn.execute(delete(t).where(t.c.expires_at_ms <= now_ms))
            conn.execute(
                insert(t).values(
                    session_sha256=_digest(token),
                    user_name=user_name,
                    csrf_token=session.csrf_token,
                    created_at_ms=now_ms,
                    expires_at_ms=session.expires_at_ms,
                    last_seen_ms=now_ms,
                    credential=credential,
                )
            )
        return token, session

    def get(self, token: str | None, now_ms: int) -> Session | None:
        if not token or len(token) > 100:
            return None
        t = schema.web_sessions
        digest = _digest(token)
        with self.store.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.session_sha256 == digest)).first()
        if row is None or row.expires_at_ms <= now_ms or row.last_seen_ms + IDLE_TTL_MS <= now_ms:
            return None
        if now_ms - row.last_seen_ms > 60_000:  # refresh the idle clock now and then
            with self.store.write_transaction() as conn:
                conn.execute(
                    update(t).where(t.c.session_sha256 == digest).values(last_seen_ms=now_ms)
                )
        return Session(row.user_name, row.csrf_token, row.expires_at_ms, row.credential)

    def end(self, token: str | None) -> None:
        if not token:
            return
        t = schema.web_sessions
        with self.store.write_transaction() as conn:
            conn.execute(delete(t).where(t.c.session_sha256 == _digest(token)))

    @staticmethod
    def still_signed_in(session: Session, credential: str | None) -> bool:
        """Whether `credential` (the user's console credential now) is the one the session
        was opened with: not when the user or its login profile is gone, or the password
        changed."""
        return (
            session.credential is not None
            and credential is not None
            and hmac.compare_digest(session.credential, credential)
        )

    @staticmethod
    def csrf_ok(session: Session, submitted: str | None) -> bool:
        return bool(submitted) and hmac.compare_digest(session.csrf_token, submitted or "")

    # -- throttling of failed logins ----------------------------------------------------------

    def throttled(self, user_name: str, source_ip: str) -> bool:
        with self._lock:
            q = self._failures[(user_name.lower(), source_ip)]
            cutoff = time.monotonic() - FAILURE_WINDOW_S
            while q and q[0] < cutoff:
                q.popleft()
            return len(q) >= MAX_FAILURES

    def failed(self, user_name: str, source_ip: str) -> None:
        with self._lock:
            self._failures[(user_name.lower(), source_ip)].append(time.monotonic())

    def succeeded(self, user_name: str, source_ip: str) -> None:
        with self._lock:
            self._failures.pop((user_name.lower(), source_ip), None)
