"""Three auditor replicas on one PostgreSQL, 200 agents; one replica is killed with
SIGKILL mid-stream. Every event is stored exactly once and every agent ends connected."""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
import time

import grpc
import pytest

from palisade.agent import transport
from palisade.agent.spool import Spool
from palisade.agent.state import AgentState
from palisade.auditor.store.database import Database
from palisade.shared import tls
from palisade.shared.proto import agent_pb2, agent_pb2_grpc, facts_pb2
from tests.helpers.polling import wait_for
from tests.helpers.postgres import (
    create_postgres_database,
    drop_postgres_database,
    require_postgres,
)
from tests.helpers.system import BIN

pytestmark = [pytest.mark.integration, pytest.mark.needs_db]

AGENTS = 200
ROUNDS = 10
EVENTS_PER_ROUND = 20  # 200 agents x 10 rounds x 20 = 40,000 events


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def replicas(tmp_path):
    require_postgres()
    url = create_postgres_database()
    procs, addresses = [], []
    first = tmp_path / "r0"
    try:
        for n in range(3):
            data = tmp_path / f"r{n}"
            data.mkdir()
            if n:  # replicas share the CA (and its server identity): copy it
                shutil.copytree(first / "ca", data / "ca")
            port = _free_port()
            log = open(tmp_path / f"r{n}.log", "ab")
            procs.append(
                subprocess.Popen(
                    [
                        str(BIN / "palisade"),
                        "--data-dir",
                        str(data),
                        "serve",
                        "--db",
                        url,
                        "--grpc",
                        f"127.0.0.1:{port}",
                        "--enroll",
                        f"127.0.0.1:{_free_port()}",
                        "--http",
                        "127.0.0.1:0",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            wait_for(lambda d=data: (d / "auditor.json").exists(), 60, what=f"replica {n}")
            addresses.append(f"127.0.0.1:{port}")
        yield url, first, procs, addresses
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=20)
        drop_postgres_database(url)


def _enrol(url: str, data_dir, enroll_address: str, n: int, state_root) -> list:
    store = Database(url)
    ca_pem = (data_dir / "ca" / "ca.crt").read_bytes()
    creds = grpc.ssl_channel_credentials(root_certificates=ca_pem)
    states = []
    now = int(time.time() * 1000)
    with grpc.secure_channel(enroll_address, creds, options=transport.CHANNEL_OPTIONS) as ch:
        stub = agent_pb2_grpc.EnrollmentStub(ch)
        for i in range(n):
            iid = f"i-rep{i:04d}"
            key = tls.new_private_key()
            reply = stub.Enroll(
                agent_pb2.EnrollRequest(
                    token=store.create_token(iid, now, 600_000), csr_pem=tls.make_csr(key, "x")
                ),
                timeout=30,
            )
            d = state_root / iid
            d.mkdir(parents=True)
            (d / "agent.key").write_bytes(tls.private_key_pem(key))
            (d / "agent.crt").write_bytes(reply.certificate_pem)
            (d / "ca.crt").write_bytes(ca_pem)
            states.append(d)
    store.close()
    return states


def test_a_replica_killed_mid_stream_loses_nothing(replicas, tmp_path):
    url, first, procs, addresses = replicas
    import json

    enroll_address = json.loads((first / "auditor.json").read_text())["enroll"]
    dirs = _enrol(url, first, enroll_address, AGENTS, tmp_path / "agents")

    async def fleet() -> list[transport.Sender]:
        stop = asyncio.Event()
        senders = []
        for d in dirs:
            state = AgentState(d, d.name, addresses)
            senders.append(
                transport.Sender(
                    state, Spool(d / "spool"), transport.Backoff(initial=0.2, maximum=2)
                )
            )
        tasks = [asyncio.create_task(s.run(stop)) for s in senders]
        for r in range(ROUNDS):
            for s in senders:
                iid = s.state.instance_id
                batch = facts_pb2.EventBatch(
                    events=[
                        facts_pb2.Event(
                            event_id=f"{iid}-{r}-{k}",
                            instance_id=iid,
                            time_ms=int(time.time() * 1000),
                            # one attacker per instance: a brute force on each of them
                            login=facts_pb2.LoginEvent(
                                result="failure",
                                user="root",
                                method="password",
                                source_ip=f"198.51.{int(iid[-4:]) // 250}.{int(iid[-4:]) % 250}",
                            ),
                        )
                        for k in range(EVENTS_PER_ROUND)
                    ]
                )
                s.spool.put(
                    agent_pb2.AgentMessage(message_id=f"{iid}-m{r}", instance_id=iid, events=batch)
                )
                s.wakeup.set()
            await asyncio.sleep(0.5)
            if r == ROUNDS // 2:
                procs[0].send_signal(signal.SIGKILL)  # no goodbye to its agents
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            stuck = [s.state.instance_id for s in senders if len(s.spool) or not s.connected]
            if not stuck:
                break
            await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*tasks)
        return stuck

    stuck = asyncio.run(fleet())
    assert procs[0].wait(timeout=10) == -signal.SIGKILL
    assert not stuck, f"{len(stuck)} agents did not deliver everything: {stuck[:5]}"
    store = Database(url)
    try:
        stored = [(iid, ev.event_id) for iid, ev in store.iter_events()]
        total, distinct = len(stored), len(set(stored))
    finally:
        store.close()
    assert total == distinct == AGENTS * ROUNDS * EVENTS_PER_ROUND

    # each brute force is one alert, notified once (the built-in inbox channel), although
    # three replicas evaluated the instances and one of them died in the middle
    def brute_force_rows():
        s = Database(url)
        try:
            with s.engine.connect() as conn:
                alerts = conn.exec_driver_sql(
                    "SELECT instance_id, count(*) FROM alerts "
                    "WHERE check_id = 'login.brute_force' GROUP BY instance_id"
                ).all()
                inbox = conn.exec_driver_sql(
                    "SELECT instance_id, count(*) FROM inbox WHERE title LIKE '%%Brute-force%%' "
                    "GROUP BY instance_id"
                ).all()
            return dict(alerts), dict(inbox)
        finally:
            s.close()

    wait_for(
        lambda: all(len(x) == AGENTS for x in brute_force_rows()),
        120,
        what="an alert and a notification for every instance",
    )
    time.sleep(3)  # a second alert or message would show up now
    alerts, inbox = brute_force_rows()
    assert set(alerts.values()) == {1} and len(alerts) == AGENTS
    assert set(inbox.values()) == {1} and len(inbox) == AGENTS
