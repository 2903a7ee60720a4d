"""Dashboard sessions end when the user's console credential does: the login profile deleted,
the password changed, the user deleted (and made again under the same name), on every
replica at its next request. The dashboard in-process on two ApiServices sharing a database."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import update

from palisade.auditor.api.http import Request
from palisade.auditor.store import schema
from palisade.auditor.web.app import SESSION_COOKIE, Dashboard
from tests.helpers.in_process_api import ApiHarness

PASSWORD = "correct-horse-battery"


def request(method: str, path: str, cookie: str = "", body: str = "") -> Request:
    headers = {"cookie": cookie} if cookie else {}
    if body:
        headers["content-type"] = "application/x-www-form-urlencoded"
    return Request(method, path, "", headers, body.encode(), "127.0.0.1")


def sign_in(dashboard: Dashboard, user: str, password: str = PASSWORD) -> str:
    """The session cookie header a browser would send after signing in."""
    reply = dashboard(
        request("POST", "/ui/login", body=urlencode({"user": user, "password": password}))
    )
    assert reply.status == 303 and "/login" not in reply.headers["Location"], reply.body[:300]
    cookie = next(c for c in reply.cookies if c.startswith(SESSION_COOKIE + "="))
    return cookie.split(";", 1)[0]


def signed_in(dashboard: Dashboard, cookie: str) -> bool:
    reply = dashboard(request("GET", "/ui/", cookie))
    if reply.status == 303:
        assert reply.headers["Location"].startswith("/ui/login"), reply.headers
        return False
    assert reply.status == 200, reply.body[:300]
    return True


@pytest.fixture
def dashboards(h: ApiHarness) -> list[Dashboard]:
    """One dashboard per replica (two ApiServices on one database)."""
    h.ok("CreateUser", UserName="carol")
    h.ok(
        "AttachPolicyToUser",
        PolicyType="System",
        PolicyName="AliyunECSReadOnlyAccess",
        UserName="carol",
    )
    h.ok("CreateLoginProfile", UserName="carol", Password=PASSWORD)
    return [Dashboard(h.api, h.store), Dashboard(h.replica(), h.store)]


def test_deleting_the_login_profile_ends_the_users_sessions_on_every_replica(h, dashboards):
    first, second = dashboards
    cookie = sign_in(first, "carol")
    assert signed_in(first, cookie) and signed_in(second, cookie)
    h.ok("DeleteLoginProfile", UserName="carol")
    assert not signed_in(second, cookie) and not signed_in(first, cookie)
    # a console password made again, even the same one, does not bring the session back
    h.ok("CreateLoginProfile", UserName="carol", Password=PASSWORD)
    assert not signed_in(first, cookie)
    assert signed_in(second, sign_in(second, "carol"))


def test_a_new_password_ends_the_sessions_opened_with_the_old_one(h, dashboards):
    first, second = dashboards
    cookie = sign_in(first, "carol")
    h.ok("CreateUser", UserName="dave")
    h.ok("CreateLoginProfile", UserName="dave", Password=PASSWORD)
    other = sign_in(second, "dave")
    h.ok("UpdateLoginProfile", UserName="carol", Password="another-long-password")
    assert not signed_in(first, cookie) and not signed_in(second, cookie)
    assert first(request("GET", "/ui/", other)).status == 403  # dave's session holds (no policy)
    h.ok("UpdateLoginProfile", UserName="carol", PasswordResetRequired="true")
    fresh = sign_in(second, "carol", "another-long-password")
    h.ok("UpdateLoginProfile", UserName="carol", PasswordResetRequired="false")
    assert signed_in(first, fresh)  # the password did not change: the session holds


def test_deleting_the_user_ends_its_sessions_even_if_one_of_that_name_returns(h, dashboards):
    first, second = dashboards
    cookie = sign_in(second, "carol")
    h.ok("DeleteLoginProfile", UserName="carol")
    h.ok(
        "DetachPolicyFromUser",
        PolicyType="System",
        PolicyName="AliyunECSReadOnlyAccess",
        UserName="carol",
    )
    h.ok("DeleteUser", UserName="carol")
    assert not signed_in(first, cookie)
    h.ok("CreateUser", UserName="carol")
    h.ok(
        "AttachPolicyToUser",
        PolicyType="System",
        PolicyName="AliyunECSReadOnlyAccess",
        UserName="carol",
    )
    h.ok("CreateLoginProfile", UserName="carol", Password=PASSWORD)
    assert not signed_in(first, cookie) and not signed_in(second, cookie)


def test_a_session_stored_before_credentials_were_recorded_is_refused(h, dashboards):
    first, _ = dashboards
    cookie = sign_in(first, "carol")
    with h.store.write_transaction() as conn:  # what migration 0007 leaves in older rows
        conn.execute(update(schema.web_sessions).values(credential=None))
    assert not signed_in(first, cookie)
