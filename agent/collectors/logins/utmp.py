"""Logins from the binary login records: wtmp (and utmp) hold successful logins, btmp failed
ones. The layout is glibc's `struct utmp` on Linux (x86_64, aarch64, ...; 384 bytes, little
endian on those machines):

    short ut_type; (2 bytes padding) pid_t ut_pid; char ut_line[32]; char ut_id[4];
    char ut_user[32]; char ut_host[256]; struct { short e_termination, e_exit; } ut_exit;
    int32 ut_session; struct { int32 tv_sec, tv_usec; } ut_tv; int32 ut_addr_v6[4];
    char __unused[20];

wtmp/utmp: USER_PROCESS records become `success` events. btmp: records naming a user become
`failure` events (sshd writes them as LOGIN_PROCESS with ut_line "ssh:notty"). `service` is
"sshd" when ut_line says "ssh:...", else "login"; the source comes from ut_addr_v6, else from
ut_host (an address or, with UseDNS, a host name). A truncated last record is reported in
`errors` and otherwise ignored.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from palisade.agent.collectors.logins.event import FAILURE, SUCCESS, LoginEvent
from palisade.agent.collectors.logins.source_address import split_source

UTMP_STRUCT = struct.Struct("<h2xi32s4s32s256shhiii16s20s")
UTMP_RECORD_SIZE = UTMP_STRUCT.size  # 384

EMPTY, RUN_LVL, BOOT_TIME, NEW_TIME, OLD_TIME = 0, 1, 2, 3, 4
INIT_PROCESS, LOGIN_PROCESS, USER_PROCESS, DEAD_PROCESS, ACCOUNTING = 5, 6, 7, 8, 9

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class UtmpRecord:
    type: int
    pid: int
    line: str
    id: str
    user: str
    host: str
    exit_termination: int
    exit_status: int
    session: int
    tv_sec: int
    tv_usec: int
    addr_v6: bytes  # 16 bytes, network order; an IPv4 address fills the first 4
    offset: int = 0  # where the record starts in the file

    @property
    def time(self) -> datetime:
        usec = self.tv_usec if 0 <= self.tv_usec < 1_000_000 else 0
        return _EPOCH + timedelta(seconds=self.tv_sec, microseconds=usec)

    @property
    def address(self) -> str | None:
        if not any(self.addr_v6):
            return None
        if not any(self.addr_v6[4:]):
            return str(ipaddress.IPv4Address(self.addr_v6[:4]))
        address = ipaddress.IPv6Address(self.addr_v6)
        return str(address.ipv4_mapped or address)

    def describe(self) -> str:
        """A one-line text form, used as the event's `raw`."""
        return (
            f"utmp type={self.type} pid={self.pid} line={self.line} id={self.id} "
            f"user={self.user} host={self.host} addr={self.address or '-'} "
            f"session={self.session} tv={self.tv_sec}.{self.tv_usec:06d}"
        )


@dataclass
class UtmpParseResult:
    records: list[UtmpRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_utmp_records(data: bytes, base_offset: int = 0) -> UtmpParseResult:
    """Every whole record in `data`; a trailing partial record is noted and skipped."""
    result = UtmpParseResult()
    whole = len(data) - len(data) % UTMP_RECORD_SIZE
    for start in range(0, whole, UTMP_RECORD_SIZE):
        fields = UTMP_STRUCT.unpack_from(data, start)
        result.records.append(
            UtmpRecord(
                type=fields[0],
                pid=fields[1],
                line=_text(fields[2]),
                id=_text(fields[3]),
                user=_text(fields[4]),
                host=_text(fields[5]),
                exit_termination=fields[6],
                exit_status=fields[7],
                session=fields[8],
                tv_sec=fields[9],
                tv_usec=fields[10],
                addr_v6=fields[11],
                offset=base_offset + start,
            )
        )
    if whole != len(data):
        result.errors.append(
            f"truncated record at offset {base_offset + whole}: "
            f"{len(data) - whole} of {UTMP_RECORD_SIZE} bytes, ignored"
        )
    return result


def utmp_record_to_event(record: UtmpRecord, *, failed: bool) -> LoginEvent | None:
    """A login event for a wtmp USER_PROCESS record (failed=False) or a btmp record naming
    a user (failed=True); None for every other record (boot, run level, logout, ...)."""
    if failed:
        if not record.user or record.type not in (USER_PROCESS, LOGIN_PROCESS):
            return None
    elif record.type != USER_PROCESS or not record.user:
        return None
    source_ip = record.address
    source_host = None
    if source_ip is None and record.host:
        source_ip, source_host = split_source(record.host)
    return LoginEvent(
        time=record.time,
        result=FAILURE if failed else SUCCESS,
        service="sshd" if record.line.startswith("ssh") else "login",
        raw=record.describe(),
        user=record.user,
        source_ip=source_ip,
        pid=record.pid or None,
        source_host=source_host,
    )


def parse_utmp(data: bytes, *, failed: bool) -> tuple[list[LoginEvent], list[str]]:
    """Events and error notes for a whole wtmp (failed=False) or btmp (failed=True) file."""
    parsed = parse_utmp_records(data)
    events = [
        event
        for event in (utmp_record_to_event(record, failed=failed) for record in parsed.records)
        if event is not None
    ]
    return events, parsed.errors


def is_btmp_path(path: str) -> bool:
    """btmp files hold failures; every other login record file (wtmp, utmp) successes."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.startswith("btmp")


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "backslashreplace")
