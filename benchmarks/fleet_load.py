"""Fleet-sized load on one auditor process: real gRPC, real mutual TLS, real store.

Enrols N simulated agents (each with its own key and certificate), then streams
snapshots and login-event batches from them for a while, from one or more
processes (asyncio): first a warm-up (connections, TLS handshakes, first snapshots, under
load), then a measured window, and prints for the window:
  - sustained events/s committed to the store (counted in the database),
  - p50/p99 acknowledgement latency (send -> ack, i.e. committed) of the messages sent in it,
  - the auditor's peak RSS,
  - the CPU the auditor and the load generator used while it ran (they share the machine).
Targets (one auditor on SQLite): >= 50,000 events/s, p99 ack <= 250 ms, RSS <= 500 MB.

    .venv/bin/python benchmarks/fleet_load.py [--agents 1000] [--seconds 20] [--warmup 5]
        [--rate 60000] [--batch 100] [--db postgresql://postgres@127.0.0.1/palisade_bench]

The generator is kept cheap so that the auditor is what gets measured: the event batches
are not built as protobuf objects but spliced as wire-format bytes (see _BatchEncoder,
checked against the object-built message at start-up) and written through a raw
stream method. Event ids are random 32-hex-char strings, like the agent's sha256 prefixes.
"""

from __future__ import annotations

import argparse
import asyncio
import binascii
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import grpc
import psutil

BIN = Path(sys.executable).parent
REPORT_METHOD = "/palisade.v1.Ingest/Report"
PORTS = 20000  # login source ports 40000..59999: always a 3-byte varint, one length for all


# --- AgentMessage(events=EventBatch) as bytes, without protobuf objects -----------------
# Protobuf's wire format concatenates: a length-delimited field is tag, length, payload,
# and fields may follow in any order. Field numbers (proto/palisade/v1/*.proto):
#   AgentMessage: message_id = 1, instance_id = 2, events (EventBatch) = 12
#   EventBatch:   events (repeated Event) = 1
#   Event:        event_id = 1, instance_id = 2, time_ms = 3 (varint), login (LoginEvent) = 10
# _self_check() compares the result with the object-built message, so this cannot drift.


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _delimited(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _login_event(port: int):
    from palisade.shared.proto import facts_pb2

    return facts_pb2.LoginEvent(
        user="root",
        source_ip="203.0.113.7",
        source_port=port,
        method="password",
        result="failure",
        service="sshd",
    )


def _login_table(batch: int) -> list[bytes]:
    """Event field 10 (login) for source port 40000 + k % PORTS at index k, for k up to
    PORTS + batch, so that any batch is one slice."""
    logins = [_delimited(10, _login_event(40000 + k).SerializeToString()) for k in range(PORTS)]
    if len({len(x) for x in logins}) != 1:
        raise SystemExit("login fields must all have the same length")
    return [logins[k % PORTS] for k in range(PORTS + batch)]


def _random_ids(n: int) -> list[bytes]:
    """n random 32-lowercase-hex-char ids (what the agent's sha256 prefixes look like)."""
    return binascii.hexlify(os.urandom(16 * n), b"|", 16).split(b"|")


class _BatchEncoder:
    """One agent's AgentMessage(events=EventBatch(...)) bytes: the constant parts are
    computed once; per message only the ids, time_ms and the source ports change."""

    def __init__(self, instance_id: str, logins: list[bytes]) -> None:
        self.iid_field = _delimited(2, instance_id.encode())
        self.logins = logins
        self.login_len = len(logins[0])

    def encode(self, message_id: bytes, event_ids: list[bytes], time_ms: int, seq: int) -> bytes:
        """Events get ids `event_ids` and source port 40000 + (seq + 1 + i) % PORTS."""
        n = len(event_ids)
        # Event.instance_id, Event.time_ms (proto3 writes no zero)
        mid = self.iid_field + (b"\x18" + _varint(time_ms) if time_ms else b"")
        head = b"\x0a" + _varint(2 + 32 + len(mid) + self.login_len) + b"\x0a\x20"
        parts = [head, None, mid, None] * n  # EventBatch.events[i]: len, Event.event_id, ...
        parts[1::4] = event_ids
        start = (seq + 1) % PORTS
        parts[3::4] = self.logins[start : start + n]
        body = b"".join(parts)
        return b"".join(
            (b"\x0a\x20", message_id, self.iid_field, b"\x62", _varint(len(body)), body)
        )


def _object_message(
    instance_id: str, message_id: str, event_ids: list[str], time_ms: int, seq: int
):
    """The same message built the ordinary way (what the generator used to send)."""
    from palisade.shared.proto import agent_pb2, facts_pb2

    events = [
        facts_pb2.Event(
            event_id=eid,
            instance_id=instance_id,
            time_ms=time_ms,
            login=_login_event(40000 + (seq + 1 + i) % PORTS),
        )
        for i, eid in enumerate(event_ids)
    ]
    return agent_pb2.AgentMessage(
        message_id=message_id, instance_id=instance_id, events=facts_pb2.EventBatch(events=events)
    )


def _self_check(batch: int) -> None:
    """The spliced bytes parse to exactly the object-built message."""
    from google.protobuf.message import DecodeError

    from palisade.shared.proto import agent_pb2

    logins = _login_table(batch)
    now = int(time.time() * 1000)
    cases = [("i-load00000", batch, 0, now), ("i-" + "x" * 150, batch, PORTS - 3, 2**63 - 1)]
    cases += [("i-load12345", 1, 7, 0), ("i-load12345", 300, 19_950, now)]
    for iid, n, seq, time_ms in cases:
        ids = _random_ids(n + 1)
        if len(set(ids)) != n + 1 or any(len(x) != 32 or x != x.lower() for x in ids):
            raise SystemExit("self-check: ids are not 32 distinct lowercase hex chars")
        table = logins if n <= batch else _login_table(n)
        raw = _BatchEncoder(iid, table).encode(ids[0], ids[1:], time_ms, seq)
        expected = _object_message(
            iid, ids[0].decode(), [x.decode() for x in ids[1:]], time_ms, seq
        )
        try:
            got = agent_pb2.AgentMessage.FromString(raw)
        except DecodeError:
            got = None
        # not asserts: they would vanish under python -O
        if got != expected or len(raw) != expected.ByteSize():
            raise SystemExit(f"self-check: the byte encoder drifted from the schema ({n} events)")


def _enrol_all(enroll_addr: str, data_dir: Path, db: str | None, n: int, out: Path) -> list[dict]:
    """Tokens through the store, certificates through the real Enroll RPC."""
    from palisade.agent import transport
    from palisade.auditor.server.serve import DataDir
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
    start_at: float,
    warmup: float,
    seconds: float,
    period: float,
    batch: int,
    queue,
) -> None:
    from palisade.agent import transport
    from palisade.shared.proto import agent_pb2, facts_pb2

    latencies: list[float] = []  # of messages due in the measured window only
    sent_events = 0
    window_events = 0
    cpu_window: list[float] = []
    errors: list[str] = []
    logins = _login_table(batch)

    async def one_agent(agent: dict, t0: float, start_delay: float, connect_delay: float) -> None:
        nonlocal sent_events, window_events
        creds = grpc.ssl_channel_credentials(
            root_certificates=material["ca"].encode(),
            private_key=agent["key"].encode(),
            certificate_chain=agent["cert"].encode(),
        )
        iid = agent["instance_id"]
        await asyncio.sleep(connect_delay)
        async with grpc.aio.secure_channel(
            ingest_addr, creds, options=transport.CHANNEL_OPTIONS
        ) as channel:
            # requests go out as the bytes given; acks are parsed as usual
            call = channel.stream_stream(
                REPORT_METHOD,
                request_serializer=None,
                response_deserializer=agent_pb2.Ack.FromString,
            )()
            sent_at: dict[str, tuple[float, bool]] = {}
            encoder = _BatchEncoder(iid, logins)

            async def reader():
                async for ack in call:
                    sent = sent_at.pop(ack.message_id, None)
                    if sent is not None and sent[1]:
                        latencies.append(time.perf_counter() - sent[0])

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
            sent_at[msg.message_id] = (time.perf_counter(), False)
            await call.write(msg.SerializeToString())
            # one schedule for every process: message k of agent i is due at
            # t0 + delay_i + k * period, for every k that falls within warm-up + `seconds`,
            # so that sent / seconds is the offered rate (a late agent catches up); the
            # warm-up (connections, TLS, snapshots) is not measured
            k = 0
            while (due := start_delay + k * period) < warmup + seconds:
                await asyncio.sleep(max(0.0, t0 + due - time.perf_counter()))
                ids = _random_ids(batch + 1)  # the message id, then one per event
                message_id = ids[0].decode()
                data = encoder.encode(ids[0], ids[1:], int(time.time() * 1000), k * batch)
                measured = due >= warmup
                sent_at[message_id] = (time.perf_counter(), measured)
                await call.write(data)
                sent_events += batch
                window_events += batch if measured else 0
                k += 1
            await call.done_writing()
            try:
                await asyncio.wait_for(task, timeout=30)
            except TimeoutError:
                errors.append(f"{iid}: {len(sent_at)} messages never acknowledged")

    async def main() -> None:
        n = len(agents)
        # agents connect (and send their snapshot) spread over their first period, or over
        # the whole run when the period is longer than that
        spread = min(period, seconds)
        t0 = time.perf_counter() + (start_at - time.time())  # the parent's clock

        async def window_cpu() -> None:  # this process's CPU in the measured window
            me = psutil.Process()
            await asyncio.sleep(max(0.0, t0 + warmup - time.perf_counter()))
            a = me.cpu_times()
            await asyncio.sleep(max(0.0, t0 + warmup + seconds - time.perf_counter()))
            b = me.cpu_times()
            cpu_window.append(b.user + b.system - a.user - a.system)

        watcher = asyncio.create_task(window_cpu())
        results = await asyncio.gather(
            *(
                one_agent(a, t0, period * i / max(n, 1), spread * i / max(n, 1))
                for i, a in enumerate(agents)
            ),
            return_exceptions=True,
        )
        for r in results:
            if isinstance(r, BaseException):
                errors.append(repr(r)[:200])
        await watcher

    asyncio.run(main())
    queue.put(
        {
            "cpu_s": sum(cpu_window),
            "latencies": latencies,
            "sent_events": sent_events,
            "window_events": window_events,
            "errors": errors[:5],
            "n_errors": len(errors),
        }
    )


def _cpu_seconds(proc: psutil.Process) -> float:
    """User + system CPU of a process and its live descendants."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def _event_count(data_dir: Path, db: str | None) -> int:
    from palisade.auditor.server.serve import DataDir

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
            start_at = time.time() + 3  # every worker's schedule starts then
            workers = [
                mp.Process(
                    target=_worker,
                    args=(
                        state["grpc"],
                        material,
                        c,
                        start_at,
                        args.warmup,
                        args.seconds,
                        period,
                        args.batch,
                        queue,
                    ),
                )
                for c in chunks
            ]
            for w in workers:
                w.start()
            peak = 0

            def sample_until(t: float) -> None:
                nonlocal peak
                while time.time() < t:
                    peak = max(peak, proc.memory_info().rss)
                    time.sleep(min(0.2, max(0.0, t - time.time())))

            # the measured window: stored events and CPU between its start and its end
            sample_until(start_at + args.warmup)
            before = _event_count(data, args.db)
            auditor_cpu = _cpu_seconds(proc)
            window_start = time.perf_counter()
            sample_until(start_at + args.warmup + args.seconds)
            stored = _event_count(data, args.db) - before
            elapsed = time.perf_counter() - window_start
            auditor_cpu = _cpu_seconds(proc) - auditor_cpu
            while any(w.is_alive() for w in workers):  # the backlog drains, acks arrive
                peak = max(peak, proc.memory_info().rss)
                time.sleep(0.2)
                if queue.qsize() >= len(workers):
                    break
            results = [queue.get(timeout=120) for _ in workers]
            for w in workers:
                w.join(timeout=30)
            total = _event_count(data, args.db)
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
        "sent_window": sum(r["window_events"] for r in results),
        "stored": stored,
        "stored_total": total,
        "events_per_s": stored / elapsed,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "messages": len(lat),
        "rss_mb": peak / 2**20,
        "auditor_cpu_s": auditor_cpu,
        "generator_cpu_s": sum(r["cpu_s"] for r in results),
        "errors": [e for r in results for e in r["errors"]][:5],
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--agents", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=20, help="the measured window")
    p.add_argument(
        "--warmup",
        type=float,
        default=5,
        help="seconds of load before the window (connections, TLS, snapshots)",
    )
    p.add_argument("--rate", type=float, default=60000, help="offered events/s, all agents")
    p.add_argument("--batch", type=int, default=100, help="events per message")
    p.add_argument("--processes", type=int, default=1)
    p.add_argument("--db", help="postgresql://... (default: SQLite in a temporary data dir)")
    args = p.parse_args()
    _self_check(args.batch)
    r = run(args)
    backend = "PostgreSQL" if args.db else "SQLite"
    print(f"backend                    {backend}")
    print(f"agents                     {r['agents']} (enrolled in {r['enrol_s']:.1f} s)")
    print(f"offered                    {args.rate:,.0f} events/s in batches of {args.batch}")
    print(
        f"measured window            {r['elapsed_s']:.1f} s after {args.warmup:g} s of warm-up: "
        f"{r['sent_window']:,} events sent, {r['stored']:,} stored"
    )
    print(f"sustained into the store   {r['events_per_s']:,.0f} events/s   (target >= 50,000)")
    print(
        f"ack latency                p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms "
        f"over {r['messages']:,} messages   (target p99 <= 250 ms)"
    )
    print(f"auditor peak RSS           {r['rss_mb']:.0f} MB   (target <= 500 MB)")
    achieved = r["sent_window"] / args.seconds
    print(f"offered, achieved          {achieved:,.0f} events/s (sent in the window / --seconds)")
    print(f"whole run                  {r['sent']:,} events sent, {r['stored_total']:,} stored")
    for who in ("auditor", "generator"):
        cpu = r[f"{who}_cpu_s"]
        print(f"{who + ' CPU':<27}{cpu:.1f} s ({cpu / r['elapsed_s']:.2f} cores)")
    if r["errors"]:
        print("errors:", *r["errors"], sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
