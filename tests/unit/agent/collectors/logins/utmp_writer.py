"""Builds glibc `struct utmp` records (x86_64 layout, 384 bytes) for the tests."""

from __future__ import annotations

import ipaddress
import struct

RECORD = struct.Struct("<h2xi32s4s32s256shhiii16s20s")
assert RECORD.size == 384

BOOT_TIME, INIT_PROCESS, LOGIN_PROCESS, USER_PROCESS, DEAD_PROCESS = 2, 5, 6, 7, 8


def utmp_record(
    *,
    type: int = USER_PROCESS,
    pid: int = 1234,
    line: str = "pts/0",
    id: str = "ts/0",
    user: str = "",
    host: str = "",
    tv_sec: int = 1_795_925_401,
    tv_usec: int = 0,
    addr: str | None = None,
    session: int = 0,
) -> bytes:
    addr_v6 = b"\0" * 16
    if addr is not None:
        ip = ipaddress.ip_address(addr)
        addr_v6 = ip.packed.ljust(16, b"\0")  # IPv4 in the first 4 bytes, as glibc stores it
    return RECORD.pack(
        type,
        pid,
        line.encode(),
        id.encode(),
        user.encode(),
        host.encode(),
        0,
        0,
        session,
        tv_sec,
        tv_usec,
        addr_v6,
        b"\0" * 20,
    )
