"""No loss, no double count: 100,000 login events streamed while the auditor is killed
with SIGKILL and restarted twice and the agent is killed and restarted once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from palisade.auditor.store.database import Database, sqlite_url
from tests.helpers.agent_enrollment import enroll_agent
from tests.helpers.auditor_process import RestartableAuditor
from tests.helpers.polling import wait_for
from tests.helpers.system import BIN

pytestmark = pytest.mark.integration

TOTAL = int(os.environ.get("PALISADE_NO_LOSS_EVENTS", "100000"))
CHUNK = 2_000


def _line(i: int) -> str:
    ip = f"203.0.{(i // 250) % 250}.{i % 250}"
    return (
        f"Nov 29 05:{(i // 60) % 60:02d}:{i % 60:02d} web-01 sshd[{1000 + i % 5000}]: "
        f"Failed password for root from {ip} port {10000 + i // 62500} ssh2\n"
    )


def _stored_ports(url: str) -> list[tuple[str, int]]:
    store = Database(url)
    try:
        return [(ev.login.source_ip, ev.login.source_port) for _, ev in store.iter_events()]
    finally:
        store.close()


def test_every_event_is_stored_exactly_once_across_kills(tmp_path):
    auditor = RestartableAuditor.started(tmp_path / "auditor")
    state_dir = tmp_path / "agent"
    enroll_agent(auditor, state_dir, "i-noloss")
    log_path = tmp_path / "auth.log"
    log_path.write_text("")
    agent_log = open(tmp_path / "agent.log", "ab")

    def start_agent():
        return subprocess.Popen(
            [
                str(BIN / "palisade-agent"),
                "run",
                "--state-dir",
                str(state_dir),
                "--interval",
                "2",
                "--event-interval",
                "0.1",
                "--login-log",
                str(log_path),
            ],
            stdout=agent_log,
            stderr=subprocess.STDOUT,
        )

    agent = start_agent()
    url = sqlite_url(auditor.data_dir)
    try:
        with open(log_path, "a") as f:
            for start in range(0, TOTAL, CHUNK):
                f.write("".join(_line(i) for i in range(start, start + CHUNK)))
                f.flush()
                time.sleep(0.05)
                if start == 20_000 or start == 70_000:
                    auditor.kill()  # mid-stream, no warning
                    time.sleep(1.0)
                    auditor.start()
                if start == 46_000:
                    agent.send_signal(signal.SIGKILL)
                    agent.wait()
                    agent = start_agent()
        count = lambda: len(_stored_ports(url))  # noqa: E731
        wait_for(lambda: count() >= TOTAL, 240, interval=1.0, what=f"{TOTAL} events stored")
        time.sleep(2)  # anything still in flight would show up as a surplus now
        stored = _stored_ports(url)
    finally:
        agent.terminate()
        agent.wait(timeout=15)
        if auditor.proc.poll() is None:
            auditor.proc.terminate()
            auditor.proc.wait(timeout=15)
    expected = sorted(
        (f"203.0.{(i // 250) % 250}.{i % 250}", 10000 + i // 62500) for i in range(TOTAL)
    )
    assert len(stored) == TOTAL
    assert sorted(stored) == expected
    assert not os.listdir(state_dir / "spool") or all(
        not name.endswith(".pb") or "snapshot" in name or "delta" in name
        for name in os.listdir(state_dir / "spool")
    )
    assert json.loads((state_dir / "agent.json").read_text())["instance_id"] == "i-noloss"
