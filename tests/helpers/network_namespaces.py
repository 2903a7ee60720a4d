"""Network namespaces joined by veth, for tests that need a real kernel between hosts, and
the probe agent that runs inside them.

`Lab` creates namespaces whose names carry this process's id (parallel runs do not collide),
joins them with veth pairs created directly inside them (nothing is added to the host's own
network namespace), and deletes them on `close()`; the veths go with them.

Run as a script inside a namespace (`ip netns exec NS python tests/netns.py agent ...`), this
file is the probe agent: it serves TCP listeners and UDP echo listeners, then reads batches of
probes as JSON lines on stdin, runs each batch concurrently (asyncio) and prints one JSON line
of outcomes per batch. Only the standard library here: the agent starts in a bare namespace.

Outcomes: "open" (TCP handshake done), "refused" (TCP RST or ICMP port unreachable: the packet
got through, nothing listens), "echo" (UDP answered), "reply" (ICMP echo reply), "timeout"
(no answer: dropped somewhere), "denied" (the local firewall refused the packet on output:
EPERM), "error: ..." (anything else; the caller treats it as a broken lab).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

PASSED = frozenset({"open", "refused", "echo", "reply"})
BLOCKED = frozenset({"timeout", "denied"})

# -------------------------------------------------------------------- namespaces (test side)


@dataclass(frozen=True)
class Namespace:
    name: str
    ip_bin: str = "ip"

    def command(self, *argv: str) -> list[str]:
        return [self.ip_bin, "netns", "exec", self.name, *argv]

    def run(self, *argv: str, input: str | None = None, check: bool = True):
        proc = subprocess.run(
            self.command(*argv), input=input, capture_output=True, text=True, timeout=60
        )
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"`{' '.join(argv)}` in namespace {self.name} failed: "
                f"{(proc.stderr or proc.stdout).strip()}"
            )
        return proc

    def ip(self, *args: str) -> None:
        self.run(self.ip_bin, *args)

    def set_sysctls(self, settings: dict[str, str]) -> None:
        # /proc/sys/net is per namespace; no dependency on the sysctl binary.
        script = "".join(
            f"echo {value} > /proc/sys/{key.replace('.', '/')}\n" for key, value in settings.items()
        )
        self.run("sh", "-ec", script)


# Quiet, predictable namespaces: no IPv6 chatter, no reverse-path filtering (the lab routes
# addresses of several ranges over one veth), no rate limit on ICMP errors (a batch of probes
# to closed UDP ports wants one port-unreachable each, at once).
NAMESPACE_SYSCTLS = {
    "net.ipv6.conf.all.disable_ipv6": "1",
    "net.ipv6.conf.default.disable_ipv6": "1",
    "net.ipv4.conf.all.rp_filter": "0",
    "net.ipv4.conf.default.rp_filter": "0",
    "net.ipv4.icmp_ratelimit": "0",
    "net.ipv4.icmp_msgs_per_sec": "1000000",
    "net.ipv4.icmp_msgs_burst": "1000000",
}


class Lab:
    """Namespaces named `palisade-<tag>-<pid>-<role>`. Use as a context manager or call
    `close()` (in a fixture finalizer) so they are deleted even when the test fails."""

    def __init__(self, tag: str, ip_bin: str = "ip") -> None:
        self.tag = tag
        self.ip_bin = ip_bin
        self.prefix = f"palisade-{tag}-{os.getpid()}-"
        self.namespaces: list[Namespace] = []
        self.agents: list[Agent] = []
        self.remove_stale()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _ip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([self.ip_bin, *args], capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            raise RuntimeError(f"`ip {' '.join(args)}` failed: {proc.stderr.strip()}")
        return proc

    def remove_stale(self) -> None:
        """Deletes this tag's namespaces left by runs whose process is gone (killed runs)."""
        listing = self._ip("netns", "list", check=False).stdout.split()
        for name in listing:
            head = f"palisade-{self.tag}-"
            if not name.startswith(head):
                continue
            pid = name[len(head) :].split("-", 1)[0]
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                self._ip("netns", "del", name, check=False)

    def namespace(self, role: str) -> Namespace:
        ns = Namespace(self.prefix + role, self.ip_bin)
        self._ip("netns", "add", ns.name)
        self.namespaces.append(ns)
        ns.ip("link", "set", "lo", "up")
        ns.set_sysctls(NAMESPACE_SYSCTLS)
        return ns

    def link(self, a: Namespace, a_if: str, b: Namespace, b_if: str) -> None:
        """A veth pair with one end in each namespace, both up."""
        self._ip(
            "link", "add", a_if, "netns", a.name, "type", "veth", "peer", "name", b_if,
            "netns", b.name,
        )  # fmt: skip
        for ns, ifname in ((a, a_if), (b, b_if)):
            ns.ip("link", "set", ifname, "up")
            ns.set_sysctls({f"net.ipv4.conf.{ifname}.rp_filter": "0"})

    def agent(
        self,
        ns: Namespace,
        tcp_ports: tuple[int, ...] = (),
        udp_ports: tuple[int, ...] = (),
        udp_addresses: tuple[str, ...] = (),
    ) -> Agent:
        agent = Agent(ns, tcp_ports, udp_ports, udp_addresses)
        self.agents.append(agent)
        return agent

    def close(self) -> None:
        for agent in self.agents:
            agent.stop()
        self.agents.clear()
        for ns in reversed(self.namespaces):
            self._ip("netns", "del", ns.name, check=False)
        self.namespaces.clear()


@dataclass(frozen=True)
class Probe:
    """One probe: `protocol` tcp/udp/icmp from `src` to `dst` (`port` for tcp/udp). `tag` is
    the TCP/UDP source port or the ICMP echo id: give every probe of a batch the tag of the
    batch, and each batch a new one, so no probe rides on a connection-tracking entry left by
    an earlier batch (under another ruleset)."""

    protocol: str
    src: str
    dst: str
    port: int
    tag: int
    timeout: float

    def to_json(self) -> list:
        return [self.protocol, self.src, self.dst, self.port, self.tag, self.timeout]


class Agent:
    """The probe agent running inside a namespace (this file as a script)."""

    def __init__(
        self,
        ns: Namespace,
        tcp_ports: tuple[int, ...],
        udp_ports: tuple[int, ...],
        udp_addresses: tuple[str, ...],
    ) -> None:
        self.ns = ns
        self.stderr = tempfile.TemporaryFile(mode="w+")
        argv = [
            sys.executable, os.path.abspath(__file__), "agent",
            "--tcp", ",".join(map(str, tcp_ports)),
            "--udp", ",".join(map(str, udp_ports)),
            "--udp-addresses", ",".join(udp_addresses),
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            ns.command(*argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            bufsize=1,
        )
        ready = self._line()
        if ready.get("ready") is not True:
            raise RuntimeError(f"agent in {ns.name} did not start: {ready}")

    def _line(self) -> dict:
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            self.stderr.seek(0)
            raise RuntimeError(f"agent in {self.ns.name} exited: {self.stderr.read()[-3000:]}")
        return json.loads(line)

    def send(self, probes: list[Probe]) -> None:
        self.proc.stdin.write(json.dumps([p.to_json() for p in probes]) + "\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]

    def receive(self) -> list[str]:
        return self._line()["results"]

    def probe(self, probes: list[Probe]) -> list[str]:
        self.send(probes)
        return self.receive()

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # type: ignore[union-attr]
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


# -------------------------------------------------------------------- the agent (inside)


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
