"""The agent's health: the status file `palisade-agent run` keeps in the state dir and
`palisade-agent status` reads.

STATE/status.json is rewritten atomically (tmp, fsync, rename) when something in it changes,
and at least every HEARTBEAT_S so that its age tells whether the agent is running: when the
auditor last acknowledged a message, the last send error, the spool's depth, the task
restarts and, once the agent gave up, why. `status` reads the spool's depth from the spool
itself (it is right even when the agent is stopped) and the rest from the file.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from palisade.agent import spool as spool_module
from palisade.agent.state import AgentState, EnrolmentError
from palisade.shared.atomic_file import write_text_atomic

STATUS_FILE = "status.json"
CHECK_S = 2.0  # how often the running agent compares its status with the file's
HEARTBEAT_S = 10.0  # the file is rewritten at least this often while the agent runs
STALE_S = 3 * HEARTBEAT_S  # older than this: the agent is not running


def write_status(directory: Path, status: dict[str, Any]) -> None:
    """Replace STATE/status.json in one step: a reader sees the old file or the new one."""
    write_text_atomic(
        Path(directory) / STATUS_FILE, json.dumps(status, indent=2, sort_keys=True) + "\n"
    )


def read_status(directory: Path) -> dict[str, Any] | None:
    """The last status the agent wrote; None when it never ran (or the file is unreadable)."""
    try:
        data = json.loads((Path(directory) / STATUS_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) else None


async def keep_status_file(
    directory: Path,
    current: Callable[[], dict[str, Any]],
    stop: asyncio.Event,
    clock: Callable[[], float] = time.time,
) -> None:
    """Writes `current()` (plus `updated_at`) when it changed or HEARTBEAT_S passed, until
    `stop`; once more at the end, so the file says how the agent stopped."""
    last: dict[str, Any] | None = None
    written_at = 0.0
    while True:
        stopping = stop.is_set()
        now_status = current()
        if stopping or now_status != last or clock() - written_at >= HEARTBEAT_S:
            written_at = clock()
            await asyncio.to_thread(
                write_status, directory, {**now_status, "updated_at": written_at}
            )
            last = now_status
        if stopping:
            return
        try:
            await asyncio.wait_for(stop.wait(), timeout=CHECK_S)
        except TimeoutError:
            pass


def _when(ts: float | None, now: float) -> str:
    if ts is None:
        return "never"
    at = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{at} ({max(0, round(now - ts))} s ago)"


def report(directory: Path, now: float | None = None) -> tuple[int, dict[str, Any], list[str]]:
    """(exit status, the facts as JSON, the lines to print) for `palisade-agent status`:
    1 when the state dir holds no enrolment, 0 otherwise."""
    now = time.time() if now is None else now
    directory = Path(directory)
    try:
        state = AgentState.load(directory)
    except EnrolmentError as exc:
        return 1, {"enrolled": False, "error": str(exc)}, [f"not enrolled: {exc}"]
    messages, events, dropped = spool_module.depth(directory / "spool")
    status = read_status(directory) or {}

    def number(key: str) -> float | None:  # a hand-edited or foreign file cannot crash status
        value = status.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value)

    updated = number("updated_at")
    running = updated is not None and now - updated <= STALE_S and status.get("stopped_at") is None
    facts = {
        "enrolled": True,
        "instance_id": state.instance_id,
        "auditors": state.auditors,
        "running": running,
        "status_updated_at": updated,
        "spool_messages": messages,
        "spool_events": events,
        "spool_dropped_events": dropped,
        "connected": bool(status.get("connected")) and running,
        "last_send_at": number("last_send_at"),
        "last_error": status.get("last_error"),
        "last_error_at": number("last_error_at"),
        "task_restarts": status.get("task_restarts", 0),
        "failure": status.get("failure"),
    }
    if running:
        agent = f"running, {'connected' if facts['connected'] else 'not connected'}"
    elif updated is None:
        agent = "has not run"
    else:
        agent = f"not running (status written {_when(updated, now)})"
    lines = [
        f"{state.instance_id}: enrolled; agent {agent}; spool {messages} messages waiting; "
        f"last send {_when(facts['last_send_at'], now)}",
        f"auditors:    {', '.join(state.auditors)}",
        f"spool:       {messages} messages ({events} events) waiting, {dropped} events dropped",
        f"last send:   {_when(facts['last_send_at'], now)}",
        "last error:  "
        + (
            f"{facts['last_error']} at {_when(facts['last_error_at'], now)}"
            if facts["last_error"]
            else "none"
        ),
        f"restarts:    {facts['task_restarts']} task restarts",
    ]
    if facts["failure"]:
        lines.append(f"gave up:     {facts['failure']}")
    return 0, facts, lines
