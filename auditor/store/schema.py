"""Tables of the auditor's store. One schema for SQLite and PostgreSQL.

Times are integer milliseconds since the epoch (UTC): portable across both
databases and free of time-zone surprises.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
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

# Host events (auditor/store/events.py says why they are kept this way): one row per agent
# message with its new events as one serialized EventBatch ...
event_batches = Table(
    "event_batches",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("instance_id", String(128), nullable=False),
    Column("first_ms", BigInteger, nullable=False),  # the batch's oldest event
    Column("last_ms", BigInteger, nullable=False),  # and its newest
    Column("count", Integer, nullable=False),
    Column("failures", Integer, nullable=False),  # failed logins in it
    Column("successes", Integer, nullable=False),  # successful logins in it
    Column("body", LargeBinary, nullable=False),  # facts.EventBatch
    Index("ix_event_batches_instance_last", "instance_id", "last_ms"),
    Index("ix_event_batches_last", "last_ms"),
)

# ... a key per event ever stored, its time then BLAKE2b-96 of (instance id, event id) ...
event_keys = Table(
    "event_keys",
    metadata,
    Column("key", LargeBinary(20), primary_key=True),
    sqlite_with_rowid=False,
)

# ... and logins counted per clock hour, instance, result and source: the dashboard's charts.
login_counts = Table(
    "login_counts",
    metadata,
    Column("hour_ms", BigInteger, primary_key=True),
    Column("instance_id", String(128), primary_key=True),
    Column("result", String(32), primary_key=True),
    Column("source_ip", String(64), primary_key=True),  # "" when the event has none
    Column("n", BigInteger, nullable=False),
    Index("ix_login_counts_instance_hour", "instance_id", "hour_ms"),
    sqlite_with_rowid=False,
)

# The cloud model (regions, accounts, VPCs, instances, NICs, groups, rules, memberships, key
# pairs and bindings, RAM, instance roles, DDoS states) as rows, one row set per unit (see
# model/changes.py): a write rewrites only the units it touched. Each unit table keeps the unit's
# document part as JSON `body`, its lists (rules, NICs, memberships, AccessKeys, policy versions)
# in child tables; `ordinal` keeps the order units were created in (the order lists are shown).
UNIT_ID = String(512)  # compound ids (a key pair's account, region and name) are long


def _unit_table(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", UNIT_ID, primary_key=True),
        Column("ordinal", BigInteger, nullable=False),
        Column("body", Text, nullable=False),
    )


def _child_table(name: str, key: str) -> Table:
    """The list items of a unit, in order (`position`), with their own id in `key`."""
    return Table(
        name,
        metadata,
        Column("unit_id", UNIT_ID, primary_key=True),
        Column("position", Integer, primary_key=True),
        Column(key, String(255), nullable=False),
        Column("body", Text, nullable=False),
        Index(f"ix_{name}_{key}", key),
    )


cloud_meta = Table(  # the singleton units: state, ram, fleet, keypairs, instance_roles
    "cloud_meta",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("body", Text, nullable=False),
)
cloud_accounts = _unit_table("cloud_accounts")
cloud_regions = _unit_table("cloud_regions")
cloud_vpcs = _unit_table("cloud_vpcs")
cloud_vswitches = _unit_table("cloud_vswitches")
cloud_security_groups = _unit_table("cloud_security_groups")
cloud_security_group_rules = _child_table("cloud_security_group_rules", "rule_id")
cloud_instances = _unit_table("cloud_instances")
cloud_nics = _child_table("cloud_nics", "nic_id")
# a NIC's security groups, in order: (instance, NIC position, position) -> group
cloud_nic_memberships = Table(
    "cloud_nic_memberships",
    metadata,
    Column("unit_id", UNIT_ID, primary_key=True),
    Column("parent_position", Integer, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("group_id", String(255), nullable=False),
    Index("ix_cloud_nic_memberships_group_id", "group_id"),
)
cloud_key_pairs = _unit_table("cloud_key_pairs")
cloud_key_pair_bindings = _unit_table("cloud_key_pair_bindings")
cloud_instance_roles = _unit_table("cloud_instance_roles")
cloud_ddos = _unit_table("cloud_ddos")
ram_users = _unit_table("ram_users")
ram_access_keys = _child_table("ram_access_keys", "access_key_id")
ram_groups = _unit_table("ram_groups")
ram_policies = _unit_table("ram_policies")
ram_policy_versions = _child_table("ram_policy_versions", "version_id")
ram_roles = _unit_table("ram_roles")
ram_attachments = _unit_table("ram_attachments")

# The change sequence: `cloud_head.seq` is the last committed change; each commit appends the
# units it wrote to `cloud_changes`, which replicas read to catch up (older entries are pruned;
# a replica further behind reloads everything).
cloud_head = Table(
    "cloud_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
)
cloud_changes = Table(
    "cloud_changes",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("units", Text, nullable=False),  # JSON [[kind, id], ...]
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

# ClientToken answers: a retried call with the same token gets the first answer (for a day).
# `token_key` hashes the caller, the action and the token; `fingerprint` the parameters.
api_client_tokens = Table(
    "api_client_tokens",
    metadata,
    Column("token_key", String(64), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("answer", Text, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False),
)

# -- advisories (palisade advisories import; the vulnerability check) ---------------------
# One row per OSV record, as imported (its JSON text): every replica reads the same feed. A
# record is replaced only by one with a newer `modified` (OSV's rule). `advisory_imports`
# records each import: the newest id is the feed's version (a replica reloads when it moves).
advisories = Table(
    "advisories",
    metadata,
    Column("advisory_id", String(255), primary_key=True),
    Column("modified", String(64), nullable=False),
    Column("ecosystems", Text, nullable=False),  # the affected ecosystems, comma-separated
    Column("document", Text, nullable=False),
    Column("imported_at_ms", BigInteger, nullable=False),
)

advisory_imports = Table(
    "advisory_imports",
    metadata,
    Column("import_id", Integer, primary_key=True, autoincrement=True),
    Column("source", Text, nullable=False),
    Column("imported_at_ms", BigInteger, nullable=False),
    Column("added", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
)

# The check settings an account changed through the API (ModifyCheckSettings): a JSON object
# of the keys given (checks/settings_schema.py), laid over the settings file's. `version`
# moves on every change: each replica's check runner reloads when it does.
check_settings = Table(
    "check_settings",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("document", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
)

# -- alerts (auditor/alerts) --------------------------------------------------------------
# One row per alert. The dedup key is (account_id, instance_id, check_id, subject);
# `live_key` holds its SHA-256 while the alert is live (pending, handling, accepted_risk,
# ignored, false_positive, handled while still present) and NULL once it is final (handled
# and cleared, expired): the unique constraint
# on it means one live alert per key, whatever the replicas do.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("instance_id", String(128), nullable=False),  # "" for fleet-wide findings
    Column("check_id", String(128), nullable=False),
    Column("subject", Text, nullable=False),
    Column("live_key", String(64), nullable=True, unique=True),
    Column("status", String(16), nullable=False),
    Column("resolution", String(16), nullable=True),  # auto, manual, expired, whitelist
    Column("severity", String(16), nullable=False),
    Column("category", String(32), nullable=False),
    Column("title", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("details", Text, nullable=False),  # JSON
    Column("event_like", Boolean, nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("first_seen_ms", BigInteger, nullable=False),
    Column("last_seen_ms", BigInteger, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("resolved_at_ms", BigInteger, nullable=True),
    Column("notified", Boolean, nullable=False),  # handed to notify when opened
    Column("silenced_by", Integer, nullable=True),  # the silence that muted its opening
    Column("history", Text, nullable=False),  # JSON list: status, at_ms, actor, comment
    Column("accepted_until_ms", BigInteger, nullable=True),  # accepted_risk: its expiry
    Index("ix_alerts_scope", "account_id", "instance_id", "check_id"),
    Index("ix_alerts_status_severity", "status", "severity"),
    Index("ix_alerts_last_seen", "last_seen_ms"),
)

# Time-bounded silences: an alert opened while one matches is stored but not notified.
# A NULL matcher matches anything; check_id and subject are shell-style patterns.
alert_silences = Table(
    "alert_silences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("check_id", String(256), nullable=True),
    Column("instance_id", String(128), nullable=True),
    Column("subject", Text, nullable=True),
    Column("category", String(32), nullable=True),
    Column("severity", String(16), nullable=True),
    Column("starts_at_ms", BigInteger, nullable=False),
    Column("ends_at_ms", BigInteger, nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("comment", Text, nullable=False),
    Index("ix_alert_silences_ends", "ends_at_ms"),
)

# Whitelist entries: a finding they match raises no alert at all (e.g. a trusted source
# IP/CIDR for the login checks, a port meant to be open for the exposure checks).
alert_whitelist = Table(
    "alert_whitelist",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # ip, port, subject
    Column("value", String(256), nullable=False),
    Column("check_id", String(256), nullable=True),
    Column("instance_id", String(128), nullable=True),
    Column("category", String(32), nullable=True),
    Column("expires_at_ms", BigInteger, nullable=True),
    Column("created_by", String(256), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("comment", Text, nullable=False),
)

# -- notifications (auditor/notify) -------------------------------------------------------
# Settings: channels (config JSON holds secrets, which the API never returns),
# subscriptions (category + levels -> channels), one time window per account.
notify_channels = Table(
    "notify_channels",
    metadata,
    Column("channel_id", String(32), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("name", String(128), nullable=False),
    Column("kind", String(16), nullable=False),  # email, sms_hook, inbox
    Column("config", Text, nullable=False),  # JSON
    Column("max_per_hour", Integer, nullable=True),  # NULL: no cap
    Column("created_at_ms", BigInteger, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
    Index("ix_notify_channels_account", "account_id"),
)

notify_subscriptions = Table(
    "notify_subscriptions",
    metadata,
    Column("subscription_id", String(32), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("category", String(32), nullable=False),
    Column("levels", Text, nullable=False),  # JSON list
    Column("channel_ids", Text, nullable=False),  # JSON list
    Column("created_at_ms", BigInteger, nullable=False),
    Index("ix_notify_subscriptions_account", "account_id"),
)

notify_windows = Table(
    "notify_windows",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("start", String(5), nullable=False),  # HH:MM local
    Column("end", String(5), nullable=False),
    Column("time_zone", String(64), nullable=False),  # IANA
    Column("updated_at_ms", BigInteger, nullable=False),
)

# How an account's notifications are grouped (Alertmanager's group_wait / group_interval):
# no row means the defaults of notify/models.py (NotificationGrouping).
notify_grouping = Table(
    "notify_grouping",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("group_wait_s", Integer, nullable=False),
    Column("group_interval_s", Integer, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
)

# The durable outbox: one row per (notification, channel), added in the transaction that
# opens the alert. queued -> sending (leased) -> sent; held (window closed, over the cap)
# -> one digest per channel; a failed try goes back with a backoff; failed is final;
# dropped (final) when a stage decided at send time that it must not go (drop_reason), and
# the message it would have joined says so. group_key: the alert's group (instance, source).
notify_outbox = Table(
    "notify_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("alert_id", String(64), nullable=False),
    Column("channel_id", String(32), nullable=False),
    Column("payload", Text, nullable=False),  # JSON: the alert's fields
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at_ms", BigInteger, nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at_ms", BigInteger, nullable=True),
    Column("delivery_id", String(48), nullable=True),  # shared by the rows of one digest
    Column("claimed_at_ms", BigInteger, nullable=True),  # counts against the hourly cap
    Column("last_error", Text, nullable=True),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("sent_at_ms", BigInteger, nullable=True),
    Column("group_key", String(64), nullable=False, server_default=""),
    Column("drop_reason", Text, nullable=True),
    Index("ix_notify_outbox_due", "state", "next_attempt_at_ms"),
    Index("ix_notify_outbox_group", "account_id", "channel_id", "group_key"),
    Index("ix_notify_outbox_channel_claimed", "channel_id", "claimed_at_ms"),
)

# The in-site inbox. user_name "" is the account-wide inbox. delivery_id makes a delivery
# re-sent after a lease takeover land once.
inbox = Table(
    "inbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("user_name", String(128), nullable=False),
    Column("delivery_id", String(48), nullable=False, unique=True),
    Column("alert_ids", Text, nullable=False),  # JSON list (a digest has several)
    Column("level", String(16), nullable=False),
    Column("category", String(32), nullable=False),
    Column("instance_id", String(128), nullable=False),
    Column("title", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("read_at_ms", BigInteger, nullable=True),
    Index("ix_inbox_account_user_created", "account_id", "user_name", "created_at_ms"),
)

# Dashboard sessions: only the SHA-256 of the cookie's token is stored.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("session_sha256", String(64), primary_key=True),
    Column("user_name", String(64), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False),
    Column("last_seen_ms", BigInteger, nullable=False),
    # the user's console credential fingerprint at sign-in (RamAccount.console_credential);
    # NULL in sessions opened before it existed, which are refused
    Column("credential", String(64), nullable=True),
)
