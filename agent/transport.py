"""The agent's report stream to the auditor: the Sender streams the spool over mutual TLS,
deletes what is acknowledged and reconnects with backoff (palisade.shared.backoff: capped, so
an outage of any length never overflows it); CHANNEL_OPTIONS are the gRPC channel options
every connection to the auditor uses.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc

from palisade.agent.spool import Spool
from palisade.agent.state import AgentState
from palisade.shared import backoff, tls
from palisade.shared.proto import agent_pb2_grpc

log = logging.getLogger("palisade.agent.transport")

CHANNEL_OPTIONS = [
    ("grpc.ssl_target_name_override", tls.AUDITOR_TLS_NAME),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.max_send_message_length", 8 * 1024 * 1024),
]
MAX_IN_FLIGHT = 256


@dataclass
class Backoff(backoff.Backoff):
    """The sender's reconnect backoff: from 0.5 s, doubling, up to 60 s, equal jitter (so a
    fleet does not reconnect in lock-step)."""

    initial: float = 0.5
    maximum: float = 60.0


async def wait_or_stop(delay: float, stop: asyncio.Event) -> None:
    """Sleep `delay` seconds, or less if `stop` is set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=delay)
    except TimeoutError:
        pass


class Sender:
    """Streams the spool to the auditor; deletes what is acknowledged; reconnects forever."""

    def __init__(
        self,
        state: AgentState,
        spool: Spool,
        backoff: Backoff | None = None,
        on_ack=None,
        sleep: Callable[[float, asyncio.Event], Awaitable[None]] = wait_or_stop,
        clock: Callable[[], float] = time.time,
    ):
        self.state, self.spool = state, spool
        self.on_ack = on_ack
        self.backoff = backoff or Backoff()
        self.sleep, self.clock = sleep, clock  # injectable: tests run long outages instantly
        self.wakeup = asyncio.Event()
        self.connected = False
        self.acked = 0
        # for `palisade-agent status`: when the auditor last acknowledged, the last failure
        self.last_ack_at: float | None = None
        self.last_error: str | None = None
        self.last_error_at: float | None = None

    async def run(self, stop: asyncio.Event) -> None:
        # Each instance starts at its own replica (a stable hash of its id), so a fleet
        # spreads over the auditors instead of all dialling the first one.
        turn = zlib.crc32(self.state.instance_id.encode()) % len(self.state.auditors)
        while not stop.is_set():
            address = self.state.auditors[turn % len(self.state.auditors)]
            try:
                await self._stream(address, stop)
            except grpc.aio.AioRpcError as exc:
                log.warning("auditor %s: %s %s", address, exc.code().name, exc.details())
                self._failed(f"auditor {address}: {exc.code().name} {exc.details()}")
            except (TimeoutError, OSError, asyncio.InvalidStateError) as exc:
                # InvalidStateError: a write raced the stream's end ("RPC already finished")
                log.warning("auditor %s: %s", address, exc or type(exc).__name__)
                self._failed(f"auditor {address}: {exc or type(exc).__name__}")
            except Exception as exc:
                log.exception("auditor %s: unexpected error; reconnecting", address)
                self._failed(f"auditor {address}: {type(exc).__name__}: {exc}")
            self.connected = False
            turn += 1
            await self.sleep(self.backoff.next_delay(), stop)

    def _failed(self, what: str) -> None:
        self.last_error, self.last_error_at = what, self.clock()

    async def _stream(self, address: str, stop: asyncio.Event) -> None:
        async with grpc.aio.secure_channel(
            address, self.state.credentials(), options=CHANNEL_OPTIONS
        ) as channel:
            call = agent_pb2_grpc.IngestStub(channel).Report()
            in_flight: set[str] = set()
            progress = asyncio.Event()

            async def read_acks():
                async for ack in call:
                    if not ack.message_id:  # a notice (the role binding changed), no ack
                        if self.on_ack is not None:
                            self.on_ack(ack)
                        continue
                    self.spool.ack(ack.message_id)
                    if self.on_ack is not None:
                        self.on_ack(ack)
                    in_flight.discard(ack.message_id)
                    self.acked += 1
                    self.last_ack_at = self.clock()
                    if not self.connected:
                        self.connected = True
                        log.info("connected to auditor %s", address)
                    self.backoff.reset()
                    progress.set()

            reader = asyncio.create_task(read_acks())
            try:
                while not stop.is_set() and not reader.done():
                    for _entry, msg in self.spool.pending():
                        if len(in_flight) >= MAX_IN_FLIGHT:
                            break
                        if msg.message_id in in_flight:
                            continue
                        in_flight.add(msg.message_id)
                        await call.write(msg)
                    self.wakeup.clear()
                    progress.clear()
                    waiters = [
                        asyncio.create_task(self.wakeup.wait()),
                        asyncio.create_task(progress.wait()),
                        asyncio.create_task(stop.wait()),
                    ]
                    await asyncio.wait(
                        waiters + [reader], timeout=5, return_when=asyncio.FIRST_COMPLETED
                    )
                    for w in waiters:
                        w.cancel()
                if reader.done():
                    reader.result()  # raises the stream's error, if any
                    raise OSError("the auditor closed the stream")
                await call.done_writing()
            finally:
                reader.cancel()
