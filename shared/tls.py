"""TLS material shared by the agent and the auditor: keys, CSRs, certificate pins.

Enrolment trusts the auditor's CA by a pin carried in the token (like kubeadm's
discovery hash): the base64url SHA-256 of the CA certificate's DER bytes.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from palisade.shared.atomic_file import write_atomic

# cryptography is imported inside the functions that need it: it costs ~14 MB of
# RSS, and a running agent only needs it once, at enrolment.

# Every auditor certificate carries this DNS name; agents verify it whatever
# address they dial, since trust comes from the pinned private CA.
AUDITOR_TLS_NAME = "palisade-auditor"


def new_private_key():
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def private_key_pem(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def certificate_pem(cert) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM)


def make_csr(key, common_name: str) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def certificate_pin(cert_der: bytes) -> str:
    """base64url (unpadded) SHA-256 of a certificate's DER encoding."""
    return base64.urlsafe_b64encode(hashlib.sha256(cert_der).digest()).rstrip(b"=").decode()


def pem_pin(cert_pem: bytes) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(cert_pem)
    return certificate_pin(cert.public_bytes(serialization.Encoding.DER))


def write_secret(path: Path, data: bytes) -> None:
    """Writes a file readable by its owner only (mode 0600 from its creation on), atomically."""
    write_atomic(path, data, mode=0o600)


def write_public(path: Path, data: bytes) -> None:
    """Writes a file atomically (its mode as the umask allows)."""
    write_atomic(path, data)
