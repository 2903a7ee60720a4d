"""Private key files as users hold them (PKCS#8, traditional PEM, OpenSSH): their public key,
printed as `ssh-keygen -y -f FILE` prints it (with the comment an OpenSSH key file carries)."""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from palisade.shared import sshkeys

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
    from cryptography.hazmat.primitives.serialization import SSHPrivateKeyTypes

_OPENSSH_BEGIN = b"-----BEGIN OPENSSH PRIVATE KEY-----"
_OPENSSH_END = b"-----END OPENSSH PRIVATE KEY-----"
_MAGIC = b"openssh-key-v1\x00"
# Strings that follow the key type in an OpenSSH private section (sshkey_private_serialize).
_PRIVATE_FIELDS = {
    "ssh-rsa": 6,
    "ssh-dss": 5,
    "ecdsa-sha2-nistp256": 3,
    "ecdsa-sha2-nistp384": 3,
    "ecdsa-sha2-nistp521": 3,
    "ssh-ed25519": 2,
}


class PrivateKeyError(ValueError):
    """A file that is not a usable private key; the message says what to do."""


@dataclass
class PrivateKeyFile:
    key: PrivateKeyTypes | SSHPrivateKeyTypes  # as cryptography loaded it
    comment: str  # OpenSSH files carry one; PEM files do not

    def public_key_line(self) -> str:
        # arg-type: a PEM file may hold a key SSH has no format for (X25519, DH, an EC curve
        # other than NIST P-256/384/521): cryptography refuses to render it with ValueError
        try:
            return sshkeys.public_key_from_cryptography(self.key, self.comment)  # type: ignore[arg-type]
        except ValueError:
            kind = type(self.key).__name__.lstrip("_").removesuffix("PrivateKey") or "this"
            curve = getattr(getattr(self.key, "curve", None), "name", None)
            kind += f" ({curve})" if curve else ""
            raise PrivateKeyError(
                f"SSH has no public key format for {kind} keys; give an RSA, ECDSA "
                "(NIST P-256/384/521) or Ed25519 key"
            ) from None


def _openssh_body(data: bytes) -> bytes | None:
    start = data.find(_OPENSSH_BEGIN)
    end = data.find(_OPENSSH_END)
    if start < 0 or end < start:
        return None
    inner = data[start + len(_OPENSSH_BEGIN) : end]
    try:
        return base64.b64decode(b"".join(inner.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def u32(self) -> int:
        if self.pos + 4 > len(self.data):
            raise ValueError("truncated")
        (value,) = struct.unpack(">I", self.data[self.pos : self.pos + 4])
        self.pos += 4
        return value

    def string(self) -> bytes:
        n = self.u32()
        if self.pos + n > len(self.data):
            raise ValueError("truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def _openssh_cipher_and_comment(blob: bytes) -> tuple[str, str]:
    """(cipher name, comment of the first key); the comment is "" when it cannot be read."""
    if not blob.startswith(_MAGIC):
        raise PrivateKeyError("not an OpenSSH private key (bad magic)")
    r = _Reader(blob[len(_MAGIC) :])
    try:
        cipher = r.string().decode("ascii", "replace")
        r.string()  # kdf name
        r.string()  # kdf options
        if r.u32() != 1:
            return cipher, ""
        r.string()  # public key
        if cipher != "none":
            return cipher, ""
        private = _Reader(r.string())
        private.u32(), private.u32()  # check ints
        key_type = private.string().decode("ascii", "replace")
        for _ in range(_PRIVATE_FIELDS.get(key_type, -1)):
            private.string()
        if key_type not in _PRIVATE_FIELDS:
            return cipher, ""
        return cipher, private.string().decode("utf-8", "replace")
    except ValueError:
        raise PrivateKeyError("the OpenSSH private key is truncated") from None


def load(data: bytes) -> PrivateKeyFile:
    """Raises PrivateKeyError for an encrypted key, a public key or anything else."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    if b"PUBLIC KEY" in data[:200] or data.lstrip().startswith((b"ssh-", b"ecdsa-")):
        raise PrivateKeyError("this is a public key; give the private key file")
    blob = _openssh_body(data)
    try:
        if blob is not None:
            cipher, comment = _openssh_cipher_and_comment(blob)
            if cipher != "none":
                raise PrivateKeyError(
                    "the private key is encrypted with a passphrase; decrypt a copy first "
                    "(ssh-keygen -p -N '' -f COPY)"
                )
            return PrivateKeyFile(serialization.load_ssh_private_key(data, None), comment)
        return PrivateKeyFile(serialization.load_pem_private_key(data, None), "")
    except TypeError:  # cryptography: "Password was not given but private key is encrypted"
        raise PrivateKeyError(
            "the private key is encrypted with a passphrase; decrypt a copy first "
            "(openssl pkey -in KEY -out COPY)"
        ) from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        if isinstance(exc, PrivateKeyError):
            raise
        raise PrivateKeyError(
            "not a private key in PKCS#8, traditional PEM or OpenSSH format"
        ) from None


def public_key_line(data: bytes) -> str:
    """What `ssh-keygen -y -f FILE` prints for this file's key; PrivateKeyError for a key SSH
    cannot use."""
    return load(data).public_key_line()
