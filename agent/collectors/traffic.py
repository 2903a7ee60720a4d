"""Per-interface traffic: counters, and bits / packets per second in and out.

Rates need two readings: a `TrafficMeter` keeps the previous one in memory, so the first
snapshot after the agent starts carries counters only (`has_rates` false). A counter that went
backwards (interface re-created, driver reset, 32-bit wrap) gives no rate for that reading.
Reads the live host's kernel counters (psutil), whatever the host root.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import psutil

from palisade.shared.proto import facts_pb2

_COUNTERS = (
    ("bytes_recv", "rx_bytes"),
    ("bytes_sent", "tx_bytes"),
    ("packets_recv", "rx_packets"),
    ("packets_sent", "tx_packets"),
    ("errin", "rx_errors"),
    ("errout", "tx_errors"),
    ("dropin", "rx_dropped"),
    ("dropout", "tx_dropped"),
)


def _read_counters() -> Mapping[str, Any]:
    return psutil.net_io_counters(pernic=True, nowrap=True)


class TrafficMeter:
    """Remembers the last reading; `read()` returns counters and the rates since then."""

    def __init__(
        self,
        read_counters: Callable[[], Mapping[str, Any]] = _read_counters,
        monotonic: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self._read_counters = read_counters
        self._monotonic = monotonic
        self._wall_ms = wall_ms
        self._previous: tuple[float, dict[str, tuple[int, ...]]] | None = None
        self._lock = threading.Lock()  # the runner collects from a worker thread

    def read(self) -> facts_pb2.Traffic:
        with self._lock:
            counters = self._read_counters()
            now = self._monotonic()
            msg = facts_pb2.Traffic(measured_at_ms=self._wall_ms())
            reading = {
                name: tuple(max(int(getattr(c, attr)), 0) for attr, _ in _COUNTERS)
                for name, c in counters.items()
            }
            previous = self._previous
            elapsed = now - previous[0] if previous is not None else 0.0
            if previous is not None and elapsed > 0:
                msg.interval_ms = int(elapsed * 1000)
            for name in sorted(reading):
                values = reading[name]
                iface = facts_pb2.InterfaceTraffic(name=name)
                for (_, field), value in zip(_COUNTERS, values, strict=True):
                    setattr(iface, field, value)
                before = previous[1].get(name) if previous is not None else None
                if before is not None and elapsed > 0:
                    delta = [new - old for new, old in zip(values[:4], before[:4], strict=True)]
                    if min(delta) >= 0:
                        iface.has_rates = True
                        iface.rx_bits_per_second = delta[0] * 8 / elapsed
                        iface.tx_bits_per_second = delta[1] * 8 / elapsed
                        iface.rx_packets_per_second = delta[2] / elapsed
                        iface.tx_packets_per_second = delta[3] / elapsed
                msg.interfaces.append(iface)
            self._previous = (now, reading)
            return msg


_DEFAULT_METER = TrafficMeter()


def collect(meter: TrafficMeter | None = None) -> facts_pb2.Traffic:
    """This host's traffic; the default meter lives as long as the agent process."""
    return (meter or _DEFAULT_METER).read()
