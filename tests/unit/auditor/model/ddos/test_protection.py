"""The DDoS protection state machine (normal -> scrubbing -> black hole -> normal), table-driven,
and the lowered thresholds it reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from palisade.auditor.model.cloud_state import CloudState
from palisade.auditor.model.ddos.protection import (
    DdosPolicy,
    DdosProtection,
    DdosStatus,
    InboundTraffic,
    InstanceDdos,
    default_threshold,
    effective_threshold,
    next_state,
)
from palisade.auditor.model.ddos.thresholds import DdosThreshold, load_default_thresholds
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.resources import DEFAULT_INSTANCE_TYPE

T0 = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)
POLICY = DdosPolicy(black_hole_bps=5e9, black_hole_s=9000)
LIMIT = DdosThreshold(1000e6, 300_000)  # ecs.g5.large
NORMAL, SCRUB, HOLE = DdosStatus.NORMAL, DdosStatus.SCRUBBING, DdosStatus.BLACK_HOLE
EARLIER = T0 - timedelta(minutes=5)
HOLE_UNTIL = T0 + timedelta(hours=1)  # a black hole still in force at T0
HOLE_OVER = T0 - timedelta(seconds=1)  # one whose time is up


def mbit(n: float, pps: float = 1000) -> InboundTraffic:
    return InboundTraffic(n * 1e6, pps)


# (name, current state, reading, threshold, expected status, expected since, expected until)
CASES = [
    ("quiet stays normal", InstanceDdos(), mbit(10), LIMIT, NORMAL, None, None),
    ("at the threshold is not above", InstanceDdos(), mbit(1000), LIMIT, NORMAL, None, None),
    ("bps above: scrubbing", InstanceDdos(), mbit(1001), LIMIT, SCRUB, T0, None),
    ("pps above: scrubbing", InstanceDdos(), mbit(1, 300_001), LIMIT, SCRUB, T0, None),
    (
        "still above: scrubbing since it began",
        InstanceDdos(SCRUB, EARLIER),
        mbit(2000),
        LIMIT,
        SCRUB,
        EARLIER,
        None,
    ),
    ("falls back: normal", InstanceDdos(SCRUB, EARLIER), mbit(900), LIMIT, NORMAL, T0, None),
    ("no reading ends scrubbing", InstanceDdos(SCRUB, EARLIER), None, LIMIT, NORMAL, T0, None),
    ("no reading, normal stays", InstanceDdos(), None, LIMIT, NORMAL, None, None),
    (
        "above 5 Gbit/s from normal: black hole",
        InstanceDdos(),
        mbit(5001),
        LIMIT,
        HOLE,
        T0,
        T0 + timedelta(seconds=9000),
    ),
    (
        "above 5 Gbit/s while scrubbing: black hole",
        InstanceDdos(SCRUB, EARLIER),
        mbit(6000),
        LIMIT,
        HOLE,
        T0,
        T0 + timedelta(seconds=9000),
    ),
    ("exactly 5 Gbit/s is scrubbing", InstanceDdos(), mbit(5000), LIMIT, SCRUB, T0, None),
    (
        "black hole holds when the traffic falls",
        InstanceDdos(HOLE, EARLIER, HOLE_UNTIL),
        mbit(0),
        LIMIT,
        HOLE,
        EARLIER,
        HOLE_UNTIL,
    ),
    (
        "black hole holds without a reading",
        InstanceDdos(HOLE, EARLIER, HOLE_UNTIL),
        None,
        LIMIT,
        HOLE,
        EARLIER,
        HOLE_UNTIL,
    ),
    (
        "black hole holds above the scrubbing threshold",
        InstanceDdos(HOLE, EARLIER, HOLE_UNTIL),
        mbit(3000),
        LIMIT,
        HOLE,
        EARLIER,
        HOLE_UNTIL,
    ),
    (
        "the attack goes on: the black hole is extended from now",
        InstanceDdos(HOLE, EARLIER, HOLE_UNTIL),
        mbit(8000),
        LIMIT,
        HOLE,
        EARLIER,
        T0 + timedelta(seconds=9000),
    ),
    ("time up, quiet: normal", InstanceDdos(HOLE, EARLIER, HOLE_OVER), mbit(1), LIMIT, NORMAL, T0,
     None),
    ("time up, no reading: normal", InstanceDdos(HOLE, EARLIER, HOLE_OVER), None, LIMIT, NORMAL,
     T0, None),
    (
        "time up, still above the threshold: scrubbing",
        InstanceDdos(HOLE, EARLIER, HOLE_OVER),
        mbit(2000),
        LIMIT,
        SCRUB,
        T0,
        None,
    ),
    (
        "time up, still above 5 Gbit/s: a new black hole",
        InstanceDdos(HOLE, EARLIER, HOLE_OVER),
        mbit(9000),
        LIMIT,
        HOLE,
        T0,
        T0 + timedelta(seconds=9000),
    ),
    ("unknown type: no scrubbing", InstanceDdos(), mbit(4000), None, NORMAL, None, None),
    (
        "unknown type: still black-holed above 5 Gbit/s",
        InstanceDdos(),
        mbit(6000),
        None,
        HOLE,
        T0,
        T0 + timedelta(seconds=9000),
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("current", "reading", "threshold", "status", "since", "until"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_next_state(current, reading, threshold, status, since, until):
    after = next_state(current, reading, threshold, POLICY, T0)
    assert (after.status, after.since, after.until) == (status, since, until)
    assert after.lowered == current.lowered  # the user's threshold is never touched


def test_the_black_hole_duration_and_level_are_settings():
    short = DdosPolicy(black_hole_bps=100e6, black_hole_s=30)
    after = next_state(InstanceDdos(), mbit(101), LIMIT, short, T0)
    assert after.status is HOLE and after.until == T0 + timedelta(seconds=30)
    assert after.black_holed(T0 + timedelta(seconds=29))
    assert not after.black_holed(T0 + timedelta(seconds=30))
    assert after.effective_status(T0 + timedelta(seconds=30)) is NORMAL


def test_a_lowered_threshold_is_the_smaller_figure():
    assert effective_threshold(LIMIT, DdosThreshold(10e6, 10**9)) == DdosThreshold(10e6, 300_000)
    assert effective_threshold(LIMIT, None) == LIMIT
    assert effective_threshold(None, None) is None


def test_set_threshold_lowers_resets_and_refuses_raising():
    ddos = DdosProtection()
    record = ddos.set_threshold("i-1", LIMIT, DdosThreshold(100e6, 50_000), "ecs.g5.large")
    assert record.lowered == DdosThreshold(100e6, 50_000)
    for raised, code in (
        (DdosThreshold(1001e6, 1000), "InvalidParameter.Bps"),
        (DdosThreshold(10e6, 300_001), "InvalidParameter.Pps"),
    ):
        with pytest.raises(ModelError) as err:
            ddos.set_threshold("i-1", LIMIT, raised, "ecs.g5.large")
        assert err.value.code == code
        assert "can only be lowered" in err.value.message and "ecs.g5.large" in err.value.message
    assert ddos.get("i-1").lowered == DdosThreshold(100e6, 50_000)  # a refusal changes nothing
    ddos.set_threshold("i-1", LIMIT, None, "ecs.g5.large")  # IsAuto
    assert ddos.instances == {}  # back to the default: nothing stored
    ddos.set_threshold("i-1", LIMIT, LIMIT, "ecs.g5.large")  # the default itself: the same
    assert ddos.instances == {}


def test_document_round_trip_and_old_states():
    ddos = DdosProtection()
    ddos.put("i-1", InstanceDdos(HOLE, EARLIER, HOLE_UNTIL, DdosThreshold(100e6, 50_000)))
    ddos.put("i-2", InstanceDdos(SCRUB, EARLIER))
    ddos.put("i-3", InstanceDdos())  # the default is not stored
    again = DdosProtection.from_document(ddos.to_document())
    assert again == ddos and set(again.instances) == {"i-1", "i-2"}
    assert again.black_holed(T0) == {"i-1"}
    assert DdosProtection.from_document(None) == DdosProtection()


def test_missing_instance_type_is_a_clear_message():
    table = load_default_thresholds()
    with pytest.raises(ModelError) as err:
        default_threshold(table, "ecs.x9.huge")
    assert err.value.code == "InvalidInstanceType.NoDdosThreshold"
    assert "'ecs.x9.huge' is not in the DDoS scrubbing threshold table" in err.value.message


def test_the_default_instance_type_is_in_the_seed_table():
    assert default_threshold(load_default_thresholds(), DEFAULT_INSTANCE_TYPE) == LIMIT


def test_a_deleted_instance_leaves_no_state_behind():
    state, _ = CloudState.create(T0)
    state.ddos.put("i-gone", InstanceDdos(SCRUB, EARLIER))
    assert CloudState.from_document(state.to_document()).ddos.instances == {}
