"""Tables of the auditor's store. One schema for SQLite and PostgreSQL.

Times are integer milliseconds since the epoch (UTC): portable across both
databases and free of time-zone surprises.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

instances = Table(
    "instances",
    metadata,
    Column("instance_id", String(128), primary_key=True),
    Column("hostname", String(255), nullable=False, default=""),
    Column("os_family", String(32), nullable=False, default=""),
    Column("os_name", String(128), nullable=False, default=""),
    Column("os_version", String(64), nullable=False, default=""),
    Column("agent_version", String(64), nullable=False, default=""),
    Column("boot_time", BigInteger, nullable=False, default=0),
    Column("enrolled_at_ms", BigInteger, nullable=False),
    Column("cert_serial", String(64), nullable=False),
    Column("last_seen_ms", BigInteger, nullable=False, default=0),
    Column("snapshot_at_ms", BigInteger, nullable=False, default=0),
    # the latest Snapshot, serialised protobuf
    Column("snapshot", LargeBinary, nullable=True),
)

enrolment_tokens = Table(
    "enrolment_tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("secret_sha256", String(64), nullable=False),
    Column("instance_id", String(128), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False),
    Column("used_at_ms", BigInteger, nullable=True),
)

# What changed on a host between two snapshots: the history.
changes = Table(
    "changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("instance_id", String(128), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("subject", Text, nullable=False),
    Column("detail", Text, nullable=False, default="{}"),
    Index("ix_changes_instance_at", "instance_id", "at_ms"),
)

# Ids of every message stored, so a re-delivered message is acknowledged, not applied twice.
received_messages = Table(
    "received_messages",
    metadata,
    Column("message_id", String(64), primary_key=True),
    Column("instance_id", String(128), nullable=False),
    Column("received_at_ms", BigInteger, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("event_id", String(128), primary_key=True),
    Column("instance_id", String(128), nullable=False),
    Column("time_ms", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Index("ix_events_instance_time", "instance_id", "time_ms"),
)

# The cloud model (security groups, instances, RAM, key pairs) as one versioned JSON
# document: every API write replaces it under optimistic concurrency (version + 1).
cloud_state = Table(
    "cloud_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("document", Text, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
)

# Append-only: who changed what, when, before and after.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("actor", String(256), nullable=False),
    Column("source_ip", String(64), nullable=False),
    Column("action", String(128), nullable=False),
    Column("resource", Text, nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Index("ix_audit_at", "at_ms"),
)

# Signature nonces seen within the timestamp window (replay protection across replicas).
api_nonces = Table(
    "api_nonces",
    metadata,
    Column("nonce", String(128), primary_key=True),
    Column("expires_at_ms", BigInteger, nullable=False),
)
