"""`palisade-agent run`: collect on a schedule, spool, send."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import uuid
from datetime import datetime, timezone

from palisade.agent.collectors.logins.collector import (
    LINUX_SOURCES,
    LoginEventCollector,
    LoginLogSource,
)
from palisade.agent.snapshot import collect_snapshot
from palisade.agent.spool import Spool, SpoolFull
from palisade.agent.transport import AgentState, Sender
from palisade.shared.proto import agent_pb2

log = logging.getLogger("palisade.agent")


def snapshot_message(state: AgentState, host_root: str) -> agent_pb2.AgentMessage:
    snap = collect_snapshot(state.instance_id, host_root)
    return agent_pb2.AgentMessage(
        message_id=uuid.uuid4().hex, instance_id=state.instance_id, snapshot=snap
    )


def login_sources(paths: list[str] | None) -> tuple[LoginLogSource, ...]:
    """The logs to follow: the platform's defaults, or the given files (kind from the name)."""
    if not paths:
        return LINUX_SOURCES if sys.platform.startswith("linux") else ()
    out = []
    for path in paths:
        name = path.rsplit("/", 1)[-1]
        kind = (
            "btmp" if name.startswith("btmp") else "wtmp" if name.startswith("wtmp") else "syslog"
        )
        out.append(LoginLogSource(path, kind))
    return tuple(out)


def spool_login_events(state: AgentState, collector: LoginEventCollector, spool: Spool) -> int:
    """New login events into the spool, then the read positions: a crash in between re-reads
    the same lines, whose deterministic ids make the auditor keep them once."""
    events = collector.poll(datetime.now(timezone.utc))
    for event in events:
        proto = event.to_event_proto(state.instance_id)
        spool.put(
            agent_pb2.AgentMessage(
                message_id=proto.event_id, instance_id=state.instance_id, event=proto
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
            except asyncio.TimeoutError:
                pass
    finally:
        collector.close()


async def run(
    state: AgentState,
    interval: float,
    host_root: str = "/",
    stop: asyncio.Event | None = None,
    login_logs: list[str] | None = None,
    event_interval: float = 2.0,
) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
            pass
    spool = Spool(state.directory / "spool")
    sender = Sender(state, spool)
    send_task = asyncio.create_task(sender.run(stop))
    logins_task = asyncio.create_task(
        _follow_logins(state, spool, sender, login_sources(login_logs), event_interval, stop)
    )
    log.info(
        "agent for %s reporting to %s every %ss",
        state.instance_id,
        ", ".join(state.auditors),
        interval,
    )
    while not stop.is_set():
        try:
            message = await asyncio.to_thread(snapshot_message, state, host_root)
            spool.put(message)
            sender.wakeup.set()
        except SpoolFull as exc:
            log.error("%s; not collecting until the auditor catches up", exc)
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except asyncio.TimeoutError:
            pass
    await logins_task
    await send_task
