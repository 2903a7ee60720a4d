"""Listening TCP sockets and bound UDP sockets, IPv4 and IPv6, with their processes.

Like osquery's `listening_ports`: one row per socket. Without root, psutil cannot
map sockets of other users' processes to a pid; such rows carry `unreadable`
entries instead of silently empty fields.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

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


class _Conn(NamedTuple):
    """The fields of psutil's connection tuples that listeners_from_connections reads."""

    family: int
    type: int
    laddr: tuple
    status: str
    pid: int | None


class _Addr(NamedTuple):
    ip: str
    port: int


_PROC_NET = (
    ("tcp", socket.AF_INET, socket.SOCK_STREAM),
    ("tcp6", socket.AF_INET6, socket.SOCK_STREAM),
    ("udp", socket.AF_INET, socket.SOCK_DGRAM),
    ("udp6", socket.AF_INET6, socket.SOCK_DGRAM),
)
_TCP_LISTEN = "0A"


def _decode_ip(hex_ip: str, family: int) -> str:
    raw = bytes.fromhex(hex_ip)
    # /proc/net prints each 32-bit word in host (little-endian) order
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(family, words)


def _proc_net_sockets(proc: str = "/proc") -> dict[int, tuple[int, int, _Addr]]:
    """inode -> (family, type, local address) of listening TCP and bound UDP sockets.

    Only the lines that matter are decoded: on a busy host most /proc/net/tcp lines are
    established connections, and psutil decodes every one of them."""
    out: dict[int, tuple[int, int, _Addr]] = {}
    for name, family, kind in _PROC_NET:
        try:
            with open(f"{proc}/net/{name}", encoding="ascii", errors="replace") as f:
                next(f, None)  # the header
                for line in f:
                    parts = line.split()
                    if len(parts) < 10:
                        continue
                    if kind == socket.SOCK_STREAM and parts[3] != _TCP_LISTEN:
                        continue
                    ip_hex, _, port_hex = parts[1].partition(":")
                    try:
                        addr = _Addr(_decode_ip(ip_hex, family), int(port_hex, 16))
                        out[int(parts[9])] = (family, kind, addr)
                    except ValueError:
                        continue
        except OSError:
            continue
    return out


def _socket_owners(inodes: set[int], proc: str = "/proc") -> dict[int, list[int]]:
    """inode -> pids holding it, from /proc/<pid>/fd (what we may read of it)."""
    owners: dict[int, list[int]] = {}
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        fd_dir = f"{proc}/{entry.name}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue  # gone, or not ours to read without root
        pid = int(entry.name)
        for fd in fds:
            try:
                target = os.readlink(f"{fd_dir}/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inode = int(target[8:-1])
                if inode in inodes:
                    pids = owners.setdefault(inode, [])
                    if pid not in pids:
                        pids.append(pid)
    return owners


def _linux_connections(proc: str = "/proc") -> list[_Conn]:
    sockets = _proc_net_sockets(proc)
    owners = _socket_owners(set(sockets), proc)
    conns = []
    for inode, (family, kind, addr) in sockets.items():
        status = psutil.CONN_LISTEN if kind == socket.SOCK_STREAM else psutil.CONN_NONE
        for pid in owners.get(inode) or (None,):  # None: the owner is not ours to see
            conns.append(_Conn(family, kind, addr, status, pid))
    return conns


def collect() -> list[facts_pb2.Listener]:
    """Every listening TCP and bound UDP socket on this host."""
    if sys.platform.startswith("linux") and os.path.isdir("/proc/net"):
        return listeners_from_connections(_linux_connections())
    return listeners_from_connections(psutil.net_connections(kind="inet"))
