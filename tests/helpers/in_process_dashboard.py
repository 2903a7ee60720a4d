"""The dashboard in-process: the real Dashboard over an ApiService and an AlertRepository on a
SQLite file, with a logged-in session; `get` and `post` (the session's CSRF token added) return
the dashboard's Reply, `follow` the page a form's redirect leads to."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from palisade.auditor.alerts.repository import AlertRepository
from palisade.auditor.api.http import Reply, Request
from palisade.auditor.api.pipeline import ApiService
from palisade.auditor.notify.hook_targets import HookPolicy
from palisade.auditor.store.database import Database, sqlite_url
from palisade.auditor.web.app import LANG_COOKIE, SESSION_COOKIE, Dashboard


def console_credential(api: ApiService, user_name: str) -> tuple[str, ...]:
    """The argument DashboardSessions.create takes after the credential binding (revocation):
    the user's console credential; nothing before it."""
    ram = api.current().ram
    if not hasattr(ram, "console_credential"):
        return ()
    return (ram.console_credential(user_name) or "",)


class DashboardHarness:
    def __init__(self, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Database(sqlite_url(data_dir))
        self.alerts = AlertRepository(self.store)
        self.api = ApiService(
            self.store, services={"alerts": self.alerts, "hook_policy": HookPolicy()}
        )
        admin = self.api.initialise()
        assert admin is not None
        self.admin = admin
        self.dashboard = Dashboard(self.api, self.store, alerts=self.alerts)
        self.lang: str | None = None  # "zh": the pages in Chinese (the language cookie)
        self.login_as(admin.user_name)

    def login_as(self, user_name: str) -> None:
        """A session as the login page opens it (with the user's console credential where
        sessions keep one: they end when it changes)."""
        self.token, session = self.dashboard.sessions.create(
            user_name, int(time.time() * 1000), *console_credential(self.api, user_name)
        )
        self.csrf = session.csrf_token

    def call(self, action: str, **params: str) -> dict:
        """An API action as the first administrator (setting up what a test needs)."""
        from palisade.auditor.model.ram import Caller

        response = self.api.handle_as(
            Caller.user(self.admin.user_name), {"Action": action, **params}, "127.0.0.1"
        )
        assert response.status == 200, response.body
        return response.body

    def _request(self, method: str, url: str, body: bytes = b"") -> Reply:
        parts = urlsplit(url)
        cookie = f"{SESSION_COOKIE}={self.token}"
        if self.lang:
            cookie += f"; {LANG_COOKIE}={self.lang}"
        headers = {"cookie": cookie}
        return self.dashboard(Request(method, parts.path, parts.query, headers, body, "127.0.0.1"))

    def get(self, url: str) -> Reply:
        return self._request("GET", url)

    def post(self, url: str, **form: str) -> Reply:
        return self._request("POST", url, urlencode({"csrf": self.csrf, **form}).encode())

    def follow(self, reply: Reply) -> Reply:
        assert reply.status == 303, (reply.status, reply.body[:500])
        return self.get(reply.headers["Location"])

    @staticmethod
    def text(reply: Reply) -> str:
        return reply.body.decode()

    @staticmethod
    def message(reply: Reply) -> str:
        found = re.search(r'id="message">([^<]*)<', reply.body.decode())
        return found.group(1) if found else ""
