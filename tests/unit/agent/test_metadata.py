"""The agent's metadata endpoint without sockets: what it answers, when it fetches."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from palisade.agent.metadata import (
    TOKEN_HEADER,
    TOKEN_PATH,
    TOKEN_TTL_HEADER,
    AuditorUnavailable,
    CredentialCache,
    MetadataEndpoint,
    NoRole,
    RoleCredentials,
)
from palisade.shared.proto import agent_pb2

T0 = datetime(2019, 9, 18, 8, 0, 0, tzinfo=UTC)
PATH = "/latest/meta-data/ram/security-credentials/"


class FakeAuditor:
    def __init__(self):
        self.role: str | None = "reader"
        self.generation = 1  # of the instance's binding to the role
        self.reachable = True
        self.calls = 0
        self.now = T0

    def clock(self) -> datetime:
        return self.now

    def fetch(self) -> RoleCredentials:
        self.calls += 1
        if not self.reachable:
            raise AuditorUnavailable("down")
        if self.role is None:
            raise NoRole("no role")
        return RoleCredentials(
            self.role,
            f"STS.key{self.calls}",
            "secret",
            f"token{self.calls}",
            expiration=self.now + timedelta(hours=1),
            last_updated=self.now,
            binding_generation=self.generation,
        )

    def ack(self) -> agent_pb2.Ack:
        """A snapshot's acknowledgement, announcing the binding as it stands now."""
        ack = agent_pb2.Ack(message_id="m")
        ack.role.role_name, ack.role.generation = self.role or "", self.generation
        return ack


@pytest.fixture
def auditor() -> FakeAuditor:
    return FakeAuditor()


@pytest.fixture
def endpoint(auditor) -> MetadataEndpoint:
    return MetadataEndpoint(CredentialCache(auditor.fetch, auditor.clock), "i-1")


def get(endpoint, path, headers=None):
    return endpoint.answer("GET", path, headers or {})


def test_lists_the_role_then_serves_its_credentials_in_the_ecs_shape(endpoint, auditor):
    listing = get(endpoint, PATH)
    assert (listing.status, listing.body) == (200, "reader")
    answer = get(endpoint, PATH + "reader")
    assert answer.status == 200
    body = json.loads(answer.body)
    assert body == {
        "AccessKeyId": "STS.key1",
        "AccessKeySecret": "secret",
        "Expiration": "2019-09-18T09:00:00Z",
        "SecurityToken": "token1",
        "LastUpdated": "2019-09-18T08:00:00Z",
        "Code": "Success",
    }
    assert auditor.calls == 1  # the listing's fetch is reused
    # the ECS security guide spells the path Ram/
    assert get(endpoint, "/latest/meta-data/Ram/security-credentials/reader").status == 200
    assert get(endpoint, PATH + "other").status == 404
    assert get(endpoint, "/latest/meta-data/instance-id").body == "i-1"
    assert get(endpoint, "/latest/user-data").status == 404


def test_refreshes_at_half_life_and_404_once_the_role_is_gone(endpoint, auditor):
    get(endpoint, PATH + "reader")
    auditor.now += timedelta(minutes=29)
    assert json.loads(get(endpoint, PATH + "reader").body)["AccessKeyId"] == "STS.key1"
    auditor.now += timedelta(minutes=1)
    assert json.loads(get(endpoint, PATH + "reader").body)["AccessKeyId"] == "STS.key2"
    auditor.role = None
    auditor.now += timedelta(minutes=30)
    assert get(endpoint, PATH + "reader").status == 404
    assert get(endpoint, PATH).status == 404


def test_a_new_role_name_is_fetched_at_once(endpoint, auditor):
    get(endpoint, PATH + "reader")
    auditor.role = "writer"
    assert get(endpoint, PATH + "writer").status == 200
    assert get(endpoint, PATH).body == "writer"


def test_outage_serves_cached_credentials_until_they_expire(endpoint, auditor):
    assert get(endpoint, PATH + "reader").status == 200
    auditor.reachable = False
    auditor.now += timedelta(minutes=45)
    assert json.loads(get(endpoint, PATH + "reader").body)["AccessKeyId"] == "STS.key1"
    auditor.now += timedelta(minutes=15)
    assert get(endpoint, PATH + "reader").status == 503


def test_tokens(endpoint, auditor):
    put = endpoint.answer("PUT", TOKEN_PATH, {TOKEN_TTL_HEADER: "60"})
    assert put.status == 200 and put.body
    assert get(endpoint, PATH, {TOKEN_HEADER: put.body}).status == 200
    assert get(endpoint, PATH, {TOKEN_HEADER: "forged"}).status == 401
    auditor.now += timedelta(seconds=61)
    assert get(endpoint, PATH, {TOKEN_HEADER: put.body}).status == 401
    for headers in (
        {},
        {TOKEN_TTL_HEADER: "0"},
        {TOKEN_TTL_HEADER: "21601"},
        {TOKEN_TTL_HEADER: "²"},
    ):
        assert endpoint.answer("PUT", TOKEN_PATH, headers).status == 400
    proxied = {TOKEN_TTL_HEADER: "60", "x-forwarded-for": "203.0.113.9"}
    assert endpoint.answer("PUT", TOKEN_PATH, proxied).status == 403
    assert endpoint.answer("POST", PATH, {}).status == 405


def test_hardened_mode_requires_a_token(auditor):
    hardened = MetadataEndpoint(CredentialCache(auditor.fetch, auditor.clock), "i-1", True)
    assert get(hardened, PATH).status == 401
    token = hardened.answer("PUT", TOKEN_PATH, {TOKEN_TTL_HEADER: "21600"}).body
    assert get(hardened, PATH + "reader", {TOKEN_HEADER: token}).status == 200


def test_credentials_repr_hides_the_secret(auditor):
    creds = auditor.fetch()
    assert "secret" not in repr(creds) and "token" not in repr(creds)


def test_a_detach_announced_on_the_report_stream_drops_the_credentials_at_once(auditor):
    cache = CredentialCache(auditor.fetch, auditor.clock)
    endpoint = MetadataEndpoint(cache, "i-1")
    assert get(endpoint, PATH + "reader").status == 200
    cache.on_ack(auditor.ack())  # the same binding: nothing changes, nothing is fetched
    assert get(endpoint, PATH + "reader").status == 200 and auditor.calls == 1
    auditor.role = None  # detached; well before the credentials' half-life
    cache.on_ack(auditor.ack())
    assert get(endpoint, PATH + "reader").status == 404
    assert get(endpoint, PATH).status == 404


def test_revoked_credentials_are_not_served_even_when_the_auditor_is_unreachable(auditor):
    cache = CredentialCache(auditor.fetch, auditor.clock)
    endpoint = MetadataEndpoint(cache, "i-1")
    assert get(endpoint, PATH + "reader").status == 200
    auditor.role = None
    cache.on_ack(auditor.ack())
    auditor.reachable = False
    assert get(endpoint, PATH + "reader").status == 503


def test_a_role_attached_again_is_a_new_binding_with_new_credentials(auditor):
    cache = CredentialCache(auditor.fetch, auditor.clock)
    endpoint = MetadataEndpoint(cache, "i-1")
    first = json.loads(get(endpoint, PATH + "reader").body)
    auditor.generation = 2  # detached and attached again between two reports
    cache.on_ack(auditor.ack())
    second = json.loads(get(endpoint, PATH + "reader").body)
    assert second["AccessKeyId"] != first["AccessKeyId"] and auditor.calls == 2


def test_a_replaced_role_is_404_under_its_old_name(auditor):
    cache = CredentialCache(auditor.fetch, auditor.clock)
    endpoint = MetadataEndpoint(cache, "i-1")
    assert get(endpoint, PATH + "reader").status == 200
    auditor.role, auditor.generation = "writer", 2
    cache.on_ack(auditor.ack())
    assert get(endpoint, PATH + "reader").status == 404
    assert (get(endpoint, PATH).body, get(endpoint, PATH + "writer").status) == ("writer", 200)


def test_an_ack_without_a_role_binding_changes_nothing(auditor):
    # an auditor that serves no credentials (or an older one) leaves the field unset
    cache = CredentialCache(auditor.fetch, auditor.clock)
    endpoint = MetadataEndpoint(cache, "i-1")
    assert get(endpoint, PATH + "reader").status == 200
    cache.on_ack(agent_pb2.Ack(message_id="m"))
    assert get(endpoint, PATH + "reader").status == 200 and auditor.calls == 1
