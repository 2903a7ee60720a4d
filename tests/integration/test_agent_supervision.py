"""The agent against a real auditor across failures of its own: an auditor outage of 2,000
connection attempts (the sleeps injected, so it runs at once; it used to overflow the backoff
at 1,024 and end the sender for good), a sender task that dies and is restarted, and
`palisade-agent status` reading what the running agent wrote."""

from __future__ import annotations

import asyncio
import subprocess
import time

import pytest

from palisade.agent import runner, transport
from palisade.agent.health import read_status
from palisade.agent.spool import Spool, depth
from palisade.agent.state import AgentState
from palisade.auditor.store.database import Database, sqlite_url
from palisade.shared.proto import agent_pb2, facts_pb2
from tests.helpers.agent_enrollment import enroll_agent
from tests.helpers.auditor_process import RestartableAuditor
from tests.helpers.system import BIN

pytestmark = pytest.mark.integration

OUTAGE_ATTEMPTS = 2000
BATCHES, PER_BATCH = 40, 25  # 1,000 events spooled during the outage


def _stored(data_dir) -> list[str]:
    store = Database(sqlite_url(data_dir))
    try:
        return [ev.event_id for _, ev in store.iter_events()]
    finally:
        store.close()


def _spool_events(state: AgentState, spool: Spool, tag: str, batches: int, per: int) -> set:
    ids = set()
    for b in range(batches):
        events = []
        for k in range(per):
            ids.add(event_id := f"{tag}-{b}-{k}")
            events.append(
                facts_pb2.Event(
                    event_id=event_id,
                    instance_id=state.instance_id,
                    time_ms=int(time.time() * 1000),
                    login=facts_pb2.LoginEvent(
                        result="failure", user="root", method="password",
                        source_ip="198.51.100.7", source_port=20000 + b * per + k,
                    ),
                )
            )  # fmt: skip
        spool.put(
            agent_pb2.AgentMessage(
                message_id=f"{tag}-m{b}",
                instance_id=state.instance_id,
                events=facts_pb2.EventBatch(events=events),
            )
        )
    return ids


class InjectedOutage:
    """The Sender's sleep: returns at once and counts the failed attempts; at the last one
    the auditor comes back (a real process, on the port the agent was enrolled with)."""

    def __init__(self, auditor: RestartableAuditor, sender_attempts, attempts: int):
        self.auditor, self.attempts, self.target = auditor, sender_attempts, attempts
        self.delays: list[float] = []
        self.highest_attempt = 0

    async def sleep(self, delay: float, stop: asyncio.Event) -> None:
        self.delays.append(delay)
        self.highest_attempt = max(self.highest_attempt, self.attempts())
        if len(self.delays) == self.target:
            await asyncio.to_thread(self.auditor.start)
        await asyncio.sleep(0)


def test_an_auditor_down_for_2000_attempts_gets_every_event_once_when_back(tmp_path):
    auditor = RestartableAuditor.started(tmp_path / "auditor")
    try:
        state = enroll_agent(auditor, tmp_path / "agent", "i-outage")
        auditor.stop()  # down: nothing listens on the agent's auditor address
        spool = Spool(state.directory / "spool")
        expected = _spool_events(state, spool, "ev", BATCHES, PER_BATCH)

        async def agent():
            stop = asyncio.Event()
            sender = transport.Sender(state, spool)
            outage = InjectedOutage(auditor, lambda: sender.backoff.attempt, OUTAGE_ATTEMPTS)
            sender.sleep = outage.sleep
            task = asyncio.create_task(sender.run(stop))
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and not task.done():
                if len(outage.delays) >= OUTAGE_ATTEMPTS and len(spool) == 0:
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await asyncio.wait_for(task, 30)  # it ended because we stopped it, not by itself
            return sender, outage

        sender, outage = asyncio.run(agent())
        assert outage.highest_attempt >= OUTAGE_ATTEMPTS > 1024
        assert len(spool) == 0, f"{len(spool)} messages never delivered"
        assert sender.acked == BATCHES and sender.last_ack_at is not None
        # the backoff stayed within its cap the whole time (equal jitter: 30-60 s once there)
        assert all(0 < d <= 60 for d in outage.delays)
        assert all(30 <= d for d in outage.delays[20:OUTAGE_ATTEMPTS])
        auditor.stop()
        stored = _stored(auditor.data_dir)
        assert len(stored) == len(expected) and set(stored) == expected  # each event once
    finally:
        auditor.stop()


def test_a_sender_that_dies_is_restarted_and_delivers_and_status_says_so(
    auditor, tmp_path, monkeypatch
):
    state = enroll_agent(auditor, tmp_path / "agent", "i-flaky")
    spool = Spool(state.directory / "spool")
    expected = _spool_events(state, spool, "fl", 3, 10)
    senders: list[transport.Sender] = []

    class DiesOnce(transport.Sender):
        """Dies the way the old sender did after 1,024 failed attempts, the first time."""

        runs = 0

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            senders.append(self)

        async def run(self, stop):
            DiesOnce.runs += 1
            if DiesOnce.runs == 1:
                raise OverflowError("int too large to convert to float")
            await super().run(stop)

    monkeypatch.setattr(runner, "Sender", DiesOnce)

    async def agent():
        stop = asyncio.Event()
        task = asyncio.create_task(
            runner.run(state, 0.5, stop=stop, login_logs=[str(tmp_path / "none.log")],
                       metadata_address=None)
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not task.done():
            written = read_status(state.directory) or {}
            if depth(spool.dir)[1] == 0 and written.get("last_send_at") and written["connected"]:
                break
            await asyncio.sleep(0.1)
        status = await asyncio.to_thread(
            subprocess.run,
            [str(BIN / "palisade-agent"), "status", "--state-dir", str(state.directory)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        stop.set()
        await asyncio.wait_for(task, 30)  # returns: the agent recovered, no TaskFailed
        return status

    status = asyncio.run(agent())
    assert DiesOnce.runs == 2  # died once, restarted once
    assert depth(spool.dir)[1] == 0 and senders[0].acked >= 3
    assert expected <= set(_stored(auditor.data_dir))
    assert status.returncode == 0, status.stderr
    head = status.stdout.splitlines()[0]
    assert head.startswith("i-flaky: enrolled; agent running, connected; spool ")
    assert "last send never" not in head
    assert "restarts:    1 task restarts" in status.stdout
    final = (state.directory / "status.json").read_text()
    assert "OverflowError" in final and '"stopped_at": null' not in final
