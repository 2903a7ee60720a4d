"""Runs the checks where the facts change: after each ingest commit for the instances it
touched, and periodically for everything (the fleet-wide checks and conditions that clear
without new facts, like a brute force that ended). The periodic sweep first activates the
pending key pairs whose instances have booted since they were requested (key_activation.py).
Each instance's round first moves its DDoS protection state by its traffic (ddos_states.py;
the sweep's rounds also end black holes whose time is up).

The advisory feed is the store's (`palisade advisories import`, shared by every replica):
before each batch of rounds the runner reads the feed's version, one cheap query, and when
an import moved it rebuilds the vulnerability check's database from the stored records. The
same goes for the check settings an account changed through the API (ModifyCheckSettings):
they are laid over the settings the runner was started with (the settings file's).

Findings go to the alert service, which opens, updates (a new occurrence counts), reopens and
resolves alerts in one transaction per scope (serialised across replicas) and queues the
notifications of the alerts it opens or reopens in that same transaction; the dispatcher is
then woken, and its pipeline (notify/stages.py) judges them again when they are due.

The exposure check reads the process's compiled fleet (compiled_fleet.py): one exposure index
for the live state, kept current by its change listener, handed to every instance round (an
API without a live state to follow: each check builds its own).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from palisade.auditor.alerts.lifecycle import Scope
from palisade.auditor.alerts.repository import AlertRepository
from palisade.auditor.api.pipeline import ApiService
from palisade.auditor.checks import (
    CheckInput,
    CheckSettings,
    FleetInput,
    InstanceHistory,
    evaluate_fleet,
    evaluate_instance,
    settings_schema,
)
from palisade.auditor.checks.vulnerabilities.osv import database_from_documents
from palisade.auditor.model.schema import validate
from palisade.auditor.server import ddos_states, key_activation
from palisade.auditor.server.compiled_fleet import CompiledFleet
from palisade.auditor.store import advisories as advisory_store
from palisade.auditor.store import check_settings as stored_settings
from palisade.auditor.store.database import Database

log = logging.getLogger("palisade.checks")

# instances whose findings are applied in one transaction. Under a fleet-wide attack (1,000
# instances opening brute-force alerts at once) 25 per transaction opened 900 alerts in 36 s
# instead of 321, but the alert wave (alerts, outbox, deliveries) then took the SQLite write
# lock and the GIL from ingest: ack p50/p99 at 50,000 events/s went from 67/190 ms to
# 207-242/458-540 ms (benchmarks/fleet_load.py). Ingest keeps priority for now.
ROUNDS_PER_COMMIT = 1


def utcnow() -> datetime:
    return datetime.now(UTC)


class CheckRunner:
    def __init__(
        self,
        store: Database,
        api: ApiService,
        alerts: AlertRepository,
        settings: CheckSettings | None = None,
        on_opened: Callable | None = None,
        after_commit: Callable[[], None] | None = None,
        period_s: float = 60.0,
        clock: Callable[[], datetime] = utcnow,
        min_interval_s: float = 0.25,
        duty: float = 0.5,
        compiled: CompiledFleet | None = None,
    ):
        self.store, self.api, self.alerts = store, api, alerts
        # the exposure index kept current from the live state's changes (None: none to follow)
        self.compiled = compiled if compiled is not None else CompiledFleet.follow(api)
        self.settings = settings or CheckSettings()
        self._file_settings = self.settings  # what ModifyCheckSettings' changes lie over
        self._settings_version = 0  # the stored changes' version the settings hold
        self.on_opened = on_opened  # queues notifications inside the alert transaction
        self.after_commit = after_commit  # wakes the dispatcher
        self.period_s = period_s
        self.clock = clock
        self._dirty: set[str] = set()
        self._stopping = False
        # an instance reporting constantly is re-checked at most this often: the checks read
        # its recent events, and ingest must not wait behind them
        self.min_interval_s = min_interval_s
        # under a flood every instance is always due: after a round of instance checks that
        # took longer than min_interval_s the runner rests (1/duty - 1) times as long as the
        # round took, so ingest keeps most of the process (the GIL) and an instance is still
        # re-checked every few seconds; short rounds (a few busy instances) never wait
        self.duty = duty
        self.max_events = 300  # the newest: far more than any login check's threshold
        self._last_run: dict[str, float] = {}
        self._lock = threading.Lock()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._feed_version = 0  # the stored advisory feed's version the settings hold

    @property
    def _events_window_ms(self) -> int:
        s = self.settings
        return 1000 * max(
            s.brute_force_window_s,
            s.brute_force_success_window_s,
            s.fleet_failure_window_s,
            s.ssh_scanner_window_s,
        )

    # -- scheduling ---------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Ends the current round early (between instances) so that shutdown is prompt."""
        self._stopping = True

    def instances_changed(self, instance_ids: list[str]) -> None:
        """Called after an ingest commit (on the event loop or any thread)."""
        with self._lock:
            self._dirty.update(instance_ids)
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        next_sweep = self._loop.time()
        while not stop.is_set():
            timeout = max(0.0, next_sweep - self._loop.time())
            waiters = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()
            if stop.is_set():
                self._stopping = True
                break
            self._wake.clear()
            sweep = self._loop.time() >= next_sweep
            now = self._loop.time()
            with self._lock:
                due = {
                    i
                    for i in self._dirty
                    if now - self._last_run.get(i, -1e9) >= self.min_interval_s
                }
                self._dirty -= due
                waiting = bool(self._dirty)
            for iid in due:
                self._last_run[iid] = now
            started = self._loop.time()
            try:
                if sweep:
                    next_sweep = self._loop.time() + self.period_s
                    await asyncio.to_thread(self.sweep)
                elif due:
                    await asyncio.to_thread(self.evaluate_many, sorted(due))
                    took = self._loop.time() - started
                    if took > self.min_interval_s:  # a flood, not a few busy instances
                        rest = took * (1 / self.duty - 1)
                        await asyncio.wait([asyncio.create_task(stop.wait())], timeout=rest)
            except Exception:
                log.exception("check round failed")
            if waiting:  # instances checked too recently: come back for them shortly
                self._loop.call_later(self.min_interval_s, self._wake.set)

    # -- evaluation ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """The stored check settings and advisory feed, where another replica or a command
        changed them."""
        self.refresh_check_settings()
        self.refresh_advisories()

    def refresh_check_settings(self) -> bool:
        """Lays the account's stored changes (ModifyCheckSettings) over the file's settings
        when they changed since the last round. A failure keeps the settings in force."""
        try:
            account_id = self.api.current().account_id
            version = stored_settings.version(self.store, account_id)
            if version == self._settings_version:
                return False
            _, changes = stored_settings.read(self.store, account_id)
            doc = validate(settings_schema.ChecksDocument, changes)
        except Exception:
            log.exception("loading the check settings failed")
            return False
        self.settings = dataclasses.replace(
            settings_schema.apply(self._file_settings, doc), advisories=self.settings.advisories
        )
        self._settings_version = version
        log.info("check settings changed through the API: %s", sorted(changes))
        return True

    def refresh_advisories(self) -> bool:
        """Loads the stored advisory feed when an import changed it since the last load (on
        any replica). Returns whether it was reloaded. A failure keeps the feed loaded."""
        try:
            version = advisory_store.feed_version(self.store)
            if version == self._feed_version:
                return False
            feed = database_from_documents(advisory_store.iter_documents(self.store))
        except Exception:
            log.exception("loading the advisory feed failed")
            return False
        if feed.errors:
            log.warning("%d stored advisories could not be read", len(feed.errors))
        self.settings = dataclasses.replace(self.settings, advisories=feed)
        self._feed_version = version
        log.info("advisory feed loaded: %d records (import %d)", len(feed), version)
        return True

    def evaluate_many(self, instance_ids: list[str]) -> int:
        """Runs every instance check on each instance; the findings of up to ROUNDS_PER_COMMIT
        instances are applied in one transaction. Returns the alerts opened."""
        opened = 0
        self.refresh()
        for at in range(0, len(instance_ids), ROUNDS_PER_COMMIT):
            now = self.clock()
            rounds = []
            for iid in instance_ids[at : at + ROUNDS_PER_COMMIT]:
                if self._stopping:  # shutting down: the next start re-checks everything anyway
                    break
                rounds.append(self._instance_round(iid, now))
            opened += self._apply(rounds, now)
        return opened

    def evaluate(self, instance_id: str) -> int:
        """Runs every instance check on one instance; returns the alerts opened."""
        self.refresh()
        now = self.clock()
        return self._apply([self._instance_round(instance_id, now)], now)

    def _instance_round(self, instance_id: str, now: datetime) -> tuple[Scope, list]:
        now_ms = int(now.timestamp() * 1000)
        state = self.api.current()
        snapshot = self.store.latest_snapshot(instance_id)
        # The brute-force window is short; only a success needs the long look back (was it
        # preceded by failures from its source?). Reading the short window first keeps a busy
        # instance's check cheap, so other instances' alerts do not queue behind it.
        short_ms = 1000 * max(
            self.settings.brute_force_window_s, self.settings.ssh_scanner_window_s, 300
        )
        events = self.store.recent_events(
            instance_id, now_ms - min(short_ms, self._events_window_ms), limit=self.max_events
        )
        if any(e.login.result == "success" for e in events if e.HasField("login")):
            events = self.store.recent_events(
                instance_id, now_ms - self._events_window_ms, limit=self.max_events
            )
        agent = self.store.instance(instance_id)
        history = InstanceHistory.from_events(
            self.store.successful_logins(instance_id),
            self.settings,
            learning_since_ms=agent["enrolled_at_ms"] if agent else None,
        )

        def check_input(state) -> CheckInput:
            return CheckInput(
                state,
                instance_id,
                snapshot,
                events,
                now,
                self.settings,
                history,
                exposure_index=self._exposure_index(state),
            )

        inp = check_input(state)
        if self._observe_ddos(inp):  # the checks see the new state (a black hole: exposure)
            inp = check_input(self.api.current())
        run = evaluate_instance(inp)
        return Scope(state.account_id, instance_id, frozenset(run.evaluated)), run.findings

    def _exposure_index(self, state):
        """The compiled fleet's index for `state`, current with every change applied so far
        (None: the exposure check builds one of its own)."""
        if self.compiled is None:
            return None
        try:
            return self.compiled.index(state.cloud)
        except Exception:  # the check still runs, on an index of its own
            log.exception("the compiled fleet could not be brought up to date")
            return None

    def _observe_ddos(self, inp: CheckInput) -> bool:
        try:
            return ddos_states.observe(self.api, inp)
        except Exception:  # the checks still run; the next round tries again
            log.exception("moving the DDoS state of %s failed", inp.instance_id)
            return False

    def sweep(self) -> int:
        """Pending key pairs of instances that booted since, every known instance, then the
        fleet-wide checks."""
        try:
            key_activation.sweep(self.api, self.store)
        except Exception:  # the checks still run; the next sweep tries again
            log.exception("activating pending key pairs failed")
        now = self.clock()
        state = self.api.current()
        ids = sorted(
            set(state.cloud.instances) | {i["instance_id"] for i in self.store.instances()}
        )
        opened = self.evaluate_many(ids)
        now_ms = int(now.timestamp() * 1000)
        failures = self.store.failed_logins_since(
            now_ms - 1000 * self.settings.fleet_failure_window_s
        )
        run = evaluate_fleet(FleetInput(state, now, self.settings, failures))
        scope = Scope(state.account_id, None, frozenset(run.evaluated))
        return opened + self._apply([(scope, run.findings)], now)

    def _apply(self, rounds: list[tuple[Scope, list]], now: datetime) -> int:
        events = self.alerts.apply_rounds(rounds, now, on_opened=self.on_opened)
        opened = sum(1 for e in events if e.kind == "opened")
        # an alert reopened (an accepted risk expired, a handled condition past its reopen
        # delay) queued its notification too
        if any(e.notifies for e in events) and self.after_commit is not None:
            self.after_commit()
        return opened
