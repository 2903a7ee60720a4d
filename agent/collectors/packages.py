"""Installed packages with versions, for vulnerability matching.

- dpkg: `{root}/var/lib/dpkg/status` is parsed directly (fast, and works on a mounted image);
  a package counts when its files are on disk (status installed, half-configured, unpacked,
  triggers-*), not when only its conffiles remain.
- rpm: `rpm -qa --queryformat` on the live host when rpm is there.
- Windows: the Uninstall registry keys (64- and 32-bit views), as Programs and Features shows.

A package database changes rarely while snapshots are frequent, so each result is cached
against the database's identity (file mtime/size/inode, registry key write times): an
unchanged database costs a few stat calls per snapshot. The cache holds the packages
serialized (a Snapshot with only `packages` set): a tenth of the memory of a list of messages,
and merged into a snapshot in one call (`serialized()`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Hashable

from palisade.agent.collectors import host_root as hr
from palisade.shared.proto import facts_pb2

DPKG_STATUS = "/var/lib/dpkg/status"
RPM_DB_DIRS = ("/var/lib/rpm", "/usr/lib/sysimage/rpm")
# sqlite (RHEL 9, Fedora), Berkeley DB (RHEL 7/8), ndb (SUSE)
_RPM_DB_FILES = frozenset({"rpmdb.sqlite", "rpmdb.sqlite-wal", "Packages", "Packages.db"})
# dpkg states in which the package's files are on disk.
_DPKG_PRESENT = frozenset(
    {"installed", "half-configured", "unpacked", "half-installed", "triggers-awaited",
     "triggers-pending"}
)  # fmt: skip
_RPM_FORMAT = (
    "%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\t%{VENDOR}\\n"
)
_RPM_TIMEOUT_S = 120
_UNINSTALL_KEYS = (
    (r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall", "x64"),
    (r"SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall", "x86"),
)


def parse_dpkg_status(data: bytes) -> list[facts_pb2.Package]:
    """Packages of a dpkg status file whose files are installed; never raises."""
    text = data.decode("utf-8", errors="replace")
    out: list[facts_pb2.Package] = []
    for stanza in text.split("\n\n"):
        if not stanza.strip():
            continue
        fields: dict[str, str] = {}
        for line in stanza.split("\n"):
            if not line or line[0] in " \t":
                continue  # continuation lines of Description, Conffiles, ...
            name, sep, value = line.partition(":")
            if sep and name in ("Package", "Status", "Version", "Architecture", "Source"):
                fields[name] = value.strip()
        status = fields.get("Status", "").split()
        if not fields.get("Package") or len(status) != 3 or status[2] not in _DPKG_PRESENT:
            continue
        source = fields.get("Source", "").split(" ", 1)[0]  # "src (1.2-3)": a binNMU
        out.append(
            facts_pb2.Package(
                name=fields["Package"],
                version=fields.get("Version", ""),
                arch=fields.get("Architecture", ""),
                source="dpkg",
                source_package=source,
            )
        )
    return out


def parse_rpm_query(text: str) -> list[facts_pb2.Package]:
    """Lines of `rpm -qa --queryformat` with _RPM_FORMAT; gpg-pubkey entries are skipped."""
    out: list[facts_pb2.Package] = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 5 or not parts[0] or parts[0] == "gpg-pubkey":
            continue
        name, version, arch, source_rpm, vendor = parts
        source = source_rpm if source_rpm != "(none)" else ""
        out.append(
            facts_pb2.Package(
                name=name,
                version=version,
                arch=arch if arch != "(none)" else "",
                source="rpm",
                source_package=_rpm_source_name(source),
                vendor=vendor if vendor != "(none)" else "",
            )
        )
    return out


def _rpm_source_name(source_rpm: str) -> str:
    """ "openssl-3.0.7-27.el9.src.rpm" -> "openssl" (the name before version-release)."""
    parts = source_rpm.removesuffix(".rpm").rsplit("-", 2)
    return parts[0] if len(parts) == 3 else source_rpm


class _Cache:
    """One cached result per source, valid while the source's identity is unchanged."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Hashable, bytes]] = {}
        self._lock = threading.Lock()

    def get(
        self, source: str, identity: Hashable, load: Callable[[], list[facts_pb2.Package]]
    ) -> bytes:
        """The packages as a serialized Snapshot holding only them."""
        with self._lock:
            entry = self._entries.get(source)
            if entry is not None and entry[0] == identity:
                return entry[1]
        data = facts_pb2.Snapshot(packages=load()).SerializeToString()
        with self._lock:
            self._entries[source] = (identity, data)
        return data


_CACHE = _Cache()


def _stat_identity(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _dpkg(host_root: str) -> bytes:
    path = hr.resolve(host_root, DPKG_STATUS)
    identity = _stat_identity(path)
    if identity is None:
        return b""

    def load() -> list[facts_pb2.Package]:
        with open(path, "rb") as f:
            return parse_dpkg_status(f.read())

    return _CACHE.get(f"dpkg:{path}", identity, load)


def _rpm_identity() -> tuple | None:
    """The rpm database files' identities (rpmdb.sqlite, Packages, ...)."""
    found = []
    for directory in RPM_DB_DIRS:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name not in _RPM_DB_FILES:
                continue  # lock and shared-memory files change on every read
            try:
                st = entry.stat()
            except OSError:
                continue
            found.append((entry.path, st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(found) or None


def _rpm() -> bytes:
    binary = shutil.which("rpm")
    identity = _rpm_identity()
    if binary is None or identity is None:
        return b""

    def load() -> list[facts_pb2.Package]:
        done = subprocess.run(
            [binary, "-qa", "--queryformat", _RPM_FORMAT],
            capture_output=True,
            timeout=_RPM_TIMEOUT_S,
        )
        if done.returncode != 0:
            raise OSError(f"rpm -qa: {done.stderr.decode('utf-8', 'replace').strip()[:300]}")
        return parse_rpm_query(done.stdout.decode("utf-8", errors="replace"))

    return _CACHE.get("rpm", identity, load)


def _windows() -> bytes:  # pragma: no cover - Windows only
    if sys.platform != "win32":  # never true (the caller checks); tells mypy winreg is complete
        raise OSError("the registry exists on Windows only")
    import winreg

    views = []
    for path, arch in _UNINSTALL_KEYS:
        try:
            key = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, path)
        except OSError:
            continue
        views.append((key, arch, winreg.QueryInfoKey(key)[2]))  # last write time
    identity = tuple((arch, written) for _, arch, written in views)

    def value(key, name: str) -> str:
        try:
            data, _ = winreg.QueryValueEx(key, name)
        except OSError:
            return ""
        return str(data).strip()

    def load() -> list[facts_pb2.Package]:
        out: list[facts_pb2.Package] = []
        seen: set[tuple[str, str, str]] = set()
        for key, arch, _ in views:
            for index in range(winreg.QueryInfoKey(key)[0]):
                try:
                    with winreg.OpenKey(key, winreg.EnumKey(key, index)) as entry:
                        name = value(entry, "DisplayName")
                        # Updates and components are not what Programs and Features lists.
                        if not name or value(entry, "SystemComponent") == "1":
                            continue
                        if value(entry, "ParentKeyName"):
                            continue
                        version = value(entry, "DisplayVersion")
                        if (name, version, arch) in seen:
                            continue
                        seen.add((name, version, arch))
                        out.append(
                            facts_pb2.Package(
                                name=name,
                                version=version,
                                arch=arch,
                                source="windows",
                                vendor=value(entry, "Publisher"),
                            )
                        )
                except OSError:
                    continue
        return out

    try:
        return _CACHE.get("windows", identity, load)
    finally:
        for key, _, _ in views:
            key.Close()


def serialized(host_root: str = "/") -> bytes:
    """The host's installed packages (every package manager found) as a serialized Snapshot
    with only `packages` set: `snapshot.MergeFromString()` appends them. Cached while the
    databases are unchanged."""
    if sys.platform == "win32" and hr.is_live_root(host_root):
        return _windows()
    data = _dpkg(host_root)
    if hr.is_live_root(host_root):
        data += _rpm()  # concatenated serializations merge: repeated fields append
    return data


def collect(host_root: str = "/") -> list[facts_pb2.Package]:
    """The host's installed packages as messages."""
    return list(facts_pb2.Snapshot.FromString(serialized(host_root)).packages)
