"""Windows baseline facts: the Guest account, RDP Network Level Authentication, the password
policy and the logon audit policy.

Read from the text the system's own tools print (English locale), so the parsers are plain
functions tested on sample outputs anywhere; only `collect()` runs the tools, on Windows:

- `net accounts`: password ages and length, history, lockout threshold/duration/window;
- `secedit /export /areas SECURITYPOLICY`: PasswordComplexity (net accounts does not show it)
  and EnableGuestAccount / NewGuestName, in an INI file (needs administrator rights);
- `net user <guest>`: "Account active";
- `auditpol /get /category:"Logon/Logoff"`: Success / Failure per subcategory;
- `reg query ...\\WinStations\\RDP-Tcp /v UserAuthentication`: 1 = NLA required.

No parser raises on any text; what it cannot find stays unset.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

from palisade.shared.proto import facts_pb2

RDP_TCP_KEY = r"HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp"
_TIMEOUT_S = 30
_NUMBER = re.compile(r"\d{1,9}")
_NET_ACCOUNTS_FIELDS = {
    "minimum password age (days)": "min_age_days",
    "maximum password age (days)": "max_age_days",
    "minimum password length": "min_length",
    "length of password history maintained": "history_length",
    "lockout threshold": "lockout_threshold",
    "lockout duration (minutes)": "lockout_duration_minutes",
    "lockout observation window (minutes)": "lockout_window_minutes",
}
# Words net accounts prints instead of a number, and the number they stand for.
_NET_ACCOUNTS_WORDS = {"never": 0, "unlimited": 0, "none": 0}
_AUDIT_LINE = re.compile(
    r"\s+(?P<name>\S.*?)\s{2,}(?P<setting>Success and Failure|Success|Failure|No Auditing)\s*"
)
_REG_VALUE = re.compile(r"\s+(?P<name>\S+)\s+(?P<type>REG_\w+)\s+(?P<data>.*?)\s*")


def _label_value(line: str) -> tuple[str, str] | None:
    """`Label:      value` (net accounts) -> (label in lower case, value)."""
    label, sep, value = line.rpartition(":")
    if not sep or not label.strip():
        return None
    return label.strip().rstrip("?").strip().lower(), value.strip()


def parse_net_accounts(text: str) -> dict[str, int]:
    """The policy numbers `net accounts` prints, by WindowsPasswordPolicy field name.

    "Never" / "Unlimited" / "None" are 0 (no expiry, no lockout, no history)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        pair = _label_value(line)
        if pair is None:
            continue
        label, value = pair
        field = _NET_ACCOUNTS_FIELDS.get(label)
        if field is None:
            continue
        if _NUMBER.fullmatch(value):
            out[field] = int(value)
        elif value.lower() in _NET_ACCOUNTS_WORDS:
            out[field] = _NET_ACCOUNTS_WORDS[value.lower()]
    return out


def parse_net_user_active(text: str) -> bool | None:
    """`net user NAME`'s "Account active  Yes|No"; None when absent (no such user)."""
    for line in text.splitlines():
        if line.lower().startswith("account active"):
            value = line[len("account active") :].strip().lower()
            if value in ("yes", "no"):
                return value == "yes"
    return None


def parse_auditpol(text: str) -> list[facts_pb2.AuditSetting]:
    """Subcategory settings from `auditpol /get` text output (category lines are skipped:
    they carry no setting)."""
    out: list[facts_pb2.AuditSetting] = []
    for line in text.splitlines():
        match = _AUDIT_LINE.fullmatch(line)
        if match is None:
            continue
        setting = match["setting"]
        out.append(
            facts_pb2.AuditSetting(
                subcategory=match["name"],
                success=setting.startswith("Success"),
                failure=setting.endswith("Failure"),
            )
        )
    return out


def parse_reg_query(text: str) -> dict[str, tuple[str, str]]:
    """`reg query KEY /v NAME` output: value name -> (REG_ type, data as printed)."""
    out: dict[str, tuple[str, str]] = {}
    for line in text.splitlines():
        match = _REG_VALUE.fullmatch(line)
        if match is not None:
            out[match["name"]] = (match["type"], match["data"])
    return out


def reg_dword(text: str, name: str) -> int | None:
    """A REG_DWORD value from `reg query` output ("0x1"), None when absent or not a DWORD."""
    found = parse_reg_query(text).get(name)
    if found is None or found[0] != "REG_DWORD":
        return None
    try:
        return int(found[1], 16) if found[1].lower().startswith("0x") else int(found[1])
    except ValueError:
        return None


def parse_secedit(text: str) -> dict[str, dict[str, str]]:
    """A secedit export (INI): section -> key -> value (quotes removed)."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.lstrip("\ufeff").splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        elif current is not None and "=" in line and not line.startswith(";"):
            key, _, value = line.partition("=")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            current[key.strip()] = value
    return sections


def _secedit_number(system_access: dict[str, str], key: str) -> int | None:
    value = system_access.get(key, "").strip()
    return int(value) if re.fullmatch(r"-?\d{1,9}", value) else None


def password_policy(net_accounts_text: str, secedit_text: str) -> facts_pb2.WindowsPasswordPolicy:
    msg = facts_pb2.WindowsPasswordPolicy()
    for field, value in parse_net_accounts(net_accounts_text).items():
        setattr(msg, field, value)
    access = parse_secedit(secedit_text).get("System Access", {})
    complexity = _secedit_number(access, "PasswordComplexity")
    if complexity is not None:
        msg.complexity_required = complexity == 1
    if not msg.HasField("min_length"):
        number = _secedit_number(access, "MinimumPasswordLength")
        if number is not None and number >= 0:
            msg.min_length = number
    if not msg.HasField("lockout_threshold"):
        number = _secedit_number(access, "LockoutBadCount")
        if number is not None and number >= 0:
            msg.lockout_threshold = number
    if not msg.HasField("max_age_days"):
        number = _secedit_number(access, "MaximumPasswordAge")
        if number is not None:
            msg.max_age_days = max(number, 0)  # -1: never expires
    return msg


def guest_name(secedit_text: str) -> str:
    """The built-in guest account's name (it may be renamed by policy)."""
    return parse_secedit(secedit_text).get("System Access", {}).get("NewGuestName") or "Guest"


def guest_enabled(net_user_text: str, secedit_text: str) -> bool | None:
    active = parse_net_user_active(net_user_text)
    if active is not None:
        return active
    flag = _secedit_number(
        parse_secedit(secedit_text).get("System Access", {}), "EnableGuestAccount"
    )
    return None if flag is None else flag == 1


def baseline_from_outputs(
    *,
    net_accounts: str = "",
    secedit: str = "",
    net_user_guest: str = "",
    auditpol_logon: str = "",
    reg_rdp_tcp: str = "",
) -> facts_pb2.WindowsBaseline:
    """The facts from the tools' outputs ("" for a tool that could not run)."""
    msg = facts_pb2.WindowsBaseline()
    msg.password_policy.CopyFrom(password_policy(net_accounts, secedit))
    guest = guest_enabled(net_user_guest, secedit)
    if guest is not None:
        msg.guest_enabled = guest
    nla = reg_dword(reg_rdp_tcp, "UserAuthentication")
    if nla is not None:
        msg.rdp_nla_required = nla == 1
    msg.logon_audit.extend(parse_auditpol(auditpol_logon))
    return msg


def decode_console(data: bytes) -> str:
    """Console tools write the OEM code page (UTF-16 when redirected by some tools)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[1:2] == b"\x00":
        return data.decode("utf-16", errors="replace")
    encoding = "oem" if sys.platform == "win32" else "utf-8"
    return data.decode(encoding, errors="replace")


def run_tool(args: list[str]) -> str:
    """A tool's output; raises OSError when it cannot run or fails."""
    try:
        done = subprocess.run(args, capture_output=True, timeout=_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as exc:
        raise OSError(f"{args[0]}: {exc}") from exc
    if done.returncode != 0:
        message = decode_console(done.stderr or done.stdout).strip()[:300]
        raise OSError(f"{' '.join(args[:2])}: exit {done.returncode}: {message}")
    return decode_console(done.stdout)


def export_security_policy() -> str:
    """`secedit /export` of the security policy (System Access) as text."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "policy.inf")
        run_tool(["secedit", "/export", "/cfg", path, "/areas", "SECURITYPOLICY", "/quiet"])
        with open(path, "rb") as f:
            data = f.read()
    return data.decode("utf-16" if data[:2] == b"\xff\xfe" else "utf-8", errors="replace")


# The tools take a few hundred milliseconds together and policies change rarely: the result
# is reused for this long (snapshots come every few seconds).
CACHE_SECONDS = 300.0
_cached: tuple[float, facts_pb2.WindowsBaseline, list[tuple[str, str]]] | None = None


def collect(
    error: Callable[[str, str], None], max_age_s: float = CACHE_SECONDS
) -> facts_pb2.WindowsBaseline:
    """Runs the tools (Windows only), at most every `max_age_s`; each one that fails is
    reported through `error`."""
    global _cached
    now = time.monotonic()
    if _cached is None or now - _cached[0] >= max_age_s:
        failures: list[tuple[str, str]] = []
        msg = _run_tools(lambda part, message: failures.append((part, message)))
        _cached = (now, msg, failures)
    for part, message in _cached[2]:
        error(part, message)
    result = facts_pb2.WindowsBaseline()
    result.CopyFrom(_cached[1])
    return result


def _run_tools(error: Callable[[str, str], None]) -> facts_pb2.WindowsBaseline:
    outputs: dict[str, str] = {}

    def attempt(name: str, read: Callable[[], str]) -> str:
        try:
            outputs[name] = read()
        except OSError as exc:
            error(f"windows.{name}", str(exc))
            outputs[name] = ""
        return outputs[name]

    attempt("net_accounts", lambda: run_tool(["net", "accounts"]))
    secedit = attempt("secedit", export_security_policy)
    attempt("net_user_guest", lambda: run_tool(["net", "user", guest_name(secedit)]))
    attempt("auditpol_logon", lambda: run_tool(["auditpol", "/get", "/category:Logon/Logoff"]))
    attempt(
        "reg_rdp_tcp", lambda: run_tool(["reg", "query", RDP_TCP_KEY, "/v", "UserAuthentication"])
    )
    return baseline_from_outputs(**outputs)
