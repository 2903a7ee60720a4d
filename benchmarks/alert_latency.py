"""From an event's arrival at the auditor to its notification handed to the SMTP server.

A real auditor (SQLite), a real aiosmtpd SMTP server, an email channel subscribed to
alerts; background load of ~1,000 login events/s from 20 simulated agents (mutual TLS),
and meanwhile brute-force bursts (8 failures from a new source) against one instance.
Each burst opens one alert and sends one email; the latency is the time from sending the
burst's last event to the SMTP server receiving the email. Prints p50 and p99.
Targets: p50 <= 200 ms, p99 <= 1 s, with the notification group wait set to 0 (the
stages - route, inhibit, silence - are judged again when each message is sent).

    .venv/bin/python benchmarks/alert_latency.py [--probes 40] [--background 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc
from aiosmtpd.controller import Controller

from palisade.agent import enrolment, transport
from palisade.shared import tls
from palisade.shared.proto import agent_pb2, agent_pb2_grpc, facts_pb2

BIN = Path(sys.executable).parent


class Inbox:
    def __init__(self):
        self.received: dict[str, float] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        at = time.perf_counter()
        text = envelope.content.decode("utf-8", "replace")
        with self.lock:
            for ip in set(re.findall(r"198\.18\.\d+\.\d+", text)):
                self.received.setdefault(ip, at)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(data: Path, *args: str) -> dict:
    out = subprocess.run(
        [str(BIN / "palisade"), "--data-dir", str(data), *args], capture_output=True, text=True
    )
    if out.returncode != 0:
        raise RuntimeError(out.stdout + out.stderr)
    return json.loads(out.stdout) if out.stdout.strip().startswith("{") else {}


def _enrol(data: Path, enroll_addr: str, instance_id: str) -> grpc.ChannelCredentials:
    token = subprocess.run(
        [
            str(BIN / "palisade"),
            "--data-dir",
            str(data),
            "token",
            "create",
            "--instance-id",
            instance_id,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    secret, pin = enrolment.parse_token(token)
    ca = enrolment.fetch_pinned_ca(enroll_addr, pin)
    key = tls.new_private_key()
    with grpc.secure_channel(
        enroll_addr, grpc.ssl_channel_credentials(ca), options=transport.CHANNEL_OPTIONS
    ) as ch:
        reply = agent_pb2_grpc.EnrollmentStub(ch).Enroll(
            agent_pb2.EnrollRequest(token=secret, csr_pem=tls.make_csr(key, "x")), timeout=30
        )
    return grpc.ssl_channel_credentials(ca, tls.private_key_pem(key), reply.certificate_pem)


def _login(iid: str, k: int, source: str, result: str) -> facts_pb2.Event:
    return facts_pb2.Event(
        event_id=f"{iid}-{k}-{source}",
        instance_id=iid,
        time_ms=int(time.time() * 1000),
        login=facts_pb2.LoginEvent(
            user="root",
            source_ip=source,
            source_port=40000 + k % 20000,
            method="password",
            result=result,
            service="sshd",
        ),
    )


async def _agent(
    addr: str,
    creds,
    iid: str,
    stop: asyncio.Event,
    rate: float,
    probes: list | None = None,
    n_probes: int = 0,
    inbox: Inbox | None = None,
):
    async with grpc.aio.secure_channel(addr, creds, options=transport.CHANNEL_OPTIONS) as ch:
        call = agent_pb2_grpc.IngestStub(ch).Report()
        reader = asyncio.create_task(_drain(call))
        snap = facts_pb2.Snapshot(
            snapshot_id=iid,
            instance_id=iid,
            collected_at_ms=int(time.time() * 1000),
            host=facts_pb2.HostInfo(hostname=iid, os_family="linux"),
        )
        await call.write(
            agent_pb2.AgentMessage(message_id=f"{iid}-s", instance_id=iid, snapshot=snap)
        )
        k = 0
        if probes is not None:
            await asyncio.sleep(2.0)  # let the background load settle
            for p in range(n_probes):
                source = f"198.18.{p // 250}.{p % 250 + 1}"
                events = [_login(iid, k + j, source, "failure") for j in range(8)]
                k += 8
                sent = time.perf_counter()
                await call.write(
                    agent_pb2.AgentMessage(
                        message_id=f"{iid}-p{p}",
                        instance_id=iid,
                        events=facts_pb2.EventBatch(events=events),
                    )
                )
                probes.append((source, sent))
                await asyncio.sleep(0.5)
            stop.set()
        else:
            while not stop.is_set():
                batch = [
                    _login(iid, k + j, f"203.0.{(k + j) // 250 % 250}.{(k + j) % 250}", "failure")
                    for j in range(int(rate / 10))
                ]
                k += len(batch)
                await call.write(
                    agent_pb2.AgentMessage(
                        message_id=f"{iid}-b{k}",
                        instance_id=iid,
                        events=facts_pb2.EventBatch(events=batch),
                    )
                )
                await asyncio.sleep(0.1)
        await call.done_writing()
        await reader


async def _drain(call):
    async for _ in call:
        pass


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--probes", type=int, default=40)
    p.add_argument("--background", type=float, default=1000.0, help="events/s of load")
    p.add_argument("--agents", type=int, default=20)
    args = p.parse_args()
    inbox = Inbox()
    smtp_port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "auditor"
        auditor = subprocess.Popen(
            [
                str(BIN / "palisade"),
                "--data-dir",
                str(data),
                "serve",
                "--grpc",
                "127.0.0.1:0",
                "--http",
                "127.0.0.1:0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(Path(tmp) / "log", "w"),
        )
        try:
            for _ in range(300):
                if (data / "auditor.json").exists():
                    break
                time.sleep(0.1)
            state = json.loads((data / "auditor.json").read_text())
            channel = _cli(
                data,
                "api",
                "CreateNotificationChannel",
                "Kind=email",
                "Name=bench",
                "SmtpHost=127.0.0.1",
                f"SmtpPort={smtp_port}",
                "Security=none",
                "From=palisade@example.com",
                "To=soc@example.com",
            )["ChannelId"]
            # each burst is its own group (a new source): no group wait, as issue 17 asks
            _cli(data, "api", "ModifyNotificationGrouping", "GroupWait=0")
            _cli(
                data,
                "api",
                "CreateSubscription",
                "Category=alerts",
                "Levels=serious,suspicious,remind",
                f"ChannelIds={channel}",
            )
            target = _enrol(data, state["enroll"], "i-target")
            background = [_enrol(data, state["enroll"], f"i-bg{i:03d}") for i in range(args.agents)]
            probes: list[tuple[str, float]] = []

            async def run():
                stop = asyncio.Event()
                tasks = [
                    asyncio.create_task(
                        _agent(
                            state["grpc"], c, f"i-bg{i:03d}", stop, args.background / args.agents
                        )
                    )
                    for i, c in enumerate(background)
                ]
                tasks.append(
                    asyncio.create_task(
                        _agent(
                            state["grpc"], target, "i-target", stop, 0, probes, args.probes, inbox
                        )
                    )
                )
                await asyncio.gather(*tasks)

            asyncio.run(run())
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(inbox.received) < len(probes):
                time.sleep(0.2)
        finally:
            auditor.terminate()
            auditor.wait(timeout=30)
            controller.stop()
    lat = sorted((inbox.received[s] - t) * 1000 for s, t in probes if s in inbox.received)
    missing = len(probes) - len(lat)
    if not lat:
        print("no notification arrived")
        return 1
    pct = lambda q: lat[min(len(lat) - 1, int(len(lat) * q))]  # noqa: E731
    print(f"background load        ~{args.background:,.0f} events/s from {args.agents} agents")
    print(f"brute-force probes     {len(probes)} (emails received: {len(lat)}, missing: {missing})")
    print(
        f"event -> SMTP latency  p50 {statistics.median(lat):.0f} ms, p99 {pct(0.99):.0f} ms, "
        f"max {lat[-1]:.0f} ms   (targets: p50 <= 200 ms, p99 <= 1000 ms)"
    )
    return 0 if missing == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
