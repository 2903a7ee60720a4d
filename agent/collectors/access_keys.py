"""Files that hold a long-lived AccessKey in plain text: where, and which key id.

A finding is an `LTAI...` AccessKey id with a secret next to it (a 30-character alphanumeric
string on the same line or within `NEAR_LINES` lines, or a value under a secret's name such as
`access_key_secret`/`AccessKeySecret`). STS ids (`STS.`) are temporary and skipped. Only the
path, the line and the key id leave this module: the secret is never copied into a message,
a log line or an exception. Paths in the messages are host paths (without the host root).
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from palisade.agent.collectors import accounts as accounts_collector
from palisade.agent.collectors import host_root as hr
from palisade.shared.proto import facts_pb2

NEAR_LINES = 2  # how far from the id a secret may sit

_ID = re.compile(r"(?<![A-Za-z0-9])LTAI[A-Za-z0-9]{12,30}(?![A-Za-z0-9])")
_SECRET = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{30}(?![A-Za-z0-9])")
# `"AccessKeySecret": "..."`, `access_key_secret = ...`, `aws_secret_access_key=...`,
# `ALIBABA_CLOUD_ACCESS_KEY_SECRET=...`: a secret's name followed by a non-empty value
_NAMED_SECRET = re.compile(
    r"(?i)(?:access[_-]?key[_-]?secret|secret[_-]?access[_-]?key|accesskeysecret)"
    r"[\"']?\s*[:=]\s*[\"']?[^\s\"',}]"
)


@dataclass(frozen=True)
class ScanConfig:
    """Which files to read, and the bounds that keep one scan cheap."""

    # relative to each account's home directory
    home_files: tuple[str, ...] = (
        ".aliyun/config.json",
        ".ossutilconfig",
        ".bashrc",
        ".bash_history",
        ".zsh_history",
        ".profile",
        ".bash_profile",
        ".aws/credentials",
        ".alibabacloud/credentials",
    )
    # glob patterns relative to each home (`*` and `?` stay within one directory level)
    home_patterns: tuple[str, ...] = ("*.env", "*/*.env")  # `*.env` matches `.env` too
    system_files: tuple[str, ...] = ("/etc/environment", "/etc/profile")
    max_file_bytes: int = 1 << 20
    max_files: int = 2000  # files opened per scan
    max_dir_entries: int = 5000  # entries looked at per directory for a pattern
    max_findings: int = 500


DEFAULT_CONFIG = ScanConfig()


@dataclass(frozen=True)
class KeyInText:
    line: int  # 1-based
    access_key_id: str


def _secret_lines(lines: list[str]) -> set[int]:
    """0-based indexes of the lines that hold something that looks like a secret."""
    found: set[int] = set()
    for index, line in enumerate(lines):
        if _NAMED_SECRET.search(line):
            found.add(index)
            continue
        id_spans = [m.span() for m in _ID.finditer(line)]
        for m in _SECRET.finditer(line):
            start, end = m.span()
            if not any(s <= start and end <= e for s, e in id_spans):
                found.add(index)
                break
    return found


def find_access_keys(text: str) -> list[KeyInText]:
    """The long-lived AccessKey ids in `text` that have a secret next to them."""
    lines = text.splitlines()
    secrets_at = _secret_lines(lines)
    if not secrets_at:
        return []
    out: list[KeyInText] = []
    seen: set[tuple[int, str]] = set()
    for index, line in enumerate(lines):
        if "LTAI" not in line:
            continue
        for m in _ID.finditer(line):
            if line[: m.start()].endswith("STS."):
                continue  # temporary credentials expire by themselves
            near = range(max(0, index - NEAR_LINES), index + NEAR_LINES + 1)
            if not any(i in secrets_at for i in near):
                continue
            key = (index + 1, m.group())
            if key not in seen:
                seen.add(key)
                out.append(KeyInText(index + 1, m.group()))
    return out


def _read_bounded(local: str, limit: int) -> str | None:
    """The file's text, or None when it is missing, not regular, unreadable or too big."""
    try:
        st = os.stat(local)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        with open(local, "rb") as f:
            data = f.read(limit + 1)
    except OSError:
        return None
    if len(data) > limit or b"\0" in data[:8192]:  # grew since stat, or binary
        return None
    return data.decode("utf-8", errors="replace")


def _expand_pattern(host_root: str, base: str, pattern: str, max_entries: int) -> Iterator[str]:
    """Host paths under `base` matching `pattern`, one path component per level."""
    parts = [p for p in pattern.split("/") if p]
    level = [base.rstrip("/") or "/"]
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        following: list[str] = []
        for directory in level:
            if not any(c in part for c in "*?["):
                following.append(f"{directory.rstrip('/')}/{part}")
                continue
            try:
                local = hr.resolve(host_root, directory)
                with os.scandir(local) as entries:
                    for n, entry in enumerate(entries):
                        if n >= max_entries:
                            break
                        if not fnmatch.fnmatchcase(entry.name, part):
                            continue
                        if not last and not entry.is_dir(follow_symlinks=False):
                            continue  # never follow a link out of the home
                        following.append(f"{directory.rstrip('/')}/{entry.name}")
            except OSError:
                continue
        level = sorted(following)
    yield from level


def _candidates(
    host_root: str, accounts: accounts_collector.Accounts, config: ScanConfig
) -> Iterator[tuple[str, str]]:
    """(host path, account name or "") of every file to look at, each once."""
    seen: set[str] = set()
    for path in config.system_files:
        if path not in seen:
            seen.add(path)
            yield path, ""
    homes: set[str] = set()
    for account in accounts.users:
        home = account.home.rstrip("/")
        if not home.startswith("/") or home in homes:
            continue  # homes shared by system accounts (e.g. "/") are read once
        homes.add(home)
        paths = [f"{home}/{name}" for name in config.home_files]
        for pattern in config.home_patterns:
            paths.extend(_expand_pattern(host_root, home or "/", pattern, config.max_dir_entries))
        for path in paths:
            path = re.sub("/{2,}", "/", path)
            if path not in seen:
                seen.add(path)
                yield path, account.name


def collect(
    host_root: str = "/",
    accounts: accounts_collector.Accounts | None = None,
    config: ScanConfig = DEFAULT_CONFIG,
) -> list[facts_pb2.PlaintextAccessKey]:
    """Every plain-text long-lived AccessKey in the configured files of the host."""
    if accounts is None:
        accounts = accounts_collector.collect(host_root)
    uid_names = accounts.uid_names()
    out: list[facts_pb2.PlaintextAccessKey] = []
    opened = 0
    for path, user in _candidates(host_root, accounts, config):
        if opened >= config.max_files or len(out) >= config.max_findings:
            break
        try:
            local = hr.resolve(host_root, path)
        except OSError:  # a symlink loop
            continue
        if not os.path.lexists(local):
            continue
        opened += 1
        text = _read_bounded(local, config.max_file_bytes)
        if text is None:
            continue
        owner = user
        if not owner:
            try:
                uid = os.stat(local).st_uid
                owner = uid_names.get(uid, str(uid))
            except OSError:
                owner = ""
        for found in find_access_keys(text):
            out.append(
                facts_pb2.PlaintextAccessKey(
                    path=path, line=found.line, access_key_id=found.access_key_id, user=owner
                )
            )
            if len(out) >= config.max_findings:
                break
    return out
