"""Fingerprints and bit sizes agree with the real ssh-keygen for every key type."""

from __future__ import annotations

import base64
import struct
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from palisade.shared import sshkeys
from tests.helpers.system import require_binary

pytestmark = pytest.mark.integration

KEY_SPECS = [
    ("rsa", "2048"),
    ("rsa", "3072"),
    ("ecdsa", "256"),
    ("ecdsa", "384"),
    ("ecdsa", "521"),
    ("ed25519", None),
    ("dsa", "1024"),
]


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=120).stdout


def _keygen(keygen: str, directory: Path, kind: str, bits: str | None) -> Path:
    path = directory / f"id_{kind}{bits or ''}"
    cmd = [keygen, "-q", "-t", kind, "-N", "", "-C", f"{kind} test key", "-f", str(path)]
    if bits:
        cmd += ["-b", bits]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        if kind == "dsa":  # newer OpenSSH builds cannot make DSA keys any more
            pytest.skip(f"ssh-keygen cannot generate DSA keys: {done.stderr.strip()}")
        raise AssertionError(done.stderr)
    return path


def _keygen_list(keygen: str, path: Path, md5: bool = False) -> list[tuple[int, str]]:
    """(bits, fingerprint) per key, as `ssh-keygen [-E md5] -lf` prints them."""
    args = [keygen, "-E", "md5", "-lf", str(path)] if md5 else [keygen, "-lf", str(path)]
    out = []
    for line in _run(*args).splitlines():
        bits, fingerprint = line.split()[:2]
        out.append((int(bits), fingerprint.removeprefix("MD5:")))
    return out


def _check(keygen: str, pub: Path) -> sshkeys.PublicKey:
    key = sshkeys.parse_public_key(pub.read_bytes())
    [(bits, sha256)] = _keygen_list(keygen, pub)
    [(_, md5)] = _keygen_list(keygen, pub, md5=True)
    assert (key.bits, key.fingerprint_sha256, key.fingerprint_md5) == (bits, sha256, md5)
    return key


@pytest.fixture(scope="module")
def keygen() -> str:
    return require_binary("ssh-keygen")


@pytest.fixture(scope="module")
def ca(keygen: str, tmp_path_factory) -> Path:
    return _keygen(keygen, tmp_path_factory.mktemp("ca"), "ed25519", None)


@pytest.mark.parametrize(("kind", "bits"), KEY_SPECS, ids=[f"{k}{b or ''}" for k, b in KEY_SPECS])
def test_plain_and_certified_keys_match_ssh_keygen(keygen, ca, tmp_path, kind, bits):
    private = _keygen(keygen, tmp_path, kind, bits)
    pub = private.with_name(private.name + ".pub")
    key = _check(keygen, pub)
    assert key.comment == f"{kind} test key" and not key.is_certificate

    _run(keygen, "-q", "-s", str(ca), "-I", "id", "-n", "user", str(pub))
    cert = private.with_name(private.name + "-cert.pub")
    cert_key = _check(keygen, cert)
    assert cert_key.is_certificate and cert_key.key_type.endswith("-cert-v01@openssh.com")
    # ssh-keygen fingerprints the certified key, not the certificate.
    assert cert_key.fingerprint_sha256 == key.fingerprint_sha256
    assert cert_key.bits == key.bits


@pytest.mark.parametrize(("kind", "bits"), KEY_SPECS, ids=[f"{k}{b or ''}" for k, b in KEY_SPECS])
@pytest.mark.filterwarnings("ignore:SSH DSA key")
def test_public_key_from_cryptography_equals_ssh_keygen_y(keygen, tmp_path, kind, bits):
    private = _keygen(keygen, tmp_path, kind, bits)
    loaded = serialization.load_ssh_private_key(private.read_bytes(), password=None)
    key_type, blob = _run(keygen, "-y", "-f", str(private)).split()[:2]  # then the comment
    assert sshkeys.public_key_from_cryptography(loaded, "c") == f"{key_type} {blob} c"


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def test_security_key_types_match_ssh_keygen(keygen, tmp_path):
    # No hardware token here: the public halves are built by hand and ssh-keygen only reads them.
    ec_pub = _keygen(keygen, tmp_path, "ecdsa", "256").with_suffix(".pub")
    ec_key = serialization.load_ssh_public_key(ec_pub.read_bytes())
    point = ec_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    blobs = {
        "sk-ssh-ed25519@openssh.com": _string(b"sk-ssh-ed25519@openssh.com")
        + _string(bytes(range(32)))
        + _string(b"ssh:"),
        "sk-ecdsa-sha2-nistp256@openssh.com": _string(b"sk-ecdsa-sha2-nistp256@openssh.com")
        + _string(b"nistp256")
        + _string(point)
        + _string(b"ssh:"),
    }
    for key_type, blob in blobs.items():
        pub = tmp_path / f"{key_type}.pub"
        pub.write_text(f"{key_type} {base64.b64encode(blob).decode()} token\n")
        _check(keygen, pub)


def test_authorized_keys_file_with_options_matches_ssh_keygen(keygen, ca, tmp_path):
    lines = []
    for kind, bits in KEY_SPECS[:-1]:  # not DSA: its skip would skip this whole test
        pub = _keygen(keygen, tmp_path, kind, bits).with_suffix(".pub")
        lines.append(f'from="10.0.0.1",command="echo \\"a b\\"" {pub.read_text().strip()}')
    authorized = tmp_path / "authorized_keys"
    authorized.write_text("# header\n\n" + "\n".join(lines) + "\n")
    parsed = sshkeys.parse_authorized_keys(authorized.read_bytes())
    assert all(line.key is not None for line in parsed)
    assert [(x.key.bits, x.key.fingerprint_sha256) for x in parsed] == _keygen_list(
        keygen, authorized
    )
