"""A real OpenSSH server on loopback for tests: its own host key, config and test account.

    with ssh_server(password_authentication=False) as server:
        server.authorize(public_key_line)
        ... connect to server.host:server.port as server.user ...

Needs root (useradd, sshd's privilege separation) and the sshd binary; `require_root` and
`require_binary` skip locally and fail in CI. Used by the key-pair tests and, later, by tests
that attack it (brute force) and watch what the agent reports.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.polling import wait_for
from tests.helpers.system import require_binary, require_root


@dataclass
class SshServer:
    host: str
    port: int
    user: str
    password: str
    home: Path
    config_path: Path
    log_path: Path
    proc: subprocess.Popen

    def authorize(self, *public_key_lines: str) -> Path:
        """Writes the account's ~/.ssh/authorized_keys (replacing it)."""
        ssh_dir = self.home / ".ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        keys = ssh_dir / "authorized_keys"
        keys.write_text("".join(line.strip() + "\n" for line in public_key_lines))
        os.chmod(keys, 0o600)
        uid, gid = _ids(self.user)
        for path in (ssh_dir, keys):
            os.chown(path, uid, gid)
        return keys

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _ids(user: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepting(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            return s.recv(4).startswith(b"SSH-")
    except OSError:
        return False


@contextlib.contextmanager
def ssh_server(
    password_authentication: bool = False, extra_config: str = ""
) -> Iterator[SshServer]:
    """Starts `sshd -D -e` on 127.0.0.1 with a temporary account; stops and removes it all."""
    require_root()
    sshd = require_binary("sshd")
    keygen = require_binary("ssh-keygen")
    useradd, userdel, chpasswd = (require_binary(b) for b in ("useradd", "userdel", "chpasswd"))
    # sshd reads authorized_keys as the user: the home must be reachable for that account,
    # which pytest's 0700 tmp_path is not.
    base = Path(tempfile.mkdtemp(prefix="palisade-sshd-"))
    os.chmod(base, 0o755)
    user = f"pk{uuid.uuid4().hex[:10]}"
    password = secrets.token_urlsafe(12)
    home = base / "home" / user
    home.parent.mkdir()
    os.chmod(home.parent, 0o755)  # explicit: the test process's umask may be 077
    proc = None
    created = False
    try:
        subprocess.run(
            [useradd, "-m", "-d", str(home), "-s", "/bin/sh", user], check=True, capture_output=True
        )
        created = True
        # A locked account ("!" password) may not log in at all without PAM: set a password.
        subprocess.run(
            [chpasswd], input=f"{user}:{password}\n", text=True, check=True, capture_output=True
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
        host_key = base / "ssh_host_ed25519_key"
        subprocess.run(
            [keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)],
            check=True,
            capture_output=True,
        )
        config = base / "sshd_config"
        config.write_text(
            f"HostKey {host_key}\n"
            "PidFile none\n"
            "UsePAM no\n"
            f"PasswordAuthentication {'yes' if password_authentication else 'no'}\n"
            "KbdInteractiveAuthentication no\n"
            "PubkeyAuthentication yes\n"
            "AuthorizedKeysFile .ssh/authorized_keys\n"
            "StrictModes no\n"
            "PermitRootLogin no\n"
            f"AllowUsers {user}\n"
            "LogLevel VERBOSE\n"
            "MaxStartups 100\n"
            f"{extra_config}"
        )
        port = free_port()
        log_path = base / "sshd.log"
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                [
                    sshd,
                    "-D",
                    "-e",
                    "-f",
                    str(config),
                    "-p",
                    str(port),
                    "-o",
                    "ListenAddress=127.0.0.1",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(lambda: proc.poll() is not None or _accepting(port), 15, what="sshd to listen")
        if proc.poll() is not None:
            raise AssertionError(f"sshd exited: {log_path.read_text()[-2000:]}")
        yield SshServer("127.0.0.1", port, user, password, home, config, log_path, proc)
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if created:
            # sshd's per-connection children may outlive the listener briefly
            for _ in range(20):
                if subprocess.run([userdel, user], capture_output=True).returncode == 0:
                    break
                time.sleep(0.25)
        shutil.rmtree(base, ignore_errors=True)


class SyslogRelay(threading.Thread):
    """Copies the complete lines of sshd's stderr log into `target` with a syslog header."""

    def __init__(
        self, source: Path, target: Path, pid: int, hostname: str = "palisade-sshd"
    ) -> None:
        super().__init__(daemon=True)
        self.source, self.target, self.pid, self.hostname = source, target, pid, hostname
        self.stop = threading.Event()
        self.lines: list[str] = []

    def run(self) -> None:
        offset, pending = 0, b""
        with open(self.target, "ab") as out:
            while True:
                stopping = self.stop.is_set()
                with open(self.source, "rb") as f:
                    f.seek(offset)
                    data = f.read()
                offset += len(data)
                *complete, pending = (pending + data).split(b"\n")
                for raw in complete:
                    line = raw.decode("utf-8", "replace").rstrip("\r")
                    if not line:
                        continue
                    stamp = time.strftime("%b %e %H:%M:%S")  # local time, as rsyslog writes
                    out.write(f"{stamp} {self.hostname} sshd[{self.pid}]: {line}\n".encode())
                    self.lines.append(line)
                out.flush()
                if stopping:
                    return
                time.sleep(0.05)


def ssh_client(server: SshServer, user: str, **auth) -> None:
    """One paramiko login (raises paramiko.AuthenticationException when refused)."""
    import paramiko

    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    try:
        client.connect(
            server.host,
            port=server.port,
            username=user,
            allow_agent=False,
            look_for_keys=False,
            timeout=15,
            banner_timeout=15,
            auth_timeout=15,
            **auth,
        )
        _, stdout, _ = client.exec_command("true")
        stdout.channel.recv_exit_status()
    finally:
        client.close()
