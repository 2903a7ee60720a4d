"""An in-process API (ApiService on a SQLite file) with a settable clock and signed calls."""

from __future__ import annotations

import copy
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from palisade.auditor.api.pipeline import ApiService, Response
from palisade.auditor.api.registry import version_of
from palisade.auditor.model.ram import sign_request
from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from palisade.auditor.store.database import Database, sqlite_url

START = datetime(2019, 9, 18, 8, 0, 0, tzinfo=UTC)


class ApiHarness:
    def __init__(self, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        self.now = START
        self.store = Database(sqlite_url(data_dir))
        self.api = ApiService(self.store, clock=lambda: self.now)
        admin = self.api.initialise()
        assert admin is not None
        self.admin = (admin.access_key_id, admin.access_key_secret)

    def replica(self) -> ApiService:
        """Another ApiService on the same database, on this harness's clock: what a second
        auditor process sharing the database is."""
        api = ApiService(Database(self.store.url), clock=lambda: self.now)
        assert api.initialise() is None  # the state exists: it is loaded, not created
        return api

    def via(self, api: ApiService) -> ApiHarness:
        """This harness (same clock reading, same owner's key) calling through `api`."""
        view = copy.copy(self)
        view.api = api
        return view

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    @property
    def state(self):
        return self.api.current()

    def call(
        self,
        action: str,
        credentials: tuple[str, str] | tuple[str, str, str] | None = None,
        source_ip: str = "127.0.0.1",
        **params: str,
    ) -> Response:
        key_id, secret, *token = credentials or self.admin
        signed = sign_request(
            {"Action": action, "Version": version_of(action), "Format": "JSON", **params},
            key_id,
            secret,
            self.now,
            secrets.token_hex(16),
            method="POST",
            path="/",
            security_token=token[0] if token else None,
        )
        return self.api.handle("POST", "/", signed, source_ip)

    def ok(self, action: str, credentials=None, **params: str) -> dict:
        response = self.call(action, credentials, **params)
        assert response.status == 200, response.body
        return response.body

    def error(self, action: str, credentials=None, **params: str) -> tuple[int, str, str]:
        response = self.call(action, credentials, **params)
        assert response.status != 200, response.body
        return response.status, response.body["Code"], response.body["Message"]

    def audit(self, limit: int = 1000):
        return CloudStateRepository(self.store).audit_log(limit)

    def save(self, mutate) -> None:
        """Change the stored state directly (what actions not built yet would do)."""
        states = CloudStateRepository(self.store)
        version, _ = states.load()
        state = self.api.current()
        mutate(state)
        states.save(version, state.to_document(), [], self.now)
        self.api.state, self.api.version = None, 0  # reload what was saved
