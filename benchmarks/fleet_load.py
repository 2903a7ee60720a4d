"""Fleet-sized load on one auditor process: real gRPC, real mutual TLS, real store.

Enrols N simulated agents (each with its own key and certificate), then streams
snapshots and login-event batches from them for a while, from one or more
processes (asyncio), and prints:
  - sustained events/s committed to the store (counted in the database),
  - p50/p99 acknowledgement latency (send -> ack, i.e. committed),
  - the auditor's peak RSS.
Targets (one auditor on SQLite): >= 50,000 events/s, p99 ack <= 250 ms, RSS <= 500 MB.

    .venv/bin/python benchmarks/fleet_load.py [--agents 1000] [--seconds 20]
        [--rate 60000] [--batch 100] [--db postgresql://postgres@127.0.0.1/palisade_bench]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import grpc
import psutil

BIN = Path(sys.executable).parent


def _enrol_all(enroll_addr: str, data_dir: Path, db: str | None, n: int, out: Path) -> list[dict]:
    """Tokens through the store, certificates through the real Enroll RPC."""
    from palisade.agent import transport
    from palisade.auditor.service import DataDir
    from palisade.shared import tls
    from palisade.shared.proto import agent_pb2, agent_pb2_grpc

    d = DataDir(data_dir)
    store = d.store(db)
    pin = d.ca().pin
    ca_pem = (data_dir / "ca" / "ca.crt").read_bytes()
    creds = grpc.ssl_channel_credentials(root_certificates=ca_pem)
    agents = []
    now = int(time.time() * 1000)
    with grpc.secure_channel(enroll_addr, creds, options=transport.CHANNEL_OPTIONS) as channel:
        stub = agent_pb2_grpc.EnrollmentStub(channel)
        for i in range(n):
            instance_id = f"i-load{i:05d}"
            token = store.create_token(instance_id, now, 3_600_000)
            key = tls.new_private_key()
            reply = stub.Enroll(
                agent_pb2.EnrollRequest(token=token, csr_pem=tls.make_csr(key, "x")), timeout=30
            )
            agents.append(
                {
                    "instance_id": instance_id,
                    "key": tls.private_key_pem(key).decode(),
                    "cert": reply.certificate_pem.decode(),
                }
            )
    store.close()
    out.write_text(json.dumps({"ca": ca_pem.decode(), "pin": pin, "agents": agents}))
    return agents


def _worker(
    ingest_addr: str,
    material: dict,
    agents: list[dict],
    seconds: float,
    period: float,
    batch: int,
    queue,
) -> None:
    from palisade.agent import transport
    from palisade.shared.proto import agent_pb2, agent_pb2_grpc, facts_pb2

    latencies: list[float] = []
    sent_events = 0
    errors: list[str] = []

    async def one_agent(agent: dict, start_delay: float) -> None:
        nonlocal sent_events
        creds = grpc.ssl_channel_credentials(
            root_certificates=material["ca"].encode(),
            private_key=agent["key"].encode(),
            certificate_chain=agent["cert"].encode(),
        )
        iid = agent["instance_id"]
        await asyncio.sleep(start_delay)
        async with grpc.aio.secure_channel(
            ingest_addr, creds, options=transport.CHANNEL_OPTIONS
        ) as channel:
            call = agent_pb2_grpc.IngestStub(channel).Report()
            sent_at: dict[str, float] = {}

            async def reader():
                async for ack in call:
                    t = sent_at.pop(ack.message_id, None)
                    if t is not None:
                        latencies.append(time.perf_counter() - t)

            task = asyncio.create_task(reader())
            snap = facts_pb2.Snapshot(
                snapshot_id=uuid.uuid4().hex,
                instance_id=iid,
                collected_at_ms=int(time.time() * 1000),
                host=facts_pb2.HostInfo(hostname=iid, os_family="linux"),
            )
            snap.listeners.add(
                protocol="tcp", family="ipv4", address="0.0.0.0", port=22, process_name="sshd"
            )
            msg = agent_pb2.AgentMessage(
                message_id=uuid.uuid4().hex, instance_id=iid, snapshot=snap
            )
            sent_at[msg.message_id] = time.perf_counter()
            await call.write(msg)
            deadline = time.perf_counter() + seconds
            seq = 0
            next_send = time.perf_counter()
            while time.perf_counter() < deadline:
                events = []
                base_ms = int(time.time() * 1000)
                for _ in range(batch):
                    seq += 1
                    events.append(
                        facts_pb2.Event(
                            event_id=f"{iid}-{seq}",
                            instance_id=iid,
                            time_ms=base_ms,
                            login=facts_pb2.LoginEvent(
                                user="root",
                                source_ip="203.0.113.7",
                                source_port=40000 + seq % 20000,
                                method="password",
                                result="failure",
                                service="sshd",
                            ),
                        )
                    )
                msg = agent_pb2.AgentMessage(
                    message_id=uuid.uuid4().hex,
                    instance_id=iid,
                    events=facts_pb2.EventBatch(events=events),
                )
                sent_at[msg.message_id] = time.perf_counter()
                await call.write(msg)
                sent_events += batch
                next_send += period
                await asyncio.sleep(max(0.0, next_send - time.perf_counter()))
            await call.done_writing()
            try:
                await asyncio.wait_for(task, timeout=30)
            except TimeoutError:
                errors.append(f"{iid}: {len(sent_at)} messages never acknowledged")

    async def main() -> None:
        n = len(agents)
        results = await asyncio.gather(
            *(one_agent(a, period * i / max(n, 1)) for i, a in enumerate(agents)),
            return_exceptions=True,
        )
        for r in results:
            if isinstance(r, BaseException):
                errors.append(repr(r)[:200])

    asyncio.run(main())
    queue.put(
        {
            "latencies": latencies,
            "sent_events": sent_events,
            "errors": errors[:5],
            "n_errors": len(errors),
        }
    )


def _event_count(data_dir: Path, db: str | None) -> int:
    from palisade.auditor.service import DataDir

    store = DataDir(data_dir).store(db)
    try:
        return store.event_count()
    finally:
        store.close()


def run(args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "auditor"
        cmd = [
            str(BIN / "palisade"),
            "--data-dir",
            str(data),
            "serve",
            "--grpc",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
        ]
        if args.db:
            cmd += ["--db", args.db]
        auditor = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=open(Path(tmp) / "log", "w")
        )
        try:
            for _ in range(300):
                if (data / "auditor.json").exists():
                    break
                time.sleep(0.1)
            state = json.loads((data / "auditor.json").read_text())
            t0 = time.perf_counter()
            material_path = Path(tmp) / "agents.json"
            agents = _enrol_all(state["enroll"], data, args.db, args.agents, material_path)
            enrol_s = time.perf_counter() - t0
            material = json.loads(material_path.read_text())
            period = args.agents * args.batch / args.rate
            proc = psutil.Process(auditor.pid)
            queue = mp.Queue()
            chunks = [agents[i :: args.processes] for i in range(args.processes)]
            workers = [
                mp.Process(
                    target=_worker,
                    args=(state["grpc"], material, c, args.seconds, period, args.batch, queue),
                )
                for c in chunks
            ]
            before = _event_count(data, args.db)
            start = time.perf_counter()
            for w in workers:
                w.start()
            peak = 0
            while any(w.is_alive() for w in workers):
                peak = max(peak, proc.memory_info().rss)
                time.sleep(0.2)
                if queue.qsize() >= len(workers):
                    break
            results = [queue.get(timeout=120) for _ in workers]
            for w in workers:
                w.join(timeout=30)
            elapsed = time.perf_counter() - start
            stored = _event_count(data, args.db) - before
        finally:
            auditor.terminate()
            try:
                auditor.wait(timeout=60)
            except subprocess.TimeoutExpired:
                auditor.kill()
                auditor.wait()
    lat = sorted(x for r in results for x in r["latencies"])
    pct = lambda q: lat[min(len(lat) - 1, int(len(lat) * q))] * 1000 if lat else float("nan")  # noqa: E731
    return {
        "agents": args.agents,
        "enrol_s": enrol_s,
        "elapsed_s": elapsed,
        "sent": sum(r["sent_events"] for r in results),
        "stored": stored,
        "events_per_s": stored / elapsed,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "messages": len(lat),
        "rss_mb": peak / 2**20,
        "errors": [e for r in results for e in r["errors"]][:5],
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--agents", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--rate", type=float, default=60000, help="offered events/s, all agents")
    p.add_argument("--batch", type=int, default=100, help="events per message")
    p.add_argument("--processes", type=int, default=1)
    p.add_argument("--db", help="postgresql://... (default: SQLite in a temporary data dir)")
    args = p.parse_args()
    r = run(args)
    backend = "PostgreSQL" if args.db else "SQLite"
    print(f"backend                    {backend}")
    print(f"agents                     {r['agents']} (enrolled in {r['enrol_s']:.1f} s)")
    print(f"offered                    {args.rate:,.0f} events/s in batches of {args.batch}")
    print(f"events sent / stored       {r['sent']:,} / {r['stored']:,} in {r['elapsed_s']:.1f} s")
    print(f"sustained into the store   {r['events_per_s']:,.0f} events/s   (target >= 50,000)")
    print(
        f"ack latency                p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms "
        f"over {r['messages']:,} messages   (target p99 <= 250 ms)"
    )
    print(f"auditor peak RSS           {r['rss_mb']:.0f} MB   (target <= 500 MB)")
    if r["errors"]:
        print("errors:", *r["errors"], sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
