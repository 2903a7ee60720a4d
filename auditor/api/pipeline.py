"""The API pipeline: authenticate (signature) -> authorise (RAM) -> run -> persist -> answer.

Authentication comes before everything else a request could learn from: an unsigned or
badly signed request gets the same authentication error whatever action or parameters it
names. Then the action is looked up in the product its `Version` names, its parameters are
checked, RAM authorises it, and it runs.

Authentication runs once. A read runs on the live state (store/live_state.py), caught up with
the newest change. A write runs inside one database transaction holding the cloud lock: the
state is caught up, the caller authorised, the handler run, and the units it touched written
with its audit rows and ClientToken answer; any error rolls all of it back, in memory too. A
conflict (a concurrent creation, a ClientToken recorded by another replica, a serialisation
failure the database reports) runs the call again from the authorisation on: the client never
sees it.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import OperationalError

from palisade.auditor.api import actions as _actions  # noqa: F401  (registers every action)
from palisade.auditor.api.client_tokens import client_token, new_row, replay, token_key
from palisade.auditor.api.errors import ApiError, http_status
from palisade.auditor.api.params import Params, next_token_fields
from palisade.auditor.api.registry import (
    ActionContext,
    ActionSpec,
    AuditEntry,
    authorise,
    check_params,
    condition_values,
    describe_caller,
    lookup,
)
from palisade.auditor.model.cloud_state import CloudState, FirstAdministrator
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.ram import AuthenticatedRequest, Caller, authenticate
from palisade.auditor.model.ram.errors import RamError
from palisade.auditor.model.ram.signing import HttpRequest
from palisade.auditor.store.cloud_state_repository import (
    AuditRow,
    ClientTokenRow,
    CloudStateRepository,
    DatabaseNonceRegistry,
)
from palisade.auditor.store.database import Database
from palisade.auditor.store.live_state import LiveState, StateConflict

log = logging.getLogger("palisade.api")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Response:
    status: int
    body: dict


class ApiService:
    def __init__(self, store: Database, clock=utcnow, services: dict | None = None):
        self.store = store
        # handed to every action as ctx.services (the alert actions reach their store here)
        self.services = {"store": store, **(services or {})}
        self.states = CloudStateRepository(store)
        self.live = LiveState(store)
        self.lock = self.live.lock
        self.clock = clock

    # -- state -----------------------------------------------------------------------------

    @property
    def state(self) -> CloudState | None:
        return self.live.state

    @state.setter
    def state(self, value: CloudState | None) -> None:
        if value is not None:
            raise ValueError("the live state is loaded from the store, not set")
        self.live.invalidate()  # reloaded whole at the next call

    @property
    def version(self) -> int:
        """The last change the live state holds."""
        return self.live.seq

    @version.setter
    def version(self, value: int) -> None:
        if value == 0:
            self.live.invalidate()

    def initialise(self) -> FirstAdministrator | None:
        """Loads the state, or creates it with a first administrator (returned once)."""
        with self.lock:
            if self.live.catch_up():
                return None
            now = self.clock()
            state, admin = CloudState.create(now)
            if not self.live.create(state, _ms(now)):  # another replica created it first
                return None
            return admin

    def current(self) -> CloudState:
        state = self.live.current()
        assert state is not None, "the auditor is not initialised"
        return state

    # -- requests --------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        raw: dict[str, str],
        source_ip: str,
        session_caller: Caller | None = None,
        http: HttpRequest | None = None,
    ) -> Response:
        """One call; `http` (the query, headers and body as received) lets a V3-signed
        request be verified."""
        request_id = str(uuid.uuid4()).upper()
        try:
            body = self._handle(method, path, raw, source_ip, request_id, session_caller, http)
            body["RequestId"] = request_id
            return Response(200, body)
        except ModelError as exc:
            status = http_status(exc)
            log.info("%s %s -> %s %s", raw.get("Action", "?")[:64], source_ip, status, exc.code)
            fields = exc.fields if isinstance(exc, ApiError) else {}
            return Response(
                status,
                {"Code": exc.code, "Message": exc.message, "RequestId": request_id, **fields},
            )

    def handle_as(self, caller: Caller, raw: dict[str, str], source_ip: str) -> Response:
        """An action for a caller the dashboard authenticated (console password and session):
        no signature, but the same RAM authorisation, audit and persistence as the API."""
        return self.handle("POST", "/", raw, source_ip, session_caller=caller)

    def _handle(
        self,
        method: str,
        path: str,
        raw: dict[str, str],
        source_ip: str,
        request_id: str,
        session_caller: Caller | None = None,
        http: HttpRequest | None = None,
    ) -> dict:
        # Authentication happens once: a write that meets a conflict runs again from the
        # authorisation on, so its signature nonce is never taken for a replay of itself.
        with self.lock:
            if not self.live.catch_up():
                raise ApiError("ServiceUnavailable", "the auditor is not initialised", 503)
            state = self.current()
            now = self.clock()
            nonces = _DeferredNonces(DatabaseNonceRegistry(self.store, now))
            if session_caller is not None:  # the dashboard: authenticated by its session
                who = AuthenticatedRequest(session_caller, access_key_id="")
            else:
                who = authenticate(
                    state.ram,
                    raw,
                    now,
                    nonces,
                    sts_signing_key=state.sts_signing_key,
                    instance_roles=state.instance_roles,
                    method=method,
                    path=path,
                    http=http,
                )
        # only now, authenticated: which action, and does it take these parameters
        version = raw.get("Version") if session_caller is None else None
        spec = lookup(raw.get("Action"), version or None)
        params = Params(raw)
        check_params(spec, params)
        call = _Call(self, spec, params, raw, who, now, request_id, source_ip, nonces)
        if spec.writes is not True:  # reads the state (and maybe writes its own tables)
            nonces.record_alone()
            if spec.on_copy:  # the live state is locked only while it is copied
                body, answer = call.run(self.live.private_copy())
            else:
                body, answer = self.live.run_read_only(call.run, spec.name)
            if answer is not None:  # its changes live outside the cloud state
                self.states.record_client_token(answer, now)
            return body
        try:
            body = self._write(call.write, now, spec.name)
        except BaseException:  # refused or failed: rolled back, but the nonce is spent
            nonces.record_alone(refuse=False)
            raise
        log.info("%s by %s from %s", spec.name, describe_caller(who.caller), source_ip)
        return body

    def _write(self, change: Callable, now: datetime, what: str):
        """`LiveState.write(change)`, run again when it meets a concurrent write or the
        database asks for a retry; the caller never sees a conflict, only, after
        WRITE_ATTEMPTS of them in a row, Throttling."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                return self.live.write(change, lambda: _ms(now))
            except StateConflict as exc:
                log.info("%s met a concurrent write (%s); running it again", what, exc)
            except OperationalError as exc:
                if not _transient(exc):
                    raise
                log.info("%s: the database asked for a retry (%s)", what, exc.orig)
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))
        raise ApiError("Throttling", "the state changed concurrently; try again", 503)

    # -- changes the cloud makes by itself ----------------------------------------------------

    def apply_system_change(
        self, name: str, change: Callable[[CloudState, datetime], list[AuditEntry]]
    ) -> bool:
        """Runs a change nobody requested (e.g. an observed restart activates a pending key
        pair) through the same write path as an action, with audit rows by actor "system".
        `change` returns its audit entries; none means nothing changed. Returns whether
        something was saved."""
        if not self.live.catch_up():
            return False
        now = self.clock()

        def run(conn, state: CloudState) -> bool:
            entries = change(state, now)
            if not entries:
                return False
            request_id = str(uuid.uuid4()).upper()
            self.states.insert_audit(
                conn, audit_rows(entries, _ms(now), request_id, "system", "", name)
            )
            log.info("%s (system): %d change(s)", name, len(entries))
            return True

        return self._write(run, now, name)


WRITE_ATTEMPTS = 8


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _transient(exc: OperationalError) -> bool:
    """A failure the database asks to retry: SQLite busy, PostgreSQL serialisation/deadlock."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate in ("40001", "40P01") or "database is locked" in str(exc.orig)


@dataclass
class _Call:
    """One authenticated call: authorised and run on the live state, once or, when its write
    meets a conflict, again on the newer state."""

    api: ApiService
    spec: ActionSpec
    params: Params
    raw: dict[str, str]
    who: AuthenticatedRequest
    now: datetime
    request_id: str
    source_ip: str
    nonces: _DeferredNonces

    def _context(self, state: CloudState) -> ActionContext:
        return ActionContext(
            state,
            self.who.caller,
            self.now,
            self.request_id,
            self.source_ip,
            audit_reader=self.api.states.audit_log,
            condition_values=condition_values(self.spec, self.params, self.who.access_key_id),
            services=self.api.services,
            state_is_copy=self.spec.on_copy,
        )

    def _answered(self, state: CloudState) -> tuple[str | None, dict | None]:
        """The ClientToken's key and, when the call was answered before, that answer."""
        token = client_token(self.spec.name, self.raw)
        if token is None:
            return None, None
        key = token_key(state.account_id, describe_caller(self.who.caller), self.spec.name, token)
        first = self.api.states.client_token(key, self.now)
        return key, None if first is None else replay(first, self.raw)

    def _execute(self, state: CloudState) -> tuple[dict, ClientTokenRow | None, list[AuditEntry]]:
        """Authorised, the handler run (or the earlier answer to its ClientToken replayed):
        the answer, the ClientToken row to record and the audit entries (none for a replay)."""
        ctx = self._context(state)
        authorise(self.spec, ctx, self.params)
        key, earlier = self._answered(state)
        if earlier is not None:
            return earlier, None, []
        body = self.spec.handler(ctx, self.params)
        body.update(next_token_fields(self.params, body))
        return body, None if key is None else new_row(key, self.raw, body, self.now), ctx.audit

    def run(self, state: CloudState) -> tuple[dict, ClientTokenRow | None]:
        """A call that does not change the cloud state: its answer, and the ClientToken row to
        record (None: no token, or answered before)."""
        body, token_row, _audit = self._execute(state)
        return body, token_row

    def write(self, conn, state: CloudState) -> dict:
        """A call that changes the cloud state, inside the write transaction `conn`: its
        signature nonce, the handler, then its audit rows and ClientToken answer, all on the
        same transaction (one commit)."""
        self.nonces.record(conn)
        body, token_row, audit = self._execute(state)
        self.api.states.insert_audit(
            conn,
            audit_rows(
                audit,
                _ms(self.now),
                self.request_id,
                describe_caller(self.who.caller),
                self.source_ip,
                self.spec.name,
            ),
        )
        if token_row is not None:
            self.api.states.insert_client_token(conn, token_row, self.now)
        return body


def audit_rows(
    entries: list[AuditEntry], at_ms: int, request_id: str, actor: str, source_ip: str, action: str
) -> list[AuditRow]:
    """The audit-log rows of one write's entries."""
    return [
        AuditRow(at_ms, request_id, actor, source_ip, action, e.resource, e.before, e.after)
        for e in entries
    ]


class _DeferredNonces:
    """The signature nonce registry for one request: `seen` asks the database at once, `add`
    only remembers the nonce, which the pipeline then records in the write's own transaction
    (one commit per write) or, for a read or a refused write, in a transaction of its own.
    Recorded concurrently by another request (a replay racing its original): refused."""

    def __init__(self, inner: DatabaseNonceRegistry):
        self.inner = inner
        self.pending: list[tuple[str, datetime]] = []

    def seen(self, nonce: str) -> bool:
        return self.inner.seen(nonce)

    def add(self, nonce: str, expires: datetime) -> bool:
        self.pending.append((nonce, expires))
        return True

    def record(self, conn) -> None:
        """Inside the write's transaction (rolled back with it, recorded again on a retry)."""
        for nonce, expires in self.pending:
            if not self.inner.add_in(conn, nonce, expires):
                raise _used(nonce)

    def record_alone(self, refuse: bool = True) -> None:
        for nonce, expires in self.pending:
            if not self.inner.add(nonce, expires) and refuse:
                raise _used(nonce)
        self.pending = []


def _used(nonce: str) -> RamError:
    """The refusal the signature check gives a nonce it has seen (model/ram/signing.py)."""
    return RamError(
        "SignatureNonceUsed", f"Specified signature nonce {nonce[:128]} was used already"
    )
