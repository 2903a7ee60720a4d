"""The key-pair model alone: ImportKeyPair's parser never crashes and stores nothing on error,
the quota default, restarts, and the state document round trip."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.auditor.api.actions.ecs.keypairs import rsa_2048
from palisade.auditor.model.cloud_state import CloudState
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.keypairs.service import (
    GeneratedKey,
    InstanceView,
    KeyPairService,
    name_matches,
    parse_public_key_body,
)

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHOIZLYJaeHEvSR6e1AKt4BOBDQjOUg3M/1wLOW6BJwP c"
ED25519_BLOB = base64.b64decode(ED25519.split()[1])
TYPES = [
    "ssh-rsa",
    "ssh-dss",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "rsa",
    "dsa",
    "ecdsa",
    "ssh-rsa-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "bogus",
]


def _view(
    instance_id: str, running: bool = True, account: str = "1", region: str = "r"
) -> InstanceView:
    return InstanceView(instance_id, account, region, True, running, not running)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


bodies = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda t, blob, comment: f"{t} {_b64(blob)} {comment}",
        st.sampled_from(TYPES),
        st.binary(max_size=200),
        st.text(alphabet="abc xyz", max_size=10),
    ),
    # a real key, mutated: truncated, a byte flipped, or extended
    st.builds(
        lambda t, cut, flip, extra: (
            f"{t} "
            + _b64(
                bytes(b ^ (0xFF if i == flip else 0) for i, b in enumerate(ED25519_BLOB[:cut]))
                + extra
            )
        ),
        st.sampled_from(TYPES),
        st.integers(0, len(ED25519_BLOB)),
        st.integers(0, len(ED25519_BLOB)),
        st.binary(max_size=8),
    ),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies)
def test_import_never_crashes_and_stores_nothing_on_error(body):
    service = KeyPairService()
    before = json.dumps(service.to_document(), sort_keys=True)
    try:
        pair = service.import_key("1", "r", "name", body, NOW)
    except ModelError as exc:
        assert exc.code.startswith(("InvalidPublicKeyBody.", "InvalidKeyPair."))
        assert json.dumps(service.to_document(), sort_keys=True) == before
        return
    assert service.describe("1", "r") == [pair]
    assert len(pair.fingerprint) == 47


def test_the_real_key_parses_and_the_fingerprint_is_md5_colon_hex():
    parsed = parse_public_key_body(ED25519)
    assert parsed.key_type == "ssh-ed25519"
    assert parsed.public_key == " ".join(ED25519.split()[:2])  # the comment is not kept


def test_an_ed25519_key_under_the_rsa_alias_is_a_mismatch():
    with pytest.raises(ModelError) as err:
        parse_public_key_body("rsa " + ED25519.split()[1])
    assert err.value.code == "InvalidPublicKeyBody.TypeMismatch"


def test_an_openssh_private_key_body_is_refused_even_without_its_armour():
    body = _b64(b"openssh-key-v1\x00" + b"\x00" * 40)
    with pytest.raises(ModelError) as err:
        parse_public_key_body(body)
    assert err.value.code == "InvalidKeyPair.PrivateKeyNotAllowed"


@pytest.mark.parametrize(
    "pattern,name,hit",
    [
        ("web", "web", True),
        ("web", "web1", False),
        ("web*", "web1", True),
        ("*1", "web1", True),
        ("w*b*1", "web1", True),
        ("w*x*", "web1", False),
        ("*", "anything", True),
        ("ab*ab", "ab", False),
    ],
)
def test_name_filter_wildcard(pattern, name, hit):
    assert name_matches(pattern, name) is hit


def test_the_quota_defaults_to_500_per_account_and_region():
    service = KeyPairService()
    fake = GeneratedKey(ED25519, "not stored")
    for n in range(500):
        service.create("1", "r", f"k{n}", NOW, lambda: fake)
    with pytest.raises(ModelError) as err:
        service.create("1", "r", "k500", NOW, lambda: fake)
    assert err.value.code == "QuotaExceed.KeyPair"
    service.create("1", "other-region", "k500", NOW, lambda: fake)
    service.create("2", "r", "k500", NOW, lambda: fake)


def test_create_keeps_no_private_key():
    service = KeyPairService()
    pair, private_pem = service.create("1", "r", "made", NOW, rsa_2048)
    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert "PRIVATE" not in json.dumps(service.to_document())
    assert pair.key_type == "ssh-rsa"


def test_a_restart_activates_only_changes_requested_before_it():
    service = KeyPairService()
    service.import_key("1", "r", "key", ED25519, NOW)
    service.attach("1", "r", "key", ["i-1"], lambda i: _view(i), NOW)
    assert service.restart_observed("i-1", NOW - timedelta(seconds=1)) is None
    binding = service.restart_observed("i-1", NOW + timedelta(seconds=30))
    assert binding is not None and binding.active.name == "key" and not binding.has_pending
    assert binding.password_login_enabled is False
    assert service.restart_observed("i-1", NOW + timedelta(hours=1)) is None  # nothing pending


def test_pending_instance_ids_lists_the_bindings_waiting_for_a_restart():
    service = KeyPairService()
    service.import_key("1", "r", "key", ED25519, NOW)
    service.attach("1", "r", "key", ["i-2", "i-1"], lambda i: _view(i), NOW)
    service.attach("1", "r", "key", ["i-3"], lambda i: _view(i, running=False), NOW)
    assert service.pending_instance_ids() == ["i-1", "i-2"]
    service.restart_observed("i-2", NOW + timedelta(seconds=1))
    assert service.pending_instance_ids() == ["i-1"]


def test_a_password_reset_reenables_password_login():
    service = KeyPairService()
    service.import_key("1", "r", "key", ED25519, NOW)
    service.attach("1", "r", "key", ["i-1"], lambda i: _view(i, running=False), NOW)
    assert service.binding("i-1").password_login_enabled is False
    service.password_reset("i-1")
    service.detach("1", "r", "key", ["i-1"], lambda i: _view(i, running=False), NOW)
    assert service.binding("i-1").password_login_enabled is True


def test_the_state_document_round_trips_and_old_documents_load_without_key_pairs():
    state, _ = CloudState.create(NOW)
    state.keypairs.import_key(state.account_id, "cn-hangzhou", "key", ED25519, NOW)
    state.keypairs.import_key(state.account_id, "cn-hangzhou", "gone", ED25519, NOW)
    state.keypairs.attach(
        state.account_id,
        "cn-hangzhou",
        "gone",
        ["i-1"],
        lambda i: _view(i, False, state.account_id, "cn-hangzhou"),
        NOW,
    )
    state.keypairs.attach(
        state.account_id,
        "cn-hangzhou",
        "key",
        ["i-2"],
        lambda i: _view(i, True, state.account_id, "cn-hangzhou"),
        NOW,
    )
    state.keypairs.delete(state.account_id, "cn-hangzhou", ["gone"])
    doc = json.loads(json.dumps(state.to_document()))
    again = CloudState.from_document(doc)
    assert again.keypairs.to_document() == state.keypairs.to_document()
    assert again.keypairs.retired == {(state.account_id, "cn-hangzhou", "gone")}
    assert again.keypairs.binding("i-2").requested_at == NOW
    del doc["keypairs"]
    old = CloudState.from_document(doc)
    assert old.keypairs.pairs == {} and old.keypairs.bindings == {}
