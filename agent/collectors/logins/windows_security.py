"""Windows logons from the Security log: events 4624 (success) and 4625 (failure), as the
rendered event XML `wevtutil qe Security /f:xml` prints (several <Event> elements one after
the other, no root element).

Each <Event> is parsed on its own, so one damaged event costs only itself. A document with a
DOCTYPE (the only way to declare entities, hence entity-expansion bombs) is refused whole;
events never carry one.

Mapping: `service` is the logon type's name (10 -> "rdp", 3 -> "network", 2 ->
"interactive", ...; with Network Level Authentication a failed RDP logon is type 3), `method`
the authentication package in lower case ("ntlm", "kerberos", "negotiate"), `user`
TargetUserName and `domain` TargetDomainName, `source_ip`/`source_port` IpAddress/IpPort
("-" is unknown; WorkstationName stands in as `source_host` when there is no address), `pid` and
`process` the requesting process, `hostname` the Computer. A 4625's `result` follows its
SubStatus (else Status): unknown account -> invalid_user; locked, disabled, expired, outside
hours or workstations, logon type not granted -> refused; anything else -> failure.
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime

from palisade.agent.collectors.logins.event import (
    FAILURE,
    INVALID_USER,
    REFUSED,
    SUCCESS,
    LoginEvent,
)
from palisade.agent.collectors.logins.source_address import split_source

_NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"
_EVENT_CHUNK = re.compile(r"<Event[\s>].*?</Event\s*>", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_FORBIDDEN = re.compile(r"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_SYSTEM_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]00:?00)?"
)

LOGON_TYPES = {
    2: "interactive",
    3: "network",
    4: "batch",
    5: "service",
    7: "unlock",
    8: "network_cleartext",
    9: "new_credentials",
    10: "rdp",
    11: "cached_interactive",
    12: "cached_rdp",
    13: "cached_unlock",
}

# NTSTATUS codes of 4625 (lower case, as the XML writes them).
_INVALID_USER_STATUS = frozenset({"0xc0000064"})
_REFUSED_STATUS = frozenset(
    {
        "0xc000006e",  # account restriction
        "0xc000006f",  # outside allowed hours
        "0xc0000070",  # workstation restriction
        "0xc0000071",  # password expired
        "0xc0000072",  # account disabled
        "0xc0000193",  # account expired
        "0xc0000224",  # password must change
        "0xc0000234",  # account locked out
        "0xc000015b",  # logon type not granted
        "0xc0000413",  # authentication firewall
    }
)


@dataclass
class WindowsParseResult:
    events: list[LoginEvent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    last_record_id: int | None = None  # highest EventRecordID seen (a bookmark for the reader)


def parse_windows_events_xml(document: str | bytes) -> WindowsParseResult:
    """The 4624/4625 logons in a wevtutil XML dump; other events are skipped silently."""
    result = WindowsParseResult()
    text = _decode(document) if isinstance(document, bytes) else document
    if _FORBIDDEN.search(text):
        result.errors.append("refused: the document declares a DOCTYPE or ENTITY")
        return result
    text = _COMMENT.sub("", text)  # an "<Event>" inside a comment is not an event
    found = False
    for number, chunk in enumerate(_EVENT_CHUNK.finditer(text), 1):
        found = True
        try:
            element = ET.fromstring(chunk.group(0))
        except (ET.ParseError, ValueError) as exc:
            result.errors.append(f"event {number}: not well-formed XML: {exc}")
            continue
        try:
            record_id, event = _logon_event(element, chunk.group(0))
        except ValueError as exc:
            result.errors.append(f"event {number}: {exc}")
            continue
        if record_id is not None and (
            result.last_record_id is None or record_id > result.last_record_id
        ):
            result.last_record_id = record_id
        if event is not None:
            result.events.append(event)
    if not found and text.strip():
        result.errors.append("no <Event> element found")
    return result


def read_windows_security_log(
    *,
    after_record_id: int | None = None,
    max_events: int = 1000,
    wevtutil: str = "wevtutil",
    timeout: float = 60.0,
) -> WindowsParseResult:
    """Runs wevtutil for the next 4624/4625 events (oldest first) after a record id.

    Windows only (reading the Security log also needs the "Manage auditing and security log"
    right, which LocalSystem has). Raises OSError when wevtutil is missing or fails.
    """
    if sys.platform != "win32":
        raise OSError("the Windows Security log can only be read on Windows")
    condition = "(EventID=4624 or EventID=4625)"
    if after_record_id is not None:
        condition += f" and EventRecordID>{int(after_record_id)}"
    args = [
        wevtutil,
        "qe",
        "Security",
        f"/q:*[System[{condition}]]",
        "/f:xml",
        f"/c:{int(max_events)}",
    ]
    try:
        completed = subprocess.run(args, capture_output=True, timeout=timeout, check=False)
    except (subprocess.TimeoutExpired, FileNotFoundError) as exc:
        raise OSError(f"wevtutil: {exc}") from exc
    if completed.returncode != 0:
        message = _decode(completed.stderr).strip() or f"exit status {completed.returncode}"
        raise OSError(f"wevtutil: {message}")
    return parse_windows_events_xml(completed.stdout)


def _logon_event(element: ET.Element, raw: str) -> tuple[int | None, LoginEvent | None]:
    system = _child(element, "System")
    if system is None:
        raise ValueError("no <System> element")
    record_id = _int(_child_text(system, "EventRecordID"))
    event_id = _int(_child_text(system, "EventID"))
    channel = _child_text(system, "Channel")
    if event_id not in (4624, 4625) or (channel is not None and channel != "Security"):
        return record_id, None
    created = _child(system, "TimeCreated")
    time = _system_time(created.get("SystemTime") if created is not None else None)
    if time is None:
        raise ValueError("no valid TimeCreated SystemTime")
    data = _event_data(element)
    logon_type = _int(data.get("LogonType"))
    status = _status(data.get("Status"))
    sub_status = _status(data.get("SubStatus"))
    if event_id == 4624:
        result = SUCCESS
    else:
        deciding = sub_status if sub_status not in (None, "0x0") else status
        if deciding in _INVALID_USER_STATUS:
            result = INVALID_USER
        elif deciding in _REFUSED_STATUS:
            result = REFUSED
        else:
            result = FAILURE
    source_ip, source_host = split_source(_value(data.get("IpAddress")) or "")
    if source_ip is None and source_host is None:
        source_host = _value(data.get("WorkstationName"))
    port = _int(data.get("IpPort"))
    package = _value(data.get("AuthenticationPackageName"))
    execution = _child(system, "Execution")
    if "ProcessId" in data:
        pid = _int(data["ProcessId"]) or None  # 0x0: no local process (a network logon)
    else:
        pid = _int(execution.get("ProcessID")) if execution is not None else None
    event = LoginEvent(
        time=time,
        result=result,
        service=LOGON_TYPES.get(logon_type, "windows") if logon_type is not None else "windows",
        raw=raw,
        user=_value(data.get("TargetUserName")),
        source_ip=source_ip,
        source_port=port if port and 0 < port <= 65535 else None,
        method=package.lower() if package else None,
        hostname=_child_text(system, "Computer"),
        pid=pid,
        source_host=source_host,
        domain=_value(data.get("TargetDomainName")),
        logon_type=logon_type,
        status=status if event_id == 4625 else None,
        sub_status=sub_status if event_id == 4625 else None,
        process=_value(data.get("ProcessName")),
    )
    return record_id, event


def _child(element: ET.Element, name: str) -> ET.Element | None:
    found = element.find(_NS + name)
    return found if found is not None else element.find(name)


def _child_text(element: ET.Element, name: str) -> str | None:
    child = _child(element, name)
    if child is None or child.text is None:
        return None
    return child.text.strip()


def _event_data(element: ET.Element) -> dict[str, str]:
    event_data = _child(element, "EventData")
    values: dict[str, str] = {}
    if event_data is None:
        return values
    for item in list(event_data):
        name = item.get("Name")
        if name and item.tag in (_NS + "Data", "Data"):
            values[name] = (item.text or "").strip()
    return values


def _value(text: str | None) -> str | None:
    """Event fields use "-" (and sometimes "") for "not applicable"."""
    if text is None or text in ("", "-"):
        return None
    return text


def _int(text: str | None) -> int | None:
    if not text:
        return None
    text = text.strip()
    try:
        number = int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        return None
    return number if 0 <= number < 2**63 else None


def _status(text: str | None) -> str | None:
    number = _int(text)
    return None if number is None else f"0x{number:x}"


def _system_time(text: str | None) -> datetime | None:
    match = _SYSTEM_TIME.fullmatch(text.strip()) if text else None
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError:
        return None


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    if data[:2] == b"<\x00":  # UTF-16LE without a BOM (PowerShell redirection)
        return data.decode("utf-16-le", "replace")
    if data[:2] == b"\x00<":
        return data.decode("utf-16-be", "replace")
    return data.decode("utf-8", "replace")
