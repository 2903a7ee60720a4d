"""Events in batches: event_batches, event_keys and login_counts replace the events table.

One indexed row per event cost three B-tree inserts per event; a batch row per message,
a 20-byte key per event and hourly login counts do the same work at a fraction of it
(auditor/store/events.py). Existing events are moved, in batches of up to 1,000 per
instance, with their keys and counts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import hashlib
import struct
from collections import Counter

import sqlalchemy as sa
from alembic import op

from palisade.shared.proto import facts_pb2

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

HOUR_MS = 3_600_000
FAILED = ("failure", "invalid_user")
BATCH = 1000


def upgrade() -> None:
    op.create_table(
        "event_batches",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("instance_id", sa.String(length=128), nullable=False),
        sa.Column("first_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_ms", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("successes", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_event_batches_instance_last", "event_batches", ["instance_id", "last_ms"])
    op.create_index("ix_event_batches_last", "event_batches", ["last_ms"])
    op.create_table(
        "event_keys",
        sa.Column("key", sa.LargeBinary(length=20), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "login_counts",
        sa.Column("hour_ms", sa.BigInteger(), nullable=False),
        sa.Column("instance_id", sa.String(length=128), nullable=False),
        sa.Column("result", sa.String(length=32), nullable=False),
        sa.Column("source_ip", sa.String(length=64), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hour_ms", "instance_id", "result", "source_ip"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_login_counts_instance_hour", "login_counts", ["instance_id", "hour_ms"])
    _move_events(op.get_bind())
    op.drop_index("ix_events_login_time", table_name="events")
    op.drop_index("ix_events_instance_time", table_name="events")
    op.drop_table("events")


def _move_events(conn) -> None:
    rows = conn.exec_driver_sql(
        "SELECT instance_id, event_id, time_ms, body FROM events "
        "ORDER BY instance_id, time_ms, event_id",
        execution_options={"stream_results": True},
    )
    counts: Counter = Counter()
    pending: list = []
    current = None
    batches = sa.table(
        "event_batches",
        *(sa.column(c) for c in ("instance_id", "first_ms", "last_ms", "count")),
        *(sa.column(c) for c in ("failures", "successes", "body")),
    )
    keys = sa.table("event_keys", sa.column("key"))
    out_batches: list[dict] = []
    out_keys: list[dict] = []

    def close_batch() -> None:
        if not pending:
            return
        batch = facts_pb2.EventBatch(events=pending)
        failures = sum(1 for e in pending if e.HasField("login") and e.login.result in FAILED)
        successes = sum(1 for e in pending if e.HasField("login") and e.login.result == "success")
        out_batches.append(
            {
                "instance_id": current,
                "first_ms": pending[0].time_ms,
                "last_ms": pending[-1].time_ms,
                "count": len(pending),
                "failures": failures,
                "successes": successes,
                "body": batch.SerializeToString(),
            }
        )
        pending.clear()

    def flush() -> None:
        if out_batches:
            conn.execute(batches.insert(), out_batches)
            out_batches.clear()
        if out_keys:
            conn.execute(keys.insert(), out_keys)
            out_keys.clear()

    for instance_id, event_id, time_ms, body in rows:
        if instance_id != current or len(pending) >= BATCH:
            close_batch()
            current = instance_id
            if len(out_keys) >= 20 * BATCH:
                flush()
        ev = facts_pb2.Event.FromString(body)
        ev.event_id, ev.time_ms = event_id, time_ms
        pending.append(ev)
        # as auditor/store/events.py keys them: time (8 bytes, big endian), BLAKE2b-96
        digest = hashlib.blake2b(
            f"{instance_id}\x1f{event_id}".encode("utf-8", "surrogatepass"), digest_size=12
        ).digest()
        out_keys.append({"key": struct.pack(">q", time_ms) + digest})
        if ev.HasField("login") and ev.login.result:
            hour = time_ms - time_ms % HOUR_MS
            counts[(hour, instance_id, ev.login.result[:32], ev.login.source_ip[:64])] += 1
    close_batch()
    flush()
    if counts:
        names = ("hour_ms", "instance_id", "result", "source_ip", "n")
        login_counts = sa.table("login_counts", *(sa.column(c) for c in names))
        conn.execute(
            login_counts.insert(),
            [dict(zip(names, (*key, n), strict=True)) for key, n in sorted(counts.items())],
        )


def downgrade() -> None:
    op.create_table(
        "events",
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("instance_id", sa.String(length=128), nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("login_result", sa.String(length=32), nullable=True),
        sa.Column("source_ip", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("event_id"),
    )
    conn = op.get_bind()
    events = sa.table(
        "events",
        *(sa.column(c) for c in ("event_id", "instance_id", "time_ms", "kind", "body")),
        *(sa.column(c) for c in ("login_result", "source_ip")),
    )
    seen: set[str] = set()
    for instance_id, body in conn.exec_driver_sql(
        "SELECT instance_id, body FROM event_batches ORDER BY id"
    ).all():
        rows = []
        for ev in facts_pb2.EventBatch.FromString(body).events:
            if ev.event_id in seen:  # ids were global before this revision
                continue
            seen.add(ev.event_id)
            login = ev.login if ev.HasField("login") else None
            rows.append(
                {
                    "event_id": ev.event_id,
                    "instance_id": instance_id,
                    "time_ms": ev.time_ms,
                    "kind": ev.WhichOneof("body") or "unknown",
                    "body": ev.SerializeToString(),
                    "login_result": login.result[:32] if login else None,
                    "source_ip": login.source_ip[:64] if login else None,
                }
            )
        if rows:
            conn.execute(events.insert(), rows)
    op.create_index("ix_events_instance_time", "events", ["instance_id", "time_ms"])
    op.create_index("ix_events_login_time", "events", ["login_result", "time_ms", "source_ip"])
    op.drop_table("login_counts")
    op.drop_table("event_keys")
    op.drop_table("event_batches")
