"""Alerts in the database: apply a round of findings atomically, query them, change their
status. The silences and whitelist entries a round obeys are in user_rules.py (reached through
this repository too), the audit log of user changes in audit_log.py.

`apply_findings` runs the pure lifecycle (`lifecycle.reconcile`) inside ONE transaction that
is serialised per scope across replicas: on PostgreSQL a transaction-scoped advisory lock on
a hash of the scope (the instance, or the fleet, of one account); on SQLite the store's
single-writer lock, and a first write that takes the database's write lock before anything
is read. The unique `live_key` column backs this up: two live alerts for one key cannot be
committed, whatever happens. The `on_opened(conn, event)` hook runs in the same transaction,
so an alert is opened together with its queued notification or not at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from palisade.auditor.alerts.audit_log import AuditInfo, write_audit_entry
from palisade.auditor.alerts.lifecycle import (
    LIVE_STATUSES,
    Alert,
    AlertEvent,
    AlertKey,
    LifecycleSettings,
    Scope,
    Silence,
    StatusChange,
    WhitelistEntry,
    change_status,
    expire,
    reconcile,
    to_ms,
)
from palisade.auditor.alerts.user_rules import UserRuleRepository
from palisade.auditor.checks.taxonomy import OPEN_STATUSES, AlertStatus
from palisade.auditor.model.errors import ModelError
from palisade.auditor.store import schema
from palisade.auditor.store.database import Database

OnOpened = Callable[[Connection, AlertEvent], None]
_LOCK_CLASS = 0x414C5254  # "ALRT": the advisory-lock namespace of alert scopes
_ATTEMPTS = 3


@dataclass(frozen=True)
class AlertFilter:
    statuses: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    check_id: str | None = None
    instance_id: str | None = None
    category: str | None = None
    account_id: str | None = None


@dataclass
class AlertCounts:
    """For the dashboard: open alerts (pending, handling) by level; all alerts by status."""

    open_by_level: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)


def scope_lock_id(scope: Scope) -> int:
    """A signed 32-bit hash of the scope, the second half of the advisory lock's key."""
    digest = hashlib.sha256(scope.lock_name().encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


class AlertRepository:
    def __init__(
        self,
        store: Database,
        settings: LifecycleSettings | None = None,
        on_opened: OnOpened | None = None,
        event_checks: frozenset[str] | None = None,
    ):
        """`event_checks`: the checks whose findings are events (see lifecycle); by default
        those whose CheckMeta.kind is "event" in the check registry."""
        self.store = store
        self.engine = store.engine
        self.settings = settings or LifecycleSettings()
        self.on_opened = on_opened
        self._event_checks = event_checks
        self.user_rules = UserRuleRepository(store)

    @property
    def event_checks(self) -> frozenset[str]:
        if self._event_checks is None:
            from palisade.auditor.checks import all_metas

            self._event_checks = frozenset(m.id for m in all_metas() if m.kind == "event")
        return self._event_checks

    # -- the lifecycle ---------------------------------------------------------------------

    def apply_findings(
        self,
        scope: Scope,
        findings: list,
        now: datetime,
        on_opened: OnOpened | None = None,
    ) -> list[AlertEvent]:
        """One round of findings for a scope, committed when this returns. Returns the
        events: "opened" (notify those with `notify`), "count", "resolved". `on_opened`
        (default: the service's) is called for every notified opening inside the
        transaction; if it raises, nothing of the round is committed."""
        return self.apply_rounds([(scope, findings)], now, on_opened)

    def apply_rounds(
        self,
        rounds: list[tuple[Scope, list]],
        now: datetime,
        on_opened: OnOpened | None = None,
    ) -> list[AlertEvent]:
        """Several scopes' rounds (as apply_findings) in ONE transaction: under a fleet-wide
        attack every instance has findings each round, and a transaction per instance queued
        each of them behind ingest's commits for the write lock."""
        hook = on_opened or self.on_opened
        now_ms = to_ms(now)
        # nothing to open, count or resolve: no write transaction for that scope at all
        rounds = [(s, f) for s, f in rounds if f or self._has_live_alerts(s)]
        if not rounds:
            return []
        # scope locks in one order across replicas (no deadlock between two batches)
        rounds.sort(key=lambda r: scope_lock_id(r[0]))
        for attempt in range(_ATTEMPTS):
            try:
                with self.store.write_transaction() as conn:
                    events: list[AlertEvent] = []
                    rules: dict[str, tuple[list[Silence], list[WhitelistEntry]]] = {}
                    for scope, findings in rounds:
                        self._lock_scope(conn, scope)
                        if scope.account_id not in rules:
                            rules[scope.account_id] = self.user_rules.in_force(
                                conn, scope.account_id, now_ms
                            )
                        events += self._apply_round(
                            conn, scope, findings, now, now_ms, rules[scope.account_id], hook
                        )
                    return events
            except IntegrityError:
                # an overlapping scope (a fleet round and an instance round) opened the same
                # key first: run the rounds again on what it committed
                if attempt == _ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _apply_round(
        self,
        conn: Connection,
        scope: Scope,
        findings: list,
        now: datetime,
        now_ms: int,
        rules: tuple[list[Silence], list[WhitelistEntry]],
        hook: OnOpened | None,
    ) -> list[AlertEvent]:
        existing = self._live_alerts_of(conn, scope, findings)
        closed = self._recently_closed(conn, scope, now_ms)
        silences, whitelist = rules
        changes = reconcile(
            existing,
            findings,
            scope,
            now,
            silences,
            whitelist,
            self.settings,
            self.event_checks,
            closed,
        )
        for alert in changes.new:
            alert.id = self._insert(conn, alert)
        for alert in changes.updated:
            self._update_seen(conn, alert)
        for alert in changes.reopened:
            self._update_seen(conn, alert)
            self._update_status(conn, alert)
        for alert in changes.resolved:
            self._update_status(conn, alert)
        events = changes.events()
        if hook is not None:
            for ev in events:
                if ev.notifies:
                    hook(conn, ev)
        return events

    def expire_stale(self, now: datetime) -> list[AlertEvent]:
        """Expires every open alert not seen for the expiry period (run it periodically:
        rounds only expire the alerts of the scope they evaluate)."""
        cutoff = to_ms(now) - int(self.settings.expire_after.total_seconds() * 1000)
        a = schema.alerts
        with self.store.write_transaction() as conn:
            self._take_write_lock(conn)
            live_handled = and_(a.c.status == AlertStatus.HANDLED, a.c.live_key.is_not(None))
            rows = conn.execute(
                select(a).where(
                    or_(a.c.status.in_(sorted(OPEN_STATUSES)), live_handled),
                    a.c.last_seen_ms < cutoff,
                )
            ).all()
            done = expire([_alert(r) for r in rows], now, self.settings)
            for alert in done:
                self._update_status(conn, alert)
        return [AlertEvent("resolved", alert) for alert in done]

    def _lock_scope(self, conn: Connection, scope: Scope) -> None:
        if self.store.is_sqlite:
            self._take_write_lock(conn)
        else:
            conn.exec_driver_sql(
                f"SELECT pg_advisory_xact_lock({_LOCK_CLASS}, {scope_lock_id(scope)})"
            )

    def _take_write_lock(self, conn: Connection) -> None:
        if self.store.is_sqlite:
            # A write as the first statement takes SQLite's write lock (waiting for it under
            # busy_timeout) before the transaction reads: another process writing between
            # our read and our write would otherwise fail us with SQLITE_BUSY.
            conn.exec_driver_sql("UPDATE alerts SET id = id WHERE id = -1")

    def _has_live_alerts(self, scope: Scope) -> bool:
        """A cheap read: most rounds of a healthy instance find nothing and have nothing to
        resolve, and must not take the database's write lock for that."""
        a = schema.alerts
        q = select(a.c.id).where(a.c.account_id == scope.account_id, a.c.live_key.is_not(None))
        if scope.instance_id is not None:
            q = q.where(a.c.instance_id == scope.instance_id)
        else:
            q = q.where(a.c.check_id.in_(sorted(scope.checks)))
        with self.engine.connect() as conn:
            return conn.execute(q.limit(1)).first() is not None

    def _live_alerts_of(self, conn: Connection, scope: Scope, findings: list) -> list[Alert]:
        a = schema.alerts
        q = select(a).where(a.c.account_id == scope.account_id, a.c.live_key.is_not(None))
        if scope.instance_id is not None:
            q = q.where(a.c.instance_id == scope.instance_id)
        else:
            checks = set(scope.checks) | {f.check_id for f in findings}
            q = q.where(a.c.check_id.in_(sorted(checks)))
        if not self.store.is_sqlite:
            q = q.with_for_update()
        return [_alert(r) for r in conn.execute(q.order_by(a.c.id)).all()]

    def _recently_closed(self, conn: Connection, scope: Scope, now_ms: int) -> list[Alert]:
        """Final alerts of event checks closed within a day: a burst they covered must not
        reopen while it is still inside its check's window."""
        checks = sorted(self.event_checks)
        if not checks:
            return []
        a = schema.alerts
        q = select(a).where(
            a.c.account_id == scope.account_id,
            a.c.live_key.is_(None),
            a.c.check_id.in_(checks),
            a.c.updated_at_ms >= now_ms - 24 * 3600 * 1000,
        )
        if scope.instance_id is not None:
            q = q.where(a.c.instance_id == scope.instance_id)
        return [_alert(r) for r in conn.execute(q.order_by(a.c.id)).all()]

    def _insert(self, conn: Connection, alert: Alert) -> int:
        a = schema.alerts
        k = alert.key
        return conn.execute(
            insert(a)
            .values(
                account_id=k.account_id,
                instance_id=k.instance_id,
                check_id=k.check_id,
                subject=k.subject,
                live_key=k.digest(),
                status=alert.status,
                resolution=alert.resolution,
                severity=alert.severity,
                category=alert.category,
                title=alert.title,
                message=alert.message,
                details=_json(alert.details),
                event_like=alert.event_like,
                count=alert.count,
                first_seen_ms=alert.first_seen_ms,
                last_seen_ms=alert.last_seen_ms,
                updated_at_ms=alert.updated_at_ms,
                resolved_at_ms=alert.resolved_at_ms,
                notified=alert.notified,
                silenced_by=alert.silenced_by,
                history=_history_json(alert.history),
                accepted_until_ms=alert.accepted_until_ms,
            )
            .returning(a.c.id)
        ).scalar_one()

    def _update_seen(self, conn: Connection, alert: Alert) -> None:
        a = schema.alerts
        conn.execute(
            update(a)
            .where(a.c.id == alert.id)
            .values(
                count=alert.count,
                last_seen_ms=alert.last_seen_ms,
                updated_at_ms=alert.updated_at_ms,
                severity=alert.severity,
                title=alert.title,
                message=alert.message,
                details=_json(alert.details),
            )
        )

    def _update_status(self, conn: Connection, alert: Alert) -> None:
        a = schema.alerts
        conn.execute(
            update(a)
            .where(a.c.id == alert.id)
            .values(
                status=alert.status,
                resolution=alert.resolution,
                resolved_at_ms=alert.resolved_at_ms,
                updated_at_ms=alert.updated_at_ms,
                history=_history_json(alert.history),
                live_key=alert.key.digest() if alert.live else None,
                accepted_until_ms=alert.accepted_until_ms,
                notified=alert.notified,
                silenced_by=alert.silenced_by,
            )
        )

    # -- alerts: queries and user changes --------------------------------------------------

    def list_alerts(
        self, where: AlertFilter = AlertFilter(), offset: int = 0, limit: int | None = None
    ) -> tuple[int, list[Alert]]:
        """(how many match, the page), newest activity first."""
        a = schema.alerts
        conds: list[ColumnElement[bool]] = []
        if where.statuses:
            conds.append(a.c.status.in_(where.statuses))
        if where.severities:
            conds.append(a.c.severity.in_(where.severities))
        for column, value in (
            (a.c.check_id, where.check_id),
            (a.c.instance_id, where.instance_id),
            (a.c.category, where.category),
            (a.c.account_id, where.account_id),
        ):
            if value is not None:
                conds.append(column == value)
        q = select(a).where(and_(True, *conds))
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            page = q.order_by(a.c.last_seen_ms.desc(), a.c.id.desc()).offset(offset)
            if limit is not None:
                page = page.limit(limit)
            rows = conn.execute(page).all()
        return int(total), [_alert(r) for r in rows]

    def open_findings(self, where: AlertFilter = AlertFilter()) -> list[Alert]:
        """The current findings: the open (pending, handling) alerts."""
        statuses = where.statuses or ("pending", "handling")
        return self.list_alerts(
            AlertFilter(
                statuses=statuses,
                severities=where.severities,
                check_id=where.check_id,
                instance_id=where.instance_id,
                category=where.category,
                account_id=where.account_id,
            )
        )[1]

    def get(self, alert_id: int) -> Alert | None:
        a = schema.alerts
        with self.engine.connect() as conn:
            row = conn.execute(select(a).where(a.c.id == alert_id)).first()
        return None if row is None else _alert(row)

    def set_status(
        self,
        alert_id: int,
        status: str,
        actor: str,
        comment: str,
        now: datetime,
        audit: AuditInfo | None = None,
        until: datetime | None = None,
    ) -> Alert:
        """A user's decision (lifecycle.change_status); ModelError when it is refused.
        `until`: when an accepted risk ends."""
        a = schema.alerts
        with self.store.write_transaction() as conn:
            self._take_write_lock(conn)
            q = select(a).where(a.c.id == alert_id)
            if not self.store.is_sqlite:
                q = q.with_for_update()
            row = conn.execute(q).first()
            if row is None:
                raise ModelError("InvalidAlertId.NotFound", f"alert {alert_id} does not exist")
            before = _alert(row)
            after = change_status(before, status, actor, comment, now, until)
            self._update_status(conn, after)
            if audit is not None:
                write_audit_entry(
                    conn,
                    audit,
                    f"alert/{alert_id}",
                    {"Status": before.status},
                    {"Status": after.status, "Comment": comment}
                    | ({"EndTime": after.accepted_until_ms} if after.accepted_until_ms else {}),
                )
        return after

    def opened_since(self, since_ms: int) -> list[int]:
        """first_seen_ms of every alert opened since then (the dashboard's chart)."""
        a = schema.alerts
        with self.engine.connect() as conn:
            return [
                r[0]
                for r in conn.execute(
                    select(a.c.first_seen_ms).where(a.c.first_seen_ms >= since_ms)
                )
            ]

    def open_counts_by_instance(self) -> dict[str, dict[str, int]]:
        """instance id -> {level: open alerts} (the dashboard's shields)."""
        a = schema.alerts
        out: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(a.c.instance_id, a.c.severity, func.count())
                .where(a.c.status.in_(("pending", "handling")), a.c.instance_id != "")
                .group_by(a.c.instance_id, a.c.severity)
            ).all()
        for instance_id, severity, n in rows:
            out.setdefault(instance_id, {})[severity] = int(n)
        return out

    def counts(self, account_id: str | None = None) -> AlertCounts:
        a = schema.alerts
        base = [] if account_id is None else [a.c.account_id == account_id]
        out = AlertCounts()
        with self.engine.connect() as conn:
            for severity, n in conn.execute(
                select(a.c.severity, func.count())
                .where(a.c.status.in_(("pending", "handling")), *base)
                .group_by(a.c.severity)
            ).all():
                out.open_by_level[severity] = int(n)
            for status, n in conn.execute(
                select(a.c.status, func.count()).where(and_(True, *base)).group_by(a.c.status)
            ).all():
                out.by_status[status] = int(n)
        return out

    # -- silences and whitelist entries (user_rules.py) ------------------------------------

    def create_silence(self, silence: Silence, audit: AuditInfo | None = None) -> Silence:
        return self.user_rules.create_silence(silence, audit)

    def silences(
        self, account_id: str | None = None, active_at: datetime | None = None
    ) -> list[Silence]:
        """Every silence (newest first), or only those active at `active_at`."""
        return self.user_rules.silences(account_id, active_at)

    def delete_silence(self, silence_id: int, audit: AuditInfo | None = None) -> Silence:
        return self.user_rules.delete_silence(silence_id, audit)

    def add_whitelist_entry(
        self, entry: WhitelistEntry, audit: AuditInfo | None = None
    ) -> WhitelistEntry:
        return self.user_rules.add_whitelist_entry(entry, audit)

    def whitelist(
        self, account_id: str | None = None, active_at: datetime | None = None
    ) -> list[WhitelistEntry]:
        return self.user_rules.whitelist(account_id, active_at)

    def delete_whitelist_entry(
        self, entry_id: int, audit: AuditInfo | None = None
    ) -> WhitelistEntry:
        return self.user_rules.delete_whitelist_entry(entry_id, audit)


# -- rows <-> objects ------------------------------------------------------------------------


def _json(value) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def _history_json(history: Iterable[StatusChange]) -> str:
    return _json([h.to_json() for h in history])


def _alert(row) -> Alert:
    return Alert(
        key=AlertKey(row.account_id, row.instance_id, row.check_id, row.subject),
        status=AlertStatus(row.status),
        severity=row.severity,
        category=row.category,
        title=row.title,
        message=row.message,
        details=json.loads(row.details),
        event_like=bool(row.event_like),
        count=int(row.count),
        first_seen_ms=int(row.first_seen_ms),
        last_seen_ms=int(row.last_seen_ms),
        updated_at_ms=int(row.updated_at_ms),
        id=int(row.id),
        resolution=row.resolution,
        resolved_at_ms=row.resolved_at_ms,
        notified=bool(row.notified),
        silenced_by=row.silenced_by,
        history=[StatusChange.from_json(h) for h in json.loads(row.history)],
        accepted_until_ms=row.accepted_until_ms,
    )


__all__ = [
    "LIVE_STATUSES",
    "AlertCounts",
    "AlertFilter",
    "AlertRepository",
    "AuditInfo",
    "scope_lock_id",
]
