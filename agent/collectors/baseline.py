"""Baseline facts: the configuration a hardening policy judges (Wazuh SCA style).

The agent only reports what is there; the policies live in the auditor. Three families:

- sshd's effective settings, every keyword (`sshd -T` on the live host, else parsed);
- accounts: UID 0 besides root, empty password hashes, password aging from /etc/shadow and
  the /etc/login.defs defaults;
- owner, group and mode of sshd_config, the host keys (private and public), each account's
  ~/.ssh and authorized_keys files.

On Windows the Guest account, RDP NLA, password and logon audit policy come from
windows_baseline.py. Files are read under a host root; the shadow and login.defs parsers never
raise on any text.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from dataclasses import dataclass

from palisade.agent.collectors import accounts as accounts_collector
from palisade.agent.collectors import authorized_keys as authorized_keys_collector
from palisade.agent.collectors import host_root as hr
from palisade.agent.collectors import sshd_config
from palisade.shared.proto import facts_pb2

# sshd's host keys when the config names none (sshd.c, default_hostkeys).
DEFAULT_HOST_KEYS = (
    "/etc/ssh/ssh_host_rsa_key",
    "/etc/ssh/ssh_host_ecdsa_key",
    "/etc/ssh/ssh_host_ed25519_key",
)
_MAX_BYTES = 4 << 20  # shadow / login.defs larger than this are not configuration
_SHADOW_AGING = ("last_change_days", "min_days", "max_days", "warn_days", "inactive_days")
_INT = re.compile(r"[+-]?\d{1,18}")
# login.defs numbers are read with strtol(base 0): 0x.. hex, 0.. octal.
_HEX = re.compile(r"[+-]?0[xX][0-9a-fA-F]{1,16}")
_OCTAL = re.compile(r"[+-]?0[0-7]{1,21}")


@dataclass(frozen=True)
class ShadowEntry:
    user: str
    password: str
    last_change_days: int | None
    min_days: int | None
    max_days: int | None
    warn_days: int | None
    inactive_days: int | None
    expire_days: int | None

    @property
    def password_state(self) -> str:
        if self.password == "":
            return "empty"
        if self.password.startswith("!"):
            return "locked"
        password = self.password
        if password.startswith(("$", "_")) or len(password) == 13:
            return "hash"  # crypt(3): $id$..., traditional or extended (_) DES
        return "no_password"  # "*", "x", "!!"-style placeholders: no password can match


def _day_field(text: str) -> int | None:
    """A shadow number field; empty or junk is None (shadow(5): the feature is disabled)."""
    text = text.strip()
    return int(text) if _INT.fullmatch(text) else None


def parse_shadow(text: str) -> list[ShadowEntry]:
    """Entries of a shadow file; lines without a name or with too few fields are skipped."""
    entries: list[ShadowEntry] = []
    seen: set[str] = set()
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 2 or not fields[0] or fields[0][0] in "+-#" or fields[0] in seen:
            continue
        seen.add(fields[0])
        fields += [""] * (9 - len(fields))
        days = [_day_field(f) for f in fields[2:8]]
        entries.append(ShadowEntry(fields[0], fields[1], *days))
    return entries


def parse_passwd_password_fields(text: str) -> dict[str, str]:
    """name -> the passwd file's password field ("x": look in shadow; "": no password)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) == 7 and fields[0] and fields[0][0] not in "+-#":
            out.setdefault(fields[0], fields[1])
    return out


def _defs_number(value: str) -> int | None:
    value = value.strip()
    try:
        if _HEX.fullmatch(value):
            return int(value, 16)
        if _OCTAL.fullmatch(value):
            return int(value, 8)
        if _INT.fullmatch(value):
            return int(value)
    except ValueError:
        return None
    return None


def parse_login_defs(text: str) -> list[tuple[str, str]]:
    """(name, value) settings of login.defs in file order, as shadow-utils' getdef.c reads
    them: `NAME value`, `#` comments, a value in double quotes loses them."""
    settings: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip(" \t\r\f\v")
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        if not parts:  # only Unicode white space
            continue
        name = parts[0]
        value = parts[1].strip() if len(parts) > 1 else ""
        if len(value) >= 2 and value[0] == '"' and value.endswith('"'):
            value = value[1:-1]
        settings.append((name, value))
    return settings


def login_defs_message(text: str | None) -> facts_pb2.LoginDefs:
    msg = facts_pb2.LoginDefs(exists=text is not None)
    if text is None:
        return msg
    values: dict[str, str] = {}
    for name, value in parse_login_defs(text):
        msg.settings.append(facts_pb2.ConfigEntry(key=name, value=value))
        values[name] = value  # getdef.c: the last one wins
    for name, field in (
        ("PASS_MAX_DAYS", "pass_max_days"),
        ("PASS_MIN_DAYS", "pass_min_days"),
        ("PASS_WARN_AGE", "pass_warn_age"),
        ("PASS_MIN_LEN", "pass_min_len"),
    ):
        number = _defs_number(values.get(name, ""))
        if number is not None:
            setattr(msg, field, number)
    msg.encrypt_method = values.get("ENCRYPT_METHOD", "")
    return msg


def _read(host_root: str, host_path: str) -> str | None:
    """The file's text; None when it cannot be read."""
    try:
        with open(hr.resolve(host_root, host_path), "rb") as f:
            return f.read(_MAX_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None


def _text(value: str) -> str:
    """Protobuf strings must be valid UTF-8: a lone surrogate (a byte that was not UTF-8,
    read with surrogateescape) becomes U+FFFD instead of failing the whole snapshot."""
    return value.encode("utf-8", "replace").decode("utf-8", "replace")


def accounts_message(
    accounts: accounts_collector.Accounts,
    shadow_text: str | None,
    passwd_text: str,
    login_defs_text: str | None,
) -> facts_pb2.AccountsBaseline:
    msg = facts_pb2.AccountsBaseline(shadow_readable=shadow_text is not None)
    msg.uid0_accounts.extend(
        _text(u.name) for u in accounts.users if u.uid == 0 and u.name != "root"
    )
    shadow = parse_shadow(shadow_text or "")
    empty = {e.user for e in shadow if e.password_state == "empty"}
    # A passwd entry with an empty password field needs no shadow entry to let anyone in.
    empty |= {name for name, pw in parse_passwd_password_fields(passwd_text).items() if pw == ""}
    known = [u.name for u in accounts.users]
    msg.empty_password_accounts.extend(
        _text(n) for n in [n for n in known if n in empty] + sorted(empty.difference(known))
    )
    for entry in shadow:
        aging = facts_pb2.PasswordAging(user=_text(entry.user), password_state=entry.password_state)
        for name in (*_SHADOW_AGING, "expire_days"):
            value = getattr(entry, name)
            if value is not None:
                setattr(aging, name, value)
        msg.password_aging.append(aging)
    msg.login_defs.CopyFrom(login_defs_message(login_defs_text))
    return msg


def _file_type(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "other"


def file_fact(
    host_root: str,
    path: str,
    role: str,
    uid_names: dict[int, str],
    gid_names: dict[int, str],
    user: str = "",
) -> facts_pb2.FileFact:
    """Owner, group and mode of one host path (symlinks followed inside the host root)."""
    msg = facts_pb2.FileFact(path=path, role=role, user=user)
    try:
        st = os.stat(hr.resolve(host_root, path))
    except FileNotFoundError:
        return msg
    except NotADirectoryError:
        return msg
    except OSError as exc:
        msg.error = f"cannot stat: {exc.strerror or exc}"
        return msg
    msg.exists = True
    msg.file_type = _file_type(st.st_mode)
    msg.owner = uid_names.get(st.st_uid, str(st.st_uid))
    msg.group = gid_names.get(st.st_gid, str(st.st_gid))
    msg.mode = st.st_mode & 0o7777
    return msg


def file_facts(
    host_root: str,
    config_path: str,
    settings: sshd_config.SshdSettings | None,
    accounts: accounts_collector.Accounts,
) -> list[facts_pb2.FileFact]:
    uid_names, gid_names = accounts.uid_names(), accounts.gid_names()
    out = [file_fact(host_root, config_path, "sshd_config", uid_names, gid_names)]
    host_keys = settings.args("hostkey") if settings is not None else ()
    for key in host_keys or DEFAULT_HOST_KEYS:
        out.append(file_fact(host_root, key, "host_key", uid_names, gid_names))
        out.append(file_fact(host_root, key + ".pub", "host_key_public", uid_names, gid_names))
    templates = (
        settings.authorized_keys_files()
        if settings is not None
        else sshd_config.DEFAULTS["authorizedkeysfile"]
    )
    for account in accounts.users:
        if not account.home.startswith("/"):
            continue
        ssh_dir = file_fact(
            host_root,
            account.home.rstrip("/") + "/.ssh",
            "ssh_dir",
            uid_names,
            gid_names,
            account.name,
        )
        if ssh_dir.exists or ssh_dir.error:
            out.append(ssh_dir)
        seen: set[str] = set()
        for template in templates:
            try:
                path = authorized_keys_collector.expand_path(template, account)
            except ValueError:
                continue  # the authorized_keys collector reports the bad template
            if path in seen:
                continue
            seen.add(path)
            fact = file_fact(host_root, path, "authorized_keys", uid_names, gid_names, account.name)
            if fact.exists or fact.error:
                out.append(fact)
    return out


def sshd_entries(settings: sshd_config.SshdSettings) -> list[facts_pb2.ConfigEntry]:
    return [
        facts_pb2.ConfigEntry(key=key, value=" ".join(args))
        for key, args in settings.values.items()
    ]


def collect(
    host_root: str = "/",
    sshd: sshd_config.SshdConfig | None = None,
    accounts: accounts_collector.Accounts | None = None,
) -> facts_pb2.Baseline:
    """The baseline facts of a host; a part that cannot be read is an entry in `errors`."""
    msg = facts_pb2.Baseline()

    def error(part: str, message: str) -> None:
        msg.errors.append(facts_pb2.CollectorError(collector=part, message=message[:500]))

    if sys.platform == "win32" and hr.is_live_root(host_root):
        from palisade.agent.collectors import windows_baseline

        msg.windows.CopyFrom(windows_baseline.collect(error))
    if sshd is None:
        sshd = sshd_config.load(host_root)
    if accounts is None:
        accounts = accounts_collector.collect(host_root)
    settings = None
    if sshd.exists or sshd.sshd_binary:
        settings = sshd.settings_for(None)
        msg.sshd_config.extend(sshd_entries(settings))
        msg.sshd_config_source = "sshd -T" if settings.source == "sshd -T" else "parsed"
    for problem in sshd.errors[:20]:
        if problem.line == 0 and not sshd.exists and settings is None:
            continue  # no sshd here at all: nothing to report
        error("sshd_config", f"{problem.path}:{problem.line}: {problem.message}")
    if sys.platform != "win32" or not hr.is_live_root(host_root):
        shadow_text = _read(host_root, "/etc/shadow")
        if shadow_text is None:
            error("shadow", "/etc/shadow is not readable")
        msg.accounts.CopyFrom(
            accounts_message(
                accounts,
                shadow_text,
                _read(host_root, "/etc/passwd") or "",
                _read(host_root, "/etc/login.defs"),
            )
        )
        msg.files.extend(file_facts(host_root, sshd.path, settings, accounts))
    return msg
