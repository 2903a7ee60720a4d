"""Listening TCP sockets and bound UDP sockets, IPv4 and IPv6, with their processes.

Like osquery's `listening_ports`: one row per socket. Without root, psutil cannot
map sockets of other users' processes to a pid; such rows carry `unreadable`
entries instead of silently empty fields.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

import psutil

from palisade.shared.proto import facts_pb2

_FAMILIES = {socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6"}
_PROTOCOLS = {socket.SOCK_STREAM: "tcp", socket.SOCK_DGRAM: "udp"}


@dataclass
class _ProcessInfo:
    name: str = ""
    exe: str = ""
    user: str = ""
    unreadable: list[str] = field(default_factory=list)


def _process_info(pid: int) -> _ProcessInfo:
    info = _ProcessInfo()
    try:
        proc = psutil.Process(pid)
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        info.unreadable = ["process_name", "exe", "user"]
        return info
    for attr, getter in (("process_name", proc.name), ("exe", proc.exe), ("user", proc.username)):
        try:
            value = getter()
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess, KeyError, OSError):
            # KeyError: username() for a uid without a passwd entry
            info.unreadable.append(attr)
            continue
        setattr(info, "name" if attr == "process_name" else attr, value or "")
    return info


def _is_listener(conn) -> bool:
    if not conn.laddr:
        return False
    if conn.type == socket.SOCK_STREAM:
        return conn.status == psutil.CONN_LISTEN
    # UDP has no LISTEN state: every bound socket receives datagrams.
    return conn.type == socket.SOCK_DGRAM


def listeners_from_connections(connections: Iterable) -> list[facts_pb2.Listener]:
    """Turns psutil connection tuples into Listener messages (sorted, de-duplicated)."""
    cache: dict[int, _ProcessInfo] = {}
    seen: set[tuple] = set()
    out: list[facts_pb2.Listener] = []
    for conn in connections:
        if conn.family not in _FAMILIES or conn.type not in _PROTOCOLS or not _is_listener(conn):
            continue
        msg = facts_pb2.Listener(
            protocol=_PROTOCOLS[conn.type],
            family=_FAMILIES[conn.family],
            address=conn.laddr.ip,
            port=conn.laddr.port,
        )
        if conn.pid:
            msg.pid = conn.pid
            info = cache.get(conn.pid)
            if info is None:
                info = cache[conn.pid] = _process_info(conn.pid)
            msg.process_name, msg.exe, msg.user = info.name, info.exe, info.user
            msg.unreadable.extend(info.unreadable)
        else:
            msg.unreadable.extend(["pid", "process_name", "exe", "user"])
        key = (msg.protocol, msg.family, msg.address, msg.port, msg.pid)
        if key in seen:  # SO_REUSEPORT groups and forked servers share a socket
            continue
        seen.add(key)
        out.append(msg)
    out.sort(key=lambda m: (m.protocol, m.port, m.family, m.address, m.pid))
    return out


def collect() -> list[facts_pb2.Listener]:
    """Every listening TCP and bound UDP socket on this host."""
    return listeners_from_connections(psutil.net_connections(kind="inet"))
