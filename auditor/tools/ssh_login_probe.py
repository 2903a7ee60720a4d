"""Logging in to an instance over SSH, as its owner would: once with a private key and, on a
separate connection, with a password (or, without one, asking which methods sshd offers).

It shows from the outside what a key pair replacement promises: if you can log in with the
new private key, the replacement worked; and a bound key pair disables password login.
"""

from __future__ import annotations

import socket
from dataclasses import asdict, dataclass, field

DEFAULT_TIMEOUT_S = 10.0


@dataclass
class LoginAttempt:
    method: str  # "publickey" | "password"
    result: str  # "accepted" | "refused" | "error"
    detail: str = ""
    offered_methods: list[str] = field(default_factory=list)  # what sshd said it would take


@dataclass
class ProbeReport:
    host: str
    port: int
    user: str
    host_key_sha256: str
    key_login: LoginAttempt
    password_login: LoginAttempt

    def to_dict(self) -> dict:
        return asdict(self)


def _transport(host: str, port: int, timeout: float):
    import paramiko

    sock = socket.create_connection((host, port), timeout=timeout)
    transport = paramiko.Transport(sock)
    transport.banner_timeout = transport.auth_timeout = timeout
    transport.start_client(timeout=timeout)
    return transport


def _host_key(transport) -> str:
    from palisade.shared.sshkeys import fingerprint_sha256

    return fingerprint_sha256(transport.get_remote_server_key().asbytes())


def load_paramiko_key(key_path: str):
    """Any private key `palisade keypair pubkey` reads, as a paramiko key. paramiko's own
    loaders miss some (PKCS#8 RSA), so the key goes through cryptography and OpenSSH format."""
    import io

    import paramiko
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    from palisade.auditor.tools import ssh_private_keys

    with open(key_path, "rb") as f:
        key = ssh_private_keys.load(f.read(1 << 20)).key
    classes = (
        (rsa.RSAPrivateKey, paramiko.RSAKey),
        (ec.EllipticCurvePrivateKey, paramiko.ECDSAKey),
        (ed25519.Ed25519PrivateKey, paramiko.Ed25519Key),
    )
    cls = next((c for t, c in classes if isinstance(key, t)), None)
    if cls is None:
        raise ValueError(f"{type(key).__name__} keys are not supported for logging in")
    text = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode("ascii")
    return cls.from_private_key(io.StringIO(text))


def try_key(
    host: str, port: int, user: str, key_path: str, timeout: float
) -> tuple[LoginAttempt, str]:
    """Public-key login; returns the attempt and the server's host key fingerprint."""
    import paramiko

    try:
        pkey = load_paramiko_key(key_path)
    except Exception as exc:
        return LoginAttempt("publickey", "error", f"cannot load the key: {exc}"), ""
    try:
        transport = _transport(host, port, timeout)
    except (OSError, paramiko.SSHException) as exc:
        return LoginAttempt("publickey", "error", f"cannot connect: {exc}"), ""
    with transport:
        host_key = _host_key(transport)
        try:
            remaining = transport.auth_publickey(user, pkey)
        except paramiko.BadAuthenticationType as exc:
            return LoginAttempt(
                "publickey", "refused", "sshd does not offer publickey", list(exc.allowed_types)
            ), host_key
        except paramiko.AuthenticationException as exc:
            return LoginAttempt("publickey", "refused", str(exc) or "key not accepted"), host_key
        except (OSError, paramiko.SSHException) as exc:
            return LoginAttempt("publickey", "error", str(exc)), host_key
        if remaining or not transport.is_authenticated():
            return LoginAttempt(
                "publickey", "refused", "a further method is required", list(remaining)
            ), host_key
        return LoginAttempt("publickey", "accepted", "logged in"), host_key


def try_password(
    host: str, port: int, user: str, password: str | None, timeout: float
) -> LoginAttempt:
    """Password login with `password`; without one, only whether sshd offers passwords."""
    import paramiko

    try:
        transport = _transport(host, port, timeout)
    except (OSError, paramiko.SSHException) as exc:
        return LoginAttempt("password", "error", f"cannot connect: {exc}")
    with transport:
        try:
            transport.auth_none(user)
            return LoginAttempt("password", "accepted", "sshd let the user in with no credentials")
        except paramiko.BadAuthenticationType as exc:
            offered = list(exc.allowed_types)
        except (OSError, paramiko.SSHException) as exc:
            return LoginAttempt("password", "error", str(exc))
        password_offered = "password" in offered or "keyboard-interactive" in offered
        if not password_offered:
            return LoginAttempt(
                "password", "refused", "sshd does not offer password login", offered
            )
        if password is None:
            return LoginAttempt(
                "password", "offered", "sshd offers password login (no password was tried)", offered
            )
        try:
            if "password" in offered:
                transport.auth_password(user, password)
            else:
                transport.auth_interactive(user, lambda _t, _i, prompts: [password] * len(prompts))
        except paramiko.AuthenticationException as exc:
            return LoginAttempt("password", "refused", str(exc) or "wrong password", offered)
        except (OSError, paramiko.SSHException) as exc:
            return LoginAttempt("password", "error", str(exc), offered)
        return LoginAttempt("password", "accepted", "logged in with the password", offered)


def _ssh_banner(host: str, port: int, timeout: float) -> str | None:
    """None when an SSH server greets us at host:port within `timeout`, else why not. A bare
    TCP accept proves nothing (a firewall or proxy may accept and stay silent); the
    identification line does (RFC 4253 4.2: the server may send other lines before it)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            received = b""
            while len(received) < 8192:
                chunk = sock.recv(1024)
                if not chunk:
                    return "closed without an SSH greeting"
                received += chunk
                if any(line.startswith(b"SSH-") for line in received.split(b"\n")[:-1]):
                    return None
            return "no SSH greeting"
    except TimeoutError:
        return "no SSH greeting (timed out)"
    except OSError as exc:
        return exc.strerror or str(exc)


def first_reachable(
    hosts: list[str], port: int, timeout: float
) -> tuple[str | None, list[tuple[str, str]]]:
    """The first of `hosts` where an SSH server answers on `port`, and why each one tried
    before it did not (an instance's public address is often not reachable from where the
    auditor runs, its private one may be)."""
    failed: list[tuple[str, str]] = []
    for host in dict.fromkeys(h for h in hosts if h):
        why = _ssh_banner(host, port, timeout)
        if why is None:
            return host, failed
        failed.append((host, why))
    return None, failed


def probe(
    host: str,
    port: int,
    user: str,
    key_path: str,
    password: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> ProbeReport:
    key_login, host_key = try_key(host, port, user, key_path, timeout)
    password_login = try_password(host, port, user, password, timeout)
    return ProbeReport(host, port, user, host_key, key_login, password_login)
