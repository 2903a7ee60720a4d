"""The agent's task supervisor with fake tasks and an injected clock and sleep."""

from __future__ import annotations

import asyncio
import logging

import pytest

from palisade.agent.supervisor import Supervisor, TaskFailed
from palisade.shared.backoff import Backoff


class FakeTime:
    """A clock that the supervisor's (instant) restart sleeps move forward."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float, stop: asyncio.Event) -> None:
        self.sleeps.append(delay)
        self.now += delay
        await asyncio.sleep(0)


def supervisor(stop: asyncio.Event, t: FakeTime, **kw) -> Supervisor:
    return Supervisor(
        stop, restart=Backoff(1, 60, jitter="none"), sleep=t.sleep, clock=t.clock, **kw
    )


def test_a_task_that_dies_is_logged_and_restarted_with_backoff(caplog):
    async def main():
        stop, t = asyncio.Event(), FakeTime()
        runs = []

        async def flaky():
            runs.append(len(runs))
            if len(runs) <= 3:
                raise OverflowError(f"boom {len(runs)}")
            await stop.wait()

        sup = supervisor(stop, t)
        sup.add("sender", flaky)
        running = asyncio.create_task(sup.run())
        while len(runs) < 4:
            await asyncio.sleep(0)
        stop.set()
        await running  # no TaskFailed: it recovered
        return sup, t, runs

    with caplog.at_level(logging.WARNING, "palisade.agent.supervisor"):
        sup, t, runs = asyncio.run(main())
    assert len(runs) == 4 and sup.restarts == 3
    assert t.sleeps == [1, 2, 4]  # the shared backoff, doubling
    assert sup.last_death == "sender: OverflowError: boom 3"
    died = [r for r in caplog.records if "died" in r.getMessage()]
    assert len(died) == 3 and all(r.exc_info for r in died)  # with the traceback


def test_a_task_that_keeps_dying_within_the_window_stops_everything_and_fails():
    async def main():
        stop, t = asyncio.Event(), FakeTime()
        other_ended = asyncio.Event()

        async def broken():
            raise RuntimeError("cannot work")

        async def healthy():
            await stop.wait()
            other_ended.set()

        sup = supervisor(stop, t, max_deaths=5, window_s=600)
        sup.add("snapshots", broken)
        sup.add("sender", healthy)
        with pytest.raises(TaskFailed, match="snapshots died 5 times within 600 s") as err:
            await sup.run()
        assert stop.is_set() and other_ended.is_set()
        return err.value, t

    failure, t = asyncio.run(main())
    assert "RuntimeError: cannot work" in str(failure)
    assert t.sleeps == [1, 2, 4, 8]


def test_deaths_further_apart_than_the_window_are_restarted_forever():
    async def main():
        stop, t = asyncio.Event(), FakeTime()
        runs = 0

        async def dies_hourly():
            nonlocal runs
            runs += 1
            if runs > 20:
                await stop.wait()
                return
            t.now += 3600  # it worked for an hour, then died
            raise ConnectionError("lost")

        sup = supervisor(stop, t, max_deaths=2, window_s=600)
        sup.add("logins", dies_hourly)
        running = asyncio.create_task(sup.run())
        while runs <= 20:
            await asyncio.sleep(0)
        stop.set()
        await running
        return sup, t

    sup, t = asyncio.run(main())
    assert sup.restarts == 20 and set(t.sleeps) == {1}  # each death the first in its window


def test_a_task_that_returns_is_finished_and_stop_ends_the_others():
    async def main():
        stop, t = asyncio.Event(), FakeTime()
        calls = {"off": 0, "loop": 0}

        async def off():  # e.g. the metadata endpoint when turned off
            calls["off"] += 1

        async def loop():
            calls["loop"] += 1
            await stop.wait()

        sup = supervisor(stop, t)
        sup.add("metadata", off)
        sup.add("sender", loop)
        running = asyncio.create_task(sup.run())
        await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(running, 5)
        return sup, calls

    sup, calls = asyncio.run(main())
    assert calls == {"off": 1, "loop": 1} and sup.restarts == 0


def test_a_task_failing_while_stopping_is_not_restarted():
    async def main():
        stop, t = asyncio.Event(), FakeTime()
        runs = 0

        async def fails_on_stop():
            nonlocal runs
            runs += 1
            await stop.wait()
            raise OSError("closing")

        sup = supervisor(stop, t)
        sup.add("status", fails_on_stop)
        running = asyncio.create_task(sup.run())
        await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(running, 5)
        return runs, sup

    runs, sup = asyncio.run(main())
    assert runs == 1 and sup.restarts == 0 and sup.failure is None


def test_run_exits_1_when_a_task_cannot_recover(monkeypatch, tmp_path, capsys):
    from palisade.agent import cli, runner
    from palisade.agent.state import AgentState

    AgentState(tmp_path, "i-x", ["127.0.0.1:1"]).save()

    async def gives_up(*args, **kwargs):
        raise TaskFailed("agent task sender died 5 times within 600 s (last: X); giving up")

    monkeypatch.setattr(runner, "run", gives_up)
    assert cli.main(["run", "--state-dir", str(tmp_path)]) == 1
    assert "sender died 5 times" in capsys.readouterr().err
