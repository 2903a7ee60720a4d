"""The agent's durable outbox.

Every message is written (tmp, fsync, rename, fsync of the folder) before it is
sent, and deleted only when the auditor acknowledges its id, so an agent crash,
an auditor outage or a reboot loses nothing. A newer snapshot supersedes older
unsent ones (the auditor only needs the latest state). The spool is bounded:
when full, the oldest event batches are dropped and the number of events dropped
is kept (and reported in every snapshot), so a long outage costs the oldest
events, never the agent's disk or the newest facts.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from palisade.shared import atomic_file
from palisade.shared.proto import agent_pb2

log = logging.getLogger("palisade.agent.spool")

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
SNAPSHOT_KINDS = ("snapshot", "delta")
EVENT_KINDS = ("events", "event")


@dataclass(frozen=True)
class SpoolFile:
    """One message file in the spool, as its name `{seq}-{kind}-{count}-{message_id}.pb` and
    its size describe it."""

    seq: int
    kind: str  # "snapshot" | "delta" | "events" | "event"
    count: int  # events carried (1 for anything else)
    message_id: str
    path: Path
    size: int


class SpoolFull(Exception):
    pass


def _events_carried(message: agent_pb2.AgentMessage) -> int:
    """The events a message carries; 1 for a message of any other kind."""
    return len(message.events.events) if message.WhichOneof("payload") == "events" else 1


def depth(directory: Path) -> tuple[int, int, int]:
    """(messages waiting, events they carry, events dropped) of the spool in `directory`, read
    without opening it (no folder made, no leftovers removed): for `palisade-agent status`
    while the agent may be writing."""
    messages = events = 0
    for path in Path(directory).glob("*.pb"):
        parts = path.stem.split("-", 3)
        if len(parts) != 4 or not parts[0].isdigit() or not parts[2].isdigit():
            continue
        messages += 1
        events += int(parts[2]) if parts[1] in EVENT_KINDS else 0
    try:
        dropped = int((Path(directory) / "dropped-events").read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        dropped = 0
    return messages, events, dropped


class Spool:
    def __init__(self, directory: Path, max_bytes: int = DEFAULT_MAX_BYTES):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        for leftover in self.dir.glob("*.tmp"):  # a crash between write and rename
            leftover.unlink(missing_ok=True)
        self._dropped_path = self.dir / "dropped-events"
        try:
            self.dropped_events = int(self._dropped_path.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            self.dropped_events = 0
        self._next_seq = max((e.seq for e in self._scan()), default=0) + 1

    def _scan(self) -> list[SpoolFile]:
        out = []
        for path in self.dir.glob("*.pb"):
            parts = path.stem.split("-", 3)
            if len(parts) != 4 or not parts[0].isdigit() or not parts[2].isdigit():
                continue
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            out.append(SpoolFile(int(parts[0]), parts[1], int(parts[2]), parts[3], path, size))
        out.sort(key=lambda e: e.seq)
        return out

    def _fsync_dir(self) -> None:
        atomic_file.fsync_dir(self.dir)

    def _write_atomic(self, path: Path, data: bytes) -> None:
        """tmp, fsync, rename; the folder is fsynced by `put`, once after all its renames."""
        atomic_file.write_atomic(path, data, sync_dir=False)

    def put(self, message: agent_pb2.AgentMessage) -> SpoolFile:
        kind = message.WhichOneof("payload") or "unknown"
        data = message.SerializeToString()
        if len(data) > self.max_bytes:
            raise SpoolFull(
                f"a {kind} message of {len(data)} bytes exceeds the spool's {self.max_bytes} bytes"
            )
        with self._lock:
            entries = self._scan()
            if kind in SNAPSHOT_KINDS:
                for old in [e for e in entries if e.kind in SNAPSHOT_KINDS]:
                    old.path.unlink(missing_ok=True)
                entries = [e for e in entries if e.kind not in SNAPSHOT_KINDS]
            used = sum(e.size for e in entries)
            dropped = 0
            for victim in [e for e in entries if e.kind in EVENT_KINDS]:
                if used + len(data) <= self.max_bytes:
                    break
                victim.path.unlink(missing_ok=True)
                used -= victim.size
                dropped += victim.count
            if used + len(data) > self.max_bytes:
                raise SpoolFull(f"spool {self.dir} is full ({used} of {self.max_bytes} bytes)")
            if dropped:
                self.dropped_events += dropped
                self._write_atomic(self._dropped_path, f"{self.dropped_events}\n".encode())
                log.error(
                    "spool full: dropped the %d oldest events (%d in all)",
                    dropped,
                    self.dropped_events,
                )
            seq = self._next_seq
            self._next_seq += 1
            count = _events_carried(message)
            path = self.dir / f"{seq:016d}-{kind}-{count}-{message.message_id}.pb"
            self._write_atomic(path, data)
            self._fsync_dir()
        return SpoolFile(seq, kind, count, message.message_id, path, len(data))

    def pending(self) -> list[tuple[SpoolFile, agent_pb2.AgentMessage]]:
        out = []
        with self._lock:
            entries = self._scan()
        for entry in entries:
            try:
                data = entry.path.read_bytes()
            except FileNotFoundError:  # superseded or acked meanwhile
                continue
            msg = agent_pb2.AgentMessage()
            try:
                msg.ParseFromString(data)
            except Exception:
                log.error("dropping unreadable spool file %s", entry.path.name)
                entry.path.unlink(missing_ok=True)
                continue
            out.append((entry, msg))
        return out

    def ack(self, message_id: str) -> None:
        with self._lock:
            for path in self.dir.glob(f"*-{message_id}.pb"):
                path.unlink(missing_ok=True)

    def __len__(self) -> int:
        return len(self._scan())
