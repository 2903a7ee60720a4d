"""`palisade-agent run`: collect on a schedule, spool, send."""

from __future__ import annotations

import asyncio
import logging
import signal
import uuid

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


async def run(
    state: AgentState, interval: float, host_root: str = "/", stop: asyncio.Event | None = None
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
    await send_task
