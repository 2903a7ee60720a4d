"""A bounded UDP flood from inside a network namespace, and the agent's own traffic meter read
inside another, for the DDoS tests. Only addresses of namespaces the test created are ever
sent to; a flood stops by itself after `seconds`.

As a script (what `Flood` runs inside the sender's namespace; only the standard library):

    python udp_flood.py DST PORT MBIT SECONDS SIZE    (MBIT 0: as fast as it can)

It prints "go" when it starts sending and the bytes sent when it stops.
"""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from palisade.shared.proto import facts_pb2
    from tests.helpers.network_namespaces import Namespace

SCRIPT = Path(__file__)

_METER = """
import base64, sys, time
from palisade.agent.collectors.traffic import TrafficMeter
meter = TrafficMeter()
meter.read()
time.sleep(float(sys.argv[1]))
sys.stdout.write(base64.b64encode(meter.read().SerializeToString()).decode())
"""


class Flood:
    """`with Flood(ns, dst, mbit=..., seconds=...):` floods while the block runs (and stops
    by itself after `seconds` at the latest)."""

    def __init__(
        self, ns: Namespace, dst: str, mbit: float, seconds: float, size: int = 60000
    ) -> None:
        argv = [sys.executable, str(SCRIPT), dst, "9", str(mbit), str(seconds), str(size)]
        self.proc = subprocess.Popen(ns.command(*argv), stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        started = self.proc.stdout.readline().strip()
        if started != "go":
            self.stop()
            raise RuntimeError(f"the flood in {ns.name} did not start: {started!r}")

    def __enter__(self) -> Flood:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=30)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def measure(ns: Namespace, seconds: float = 1.0) -> facts_pb2.Traffic:
    """Two readings of the agent's TrafficMeter (agent/collectors/traffic.py) `seconds` apart,
    inside `ns` (its kernel counters are the namespace's): the Traffic fact with rates."""
    from palisade.shared.proto import facts_pb2

    proc = ns.run(sys.executable, "-c", _METER, str(seconds))
    return facts_pb2.Traffic.FromString(base64.b64decode(proc.stdout))


def _flood(dst: str, port: int, mbit: float, seconds: float, size: int) -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    payload = b"\0" * size
    print("go", flush=True)
    start = time.monotonic()
    end = start + seconds
    sent = 0
    while (now := time.monotonic()) < end:
        if mbit > 0 and sent * 8 > (now - start) * mbit * 1e6:
            time.sleep(0.001)  # paced: ahead of the rate
            continue
        try:
            sock.sendto(payload, (dst, port))
            sent += size
        except OSError:  # ENOBUFS under load, an ICMP error reported back: keep going
            pass
    return sent


if __name__ == "__main__":
    dst, port, mbit, seconds, size = sys.argv[1:6]
    print(_flood(dst, int(port), float(mbit), float(seconds), int(size)), flush=True)
