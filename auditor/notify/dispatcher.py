"""The dispatcher: claims due outbox rows, runs them through the stages, sends, records.

Per channel, in one short transaction holding the channel's lock, the pipeline of
stages.py on the rows that are due, judged on the alerts as they are now: route (still
open, still subscribed), group (one message per group due together), inhibit, silence
(a row they stop is dropped with its reason, and the message of its group - or the next
digest - says so), window (closed -> held until it opens), cap (over -> held until a slot
frees), held rows that are due -> one digest. Then, outside any transaction, each delivery
goes to its transport; success marks
the rows sent, a failure schedules a retry with backoff (forever: a channel that is down
loses nothing), a permanent refusal marks them failed. Claimed rows carry a lease: a
replica killed mid-send leaves them to another once the lease expires.

Any number of dispatchers (threads, replicas) may run against one database.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.engine import Connection

from palisade.auditor.notify import backoff, inhibition, outbox, rate_cap, stages, window
from palisade.auditor.notify.messages import Delivery
from palisade.auditor.notify.models import DIGEST_PREFIX, NotificationSettings, NotifyEvent
from palisade.auditor.notify.transports import PermanentDeliveryError, Transport
from palisade.auditor.store.database import Database

log = logging.getLogger("palisade.notify")


class SettingsSource(Protocol):
    def settings(self, account_id: str) -> NotificationSettings: ...


def _fresh(source: SettingsSource, account_id: str) -> NotificationSettings:
    """The settings read again now, past any cache (a source without a cache: as is)."""
    try:
        return source.settings(account_id, fresh=True)  # type: ignore[call-arg]
    except TypeError:
        return source.settings(account_id)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class Dispatcher:
    def __init__(
        self,
        store: Database,
        settings_source: SettingsSource,
        transports: Mapping[str, Transport],
        clock: Callable[[], datetime] = utcnow,
        *,
        owner: str | None = None,
        lease_s: float = 120.0,
        poll_s: float = 1.0,
        batch: int = 200,
        digest_limit: int = 1000,
        retry_base_s: float = backoff.BASE_S,
        retry_cap_s: float = backoff.CAP_S,
        rand: Callable[[], float] = random.random,
        workers: int = 8,
        inhibit_rules: tuple[inhibition.InhibitRule, ...] = inhibition.RULES,
    ):
        self.store = store
        self.settings = settings_source
        self.transports = dict(transports)
        self.clock = clock
        self.owner = owner or f"dispatcher-{secrets.token_hex(6)}"
        self.lease_ms = int(lease_s * 1000)
        self.poll_s = poll_s
        self.batch = batch
        self.digest_limit = digest_limit
        self.retry_base_s = retry_base_s
        self.retry_cap_s = retry_cap_s
        self.rand = rand
        self.inhibit_rules = inhibit_rules
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notify-send")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one round ----------------------------------------------------------------------------

    def run_once(self, now: datetime | None = None) -> int:
        """Sends everything due at `now` (default: the clock); returns how many deliveries
        were tried."""
        now = now or self.clock()
        now_ms = _ms(now)
        with self._transaction() as conn:
            reaped = outbox.reap_expired_leases(conn, now_ms)
        if reaped:
            log.warning("%d notification(s) left by a stopped dispatcher are due again", reaped)
        with self.store.engine.connect() as conn:
            channels = outbox.due_channels(conn, now_ms)
        deliveries: list[Delivery] = []
        for account_id, channel_id in channels:
            with self._transaction() as conn:
                if outbox.lock_channel(conn, account_id, channel_id):
                    deliveries += self._plan(conn, account_id, channel_id, now, now_ms)
        if len(deliveries) == 1:
            self._deliver(deliveries[0], now)
        else:
            for future in [self._pool.submit(self._deliver, d, now) for d in deliveries]:
                future.result()
        return len(deliveries)

    def _plan(self, conn, account_id: str, channel_id: str, now: datetime, now_ms: int):
        """The stages (stages.PIPELINE) for one channel's due rows; claims what goes now,
        holds what must wait, drops what must not go."""
        rows = outbox.due_rows(conn, account_id, channel_id, now_ms, self.batch + self.digest_limit)
        if not rows:
            return []
        settings = self.settings.settings(account_id)
        channel = settings.channels.get(channel_id)
        if channel is None:  # created after the cached read, or deleted: read them again
            settings = _fresh(self.settings, account_id)
            channel = settings.channels.get(channel_id)
        if channel is None:
            outbox.fail(conn, [r.id for r in rows], "the channel was deleted")
            return []
        # route, inhibit, silence: judged now, on the alerts as they are now
        ctx = stages.context(
            conn, settings, channel_id, [r.event for r in rows], now_ms, self.inhibit_rules
        )
        kept: list[outbox.OutboxRow] = []
        stopped: list[tuple[int, str]] = []
        for row in rows:
            why = stages.verdict(row.event, ctx)
            if why is None:
                kept.append(row)
            else:
                stopped.append((row.id, why))
        outbox.drop(conn, stopped)
        if not kept:
            return []
        if channel.paced and not window.is_open(settings.window, now):
            opens = window.next_open(settings.window, now)
            outbox.hold(conn, [r.id for r in kept], _ms(opens))
            return []
        held = [r for r in kept if r.state == outbox.HELD][: self.digest_limit]
        groups = _groups([r for r in kept if r.state == outbox.QUEUED])[: self.batch]
        cap = rate_cap.decide(
            channel.max_per_hour if channel.paced else None,
            outbox.recent_deliveries_ms(conn, account_id, channel_id, now_ms),
            now_ms,
        )
        free = len(rows) + 1 if cap.free is None else cap.free
        drops = outbox.unreported_drops(conn, account_id, channel_id) if stopped or held else []
        claimed: list[Delivery] = []
        if held:
            if free > 0:
                free -= 1
                delivery_id = DIGEST_PREFIX + secrets.token_hex(8)
                claimed.append(self._claim(conn, channel, held, delivery_id, now_ms, drops))
                drops = []
            else:
                outbox.hold(conn, [r.id for r in held], cap.next_slot_ms)
        for group in groups[:free]:
            key = group[0].group_key
            mine = [d for d in drops if key and d.group_key == key]
            delivery_id = f"nt-{group[0].id}"
            claimed.append(self._claim(conn, channel, group, delivery_id, now_ms, mine))
        outbox.hold(conn, [r.id for g in groups[free:] for r in g], cap.next_slot_ms)
        return claimed

    def _claim(
        self,
        conn,
        channel,
        rows,
        delivery_id: str,
        now_ms: int,
        drops: list[outbox.OutboxRow] | None = None,
    ) -> Delivery:
        drops = drops or []
        ids = [r.id for r in rows]
        outbox.claim(conn, ids, delivery_id, self.owner, now_ms, self.lease_ms)
        outbox.mark_reported(conn, [d.id for d in drops], delivery_id)
        dropped: tuple[tuple[NotifyEvent, str], ...] = tuple(
            (d.event, d.drop_reason or "") for d in drops
        )
        return Delivery(
            delivery_id=delivery_id,
            channel=channel,
            events=tuple(r.event for r in rows),
            outbox_ids=tuple(ids),
            at_ms=now_ms,
            dropped=dropped,
        )

    def _deliver(self, delivery: Delivery, now: datetime) -> None:
        ids = list(delivery.outbox_ids)
        channel = delivery.channel
        digest = delivery.delivery_id.startswith(DIGEST_PREFIX)
        try:
            transport = self.transports[channel.kind]
            transport.send(delivery)
        except PermanentDeliveryError as exc:
            log.error("%s channel %s refused %s: %s", channel.kind, channel.channel_id,
                      delivery.delivery_id, exc)  # fmt: skip
            with self._transaction() as conn:
                outbox.mark_failed(conn, ids, self.owner, str(exc))
            return
        except Exception as exc:
            with self._transaction() as conn:
                attempts = outbox.attempts(conn, ids)
                delay = backoff.retry_delay(
                    attempts, self.retry_base_s, self.retry_cap_s, self.rand
                )
                retry_at = now + timedelta(seconds=delay)
                outbox.mark_retry(conn, ids, self.owner, digest, _ms(retry_at), _describe(exc))
            log.warning("%s channel %s: try %d of %s failed (%s); next in %.1fs",
                        channel.kind, channel.channel_id, attempts, delivery.delivery_id,
                        _describe(exc), delay)  # fmt: skip
            return
        with self._transaction() as conn:
            outbox.mark_sent(conn, ids, _ms(now))

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A write transaction (serialised in-process on SQLite: one writer)."""
        with self.store.write_transaction() as conn:
            yield conn

    # -- the loop -----------------------------------------------------------------------------

    def notify_new(self) -> None:
        """Something was enqueued (and committed): run now instead of at the next poll."""
        self._wake.set()

    def next_wait_s(self, now: datetime) -> float:
        with self.store.engine.connect() as conn:
            due = outbox.next_due_ms(conn)
        if due is None:
            return self.poll_s
        return max(0.0, min(self.poll_s, (due - _ms(now)) / 1000))

    def run_forever(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # a notify_new from here on wakes the wait below
            try:
                self.run_once(self.clock())
                wait = self.next_wait_s(self.clock())
            except Exception:
                log.exception("notification dispatch failed; retrying")
                wait = self.poll_s
            self._wake.wait(wait)

    def start(self) -> Dispatcher:
        """Runs the loop in a daemon thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name="notify", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._pool.shutdown(wait=True)

    async def serve(self) -> None:
        """The loop for an asyncio program: runs in a thread until cancelled."""
        import asyncio

        self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.get_running_loop().run_in_executor(None, self.stop)


def _groups(rows: list[outbox.OutboxRow]) -> list[list[outbox.OutboxRow]]:
    """The rows of one group together (in the order their first row was queued); a row
    without a group alone."""
    out: dict[object, list[outbox.OutboxRow]] = {}
    for row in rows:
        out.setdefault(row.group_key or ("row", row.id), []).append(row)
    return list(out.values())


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]
