"""Group commit: messages from every agent stream, stored together in one transaction.

Each stream submits its messages and awaits their results; one task drains the
queue, stores what accumulated while the previous transaction committed, and
answers each message. Throughput then grows with load instead of being one fsync
per message, and a message is still acknowledged only after its commit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from palisade.auditor.store.database import ApplyResult, Database
from palisade.shared.proto import agent_pb2

log = logging.getLogger("palisade.ingest.writer")

MAX_MESSAGES_PER_COMMIT = 512


class GroupCommitWriter:
    def __init__(
        self,
        store: Database,
        max_messages: int = MAX_MESSAGES_PER_COMMIT,
        on_committed: Callable[[list[str]], None] | None = None,
    ):
        self.store = store
        self.max_messages = max_messages
        # told the instances whose facts or events changed, after each commit (the checks
        # run on change); called on the event loop, so it must only schedule work
        self.on_committed = on_committed
        self._queue: asyncio.Queue[tuple[agent_pb2.AgentMessage, asyncio.Future]] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        # its own thread: a commit never waits in the shared executor's queue behind checks
        # or other lookups
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="group-commit")

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="group-commit")

    async def stop(self, grace: float | None = None) -> None:
        """Like grpc's server.stop, so the auditor stops it with its servers."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._thread.shutdown(wait=True)

    def enqueue(self, message: agent_pb2.AgentMessage) -> asyncio.Future:
        """A future that resolves once the message is committed (or raises StoreError when
        refused)."""
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((message, future))
        return future

    async def _run(self) -> None:
        while True:
            items = [await self._queue.get()]
            while len(items) < self.max_messages and not self._queue.empty():
                items.append(self._queue.get_nowait())
            messages = [m for m, _ in items]
            try:
                results = await asyncio.get_running_loop().run_in_executor(
                    self._thread, self.store.apply_many, messages, int(time.time() * 1000)
                )
            except Exception as exc:
                log.error("storing %d messages failed: %s", len(items), exc)
                for _, future in items:
                    if not future.done():
                        future.set_exception(exc)
                continue
            if self.on_committed is not None:
                changed = sorted(
                    {
                        m.instance_id
                        for m, r in zip(messages, results, strict=True)
                        if isinstance(r, ApplyResult) and r.stored
                    }
                )
                if changed:
                    try:
                        self.on_committed(changed)
                    except Exception:
                        log.exception("on_committed listener failed")
            for (_, future), result in zip(items, results, strict=True):
                if future.done():  # the stream went away meanwhile
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)
