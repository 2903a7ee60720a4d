"""Silences and whitelist entries in the database: the user-made rules (one table each)
that `lifecycle.reconcile` obeys - create, list, delete (each change written to the audit log
in its transaction), and the rules in force for a round."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Table, delete, insert, or_, select
from sqlalchemy.engine import Connection

from palisade.auditor.alerts.audit_log import AuditInfo, write_audit_entry
from palisade.auditor.alerts.lifecycle import (
    ANY_ACCOUNT,
    Silence,
    WhitelistEntry,
    to_ms,
    validate_whitelist_value,
)
from palisade.auditor.model.errors import ModelError
from palisade.auditor.store import schema
from palisade.auditor.store.database import Database

R = TypeVar("R", Silence, WhitelistEntry)  # a user-made rule: a silence or a whitelist entry


class UserRuleRepository:
    def __init__(self, store: Database):
        self.store = store
        self.engine = store.engine

    def create_silence(self, silence: Silence, audit: AuditInfo | None = None) -> Silence:
        if (
            not any((silence.check_id, silence.instance_id, silence.subject, silence.category))
            and not silence.severity
        ):
            raise ModelError(
                "MissingParameter",
                "a silence needs at least one matcher: CheckId, InstanceId, Subject, "
                "Category or Level",
            )
        if silence.ends_at_ms <= silence.starts_at_ms:
            raise ModelError("InvalidParameter.EndTime", "a silence must end after it starts")
        return self._create_rule(_SILENCES, silence, audit)

    def silences(
        self, account_id: str | None = None, active_at: datetime | None = None
    ) -> list[Silence]:
        """Every silence (newest first), or only those active at `active_at`."""
        return self._list_rules(_SILENCES, account_id, active_at)

    def delete_silence(self, silence_id: int, audit: AuditInfo | None = None) -> Silence:
        return self._delete_rule(_SILENCES, silence_id, audit)

    def add_whitelist_entry(
        self, entry: WhitelistEntry, audit: AuditInfo | None = None
    ) -> WhitelistEntry:
        entry = replace(entry, value=validate_whitelist_value(entry.kind, entry.value))
        return self._create_rule(_WHITELIST, entry, audit)

    def whitelist(
        self, account_id: str | None = None, active_at: datetime | None = None
    ) -> list[WhitelistEntry]:
        return self._list_rules(_WHITELIST, account_id, active_at)

    def delete_whitelist_entry(
        self, entry_id: int, audit: AuditInfo | None = None
    ) -> WhitelistEntry:
        return self._delete_rule(_WHITELIST, entry_id, audit)

    def _create_rule(self, rules: _Rules[R], rule: R, audit: AuditInfo | None) -> R:
        t = rules.table
        with self.store.write_transaction() as conn:
            new_id = conn.execute(
                insert(t).values(**rules.to_row(rule)).returning(t.c.id)
            ).scalar_one()
            # read back: the rule as stored
            saved = rules.from_row(conn.execute(select(t).where(t.c.id == new_id)).one())
            if audit is not None:
                write_audit_entry(
                    conn, audit, f"{rules.resource}/{new_id}", None, rules.view(saved)
                )
        return saved

    def _list_rules(
        self, rules: _Rules[R], account_id: str | None, active_at: datetime | None
    ) -> list[R]:
        t = rules.table
        q = select(t)
        if account_id is not None:
            q = q.where(t.c.account_id == account_id)
        if active_at is not None:
            q = q.where(*rules.active(t, to_ms(active_at)))
        with self.engine.connect() as conn:
            return [rules.from_row(r) for r in conn.execute(q.order_by(t.c.id.desc())).all()]

    def _delete_rule(self, rules: _Rules[R], rule_id: int, audit: AuditInfo | None) -> R:
        t = rules.table
        with self.store.write_transaction() as conn:
            row = conn.execute(select(t).where(t.c.id == rule_id)).first()
            if row is None:
                raise ModelError(rules.missing_code, f"{rules.noun} {rule_id} does not exist")
            conn.execute(delete(t).where(t.c.id == rule_id))
            gone = rules.from_row(row)
            if audit is not None:
                write_audit_entry(
                    conn, audit, f"{rules.resource}/{rule_id}", rules.view(gone), None
                )
        return gone

    def in_force(
        self, conn: Connection, account_id: str, now_ms: int
    ) -> tuple[list[Silence], list[WhitelistEntry]]:
        """The silences and whitelist entries a round of `account_id` obeys (read in the
        round's transaction)."""
        return (
            self._rules_in_force(conn, _SILENCES, account_id, now_ms),
            self._rules_in_force(conn, _WHITELIST, account_id, now_ms),
        )

    def _rules_in_force(
        self, conn: Connection, rules: _Rules[R], account_id: str, now_ms: int
    ) -> list[R]:
        return _in_force(conn, rules, account_id, now_ms)


def silences_in_force(conn: Connection, account_id: str, now_ms: int) -> list[Silence]:
    """The silences in force for `account_id` now (the notification pipeline asks again when
    a message is about to go)."""
    return _in_force(conn, _SILENCES, account_id, now_ms)


def _in_force(conn: Connection, rules: _Rules[R], account_id: str, now_ms: int) -> list[R]:
    """The rules a round of `account_id` obeys: its own and every account's, in force now."""
    t = rules.table
    rows = conn.execute(
        select(t)
        .where(t.c.account_id.in_((account_id, ANY_ACCOUNT)), *rules.active(t, now_ms))
        .order_by(t.c.id)
    ).all()
    return [rules.from_row(r) for r in rows]


# -- rows <-> objects ------------------------------------------------------------------------


def _silence_row(s: Silence) -> dict:
    return {
        "account_id": s.account_id,
        "check_id": s.check_id,
        "instance_id": s.instance_id,
        "subject": s.subject,
        "category": s.category,
        "severity": s.severity,
        "starts_at_ms": s.starts_at_ms,
        "ends_at_ms": s.ends_at_ms,
        "created_by": s.created_by,
        "created_at_ms": s.created_at_ms,
        "comment": s.comment,
    }


def _silence(row) -> Silence:
    return Silence(
        id=int(row.id),
        account_id=row.account_id,
        starts_at_ms=int(row.starts_at_ms),
        ends_at_ms=int(row.ends_at_ms),
        created_by=row.created_by,
        comment=row.comment,
        created_at_ms=int(row.created_at_ms),
        check_id=row.check_id,
        instance_id=row.instance_id,
        subject=row.subject,
        category=row.category,
        severity=row.severity,
    )


def _whitelist_row(w: WhitelistEntry) -> dict:
    return {
        "account_id": w.account_id,
        "kind": w.kind,
        "value": w.value,
        "check_id": w.check_id,
        "instance_id": w.instance_id,
        "category": w.category,
        "expires_at_ms": w.expires_at_ms,
        "created_by": w.created_by,
        "created_at_ms": w.created_at_ms,
        "comment": w.comment,
    }


def _whitelist_entry(row) -> WhitelistEntry:
    return WhitelistEntry(
        id=int(row.id),
        account_id=row.account_id,
        kind=row.kind,
        value=row.value,
        created_by=row.created_by,
        comment=row.comment,
        created_at_ms=int(row.created_at_ms),
        check_id=row.check_id,
        instance_id=row.instance_id,
        category=row.category,
        expires_at_ms=row.expires_at_ms,
    )


@dataclass(frozen=True)
class _Rules(Generic[R]):
    """A table of user-made rules (silences, whitelist entries): how a rule is stored and read
    back, what the audit log calls it, how a missing one is refused, and when one is in force."""

    table: Table
    to_row: Callable[[R], dict]
    from_row: Callable[[Any], R]
    resource: str  # the audit log's resource: "<resource>/<id>"
    missing_code: str  # the error of a missing id
    noun: str  # "<noun> <id> does not exist"
    active: Callable[[Table, int], tuple]  # the conditions of being in force at a time (ms)

    def view(self, rule: R) -> dict:
        """The rule as the audit log records it."""
        return {"id": rule.id, **self.to_row(rule)}


_SILENCES: _Rules[Silence] = _Rules(
    schema.alert_silences,
    _silence_row,
    _silence,
    "silence",
    "InvalidSilenceId.NotFound",
    "silence",
    lambda t, at: (t.c.starts_at_ms <= at, t.c.ends_at_ms > at),
)
_WHITELIST: _Rules[WhitelistEntry] = _Rules(
    schema.alert_whitelist,
    _whitelist_row,
    _whitelist_entry,
    "whitelist",
    "InvalidWhitelistId.NotFound",
    "whitelist entry",
    lambda t, at: (or_(t.c.expires_at_ms.is_(None), t.c.expires_at_ms > at),),
)
