"""The listeners collector, on psutil's tuples and on this host's real sockets."""

import os
import socket
from collections import namedtuple

import psutil

from palisade.agent.collectors import listeners

Addr = namedtuple("Addr", "ip port")
Conn = namedtuple("Conn", "fd family type laddr raddr status pid")


def test_listening_tcp_and_bound_udp_are_kept_connected_tcp_is_not():
    conns = [
        Conn(
            3, socket.AF_INET, socket.SOCK_STREAM, Addr("0.0.0.0", 22), (), psutil.CONN_LISTEN, None
        ),
        Conn(4, socket.AF_INET6, socket.SOCK_DGRAM, Addr("::", 53), (), psutil.CONN_NONE, None),
        Conn(
            5,
            socket.AF_INET,
            socket.SOCK_STREAM,
            Addr("10.0.0.1", 22),
            Addr("1.2.3.4", 5555),
            psutil.CONN_ESTABLISHED,
            None,
        ),
        Conn(6, socket.AF_UNIX, socket.SOCK_STREAM, "/run/x.sock", "", psutil.CONN_LISTEN, None),
    ]
    out = listeners.listeners_from_connections(conns)
    assert [(m.protocol, m.family, m.address, m.port) for m in out] == [
        ("tcp", "ipv4", "0.0.0.0", 22),
        ("udp", "ipv6", "::", 53),
    ]


def test_sockets_without_a_pid_say_which_fields_could_not_be_read():
    conns = [
        Conn(
            3, socket.AF_INET, socket.SOCK_STREAM, Addr("0.0.0.0", 22), (), psutil.CONN_LISTEN, None
        )
    ]
    (msg,) = listeners.listeners_from_connections(conns)
    assert msg.pid == 0
    assert list(msg.unreadable) == ["pid", "process_name", "exe", "user"]


def test_real_sockets_of_this_process_are_reported_with_the_process(tmp_path):
    tcp4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp4.bind(("127.0.0.1", 0))
    tcp4.listen()
    tcp6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    tcp6.bind(("::1", 0))
    tcp6.listen()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    try:
        found = {(m.protocol, m.address, m.port): m for m in listeners.collect()}
        me = psutil.Process(os.getpid())
        for proto, sock in (("tcp", tcp4), ("tcp", tcp6), ("udp", udp)):
            addr, port = sock.getsockname()[:2]
            msg = found[(proto, addr, port)]
            assert msg.pid == os.getpid()
            assert msg.process_name == me.name()
            assert msg.exe == me.exe()
            assert msg.user == me.username()
            assert not msg.unreadable
    finally:
        for s in (tcp4, tcp6, udp):
            s.close()


def test_the_proc_reader_agrees_with_psutil_on_this_host():
    """The Linux fast path (/proc/net, decoding only listening lines) reports exactly what
    psutil's full parse does, sockets of every family and protocol included."""
    import sys

    import pytest

    if not sys.platform.startswith("linux"):
        pytest.skip("the /proc reader is Linux-only")
    opened = []
    for family, kind, addr in (
        (socket.AF_INET, socket.SOCK_STREAM, "0.0.0.0"),
        (socket.AF_INET6, socket.SOCK_STREAM, "::"),
        (socket.AF_INET, socket.SOCK_DGRAM, "127.0.0.1"),
        (socket.AF_INET6, socket.SOCK_DGRAM, "::1"),
    ):
        s = socket.socket(family, kind)
        s.bind((addr, 0))
        if kind == socket.SOCK_STREAM:
            s.listen()
        opened.append(s)
    client = socket.create_connection(("127.0.0.1", opened[0].getsockname()[1]))
    opened.append(client)
    try:

        def key(m):
            return (
                m.protocol,
                m.family,
                m.address,
                m.port,
                m.pid,
                m.process_name,
                m.exe,
                m.user,
                tuple(m.unreadable),
            )

        fast = sorted(map(key, listeners.collect()))
        slow = sorted(
            map(key, listeners.listeners_from_connections(psutil.net_connections(kind="inet")))
        )
        assert fast == slow
        ports = {m[3] for m in fast}
        assert all(s.getsockname()[1] in ports for s in opened[:4])
    finally:
        for s in opened:
            s.close()
