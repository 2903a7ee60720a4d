"""The authorized_keys collector against a built host root and the real host."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from palisade.agent.collectors import authorized_keys, sshd_config
from palisade.agent.collectors.accounts import Account
from palisade.shared import sshkeys
from palisade.shared.proto import facts_pb2

ROOT_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA+OA8lqzpITPlGWaKuLyJL053oEuMJe2byWIbuiDdeh"
ROOT_OPTIONS = 'from="10.0.0.1",command="echo \\"a b\\""'
RSA_KEY = sshkeys.public_key_from_cryptography(rsa.generate_private_key(65537, 2048))
EC_KEY = sshkeys.public_key_from_cryptography(ec.generate_private_key(ec.SECP384R1()))
ED_KEYS = [
    sshkeys.public_key_from_cryptography(ed25519.Ed25519PrivateKey.generate()) for _ in range(4)
]
IS_ROOT = os.geteuid() == 0

PASSWD = """root:x:0:0:root:/root:/bin/bash
alice:x:1000:100::/home/alice:/bin/bash
bob:x:1001:100::/home/bob:/bin/bash
svc:x:999:999::/var/lib/svc:/usr/sbin/nologin
carol:x:1003:100::/home/carol:/bin/sh
"""
GROUP = "root:x:0:\nusers:x:100:\nsvc:x:999:\nadmins:x:50:carol\n"
SSHD_CONFIG = """# test host
Include /etc/ssh/sshd_config.d/*.conf
Match User bob
    AuthorizedKeysFile %h/.ssh/bob_keys /etc/ssh/pct/%%%u
Match Group admins
    AuthorizedKeysFile /srv/keys/%U.keys
"""
DROP_IN = "AuthorizedKeysFile .ssh/authorized_keys .ssh/authorized_keys2 /etc/ssh/keys/%u\n"


def _put(root: Path, path: str, text: str, mode: int = 0o600, uid: int = 0) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    target.chmod(mode)
    if IS_ROOT:
        os.chown(target, uid, uid)


def _key(line_number: int, line: str, options: str = "", comment: str = ""):
    parsed = sshkeys.parse_public_key(line)
    return facts_pb2.AuthorizedKey(
        line_number=line_number,
        options=options,
        key_type=parsed.key_type,
        key_blob=parsed.blob_b64,
        comment=comment,
        fingerprint_sha256=parsed.fingerprint_sha256,
        fingerprint_md5=parsed.fingerprint_md5,
        bits=parsed.bits,
    )


def _file(user: str, path: str, owner: str, mode: int, *keys) -> facts_pb2.AuthorizedKeysFile:
    return facts_pb2.AuthorizedKeysFile(
        user=user,
        path=path,
        exists=True,
        owner=owner if IS_ROOT else "root",
        mode=mode,
        keys=list(keys),
    )


@pytest.fixture
def host(tmp_path: Path) -> Path:
    _put(tmp_path, "/etc/passwd", PASSWD, 0o644)
    _put(tmp_path, "/etc/group", GROUP, 0o644)
    _put(tmp_path, "/etc/ssh/sshd_config", SSHD_CONFIG, 0o644)
    _put(tmp_path, "/etc/ssh/sshd_config.d/50-keys.conf", DROP_IN, 0o644)
    _put(
        tmp_path,
        "/root/.ssh/authorized_keys",
        f"# root's keys\n\n{ROOT_OPTIONS} {ROOT_KEY} ops@example\n",
    )
    _put(
        tmp_path,
        "/home/alice/.ssh/authorized_keys",
        f"{RSA_KEY} alice@laptop\r\nssh-rsa AAAA-not-base64 broken\n",
        0o666,
        uid=1000,
    )
    _put(tmp_path, "/home/alice/.ssh/authorized_keys2", f"no-pty {EC_KEY}\n", uid=1000)
    _put(tmp_path, "/etc/ssh/keys/svc", f"{ED_KEYS[0]} deploy\n", 0o644)
    # bob's Match block replaces the default files, so this one is not read.
    _put(tmp_path, "/home/bob/.ssh/authorized_keys", f"{ED_KEYS[3]}\n", uid=1001)
    _put(tmp_path, "/home/bob/.ssh/bob_keys", f"{ED_KEYS[1]}\n", uid=1001)
    _put(tmp_path, "/etc/ssh/pct/%bob", f"{ED_KEYS[2]} pct\n")
    _put(tmp_path, "/srv/keys/1003.keys", "", 0o640, uid=1003)
    return tmp_path


def test_collect_fake_host_root_exact_output(host: Path):
    got = authorized_keys.collect(str(host))
    malformed = facts_pb2.AuthorizedKey(
        line_number=2,
        malformed=True,
        error="key data is not valid base64",
        raw="ssh-rsa AAAA-not-base64 broken",
    )
    assert got == [
        _file(
            "root",
            "/root/.ssh/authorized_keys",
            "root",
            0o600,
            _key(3, ROOT_KEY, ROOT_OPTIONS, "ops@example"),
        ),
        _file(
            "alice",
            "/home/alice/.ssh/authorized_keys",
            "alice",
            0o666,
            _key(1, RSA_KEY, comment="alice@laptop"),
            malformed,
        ),
        _file(
            "alice", "/home/alice/.ssh/authorized_keys2", "alice", 0o600, _key(1, EC_KEY, "no-pty")
        ),
        _file("bob", "/home/bob/.ssh/bob_keys", "bob", 0o600, _key(1, ED_KEYS[1])),
        _file("bob", "/etc/ssh/pct/%bob", "root", 0o600, _key(1, ED_KEYS[2], comment="pct")),
        _file("svc", "/etc/ssh/keys/svc", "root", 0o644, _key(1, ED_KEYS[0], comment="deploy")),
        _file("carol", "/srv/keys/1003.keys", "carol", 0o640),
    ]
    assert got[0].keys[0].fingerprint_sha256 == "SHA256:JB72l99SrZk8gRh2L+70SxZEzd7HELXzcjzCiz90jzQ"
    assert got[1].keys[0].bits == 2048 and got[2].keys[0].bits == 384


def test_symlinks_resolve_inside_the_host_root(host: Path, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "keys"
    outside.write_text(f"{ED_KEYS[0]}\n")
    ssh_dir = host / "home/carol/.ssh"
    ssh_dir.mkdir(parents=True)
    # An absolute target means the host's own path, i.e. under the root, which is missing.
    os.symlink(str(outside), ssh_dir / "authorized_keys")
    assert authorized_keys.read_file(str(host), "/home/carol/.ssh/authorized_keys", "c", {}) is None
    # A relative link climbing past "/" stops at the root.
    os.symlink("../../../../../../etc/ssh/keys/svc", ssh_dir / "authorized_keys2")
    msg = authorized_keys.read_file(
        str(host), "/home/carol/.ssh/authorized_keys2", "c", {0: "root"}
    )
    assert msg is not None and msg.path == "/home/carol/.ssh/authorized_keys2"
    assert [k.comment for k in msg.keys] == ["deploy"]


def test_unusable_files_are_reported_with_an_error(host: Path):
    ssh_dir = host / "home/alice/.ssh"
    (ssh_dir / "dir_keys").mkdir()
    os.symlink("loop", ssh_dir / "loop")
    (ssh_dir / "big").write_bytes(b"#" * (authorized_keys.MAX_FILE_BYTES + 1))
    root = str(host)
    errors = {
        name: authorized_keys.read_file(root, f"/home/alice/.ssh/{name}", "alice", {}).error
        for name in ("dir_keys", "loop", "big")
    }
    assert errors["dir_keys"] == "not a regular file"
    assert errors["loop"].startswith("cannot stat: ")
    assert "limit" in errors["big"]


def test_unknown_token_in_authorized_keys_file_is_reported(host: Path):
    config = sshd_config.parse("AuthorizedKeysFile /keys/%x", host_root=str(host))
    got = authorized_keys.collect(str(host), sshd=config)
    assert got[0].user == "root" and got[0].path == "/keys/%x"
    assert "unknown token %x" in got[0].error


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (".ssh/authorized_keys", "/home/a b/.ssh/authorized_keys"),
        ("%h/k", "/home/a b/k"),
        ("/etc/keys/%u.%U", "/etc/keys/al.1000"),
        ("/x/100%%", "/x/100%"),
    ],
)
def test_expand_path(template, expected):
    account = Account("al", 1000, 100, "/home/a b/", "/bin/sh")
    assert authorized_keys.expand_path(template, account) == expected


def test_collect_real_host():
    got = authorized_keys.collect("/")
    assert all(isinstance(m, facts_pb2.AuthorizedKeysFile) for m in got)
    for m in got:
        m.SerializeToString()
    if os.path.isfile("/root/.ssh/authorized_keys"):
        assert any(m.path == "/root/.ssh/authorized_keys" for m in got)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_file_content_never_breaks_the_collector(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("fuzz")
    (root / "k").write_bytes(data)
    msg = authorized_keys.read_file(str(root), "/k", "u", {})
    assert msg is not None and msg.error == ""
    msg.SerializeToString()
    assert all(len(k.raw) <= authorized_keys.RAW_LIMIT for k in msg.keys)
