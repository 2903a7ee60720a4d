"""`palisade-agent run`: collect on a schedule, spool, send; each long-running task under
agent/supervisor.py (restarted when it dies; the run fails when one cannot recover), the
status file for `palisade-agent status` (agent/health.py) kept up to date."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from palisade.agent.collectors.logins.collector import (
    LoginEventCollector,
    LoginLogSource,
    default_linux_sources,
)
from palisade.agent.health import keep_status_file
from palisade.agent.metadata import (
    CredentialCache,
    GrpcRoleFetcher,
    credential_cache,
    start_for_agent,
)
from palisade.agent.snapshot import collect_snapshot
from palisade.agent.spool import DEFAULT_MAX_BYTES, Spool, SpoolFull
from palisade.agent.state import AgentState
from palisade.agent.supervisor import Supervisor, TaskFailed
from palisade.agent.transport import Sender, wait_or_stop
from palisade.shared.proto import agent_pb2, facts_pb2
from palisade.shared.snapshot_delta import make_delta

log = logging.getLogger("palisade.agent")

__all__ = ["TaskFailed", "run"]


EVENTS_PER_BATCH = 1000


class SnapshotChain:
    """Sends each snapshot as a delta against the last one the auditor acknowledged (in
    full when there is none, or when the auditor asks for it)."""

    def __init__(self) -> None:
        self.acked: facts_pb2.Snapshot | None = None
        self._pending: dict[str, facts_pb2.Snapshot] = {}

    def message(self, state: AgentState, snap: facts_pb2.Snapshot) -> agent_pb2.AgentMessage:
        msg = agent_pb2.AgentMessage(message_id=uuid.uuid4().hex, instance_id=state.instance_id)
        if self.acked is None:
            msg.snapshot.CopyFrom(snap)
        else:
            msg.delta.CopyFrom(make_delta(self.acked, snap))
        # the spool keeps only the newest snapshot message, so only it can be acked later
        self._pending = {msg.message_id: snap}
        return msg

    def on_ack(self, ack: agent_pb2.Ack) -> None:
        snap = self._pending.pop(ack.message_id, None)
        if ack.need_full_snapshot:
            self.acked = None
        elif snap is not None:
            self.acked = snap


def snapshot_message(
    state: AgentState, host_root: str, chain: SnapshotChain, spool: Spool
) -> agent_pb2.AgentMessage:
    snap = collect_snapshot(state.instance_id, host_root)
    snap.spool_dropped_events = spool.dropped_events
    return chain.message(state, snap)


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives every thread (gRPC's, the collectors') its own malloc arena; capping them
    keeps the agent's resident memory small. A no-op elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def login_sources(paths: list[str] | None) -> tuple[LoginLogSource, ...]:
    """The logs to follow: the platform's defaults, or the given files (kind from the name;
    `journald` is this host's journal, `journald:DIR` a journal directory)."""
    if not paths:
        return default_linux_sources() if sys.platform.startswith("linux") else ()
    out = []
    for path in paths:
        if path == "journald" or path.startswith("journald:"):
            out.append(LoginLogSource(path.removeprefix("journald").removeprefix(":"), "journald"))
            continue
        name = path.rsplit("/", 1)[-1]
        kind = (
            "btmp" if name.startswith("btmp") else "wtmp" if name.startswith("wtmp") else "syslog"
        )
        out.append(LoginLogSource(path, kind))
    return tuple(out)


def spool_login_events(state: AgentState, collector: LoginEventCollector, spool: Spool) -> int:
    """New login events into the spool, then the read positions: a crash in between re-reads
    the same lines, whose deterministic ids make the auditor keep them once."""
    events = collector.poll(datetime.now(UTC))
    for start in range(0, len(events), EVENTS_PER_BATCH):
        batch = facts_pb2.EventBatch(
            events=[
                e.to_event_proto(state.instance_id)
                for e in events[start : start + EVENTS_PER_BATCH]
            ]
        )
        spool.put(
            agent_pb2.AgentMessage(
                message_id=uuid.uuid4().hex, instance_id=state.instance_id, events=batch
            )
        )
    collector.commit()
    return len(events)


async def _follow_logins(
    state: AgentState,
    spool: Spool,
    sender: Sender,
    sources: tuple[LoginLogSource, ...],
    interval: float,
    stop: asyncio.Event,
) -> None:
    collector = LoginEventCollector(state.directory / "logins.json", sources)
    try:
        while not stop.is_set():
            try:
                if await asyncio.to_thread(spool_login_events, state, collector, spool):
                    sender.wakeup.set()
            except SpoolFull as exc:
                log.error("%s; login events wait in the logs until the auditor catches up", exc)
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except TimeoutError:
                pass
    finally:
        collector.close()


async def _collect_snapshots(
    state: AgentState,
    host_root: str,
    chain: SnapshotChain,
    spool: Spool,
    sender: Sender,
    interval: float,
    stop: asyncio.Event,
) -> None:
    while not stop.is_set():
        try:
            message = await asyncio.to_thread(snapshot_message, state, host_root, chain, spool)
            spool.put(message)
            sender.wakeup.set()
        except SpoolFull as exc:
            log.error("%s; not collecting until the auditor catches up", exc)
        await wait_or_stop(interval, stop)


async def _serve_metadata(
    state: AgentState,
    address: str | None,
    require_token: bool,
    cache: tuple[CredentialCache, GrpcRoleFetcher] | None,
    stop: asyncio.Event,
) -> None:
    """The instance's RAM role credentials on the metadata path (agent/metadata.py), until
    `stop`; raises (and so is restarted) if its server thread ends on its own."""
    metadata = start_for_agent(state, address, require_token, cache)
    if metadata is None:
        return
    try:
        while not stop.is_set():
            if not metadata.server.thread.is_alive():
                raise RuntimeError(f"the metadata endpoint on {address} stopped serving")
            await wait_or_stop(5.0, stop)
    finally:
        await asyncio.to_thread(metadata.stop)


def _status(state: AgentState, sender: Sender, supervisor: Supervisor, stop: asyncio.Event) -> dict:
    """What STATE/status.json says (agent/health.py)."""
    return {
        "instance_id": state.instance_id,
        "pid": os.getpid(),
        "connected": sender.connected,
        "last_send_at": sender.last_ack_at,
        "last_error": sender.last_error,
        "last_error_at": sender.last_error_at,
        "task_restarts": supervisor.restarts,
        "last_task_error": supervisor.last_death,
        "failure": str(supervisor.failure) if supervisor.failure else None,
        "stopped_at": time.time() if stop.is_set() else None,
    }


async def run(
    state: AgentState,
    interval: float,
    host_root: str = "/",
    stop: asyncio.Event | None = None,
    login_logs: list[str] | None = None,
    event_interval: float = 2.0,
    spool_max_bytes: int = DEFAULT_MAX_BYTES,
    metadata_address: str | None = None,
    metadata_require_token: bool = False,
) -> None:
    """Until `stop` (or SIGINT/SIGTERM); raises TaskFailed when a task keeps dying."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    # Collection runs in worker threads; two are plenty (snapshots and login logs), and each
    # extra thread would cost a malloc arena of resident memory.
    loop.set_default_executor(ThreadPoolExecutor(max_workers=2, thread_name_prefix="collect"))
    _limit_malloc_arenas()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
            pass
    spool = Spool(state.directory / "spool", max_bytes=spool_max_bytes)
    chain = SnapshotChain()
    # one credential cache for the whole run: the endpoint serves from it, and the report
    # stream's acknowledgements tell it when the role is detached or replaced (revocation)
    cache = credential_cache(state) if metadata_address else None

    def on_ack(ack: agent_pb2.Ack) -> None:
        chain.on_ack(ack)
        if cache is not None:
            cache[0].on_ack(ack)

    sender = Sender(state, spool, on_ack=on_ack)
    supervisor = Supervisor(stop)
    supervisor.add("sender", lambda: sender.run(stop))
    supervisor.add(
        "metadata",
        lambda: _serve_metadata(state, metadata_address, metadata_require_token, cache, stop),
    )
    supervisor.add(
        "logins",
        lambda: _follow_logins(
            state, spool, sender, login_sources(login_logs), event_interval, stop
        ),
    )
    supervisor.add(
        "snapshots",
        lambda: _collect_snapshots(state, host_root, chain, spool, sender, interval, stop),
    )
    supervisor.add(
        "status",
        lambda: keep_status_file(
            state.directory, lambda: _status(state, sender, supervisor, stop), stop
        ),
    )
    log.info(
        "agent for %s reporting to %s every %ss",
        state.instance_id,
        ", ".join(state.auditors),
        interval,
    )
    await supervisor.run()
