"""A delta applied to its base gives exactly the new snapshot."""

from hypothesis import given, settings
from hypothesis import strategies as st

from palisade.shared.proto import facts_pb2
from palisade.shared.snapshot_delta import apply_delta, make_delta

listener = st.builds(
    lambda p, port, name: facts_pb2.Listener(protocol=p, port=port, process_name=name),
    st.sampled_from(["tcp", "udp"]),
    st.integers(1, 65535),
    st.text(max_size=8),
)
snapshot = st.builds(
    lambda sid, lis, host, dropped: facts_pb2.Snapshot(
        snapshot_id=sid,
        instance_id="i-1",
        collected_at_ms=1,
        listeners=lis,
        host=facts_pb2.HostInfo(hostname=host) if host is not None else None,
        spool_dropped_events=dropped,
    ),
    st.text(min_size=1, max_size=8),
    st.lists(listener, max_size=5),
    st.none() | st.text(max_size=8),
    st.integers(0, 10),
)


@settings(max_examples=300)
@given(snapshot, snapshot)
def test_apply_of_make_is_the_new_snapshot(base, new):
    delta = make_delta(base, new)
    assert apply_delta(base, delta) == new
    # only what changed travels
    for name in delta.replaced:
        assert getattr(base, name) != getattr(new, name) or base.HasField(name) != new.HasField(
            name
        )


def test_unchanged_snapshot_has_an_empty_delta():
    base = facts_pb2.Snapshot(snapshot_id="a", listeners=[facts_pb2.Listener(port=22)])
    new = facts_pb2.Snapshot(snapshot_id="b", listeners=[facts_pb2.Listener(port=22)])
    delta = make_delta(base, new)
    assert list(delta.replaced) == [] and delta.base_snapshot_id == "a"
    assert apply_delta(base, delta).snapshot_id == "b"


def test_emptied_family_is_replaced_by_nothing():
    base = facts_pb2.Snapshot(snapshot_id="a", listeners=[facts_pb2.Listener(port=22)])
    new = facts_pb2.Snapshot(snapshot_id="b")
    assert list(apply_delta(base, make_delta(base, new)).listeners) == []
