"""Interface traffic: counters always, rates from the previous reading."""

from __future__ import annotations

from collections import namedtuple

import pytest

from palisade.agent.collectors import traffic

Counters = namedtuple(
    "Counters",
    "bytes_sent bytes_recv packets_sent packets_recv errin errout dropin dropout",
)


class FakeHost:
    def __init__(self):
        self.now = 100.0
        self.counters = {"eth0": Counters(1000, 5000, 10, 50, 0, 0, 1, 0)}

    def meter(self) -> traffic.TrafficMeter:
        return traffic.TrafficMeter(lambda: dict(self.counters), lambda: self.now, lambda: 42)


def test_first_reading_has_counters_only():
    msg = FakeHost().meter().read()
    (eth0,) = msg.interfaces
    assert (eth0.name, eth0.rx_bytes, eth0.tx_bytes, eth0.rx_packets, eth0.tx_packets) == (
        "eth0",
        5000,
        1000,
        50,
        10,
    )
    assert eth0.rx_dropped == 1
    assert not eth0.has_rates and eth0.rx_bits_per_second == 0
    assert msg.interval_ms == 0 and msg.measured_at_ms == 42


def test_rates_from_two_readings():
    host = FakeHost()
    meter = host.meter()
    meter.read()
    host.now += 2.0
    host.counters["eth0"] = Counters(1000 + 250, 5000 + 1_000_000, 10 + 4, 50 + 2000, 0, 0, 1, 0)
    msg = meter.read()
    (eth0,) = msg.interfaces
    assert msg.interval_ms == 2000
    assert eth0.has_rates
    assert eth0.rx_bits_per_second == pytest.approx(4_000_000)
    assert eth0.tx_bits_per_second == pytest.approx(1000)
    assert eth0.rx_packets_per_second == pytest.approx(1000)
    assert eth0.tx_packets_per_second == pytest.approx(2)


def test_counter_reset_and_new_interface_give_no_rate():
    host = FakeHost()
    meter = host.meter()
    meter.read()
    host.now += 1.0
    host.counters = {
        "eth0": Counters(10, 10, 1, 1, 0, 0, 0, 0),  # went backwards: re-created
        "eth1": Counters(1, 1, 1, 1, 0, 0, 0, 0),  # appeared
    }
    msg = meter.read()
    assert [(i.name, i.has_rates) for i in msg.interfaces] == [("eth0", False), ("eth1", False)]
    host.now += 1.0
    assert all(i.has_rates for i in meter.read().interfaces)


def test_live_host_counters():
    meter = traffic.TrafficMeter()
    first = meter.read()
    assert first.interfaces and not any(i.has_rates for i in first.interfaces)
    second = meter.read()
    assert any(i.has_rates for i in second.interfaces)
