"""`palisade up` / `palisade down`: an auditor and an agent on this host, for `make run`.

The auditor runs on SQLite in the data dir; the agent is enrolled to it with a
token like any other agent, its state in DATA/agent. Both run in the background
with their logs and pid files in the data dir.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from palisade.auditor.server.data_dir import DataDir
from palisade.auditor.store import advisories as advisory_store

# real Debian 12 advisories in osv.dev's format (its README says where from)
SAMPLE_FEED = Path(__file__).parents[1] / "checks" / "vulnerabilities" / "sample_feed"


def _alive(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None


def _spawn(argv: list[str], log_path: Path, pid_file: Path) -> int:
    log = open(log_path, "ab")
    proc = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise SystemExit(f"palisade up: timed out waiting for {what}")


def default_instance_id() -> str:
    """`i-` and the host name's letters and digits (at most 40): an id ECS's pattern accepts
    (`i-[0-9A-Za-z]{1,40}`), so `RunInstances InstanceId=...` can model this very host. The
    README's tour spells it `i-$(hostname | tr -cd '[:alnum:]' | cut -c1-40)`."""
    host = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:40] or "localhost"
    return f"i-{host}"


def up(data_dir: Path, grpc: str, http: str, interval: float = 10.0) -> int:
    d = DataDir(Path(data_dir))
    d.path.mkdir(parents=True, exist_ok=True)
    bin_dir = Path(sys.executable).parent
    auditor_pid, agent_pid = d.path / "auditor.pid", d.path / "agent.pid"
    if not _alive(auditor_pid):
        d.state_file.unlink(missing_ok=True)
        _spawn(
            [
                str(bin_dir / "palisade"),
                "--data-dir",
                str(d.path),
                "serve",
                "--grpc",
                grpc,
                "--http",
                http,
            ],
            d.path / "auditor.log",
            auditor_pid,
        )
        _wait(lambda: d.state_file.exists() or not _alive(auditor_pid), 30, "the auditor")
        if not _alive(auditor_pid):
            print((d.path / "auditor.log").read_text()[-2000:], file=sys.stderr)
            raise SystemExit("palisade up: the auditor did not start (log above)")
    _import_sample_feed(d, bin_dir)
    state = d.state()
    agent_dir = d.path / "agent"
    instance_id = default_instance_id()
    if not (agent_dir / "agent.json").exists():
        token = subprocess.run(
            [
                str(bin_dir / "palisade"),
                "--data-dir",
                str(d.path),
                "token",
                "create",
                "--instance-id",
                instance_id,
                "--ttl",
                "5m",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        subprocess.run(
            [
                str(bin_dir / "palisade-agent"),
                "enroll",
                "--auditor",
                state["grpc"],
                "--enroll-address",
                state["enroll"],
                "--token",
                token,
                "--state-dir",
                str(agent_dir),
            ],
            check=True,
        )
    else:
        instance_id = json.loads((agent_dir / "agent.json").read_text())["instance_id"]
    if not _alive(agent_pid):
        _spawn(
            [
                str(bin_dir / "palisade-agent"),
                "run",
                "--state-dir",
                str(agent_dir),
                "--interval",
                str(interval),
            ],
            d.path / "agent.log",
            agent_pid,
        )
    store = d.store()
    _wait(
        lambda: (store.instance(instance_id) or {}).get("snapshot_at_ms", 0) > 0,
        60,
        "the agent's first snapshot",
    )
    print(f"""
Palisade is running (data in {d.path}):
  auditor    gRPC {state["grpc"]}  enrolment {state["enroll"]}
  agent      {instance_id}, reporting every {interval:g}s
  dashboard  http://{state["http"]}/ui/  (user admin; ConsolePassword in {d.path}/credentials.json)

Try:
  .venv/bin/palisade --data-dir {d.path} instances
  .venv/bin/palisade --data-dir {d.path} instance show {instance_id}
Logs: {d.path}/auditor.log, {d.path}/agent.log.  Stop with `make stop`.""")
    return 0


def _import_sample_feed(d: DataDir, bin_dir: Path) -> None:
    """The sample advisory feed, once: a data dir that has a feed keeps its own."""
    if advisory_store.feed_version(d.store()):
        return
    subprocess.run(
        [str(bin_dir / "palisade"), "--data-dir", str(d.path), "advisories", "import"]
        + [str(SAMPLE_FEED)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def down(data_dir: Path) -> int:
    d = DataDir(Path(data_dir))
    for name in ("agent", "auditor"):
        pid = _alive(d.path / f"{name}.pid")
        if pid:
            os.kill(pid, signal.SIGTERM)
            _wait(lambda p=pid: not _pid_running(p), 15, f"the {name} to stop")
            print(f"stopped the {name} (pid {pid})")
        (d.path / f"{name}.pid").unlink(missing_ok=True)
    return 0


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child of ours counts as stopped
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True
