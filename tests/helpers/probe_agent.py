"""The probe agent that runs inside a network namespace, as a script:

    ip netns exec NS python tests/helpers/probe_agent.py agent --tcp 22,80 --udp 53 ...

It serves TCP listeners and UDP echo listeners, then reads batches of probes as JSON lines on
stdin, runs each batch concurrently (asyncio) and prints one JSON line of outcomes per batch.
Only the standard library here: the agent starts in a bare namespace.

Outcomes: "open" (TCP handshake done), "refused" (TCP RST or ICMP port unreachable: the packet
got through, nothing listens), "echo" (UDP answered), "reply" (ICMP echo reply), "timeout"
(no answer: dropped somewhere), "denied" (the local firewall refused the packet on output:
EPERM), "error: ..." (anything else; the caller treats it as a broken lab).
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import sys
import time


def _abort(sock: socket.socket) -> None:
    # Close with RST: no TIME_WAIT, and conntrack forgets the connection within seconds.
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def _bound(kind: int, src: str, sport: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, kind)
    sock.setblocking(False)
    # Every probe of a batch uses the same source port (the batch's tag) to distinct
    # destinations; SO_REUSEADDR lets them share it.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((src, sport))
    return sock


async def _tcp(src: str, dst: str, port: int, sport: int, timeout: float) -> str:
    loop = asyncio.get_running_loop()
    sock = _bound(socket.SOCK_STREAM, src, sport)
    try:
        await asyncio.wait_for(loop.sock_connect(sock, (dst, port)), timeout)
        return "open"
    except ConnectionResetError:
        return "open"  # reset after the handshake: the listener closed first
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "timeout"
    except PermissionError:
        return "denied"
    finally:
        _abort(sock)


async def _udp(src: str, dst: str, port: int, sport: int, timeout: float) -> str:
    loop = asyncio.get_running_loop()
    sock = _bound(socket.SOCK_DGRAM, src, sport)
    try:
        sock.connect((dst, port))
        payload = f"probe {src}:{sport} {dst}:{port}".encode()
        sock.send(payload)
        data = await asyncio.wait_for(loop.sock_recv(sock, 2048), timeout)
        return "echo" if data == payload else f"error: unexpected answer {data[:40]!r}"
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "timeout"
    except PermissionError:
        return "denied"
    finally:
        sock.close()


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


async def _icmp(src: str, dst: str, ident: int, timeout: float) -> str:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.setblocking(False)
    sock.bind((src, 0))  # receives only packets addressed to src
    header = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
    body = b"palisade-probe"
    packet = struct.pack("!BBHHH", 8, 0, _checksum(header + body), ident, 1) + body
    deadline = loop.time() + timeout
    try:
        sock.sendto(packet, (dst, 0))
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return "timeout"
            data = await asyncio.wait_for(loop.sock_recv(sock, 2048), remaining)
            ihl = (data[0] & 0x0F) * 4
            kind, _, _, got_ident = struct.unpack("!BBHH", data[ihl : ihl + 6])
            if kind == 0 and got_ident == ident and socket.inet_ntoa(data[12:16]) == dst:
                return "reply"
    except TimeoutError:
        return "timeout"
    except PermissionError:
        return "denied"
    finally:
        sock.close()


async def _probe(protocol: str, src: str, dst: str, port: int, tag: int, timeout: float) -> str:
    try:
        if protocol == "tcp":
            return await _tcp(src, dst, port, tag, timeout)
        if protocol == "udp":
            return await _udp(src, dst, port, tag, timeout)
        if protocol == "icmp":
            return await _icmp(src, dst, tag, timeout)
        return f"error: unknown protocol {protocol!r}"
    except OSError as exc:
        return f"error: {exc}"


async def _accept_forever(listener: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    while True:
        try:
            conn, _ = await loop.sock_accept(listener)
        except OSError:
            continue
        conn.close()


class _Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        self.transport.sendto(data, addr)

    def error_received(self, exc: Exception) -> None:
        pass  # an echo to a peer that went away


async def _agent(tcp_ports: list[int], udp_ports: list[int], udp_addresses: list[str]) -> None:
    loop = asyncio.get_running_loop()
    tasks = []
    for port in tcp_ports:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("0.0.0.0", port))
        listener.listen(512)
        listener.setblocking(False)
        tasks.append(asyncio.ensure_future(_accept_forever(listener)))
    # UDP echo bound per address: an answer must leave from the address that was asked.
    for address in udp_addresses:
        for port in udp_ports:
            await loop.create_datagram_endpoint(_Echo, local_addr=(address, port))
    reader = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(json.dumps({"ready": True}), flush=True)
    while line := await reader.readline():
        started = time.monotonic()
        probes = json.loads(line)
        results = await asyncio.gather(*(_probe(*p) for p in probes))
        elapsed = round(time.monotonic() - started, 3)
        print(json.dumps({"results": results, "elapsed": elapsed}), flush=True)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def agent_main(argv: list[str]) -> None:
    options = dict(zip(argv[0::2], argv[1::2], strict=True))
    asyncio.run(
        _agent(
            _ints(options.get("--tcp", "")),
            _ints(options.get("--udp", "")),
            [a for a in options.get("--udp-addresses", "").split(",") if a],
        )
    )


if __name__ == "__main__" and sys.argv[1:2] == ["agent"]:
    agent_main(sys.argv[2:])
