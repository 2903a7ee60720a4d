"""Local accounts of a host, read from its own files.

{root}/etc/passwd and {root}/etc/group are parsed directly (not the pwd/grp modules) because
the host root may be a mounted image whose accounts differ from this machine's.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from palisade.agent.collectors import host_root as hr


@dataclass(frozen=True)
class Account:
    name: str
    uid: int  # -1 where the platform has no numeric ids (Windows)
    gid: int
    home: str
    shell: str


@dataclass(frozen=True)
class Group:
    name: str
    gid: int
    members: tuple[str, ...]


@dataclass
class Accounts:
    users: list[Account] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)

    def uid_names(self) -> dict[int, str]:
        # The first entry wins, as with getpwuid().
        names: dict[int, str] = {}
        for user in self.users:
            names.setdefault(user.uid, user.name)
        return names

    def gid_names(self) -> dict[int, str]:
        names: dict[int, str] = {}
        for group in self.groups:
            names.setdefault(group.gid, group.name)
        return names

    def groups_of(self, user: Account) -> tuple[str, ...]:
        """The primary group's name, then every group listing the user as a member."""
        names: list[str] = []
        primary = self.gid_names().get(user.gid)
        if primary is not None:
            names.append(primary)
        for group in self.groups:
            if user.name in group.members and group.name not in names:
                names.append(group.name)
        return tuple(names)


def parse_passwd(text: str) -> list[Account]:
    """Accounts of a passwd file; malformed and NIS (`+`/`-`) lines are skipped."""
    users: list[Account] = []
    seen: set[str] = set()
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) != 7 or not fields[0] or fields[0][0] in "+-#":
            continue
        name, _, uid, gid, _, home, shell = fields
        if not (uid.isdigit() and gid.isdigit()) or name in seen:
            continue  # the first entry for a name wins, as with getpwnam()
        seen.add(name)
        users.append(Account(name, int(uid), int(gid), home, shell))
    return users


def parse_group(text: str) -> list[Group]:
    """Groups of a group file; malformed and NIS lines are skipped."""
    groups: list[Group] = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) != 4 or not fields[0] or fields[0][0] in "+-#":
            continue
        if not fields[2].isdigit():
            continue
        members = tuple(m for m in fields[3].split(",") if m)
        groups.append(Group(fields[0], int(fields[2]), members))
    return groups


def _read(host_root: str, host_path: str) -> str:
    try:
        with open(hr.resolve(host_root, host_path), "rb") as f:
            return f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


# Profile folders that are not accounts.
_WINDOWS_NOT_USERS = {"all users", "default", "default user", "public", "desktop.ini"}


def _windows_accounts() -> Accounts:
    users_dir = os.path.join(os.environ.get("SystemDrive", "C:") + os.sep, "Users")
    users = []
    try:
        entries = sorted(os.scandir(users_dir), key=lambda e: e.name.lower())
    except OSError:
        entries = []
    for entry in entries:
        if entry.is_dir() and entry.name.lower() not in _WINDOWS_NOT_USERS:
            users.append(Account(entry.name, -1, -1, entry.path, ""))
    return Accounts(users=users)


def collect(host_root: str = "/") -> Accounts:
    """The host's accounts; an unreadable passwd or group file gives empty lists."""
    if sys.platform == "win32" and hr.is_live_root(host_root):
        return _windows_accounts()
    return Accounts(
        users=parse_passwd(_read(host_root, "/etc/passwd")),
        groups=parse_group(_read(host_root, "/etc/group")),
    )
