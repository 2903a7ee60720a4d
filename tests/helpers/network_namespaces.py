"""Network namespaces joined by veth, for tests that need a real kernel between hosts.

`Lab` creates namespaces whose names carry this process's id (parallel runs do not collide),
joins them with veth pairs created directly inside them (nothing is added to the host's own
network namespace), and deletes them on `close()`; the veths go with them. `Agent` runs
probe_agent.py inside a namespace and hands it batches of `Probe`s; the outcomes it answers
are described there (PASSED and BLOCKED group them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PASSED = frozenset({"open", "refused", "echo", "reply"})
BLOCKED = frozenset({"timeout", "denied"})
PROBE_AGENT = Path(__file__).with_name("probe_agent.py")


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
    """The probe agent (probe_agent.py) running inside a namespace."""

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
            sys.executable, str(PROBE_AGENT), "agent",
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
        assert self.proc.stdin is not None and self.proc.stdout is not None  # both are PIPEs
        self.requests, self.answers = self.proc.stdin, self.proc.stdout
        ready = self._line()
        if ready.get("ready") is not True:
            raise RuntimeError(f"agent in {ns.name} did not start: {ready}")

    def _line(self) -> dict:
        line = self.answers.readline()
        if not line:
            self.stderr.seek(0)
            raise RuntimeError(f"agent in {self.ns.name} exited: {self.stderr.read()[-3000:]}")
        return json.loads(line)

    def send(self, probes: list[Probe]) -> None:
        self.requests.write(json.dumps([p.to_json() for p in probes]) + "\n")
        self.requests.flush()

    def receive(self) -> list[str]:
        return self._line()["results"]

    def probe(self, probes: list[Probe]) -> list[str]:
        self.send(probes)
        return self.receive()

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.requests.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()
