"""Key pair checks: the cloud's binding against authorized_keys, sshd and publickey logins."""

from __future__ import annotations

from palisade.auditor.checks.keypairs import check as keypairs
from palisade.shared import sshkeys
from palisade.shared.proto import facts_pb2

from .conftest import authorized_keys_file, login, new_public_key, snapshot


def _sshd(password: bool, kbd: bool = False) -> facts_pb2.SshdFacts:
    return facts_pb2.SshdFacts(
        password_authentication=password,
        pubkey_authentication=True,
        kbd_interactive_authentication=kbd,
        source="sshd -T",
        config_found=True,
    )


def test_unexplained_key_is_found_and_the_bound_key_is_explained(world):
    i = world.instance([world.group()])
    _, bound = world.bind_key(i)
    stranger = new_public_key("mallory@evil")
    snap = snapshot(authorized_keys=[authorized_keys_file("root", bound, stranger)])
    (f,) = keypairs.unexplained_authorized_key(world.input(i, snap))
    assert f.subject == sshkeys.parse_public_key(stranger).fingerprint_sha256
    assert "mallory@evil" in f.message and f.details["line_number"] == 2
    # near miss: only the bound key
    snap_ok = snapshot(authorized_keys=[authorized_keys_file("root", bound)])
    assert keypairs.unexplained_authorized_key(world.input(i, snap_ok)) == []


def test_unexplained_key_needs_a_bound_pair(world):
    i = world.instance([world.group()])
    snap = snapshot(authorized_keys=[authorized_keys_file("root", new_public_key())])
    assert keypairs.unexplained_authorized_key(world.input(i, snap)) is None


def test_key_of_another_account_pair_is_named(world):
    i = world.instance([world.group()])
    _, bound = world.bind_key(i)
    other = new_public_key()
    world.state.keypairs.import_key(world.account, "cn-hangzhou", "old-key", other, world_now())
    snap = snapshot(authorized_keys=[authorized_keys_file("root", bound, other)])
    (f,) = keypairs.unexplained_authorized_key(world.input(i, snap))
    assert f.details["account_key_pair"] == "old-key"


def world_now():
    from .conftest import NOW

    return NOW


def test_bound_key_missing_from_authorized_keys(world):
    i = world.instance([world.group()])
    world.bind_key(i)
    snap = snapshot(authorized_keys=[authorized_keys_file("root", new_public_key())])
    (f,) = keypairs.bound_key_missing(world.input(i, snap))
    assert f.subject == "prod-key"
    _, bound = world.bind_key(j := world.instance([world.group()]), name="other-key")
    snap_ok = snapshot(authorized_keys=[authorized_keys_file("admin", bound)])
    assert keypairs.bound_key_missing(world.input(j, snap_ok)) == []


def test_bound_key_missing_is_not_judged_when_no_file_is_readable(world):
    i = world.instance([world.group()])
    world.bind_key(i)
    unreadable = facts_pb2.AuthorizedKeysFile(
        user="root", path="/root/.ssh/authorized_keys", error="permission denied"
    )
    assert (
        keypairs.bound_key_missing(world.input(i, snapshot(authorized_keys=[unreadable]))) is None
    )


def test_password_login_enabled_with_key_pair_bound(world):
    i = world.instance([world.group()])
    world.bind_key(i)
    (f,) = keypairs.password_login_enabled(world.input(i, snapshot(sshd=_sshd(True))))
    assert f.details["enabled"] == ["PasswordAuthentication"]
    (f2,) = keypairs.password_login_enabled(world.input(i, snapshot(sshd=_sshd(False, kbd=True))))
    assert f2.details["enabled"] == ["KbdInteractiveAuthentication"]
    # near misses: passwords off; or a password reset re-enabled them in the cloud too
    assert keypairs.password_login_enabled(world.input(i, snapshot(sshd=_sshd(False)))) == []
    world.state.keypairs.password_reset(i)
    assert keypairs.password_login_enabled(world.input(i, snapshot(sshd=_sshd(True)))) == []


def test_password_login_without_key_pair_is_not_this_check(world):
    i = world.instance([world.group()])
    assert keypairs.password_login_enabled(world.input(i, snapshot(sshd=_sshd(True)))) == []


def test_publickey_login_with_foreign_key(world):
    i = world.instance([world.group()])
    _, bound = world.bind_key(i)
    bound_fp = sshkeys.parse_public_key(bound).fingerprint_sha256
    foreign_fp = sshkeys.parse_public_key(new_public_key()).fingerprint_sha256
    events = [
        login("success", method="publickey", key_fingerprint=bound_fp),
        login("success", method="publickey", key_fingerprint=foreign_fp, user="deploy"),
    ]
    (f,) = keypairs.login_with_foreign_key(world.input(i, None, events))
    assert f.subject == foreign_fp and f.details["user"] == "deploy"
    assert keypairs.login_with_foreign_key(world.input(i, None, events[:1])) == []


def test_md5_fingerprint_login_matches_the_bound_pair(world):
    i = world.instance([world.group()])
    pair, _ = world.bind_key(i)
    ev = login("success", method="publickey", key_fingerprint="MD5:" + pair.fingerprint)
    assert keypairs.login_with_foreign_key(world.input(i, None, [ev])) == []


def test_key_pair_bound_to_windows(world):
    i = world.instance([world.group()])
    world.bind_key(i)
    win = snapshot(host=facts_pb2.HostInfo(os_family="windows"))
    (f,) = keypairs.bound_to_windows(world.input(i, win))
    assert f.details["windows_per"] == "the agent"
    assert keypairs.bound_to_windows(world.input(i, snapshot())) == []
    w = world.instance([world.group()], os_family="windows")
    assert keypairs.bound_to_windows(world.input(w, None)) == []  # no binding: near miss
