"""The cloud state as rows: one row set per unit (see model/changes.py and model/units.py), the
change sequence replicas catch up from, and the write lock every change takes.

A unit's body is split on the way in: its lists (a group's rules, an instance's NICs and their
group memberships, a user's AccessKeys, a policy's versions) go to child tables, one row per
item, and the rest stays in the unit's own row. Reading joins them back, so a body read is the
body written. Every write holds the cloud lock (`transaction`): SQLite's write lock taken at
BEGIN IMMEDIATE, PostgreSQL's row lock on `cloud_head`; it appends one `cloud_changes` entry
naming the units it wrote and moves `cloud_head.seq` on.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Table, delete, insert, select, update

from palisade.auditor.model import changes as K
from palisade.auditor.model.changes import Unit
from palisade.auditor.store import schema
from palisade.auditor.store.database import Database

Body = dict
KEEP_CHANGES = 20_000  # sequence entries kept for replicas to catch up from
_CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True)
class _Child:
    field: str  # the list in the unit's body
    table: Table
    key: str  # the child table's id column ...
    item_key: str  # ... filled from this field of each item
    nested: str | None = None  # a list of strings inside each item (a NIC's groups)


_TABLES: dict[str, Table] = {
    K.ACCOUNT: schema.cloud_accounts,
    K.REGION: schema.cloud_regions,
    K.VPC: schema.cloud_vpcs,
    K.VSWITCH: schema.cloud_vswitches,
    K.GROUP: schema.cloud_security_groups,
    K.INSTANCE: schema.cloud_instances,
    K.KEYPAIR: schema.cloud_key_pairs,
    K.KEYPAIR_BINDING: schema.cloud_key_pair_bindings,
    K.INSTANCE_ROLE: schema.cloud_instance_roles,
    K.DDOS: schema.cloud_ddos,
    K.RAM_USER: schema.ram_users,
    K.RAM_GROUP: schema.ram_groups,
    K.RAM_POLICY: schema.ram_policies,
    K.RAM_ROLE: schema.ram_roles,
    K.RAM_ATTACHMENT: schema.ram_attachments,
}
_CHILDREN: dict[str, _Child] = {
    K.GROUP: _Child("rules", schema.cloud_security_group_rules, "rule_id", "rule_id"),
    K.INSTANCE: _Child("nics", schema.cloud_nics, "nic_id", "nic_id", nested="security_group_ids"),
    K.RAM_USER: _Child("AccessKeys", schema.ram_access_keys, "access_key_id", "AccessKeyId"),
    K.RAM_POLICY: _Child("Versions", schema.ram_policy_versions, "version_id", "VersionId"),
}
_META = (K.STATE, K.RAM, K.FLEET, K.KEYPAIRS, K.INSTANCE_ROLES)
# the order units are read in for a whole load (the document's order: see model/units.py)
LOAD_ORDER = (
    K.STATE,
    K.FLEET,
    K.ACCOUNT,
    K.REGION,
    K.VPC,
    K.VSWITCH,
    K.GROUP,
    K.INSTANCE,
    K.KEYPAIRS,
    K.KEYPAIR,
    K.KEYPAIR_BINDING,
    K.RAM,
    K.RAM_USER,
    K.RAM_GROUP,
    K.RAM_POLICY,
    K.RAM_ROLE,
    K.RAM_ATTACHMENT,
    K.INSTANCE_ROLES,
    K.INSTANCE_ROLE,
    K.DDOS,
)
assert set(LOAD_ORDER) == set(K.KINDS)


def _text(body: object) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for at in range(0, len(items), _CHUNK):
        yield items[at : at + _CHUNK]


class CloudRows:
    """Reads and writes the units of the one cloud state a database holds."""

    def __init__(self, store: Database):
        self.store = store
        self.engine = store.engine

    # -- the lock and the sequence -------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction holding the cloud lock: no other process or replica writes the
        cloud state until it ends (a commit, or a rollback on any error)."""
        with self.store.write_transaction() as conn:
            if not self.store.is_sqlite:  # SQLite: BEGIN IMMEDIATE is the lock
                conn.execute(
                    select(schema.cloud_head.c.seq)
                    .where(schema.cloud_head.c.id == 1)
                    .with_for_update()
                )
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read transaction that sees one committed state throughout (PostgreSQL's default,
        READ COMMITTED, would let a unit's rows come from two commits; SQLite's read
        transactions are snapshots already)."""
        with self.engine.connect() as conn:
            if not self.store.is_sqlite:
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def head(self, conn: Connection | None = None) -> int:
        """The last committed change (0: no state yet)."""
        if conn is None:
            with self.engine.connect() as own:
                return head_of(own)
        return head_of(conn)

    def changes_since(self, conn: Connection, seq: int, head: int) -> set[Unit] | None:
        """The units written by the changes after `seq` up to `head` (read first: every change
        up to it is committed); None when the sequence no longer goes back that far (pruned:
        reload everything)."""
        c = schema.cloud_changes
        rows = conn.execute(
            select(c.c.seq, c.c.units).where(c.c.seq > seq, c.c.seq <= head).order_by(c.c.seq)
        ).all()
        if len(rows) != head - seq:
            return None
        units: set[Unit] = set()
        for row in rows:
            units.update((str(k), str(i)) for k, i in json.loads(row.units))
        return units

    # -- reading -------------------------------------------------------------------------------

    def load_all(self, conn: Connection | None = None) -> tuple[int, list[tuple[Unit, Body]]]:
        """The newest change and every unit, in document order."""
        if conn is None:
            with self.snapshot() as own:
                return self.load_all(own)
        return head_of(conn), CloudRows.read_kinds(conn, LOAD_ORDER)

    @staticmethod
    def read_kinds(conn: Connection, kinds: Iterable[str]) -> list[tuple[Unit, Body]]:
        """Every unit of `kinds`, kind by kind in the order given, each in creation order."""
        out: list[tuple[Unit, Body]] = []
        meta = dict(conn.execute(select(schema.cloud_meta.c.kind, schema.cloud_meta.c.body)).all())
        for kind in kinds:
            if kind in _META:
                if kind in meta:
                    out.append(((kind, ""), json.loads(meta[kind])))
                continue
            t = _TABLES[kind]
            rows = conn.execute(select(t.c.id, t.c.body).order_by(t.c.ordinal, t.c.id)).all()
            bodies = {row.id: json.loads(row.body) for row in rows}
            child = _CHILDREN.get(kind)
            if child is not None:
                CloudRows._join_children(conn, child, bodies, None)
            out.extend(((kind, unit_id), body) for unit_id, body in bodies.items())
        return out

    @staticmethod
    def read_units(conn: Connection, units: Iterable[Unit]) -> dict[Unit, Body | None]:
        """The stored bodies of `units` (None: not stored)."""
        by_kind: dict[str, list[str]] = defaultdict(list)
        for kind, unit_id in units:
            by_kind[kind].append(unit_id)
        out: dict[Unit, Body | None] = {}
        for kind, ids in by_kind.items():
            if kind in _META:
                m = schema.cloud_meta
                body = conn.execute(select(m.c.body).where(m.c.kind == kind)).scalar()
                out[(kind, "")] = None if body is None else json.loads(body)
                continue
            t = _TABLES[kind]
            bodies: dict[str, Body] = {}
            for chunk in _chunks(sorted(set(ids))):
                rows = conn.execute(select(t.c.id, t.c.body).where(t.c.id.in_(chunk))).all()
                bodies.update((row.id, json.loads(row.body)) for row in rows)
            child = _CHILDREN.get(kind)
            if child is not None and bodies:
                CloudRows._join_children(conn, child, bodies, list(bodies))
            for unit_id in ids:
                out[(kind, unit_id)] = bodies.get(unit_id)
        return out

    @staticmethod
    def _join_children(
        conn: Connection, child: _Child, bodies: dict[str, Body], ids: list[str] | None
    ) -> None:
        t = child.table
        items: dict[str, list[Body]] = defaultdict(list)
        nested: dict[tuple[str, int], list[str]] = defaultdict(list)
        for chunk in [None] if ids is None else list(_chunks(ids)):
            q = select(t.c.unit_id, t.c.body).order_by(t.c.unit_id, t.c.position)
            if chunk is not None:
                q = q.where(t.c.unit_id.in_(chunk))
            for row in conn.execute(q):
                items[row.unit_id].append(json.loads(row.body))
            if child.nested is not None:
                m = schema.cloud_nic_memberships
                q = select(m.c.unit_id, m.c.parent_position, m.c.group_id).order_by(
                    m.c.unit_id, m.c.parent_position, m.c.position
                )
                if chunk is not None:
                    q = q.where(m.c.unit_id.in_(chunk))
                for row in conn.execute(q):
                    nested[(row.unit_id, row.parent_position)].append(row.group_id)
        for unit_id, body in bodies.items():
            listed = items.get(unit_id, [])
            if child.nested is not None:
                for position, item in enumerate(listed):
                    item[child.nested] = nested.get((unit_id, position), [])
            body[child.field] = listed

    # -- writing -------------------------------------------------------------------------------

    def write(self, conn: Connection, updates: dict[Unit, Body | None], at_ms: int) -> int:
        """Writes `updates` (None: delete the unit) inside `transaction()`, appends them to the
        change sequence and returns the new head. The caller has caught up with the head."""
        return write_units(conn, updates, at_ms)


def head_of(conn: Connection) -> int:
    h = schema.cloud_head
    return int(conn.execute(select(h.c.seq).where(h.c.id == 1)).scalar() or 0)


def write_units(conn: Connection, updates: dict[Unit, Body | None], at_ms: int) -> int:
    """`CloudRows.write` on a bare connection (the migration has no `Database`)."""
    seq = head_of(conn) + 1
    for index, (unit, body) in enumerate(updates.items()):
        _write_unit(conn, unit, body, seq * 1_000_000 + index)
    h = schema.cloud_head
    if seq == 1:
        conn.execute(insert(h).values(id=1, seq=seq))
    else:
        conn.execute(update(h).where(h.c.id == 1).values(seq=seq))
    conn.execute(
        insert(schema.cloud_changes).values(
            seq=seq, at_ms=at_ms, units=_text([list(u) for u in updates])
        )
    )
    if seq % 500 == 0:
        c = schema.cloud_changes
        conn.execute(delete(c).where(c.c.seq <= seq - KEEP_CHANGES))
    return seq


def _write_unit(conn: Connection, unit: Unit, body: Body | None, ordinal: int) -> None:
    kind, unit_id = unit
    if kind in _META:
        m = schema.cloud_meta
        conn.execute(delete(m).where(m.c.kind == kind))
        if body is not None:
            conn.execute(insert(m).values(kind=kind, body=_text(body)))
        return
    t = _TABLES[kind]
    child = _CHILDREN.get(kind)
    if child is not None:
        conn.execute(delete(child.table).where(child.table.c.unit_id == unit_id))
        if child.nested is not None:
            m = schema.cloud_nic_memberships
            conn.execute(delete(m).where(m.c.unit_id == unit_id))
    if body is None:
        conn.execute(delete(t).where(t.c.id == unit_id))
        return
    top = body
    if child is not None:
        top = {k: v for k, v in body.items() if k != child.field}
        rows, memberships = [], []
        for position, item in enumerate(body.get(child.field) or []):
            stored = item
            if child.nested is not None:
                stored = {k: v for k, v in item.items() if k != child.nested}
                memberships.extend(
                    {
                        "unit_id": unit_id,
                        "parent_position": position,
                        "position": n,
                        "group_id": group_id,
                    }
                    for n, group_id in enumerate(item.get(child.nested) or [])
                )
            rows.append(
                {
                    "unit_id": unit_id,
                    "position": position,
                    child.key: str(item.get(child.item_key) or ""),
                    "body": _text(stored),
                }
            )
        if rows:
            conn.execute(insert(child.table), rows)
        if memberships:
            conn.execute(insert(schema.cloud_nic_memberships), memberships)
    done = conn.execute(update(t).where(t.c.id == unit_id).values(body=_text(top)))
    if done.rowcount == 0:  # a new unit: it goes after every unit made before it
        conn.execute(insert(t).values(id=unit_id, ordinal=ordinal, body=_text(top)))
