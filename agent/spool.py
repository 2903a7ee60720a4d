"""The agent's durable outbox.

Every message is written (tmp, fsync, rename, fsync of the folder) before it is
sent, and deleted only when the auditor acknowledges its id, so an agent crash,
an auditor outage or a reboot loses nothing. A newer snapshot supersedes older
unsent ones (the auditor only needs the latest state); events are never dropped
for that reason.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from palisade.shared.proto import agent_pb2

log = logging.getLogger("palisade.agent.spool")

DEFAULT_MAX_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Entry:
    seq: int
    kind: str  # "snapshot" | "event"
    message_id: str
    path: Path


class SpoolFull(Exception):
    pass


class Spool:
    def __init__(self, directory: Path, max_bytes: int = DEFAULT_MAX_BYTES):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        for leftover in self.dir.glob("*.tmp"):  # a crash between write and rename
            leftover.unlink(missing_ok=True)
        self._next_seq = max((e.seq for e in self._scan()), default=0) + 1

    def _scan(self) -> list[Entry]:
        out = []
        for path in self.dir.glob("*.pb"):
            seq, _, rest = path.stem.partition("-")
            kind, _, message_id = rest.partition("-")
            if seq.isdigit() and kind and message_id:
                out.append(Entry(int(seq), kind, message_id, path))
        out.sort(key=lambda e: e.seq)
        return out

    def _fsync_dir(self) -> None:
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def put(self, message: agent_pb2.AgentMessage) -> Entry:
        kind = message.WhichOneof("payload") or "unknown"
        data = message.SerializeToString()
        with self._lock:
            entries = self._scan()
            if kind == "snapshot":
                for old in entries:
                    if old.kind == "snapshot":
                        old.path.unlink(missing_ok=True)
                entries = [e for e in entries if e.kind != "snapshot"]
            used = sum(e.path.stat().st_size for e in entries if e.path.exists())
            if used + len(data) > self.max_bytes:
                raise SpoolFull(f"spool {self.dir} holds {used} bytes; limit {self.max_bytes}")
            seq = self._next_seq
            self._next_seq += 1
            path = self.dir / f"{seq:016d}-{kind}-{message.message_id}.pb"
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            self._fsync_dir()
        return Entry(seq, kind, message.message_id, path)

    def pending(self) -> list[tuple[Entry, agent_pb2.AgentMessage]]:
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
            except Exception:  # noqa: BLE001 - a torn file must not stop the queue
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
