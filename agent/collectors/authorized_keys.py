"""authorized_keys files: every file sshd would read for every local account, and its keys.

Every account is covered, nologin ones too: a key there is still worth reporting. Paths in
the messages are host paths (without the host root prefix).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys

from palisade.agent.collectors import accounts as accounts_collector
from palisade.agent.collectors import host_root as hr
from palisade.agent.collectors import sshd_config
from palisade.shared import sshkeys
from palisade.shared.proto import facts_pb2

MAX_FILE_BYTES = 1 << 20
RAW_LIMIT = 256  # characters of a malformed line kept in the report
_MISSING = (errno.ENOENT, errno.ENOTDIR)


def expand_path(template: str, account: accounts_collector.Account) -> str:
    """An AuthorizedKeysFile entry for one account: %h, %u, %U, %%; relative to home.

    Raises ValueError on an unknown token, as sshd refuses them.
    """
    out: list[str] = []
    tokens = {"h": account.home, "u": account.name, "U": str(account.uid), "%": "%"}
    i = 0
    while i < len(template):
        ch = template[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        token = template[i + 1 : i + 2]
        if token not in tokens:
            raise ValueError(f"unknown token %{token} in AuthorizedKeysFile {template!r}")
        out.append(tokens[token])
        i += 2
    path = "".join(out)
    if sys.platform == "win32":
        programdata = os.environ.get("ProgramData", r"C:\ProgramData")
        path = path.replace("__PROGRAMDATA__", programdata)
        return path if os.path.isabs(path) else os.path.join(account.home, path)
    if not path.startswith("/"):
        path = f"{account.home}/{path}"
    return re.sub("/{2,}", "/", path)  # "%h/x" with a home ending in "/" is still one file


def _key_message(line: sshkeys.AuthorizedKeyLine) -> facts_pb2.AuthorizedKey:
    if line.key is None:
        return facts_pb2.AuthorizedKey(
            line_number=line.line_number,
            options=line.options,
            malformed=True,
            error=line.error or "malformed line",
            raw=line.raw[:RAW_LIMIT],
        )
    key = line.key
    return facts_pb2.AuthorizedKey(
        line_number=line.line_number,
        options=line.options,
        key_type=key.key_type,
        key_blob=key.blob_b64,
        comment=key.comment,
        fingerprint_sha256=key.fingerprint_sha256,
        fingerprint_md5=key.fingerprint_md5,
        bits=key.bits,
    )


def read_file(
    host_root: str, path: str, user: str, uid_names: dict[int, str]
) -> facts_pb2.AuthorizedKeysFile | None:
    """The report for one file; None when it does not exist."""
    msg = facts_pb2.AuthorizedKeysFile(user=user, path=path)
    try:
        local = hr.resolve(host_root, path)
        st = os.stat(local)
    except OSError as exc:
        if exc.errno in _MISSING:
            return None
        msg.error = f"cannot stat: {exc.strerror or exc}"  # existence unknown, e.g. not root
        return msg
    msg.exists = True
    msg.owner = uid_names.get(st.st_uid, str(st.st_uid))
    msg.mode = st.st_mode & 0o7777
    if not stat.S_ISREG(st.st_mode):
        msg.error = "not a regular file"
        return msg
    if st.st_size > MAX_FILE_BYTES:
        msg.error = f"file is {st.st_size} bytes, over the {MAX_FILE_BYTES} byte limit"
        return msg
    try:
        with open(local, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        msg.error = f"cannot read: {exc.strerror or exc}"
        return msg
    if len(data) > MAX_FILE_BYTES:  # grew since stat
        msg.error = f"file is over the {MAX_FILE_BYTES} byte limit"
        return msg
    msg.keys.extend(_key_message(line) for line in sshkeys.parse_authorized_keys(data))
    return msg


def collect(
    host_root: str = "/",
    sshd: sshd_config.SshdConfig | None = None,
    accounts: accounts_collector.Accounts | None = None,
) -> list[facts_pb2.AuthorizedKeysFile]:
    """Every existing (or unreadable) authorized_keys file of every account of the host."""
    if accounts is None:
        accounts = accounts_collector.collect(host_root)
    if sshd is None:
        sshd = sshd_config.load(host_root)
    uid_names = accounts.uid_names()
    out: list[facts_pb2.AuthorizedKeysFile] = []
    for account in accounts.users:
        ctx = sshd_config.ConnectionContext(user=account.name, groups=accounts.groups_of(account))
        seen: set[str] = set()
        for template in sshd.settings_for(ctx).authorized_keys_files():
            try:
                path = expand_path(template, account)
            except ValueError as exc:
                out.append(
                    facts_pb2.AuthorizedKeysFile(user=account.name, path=template, error=str(exc))
                )
                continue
            if path in seen:
                continue
            seen.add(path)
            msg = read_file(host_root, path, account.name, uid_names)
            if msg is not None:
                out.append(msg)
    if sys.platform == "win32" and hr.is_live_root(host_root):
        # Win32-OpenSSH's default config sends administrators to this shared file.
        admin_file = os.path.join(sshd_config.ssh_dir(), "administrators_authorized_keys")
        msg = read_file(host_root, admin_file, "Administrators", uid_names)
        if msg is not None:
            out.append(msg)
    return out
