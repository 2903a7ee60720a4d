"""Snapshots as deltas: only the fact families that changed since the last acknowledged one.

Pure functions shared by the agent (make) and the auditor (apply).
"""

from __future__ import annotations

from palisade.shared.proto import facts_pb2

# Carried in every delta: they identify the snapshot rather than describe the host.
IDENTITY = ("snapshot_id", "instance_id", "collected_at_ms")


def _field_bytes(snapshot: facts_pb2.Snapshot, field) -> object:
    value = getattr(snapshot, field.name)
    if field.is_repeated:
        if field.message_type is not None:
            return [v.SerializeToString(deterministic=True) for v in value]
        return list(value)
    if field.message_type is not None:
        return (
            value.SerializeToString(deterministic=True) if snapshot.HasField(field.name) else None
        )
    return value


def make_delta(base: facts_pb2.Snapshot, new: facts_pb2.Snapshot) -> facts_pb2.SnapshotDelta:
    delta = facts_pb2.SnapshotDelta(base_snapshot_id=base.snapshot_id)
    for name in IDENTITY:
        setattr(delta.changed, name, getattr(new, name))
    for field in facts_pb2.Snapshot.DESCRIPTOR.fields:
        if field.name in IDENTITY:
            continue
        if _field_bytes(base, field) != _field_bytes(new, field):
            delta.replaced.append(field.name)
            if field.is_repeated:
                getattr(delta.changed, field.name).extend(getattr(new, field.name))
            elif field.message_type is not None:
                if new.HasField(field.name):
                    getattr(delta.changed, field.name).CopyFrom(getattr(new, field.name))
            else:
                setattr(delta.changed, field.name, getattr(new, field.name))
    return delta


def apply_delta(base: facts_pb2.Snapshot, delta: facts_pb2.SnapshotDelta) -> facts_pb2.Snapshot:
    """The full snapshot a delta describes. Raises ValueError for a field name it lacks."""
    out = facts_pb2.Snapshot()
    out.CopyFrom(base)
    fields = facts_pb2.Snapshot.DESCRIPTOR.fields_by_name
    for name in IDENTITY:
        setattr(out, name, getattr(delta.changed, name))
    for name in delta.replaced:
        field = fields.get(name)
        if field is None or name in IDENTITY:
            raise ValueError(f"a delta cannot replace {name[:64]!r}")
        out.ClearField(name)
        if field.is_repeated:
            getattr(out, name).extend(getattr(delta.changed, name))
        elif field.message_type is not None:
            if delta.changed.HasField(name):
                getattr(out, name).CopyFrom(getattr(delta.changed, name))
        else:
            setattr(out, name, getattr(delta.changed, name))
    return out
