"""`palisade keypair pubkey` against `ssh-keygen -y -f`, and `palisade keypair verify` against a
real OpenSSH server on loopback with a key made by CreateKeyPair."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tests.helpers.keypair_auditor import add_test_instances, ok
from tests.helpers.sshd import ssh_server
from tests.helpers.system import BIN, require_binary

pytestmark = pytest.mark.integration


def _pubkey(path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "palisade"), "keypair", "pubkey", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _ssh_keygen_y(path) -> str:
    keygen = require_binary("ssh-keygen")
    return subprocess.run(
        [keygen, "-y", "-f", str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()


def _write(path, data: bytes):
    path.write_bytes(data)
    os.chmod(path, 0o600)  # ssh-keygen refuses readable private keys
    return path


@pytest.mark.parametrize("kind", ["rsa", "ecdsa", "ed25519"])
@pytest.mark.parametrize("fmt", ["pkcs8", "openssh", "traditional"])
def test_pubkey_prints_what_ssh_keygen_prints(tmp_path, kind, fmt):
    key = {
        "rsa": lambda: rsa.generate_private_key(65537, 2048),
        "ecdsa": lambda: ec.generate_private_key(ec.SECP384R1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate,
    }[kind]()
    if fmt == "traditional" and kind == "ed25519":
        pytest.skip("Ed25519 has no traditional PEM form")
    encoding = {
        "pkcs8": serialization.PrivateFormat.PKCS8,
        "openssh": serialization.PrivateFormat.OpenSSH,
        "traditional": serialization.PrivateFormat.TraditionalOpenSSL,
    }[fmt]
    pem = key.private_bytes(serialization.Encoding.PEM, encoding, serialization.NoEncryption())
    path = _write(tmp_path / "key", pem)
    if kind == "ed25519" and fmt == "pkcs8":
        # ssh-keygen (OpenSSH 9) cannot read PKCS#8 Ed25519; compare with the same key in
        # OpenSSH format instead
        same = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        expected = _ssh_keygen_y(_write(tmp_path / "same", same))
    else:
        expected = _ssh_keygen_y(path)
    done = _pubkey(path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected


@pytest.mark.parametrize("kind", ["rsa", "ecdsa", "ed25519"])
def test_pubkey_keeps_the_comment_of_keys_made_by_ssh_keygen(tmp_path, kind):
    keygen = require_binary("ssh-keygen")
    for fmt in (["-m", "PKCS8"], []):
        path = tmp_path / f"{kind}{len(fmt)}"
        subprocess.run(
            [keygen, "-q", "-t", kind, *fmt, "-N", "", "-C", "me@host", "-f", str(path)],
            check=True,
        )
        assert _pubkey(path).stdout.strip() == _ssh_keygen_y(path)


def test_pubkey_refuses_an_encrypted_key_and_garbage_clearly(tmp_path):
    keygen = require_binary("ssh-keygen")
    subprocess.run(
        [keygen, "-q", "-t", "ed25519", "-N", "secret", "-f", str(tmp_path / "enc")], check=True
    )
    key = rsa.generate_private_key(65537, 2048)
    _write(
        tmp_path / "enc8",
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        ),
    )
    for name in ("enc", "enc8"):
        done = _pubkey(tmp_path / name)
        assert done.returncode == 1 and "encrypted" in done.stderr and not done.stdout
    (tmp_path / "junk").write_text("hello\n")
    done = _pubkey(tmp_path / "junk")
    assert done.returncode == 1 and "not a private key" in done.stderr
    done = _pubkey(tmp_path / "enc.pub")
    assert done.returncode == 1 and "public key" in done.stderr
    done = _pubkey(tmp_path / "missing")
    assert done.returncode == 2 and "No such file" in done.stderr


def test_pubkey_refuses_keys_ssh_has_no_format_for_without_a_traceback(tmp_path):
    """X25519 or a secp256k1 EC key load as private keys, but SSH cannot use them."""
    from cryptography.hazmat.primitives.asymmetric import x25519

    for name, key, kind in (
        ("x25519", x25519.X25519PrivateKey.generate(), "X25519"),
        ("k1", ec.generate_private_key(ec.SECP256K1()), "EC (secp256k1)"),
    ):
        _write(
            tmp_path / name,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        done = _pubkey(tmp_path / name)
        assert done.returncode == 1 and not done.stdout, done
        assert f"no public key format for {kind} keys" in done.stderr
        assert "Traceback" not in done.stderr


# -- verify against a real sshd -------------------------------------------------------------


def _verify(auditor, key_path, server, *extra):
    done = auditor.cli(
        "keypair",
        "verify",
        "--instance",
        "i-stop1",
        "--key",
        str(key_path),
        "--host",
        server.host,
        "--port",
        str(server.port),
        "--user",
        server.user,
        "--json",
        *extra,
        check=False,
    )
    return done.returncode, json.loads(done.stdout)


@pytest.mark.needs_root
def test_a_created_key_logs_in_to_a_real_sshd_and_password_login_is_refused(auditor, tmp_path):
    add_test_instances(auditor)
    created = ok(auditor, "CreateKeyPair", KeyPairName="login-key", RegionId="cn-hangzhou")
    ok(
        auditor,
        "AttachKeyPair",
        KeyPairName="login-key",
        InstanceIds='["i-stop1"]',
        RegionId="cn-hangzhou",
    )
    key_path = _write(tmp_path / "login-key.pem", created["PrivateKeyBody"].encode())
    public_line = auditor.cli("keypair", "pubkey", str(key_path)).stdout.strip()
    with ssh_server(password_authentication=False) as server:
        server.authorize(public_line)
        rc, report = _verify(auditor, key_path, server, "--password", server.password)
        assert rc == 0, report
        assert report["key_login"]["result"] == "accepted"
        assert report["replacement_worked"] is True
        assert report["password_login"]["result"] == "refused"
        assert "password" not in report["password_login"]["offered_methods"]
        assert report["key_fingerprint"] == created["KeyPairFingerPrint"]
        assert report["key_matches_key_pair"] is True
        assert report["key_pair"]["active"]["name"] == "login-key"
        assert report["key_pair"]["password_login_enabled"] is False
        assert f"Accepted publickey for {server.user}" in server.log()
        # another key is refused: the report says so and the exit code too
        other = ok(auditor, "CreateKeyPair", KeyPairName="other-key", RegionId="cn-hangzhou")
        other_path = _write(tmp_path / "other.pem", other["PrivateKeyBody"].encode())
        rc, report = _verify(auditor, other_path, server)
        assert rc == 1 and report["key_login"]["result"] == "refused"
        assert report["key_matches_key_pair"] is False


@pytest.mark.needs_root
def test_verify_reports_password_login_when_sshd_allows_it(auditor, tmp_path):
    """The other side of the same probe: the password is really tried when sshd offers it."""
    add_test_instances(auditor)
    created = ok(auditor, "CreateKeyPair", KeyPairName="pw-key", RegionId="cn-hangzhou")
    key_path = _write(tmp_path / "pw-key.pem", created["PrivateKeyBody"].encode())
    with ssh_server(password_authentication=True) as server:
        server.authorize(auditor.cli("keypair", "pubkey", str(key_path)).stdout.strip())
        rc, report = _verify(auditor, key_path, server, "--password", server.password)
        assert rc == 0 and report["password_login"]["result"] == "accepted"
        rc, report = _verify(auditor, key_path, server, "--password", "wrong-password")
        assert report["password_login"]["result"] == "refused"
        rc, report = _verify(auditor, key_path, server)
        assert report["password_login"]["result"] == "offered"


def test_verify_without_host_says_which_addresses_it_tried(auditor, tmp_path):
    """The modelled addresses of i-run1 (172.16.0.10, no public one) do not answer here: a
    clear error naming each address tried and --host, not a long hang or a traceback."""
    add_test_instances(auditor)
    created = ok(auditor, "CreateKeyPair", KeyPairName="nohost", RegionId="cn-hangzhou")
    key_path = _write(tmp_path / "nohost.pem", created["PrivateKeyBody"].encode())
    done = auditor.cli(
        "keypair",
        "verify",
        "--instance",
        "i-run1",
        "--key",
        str(key_path),
        "--port",
        "22",
        "--timeout",
        "1",
        check=False,
    )
    assert done.returncode == 2 and not done.stdout
    assert "cannot reach i-run1 on port 22 (172.16.0.10: " in done.stderr
    assert "--host" in done.stderr and "Traceback" not in done.stderr
