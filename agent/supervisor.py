"""The agent's long-running tasks under supervision (`palisade-agent run`).

Each task (the sender, the snapshot and login-log loops, the metadata endpoint, the status
file) runs until `stop` is set. One that dies with an exception is logged with its traceback
and started again after a backoff (palisade.shared.backoff: 1 s doubling up to 60 s, equal
jitter), so a bug in one iteration never leaves the agent spooling without sending. One that
returns is finished and not restarted.

A task that dies MAX_DEATHS (5) times within WINDOW_S (10 minutes) is not recovering: the
supervisor then stops every task (the spool keeps what was not sent) and raises TaskFailed,
and `palisade-agent run` exits with status 1 so that the service manager (systemd's
Restart=, a Windows service's recovery actions) restarts the whole agent and the failure is
visible in its log. Occasional deaths further apart than that are restarted forever.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from palisade.shared import backoff

log = logging.getLogger("palisade.agent.supervisor")

MAX_DEATHS = 5
WINDOW_S = 600.0
RESTART_INITIAL_S = 1.0
RESTART_MAX_S = 60.0


class TaskFailed(Exception):
    """A supervised task kept dying; the message names it and its last error."""


async def _wait_or_stop(delay: float, stop: asyncio.Event) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=delay)
    except TimeoutError:
        pass


@dataclass
class _Task:
    name: str
    start: Callable[[], Awaitable[None]]
    deaths: deque[float] = field(default_factory=deque)
    restarts: int = 0
    last_error: str | None = None


class Supervisor:
    """Runs named tasks until `stop` is set, restarting the ones that die."""

    def __init__(
        self,
        stop: asyncio.Event,
        max_deaths: int = MAX_DEATHS,
        window_s: float = WINDOW_S,
        restart: backoff.Backoff | None = None,
        sleep: Callable[[float, asyncio.Event], Awaitable[None]] = _wait_or_stop,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.stop = stop
        self.max_deaths, self.window_s = max_deaths, window_s
        self.restart = restart or backoff.Backoff(RESTART_INITIAL_S, RESTART_MAX_S)
        self.sleep, self.clock = sleep, clock
        self.tasks: dict[str, _Task] = {}
        self.failure: TaskFailed | None = None
        self.last_death: str | None = None  # "task: error" of the latest death

    def add(self, name: str, start: Callable[[], Awaitable[None]]) -> None:
        """`start()` makes a fresh coroutine of the task each time it is (re)started."""
        self.tasks[name] = _Task(name, start)

    @property
    def restarts(self) -> int:
        return sum(t.restarts for t in self.tasks.values())

    async def run(self) -> None:
        """Until `stop` is set and every task has ended; raises TaskFailed when a task could
        not recover (after stopping the others)."""
        await asyncio.gather(*(self._keep(t) for t in self.tasks.values()))
        if self.failure is not None:
            raise self.failure

    async def _keep(self, task: _Task) -> None:
        while True:
            try:
                await task.start()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                task.last_error = f"{type(exc).__name__}: {exc}"
                if self.stop.is_set():
                    log.exception("agent task %s failed while stopping", task.name)
                    return
                log.exception("agent task %s died", task.name)
                self.last_death = f"{task.name}: {task.last_error}"
            now = self.clock()
            task.deaths.append(now)
            while task.deaths and task.deaths[0] < now - self.window_s:
                task.deaths.popleft()
            if len(task.deaths) >= self.max_deaths:
                message = (
                    f"agent task {task.name} died {len(task.deaths)} times within "
                    f"{self.window_s:g} s (last: {task.last_error}); giving up"
                )
                log.error("%s", message)
                self.failure = self.failure or TaskFailed(message)
                self.stop.set()
                return
            # the n-th recent death waits the backoff's n-th delay: 1 s, 2 s, 4 s, ...
            delay = backoff.delay(
                len(task.deaths) - 1,
                self.restart.initial,
                self.restart.maximum,
                self.restart.jitter,
                self.restart.rng.random,
            )
            log.warning("restarting agent task %s in %.1f s", task.name, delay)
            await self.sleep(delay, self.stop)
            if self.stop.is_set():
                return
            task.restarts += 1
