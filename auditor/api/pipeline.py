"""The API pipeline: authenticate (signature) -> authorise (RAM) -> run -> persist -> answer.

Authentication comes before everything else a request could learn from: an unsigned or
badly signed request gets the same authentication error whatever action or parameters it
names. Then the action is looked up in the product its `Version` names, its parameters are
checked, RAM authorises it, and it runs.

One lock serialises requests in a process; replicas share the state through the
database with optimistic concurrency (a stale replica reloads and runs the action
again on the current state).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from palisade.auditor.api import actions as _actions  # noqa: F401  (registers every action)
from palisade.auditor.api.client_tokens import client_token, new_row, replay, token_key
from palisade.auditor.api.errors import ApiError, access_denied, http_status
from palisade.auditor.api.params import Params, next_token_fields
from palisade.auditor.api.registry import (
    ActionContext,
    AuditEntry,
    condition_values,
    describe_caller,
    lookup,
)
from palisade.auditor.model.cloud_state import CloudState, FirstAdministrator
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.ram import AuthenticatedRequest, Caller, authenticate
from palisade.auditor.model.ram.signing import HttpRequest
from palisade.auditor.store.cloud_state_repository import (
    AuditRow,
    CloudStateRepository,
    DatabaseNonceRegistry,
    StateConflict,
)
from palisade.auditor.store.database import Database

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
        self.clock = clock
        self.lock = threading.RLock()
        self.state: CloudState | None = None
        self.version = 0

    # -- state -----------------------------------------------------------------------------

    def initialise(self) -> FirstAdministrator | None:
        """Loads the state, or creates it with a first administrator (returned once)."""
        with self.lock:
            if self._refresh():
                return None
            state, admin = CloudState.create(self.clock())
            try:
                self.version = self.states.save(0, state.to_document(), [], self.clock())
            except StateConflict:  # another replica created it first
                self._refresh()
                return None
            self.state = state
            return admin

    def _refresh(self) -> bool:
        current = self.states.version()
        if current == 0:
            return False
        if current != self.version or self.state is None:
            loaded = self.states.load()
            assert loaded is not None
            self.version, doc = loaded
            self.state = CloudState.from_document(doc)
        return True

    def current(self) -> CloudState:
        with self.lock:
            self._refresh()
            assert self.state is not None
            return self.state

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
        recorded: set[str] = set()  # nonces this request recorded (kept across retries)
        with self.lock:
            for _attempt in range(3):
                self._refresh()
                state = self.state
                if state is None:
                    raise ApiError("ServiceUnavailable", "the auditor is not initialised", 503)
                now = self.clock()
                if session_caller is not None:  # the dashboard: authenticated by its session
                    who = AuthenticatedRequest(session_caller, access_key_id="")
                else:
                    who = authenticate(
                        state.ram,
                        raw,
                        now,
                        _RetryNonces(DatabaseNonceRegistry(self.store, now), recorded),
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
                stray = params.unknown(spec.params | {"RegionId"})
                if stray:
                    raise ApiError(
                        "InvalidParameter",
                        f"{spec.name} does not take the parameter(s) {', '.join(stray[:5])}",
                    )
                ctx = ActionContext(
                    state,
                    who.caller,
                    now,
                    request_id,
                    source_ip,
                    audit_reader=self.states.audit_log,
                    condition_values=condition_values(spec, params, who.access_key_id),
                    services=self.services,
                )
                context = ctx.request_context()
                for arn in spec.resources(ctx, params):
                    decision = state.ram.authorize(who.caller, spec.ram_action, arn, context)
                    if not decision.allowed:
                        raise access_denied(
                            who.caller, decision, state.account_id, describe_caller(who.caller)
                        )
                token = client_token(spec.name, raw)
                key = None
                if token is not None:
                    key = token_key(state.account_id, describe_caller(who.caller), spec.name, token)
                    first = self.states.client_token(key, now)
                    if first is not None:
                        return replay(first, raw)
                try:
                    body = spec.handler(ctx, params)
                except ModelError:
                    raise
                except Exception:
                    self.state, self.version = None, 0  # discard any half-applied change
                    raise
                body.update(next_token_fields(params, body))
                answer = None if key is None else new_row(key, raw, body, now)
                if not spec.writes:
                    if answer is not None:  # its changes live outside the state document
                        self.states.record_client_token(answer, now)
                    return body
                rows = [
                    AuditRow(
                        int(now.timestamp() * 1000),
                        request_id,
                        describe_caller(who.caller),
                        source_ip,
                        spec.name,
                        e.resource,
                        e.before,
                        e.after,
                    )
                    for e in ctx.audit
                ]
                try:
                    self.version = self.states.save(
                        self.version, state.to_document(), rows, now, client_token=answer
                    )
                    log.info("%s by %s from %s", spec.name, describe_caller(who.caller), source_ip)
                    return body
                except StateConflict:
                    # another replica wrote first: drop our copy, replay on theirs
                    self.state, self.version = None, 0
                    continue
                except Exception:
                    self.state, self.version = None, 0
                    raise
            raise ApiError("Throttling", "the state changed concurrently; try again", 503)

    # -- changes the cloud makes by itself ----------------------------------------------------

    def apply_system_change(
        self, name: str, change: Callable[[CloudState, datetime], list[AuditEntry]]
    ) -> bool:
        """Runs a change nobody requested (e.g. an observed restart activates a pending key
        pair) with the same persistence as an action: optimistic concurrency, audit rows with
        actor "system". `change` returns its audit entries; none means nothing changed and
        nothing is saved. Returns whether something was saved."""
        with self.lock:
            for _attempt in range(3):
                if not self._refresh() or self.state is None:
                    return False
                state, now = self.state, self.clock()
                try:
                    entries = change(state, now)
                except Exception:
                    self.state, self.version = None, 0  # discard any half-applied change
                    raise
                if not entries:
                    return False
                request_id = str(uuid.uuid4()).upper()
                at_ms = int(now.timestamp() * 1000)
                rows = [
                    AuditRow(at_ms, request_id, "system", "", name, e.resource, e.before, e.after)
                    for e in entries
                ]
                try:
                    self.version = self.states.save(self.version, state.to_document(), rows, now)
                    log.info("%s (system): %d change(s)", name, len(rows))
                    return True
                except StateConflict:
                    self.state, self.version = None, 0
                    continue
                except Exception:
                    self.state, self.version = None, 0
                    raise
            raise ApiError("Throttling", "the state changed concurrently; try again", 503)


class _RetryNonces:
    """The shared nonce registry, except that a nonce this very request recorded on an
    earlier attempt (before a StateConflict retry) is not taken for a replay."""

    def __init__(self, inner: DatabaseNonceRegistry, recorded: set[str]):
        self.inner = inner
        self.recorded = recorded

    def seen(self, nonce: str) -> bool:
        return nonce not in self.recorded and self.inner.seen(nonce)

    def add(self, nonce: str, expires: datetime) -> bool:
        if nonce in self.recorded:
            return True
        added = self.inner.add(nonce, expires)
        if added:
            self.recorded.add(nonce)
        return added
