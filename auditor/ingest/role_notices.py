"""Telling agents at once that their instance's RAM role binding changed (revocation).

One watch per auditor process: every `period` seconds it reads the role binding of every
instance with an open report stream, in one look at the current state (a version check
when nothing changed), and hands each stream whose instance's binding is not the one it last
announced a notice. The stream sends it as an Ack without a message id; the agent drops
credentials of any other binding, so its metadata endpoint answers 404 (or serves the new
role's credentials) about `period` seconds after the change, whichever replica made it.
The acknowledgement of each snapshot carries the binding too, as a backstop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from palisade.shared.proto import agent_pb2

log = logging.getLogger("palisade.ingest")

DEFAULT_PERIOD = 1.0
FAILURE_LOG_EVERY = 60.0  # seconds between log lines while the bindings cannot be read
Binding = tuple[str, int]  # (role name, generation); ("", 0) for none


class BindingSource(Protocol):
    def bindings(self, instance_ids: list[str]) -> dict[str, Binding]:
        """The current binding of each of `instance_ids`."""


def binding_message(binding: Binding) -> agent_pb2.RoleBinding:
    return agent_pb2.RoleBinding(role_name=binding[0], generation=binding[1])


@dataclass(eq=False)
class _Stream:
    instance_id: str
    deliver: Callable[[agent_pb2.RoleBinding], bool]  # False: not now (its queue is full)
    announced: Binding | None = None


class RoleNotices:
    def __init__(self, source: BindingSource, period: float = DEFAULT_PERIOD):
        self.source, self.period = source, period
        self._streams: set[_Stream] = set()
        self._task: asyncio.Task | None = None

    def subscribe(
        self, instance_id: str, deliver: Callable[[agent_pb2.RoleBinding], bool]
    ) -> Callable[[], None]:
        """Notices for `instance_id` through `deliver` (on the event loop) until the returned
        function is called; the first one says the binding as it stands."""
        stream = _Stream(instance_id, deliver)
        self._streams.add(stream)
        return lambda: self._streams.discard(stream)

    async def check(self) -> None:
        """One round: read the bindings, notify the streams whose binding changed."""
        streams = list(self._streams)
        if not streams:
            return
        ids = sorted({s.instance_id for s in streams})
        current = await asyncio.to_thread(self.source.bindings, ids)
        for stream in streams:
            binding = current.get(stream.instance_id, ("", 0))
            if binding != stream.announced and stream.deliver(binding_message(binding)):
                stream.announced = binding

    async def _run(self) -> None:
        failing_since: float | None = None  # while the database is down: one log line a minute
        last_logged = 0.0
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.period)
            try:
                await self.check()
            except Exception:  # the next round tries again; snapshots' acks carry it too
                now = loop.time()
                if failing_since is None:
                    failing_since = last_logged = now
                    log.exception("cannot read the instances' role bindings")
                elif now - last_logged >= FAILURE_LOG_EVERY:
                    last_logged = now
                    log.warning(
                        "still cannot read the instances' role bindings (for %.0f s)",
                        now - failing_since,
                    )
            else:
                if failing_since is not None:
                    log.info("reading the instances' role bindings again")
                    failing_since = None

    def start(self) -> RoleNotices:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self, grace: float | None = None) -> None:
        """Like grpc's server.stop, so the auditor stops it with its servers."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
