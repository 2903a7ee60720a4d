"""The auditor's own certificate authority.

It signs one server certificate for the gRPC port and one client certificate per
enrolled instance (subject CN = instance id). The CA key never leaves the data dir
(mode 0600).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from palisade.shared import tls

CLIENT_CERT_DAYS = 365
SERVER_CERT_DAYS = 825
CA_DAYS = 3650


class EnrolmentRefused(Exception):
    """A CSR or token that cannot be turned into a certificate."""


@dataclass
class IssuedCertificate:
    pem: bytes
    serial: int
    not_after: dt.datetime


class CertificateAuthority:
    def __init__(self, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate):
        self.key = key
        self.cert = cert

    @property
    def cert_pem(self) -> bytes:
        return tls.certificate_pem(self.cert)

    @property
    def pin(self) -> str:
        return tls.certificate_pin(self.cert.public_bytes(serialization.Encoding.DER))

    @classmethod
    def load_or_create(
        cls, directory: Path, now: dt.datetime | None = None
    ) -> CertificateAuthority:
        directory = Path(directory)
        key_path, cert_path = directory / "ca.key", directory / "ca.crt"
        if key_path.exists() and cert_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            return cls(key, cert)
        now = now or dt.datetime.now(dt.UTC)
        key = tls.new_private_key()
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Palisade"),
                x509.NameAttribute(NameOID.COMMON_NAME, "Palisade auditor CA"),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        tls.write_secret(key_path, tls.private_key_pem(key))
        tls.write_public(cert_path, tls.certificate_pem(cert))
        return cls(key, cert)

    def _builder(self, subject: x509.Name, public_key, now: dt.datetime, days: int):
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )

    def issue_client(self, csr_pem: bytes, instance_id: str, now: dt.datetime) -> IssuedCertificate:
        """Certifies the CSR's public key for instance_id, whatever name the CSR asks for."""
        try:
            csr = x509.load_pem_x509_csr(csr_pem)
        except ValueError as exc:
            raise EnrolmentRefused(f"the CSR is not a PEM PKCS#10 request: {exc}") from None
        if not csr.is_signature_valid:
            raise EnrolmentRefused("the CSR's signature does not verify")
        public_key = csr.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey) and public_key.key_size < 2048:
            raise EnrolmentRefused("the CSR's key is too weak (RSA >= 2048 or ECDSA required)")
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Palisade agents"),
                x509.NameAttribute(NameOID.COMMON_NAME, instance_id),
            ]
        )
        cert = (
            self._builder(subject, public_key, now, CLIENT_CERT_DAYS)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.UniformResourceIdentifier(f"palisade://instance/{instance_id}")]
                ),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        return IssuedCertificate(
            tls.certificate_pem(cert), cert.serial_number, cert.not_valid_after_utc
        )

    def server_identity(self, directory: Path, now: dt.datetime) -> tuple[bytes, bytes]:
        """(key PEM, chain PEM) for the gRPC port; the chain carries the CA for pinning."""
        directory = Path(directory)
        key_path, cert_path = directory / "server.key", directory / "server.crt"
        if key_path.exists() and cert_path.exists():
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            if cert.not_valid_after_utc - now > dt.timedelta(days=30):
                return key_path.read_bytes(), cert_path.read_bytes() + self.cert_pem
        key = tls.new_private_key()
        names: list[x509.GeneralName] = [
            x509.DNSName(tls.AUDITOR_TLS_NAME),
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]
        hostname = socket.gethostname()
        if hostname and hostname != "localhost":
            names.append(x509.DNSName(hostname))
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, tls.AUDITOR_TLS_NAME)])
        cert = (
            self._builder(subject, key.public_key(), now, SERVER_CERT_DAYS)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        key_pem, cert_pem = tls.private_key_pem(key), tls.certificate_pem(cert)
        tls.write_secret(key_path, key_pem)
        tls.write_public(cert_path, cert_pem)
        return key_pem, cert_pem + self.cert_pem
