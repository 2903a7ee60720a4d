"""The agent's footprint on a busy host.

Opens at least 2,000 sockets (listeners and connected pairs) in a helper
process, then measures:
  - one full collection (host + listeners + authorized_keys), median and p95 of 20;
  - the steady-state RSS of a real `palisade-agent run` process reporting every
    second to a real auditor (mutual TLS) for 20 s.
Targets: RSS <= 50 MB (osquery's watchdog allows 200 MB); one collection <= 100 ms.

    .venv/bin/python benchmarks/agent_footprint.py [--sockets 2000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent

SOCKET_HOLDER = textwrap.dedent("""
    import resource, socket, sys, time
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    n = int(sys.argv[1])
    keep = []
    for _ in range(n // 2):                      # listeners
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); keep.append(s)
    server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(4096)
    keep.append(server)
    for _ in range(n // 4):                      # connected pairs: 2 sockets each
        c = socket.create_connection(server.getsockname()); a, _ = server.accept()
        keep += [c, a]
    print(len(keep), flush=True)
    time.sleep(3600)
""")


def _collection_times(rounds: int) -> dict:
    code = textwrap.dedent(f"""
        import json, time
        from palisade.agent.snapshot import collect_snapshot
        from palisade.agent.collectors import listeners
        collect_snapshot()  # warm-up: imports, caches
        full, lis = [], []
        for _ in range({rounds}):
            t = time.perf_counter(); snap = collect_snapshot(); full.append(time.perf_counter() - t)
            t = time.perf_counter(); listeners.collect(); lis.append(time.perf_counter() - t)
        print(json.dumps({{"full": full, "listeners": lis, "n_listeners": len(snap.listeners),
                          "n_key_files": len(snap.authorized_keys), "errors": len(snap.errors)}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _agent_rss(seconds: float) -> dict:
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
            stderr=subprocess.DEVNULL,
        )
        agent = None
        try:
            for _ in range(150):
                if (data / "auditor.json").exists():
                    break
                time.sleep(0.2)
            state = json.loads((data / "auditor.json").read_text())
            token = subprocess.run(
                [
                    str(BIN / "palisade"),
                    "--data-dir",
                    str(data),
                    "token",
                    "create",
                    "--instance-id",
                    "i-bench",
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            subprocess.run(
                [
                    str(BIN / "palisade-agent"),
                    "enroll",
                    "--auditor",
                    state["grpc"],
                    "--enroll-address",
                    state["enroll"],
                    "--token",
                    token,
                    "--state-dir",
                    f"{tmp}/agent",
                ],
                check=True,
                capture_output=True,
            )
            agent = subprocess.Popen(
                [
                    str(BIN / "palisade-agent"),
                    "run",
                    "--state-dir",
                    f"{tmp}/agent",
                    "--interval",
                    "1",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            proc = psutil.Process(agent.pid)
            samples = []
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                samples.append(proc.memory_info().rss)
                time.sleep(0.25)
            steady = samples[len(samples) // 2 :]  # after start-up
            return {
                "rss_peak_mb": max(samples) / 2**20,
                "rss_steady_mb": max(steady) / 2**20,
                "rss_last_mb": samples[-1] / 2**20,
            }
        finally:
            for p in (agent, auditor):
                if p is not None:
                    p.terminate()
                    p.wait(timeout=15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    holder = subprocess.Popen(
        [sys.executable, "-c", SOCKET_HOLDER, str(args.sockets)], stdout=subprocess.PIPE, text=True
    )
    try:
        opened = int(holder.stdout.readline())
        total = len(psutil.net_connections(kind="inet"))
        times = _collection_times(args.rounds)
        rss = _agent_rss(args.seconds)
    finally:
        holder.kill()
    full_ms = sorted(t * 1000 for t in times["full"])
    lis_ms = sorted(t * 1000 for t in times["listeners"])
    p95 = lambda xs: xs[min(len(xs) - 1, int(len(xs) * 0.95))]  # noqa: E731
    print(f"sockets opened by the helper      {opened}  (inet sockets on the host: {total})")
    print(f"listeners reported                {times['n_listeners']}")
    print(
        f"one full collection               median {statistics.median(full_ms):.1f} ms, "
        f"p95 {p95(full_ms):.1f} ms   (target <= 100 ms)"
    )
    print(f"  of which listeners              median {statistics.median(lis_ms):.1f} ms")
    print(
        f"agent RSS, steady state           {rss['rss_steady_mb']:.1f} MB "
        f"(peak {rss['rss_peak_mb']:.1f} MB)   (target <= 50 MB; osquery watchdog 200 MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
