"""Follows a growing log file through rotation and agent restarts, losing and repeating nothing.

A file is known by its identity: (device, inode) plus a hash of its head (the first line, or
the first record for binary record files). The position (identity, offset of the next unread
byte) is persisted in a small JSON state file, replaced atomically (write a temporary file,
fsync, rename, fsync the folder), when the caller commits: commit after what `poll()` returned
is safely stored (the spool), and an agent restart resumes exactly after it.

Rotation:
- by rename (logrotate `create`): a new inode appears at the path. The old file is read to its
  end, including a last line without a newline (its writer has moved on), then the new file is
  read from 0. While the new file is still empty the old one keeps being followed, since a
  daemon writes to the old file until it reopens its log.
- by copytruncate: the path keeps its inode but shrinks below the offset, or its head changes
  (truncated, then grown past the offset between two polls). Lines written after the last poll
  went into the copy only, so the copy (a sibling whose head hash matches) is finished from the
  offset, then the file is read again from 0.
- while the agent was stopped: on start, if the file at the path is not the remembered one,
  the remembered file is looked for among its rotated siblings (`auth.log.1`, `secure-20250101`;
  compressed ones cannot be read) by inode, then by head hash; it is finished from the saved
  offset, siblings rotated after it are read whole, then the current file from 0. If it cannot
  be found, a note in `notes` says what may be missing.

A line is only consumed when complete (ends in a newline); a record when all its bytes are there.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from palisade.shared.atomic_file import write_atomic

HEAD_BYTES = 512
MAX_LINE = 1 << 20  # a "line" this long without a newline is handed out as is
READ_CHUNK = 1 << 20
STATE_VERSION = 1


@dataclass(frozen=True)
class FileIdentity:
    dev: int
    ino: int
    head: str  # sha256 hex of the head; "" while the first line/record is incomplete


@dataclass(frozen=True)
class TailPosition:
    identity: FileIdentity
    offset: int


@dataclass(frozen=True)
class TailedUnit:
    data: bytes  # one line (with its newline, except a rotated file's unfinished last line)
    path: str  # the file it came from (a rotated file's current name)
    offset: int  # where it starts in that file


class TailStateStore:
    """Positions of all followed files, in one JSON file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.notes: list[str] = []
        self._positions: dict[str, TailPosition] = {}
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            for key, entry in document["files"].items():
                identity = FileIdentity(int(entry["dev"]), int(entry["ino"]), str(entry["head"]))
                self._positions[str(key)] = TailPosition(identity, int(entry["offset"]))
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            # Unreadable state: start over; re-read lines keep their event ids, so the
            # auditor drops the repeats.
            self.notes.append(f"tail state {self.path} unreadable ({exc}); starting over")
            self._positions = {}

    def get(self, key: str) -> TailPosition | None:
        return self._positions.get(key)

    def set(self, key: str, position: TailPosition) -> None:
        self._positions[key] = position

    def save(self) -> None:
        document = {
            "version": STATE_VERSION,
            "files": {
                key: {
                    "dev": pos.identity.dev,
                    "ino": pos.identity.ino,
                    "head": pos.identity.head,
                    "offset": pos.offset,
                }
                for key, pos in sorted(self._positions.items())
            },
        }
        write_atomic(self.path, json.dumps(document, indent=1).encode("utf-8"))


class FileTailer:
    """Follows one path. `poll()` returns the new complete lines (or records); `commit()`
    persists the position after them."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        store: TailStateStore | None = None,
        *,
        key: str | None = None,
        record_size: int | None = None,
        from_end: bool = False,
        max_bytes_per_poll: int = 16 << 20,
    ) -> None:
        """`record_size`: fixed-size binary records instead of lines (utmp: 384).
        `from_end`: with no saved position, start at the end instead of the beginning."""
        self.path = str(path)
        self.key = key or os.path.abspath(self.path)
        self.notes: list[str] = []
        self._store = store
        self._record_size = record_size
        self._from_end = from_end
        self._budget_per_poll = max_bytes_per_poll
        self._file: BinaryIO | None = None
        self._identity: FileIdentity | None = None
        self._offset = 0
        self._backlog: list[tuple[str, int]] = []  # rotated files to finish: (path, offset)
        self._started = False

    # -- public -----------------------------------------------------------------------------

    @property
    def position(self) -> TailPosition | None:
        if self._identity is None:
            return None
        return TailPosition(self._identity, self._offset)

    def poll(self) -> list[TailedUnit]:
        units: list[TailedUnit] = []
        if not self._started:
            self._start()
        while self._backlog:
            rotated_path, offset = self._backlog.pop(0)
            units += self._read_whole_rest(rotated_path, offset)
        if self._file is None and not self._open_path(offset=0):
            return units
        # Rotation first: after a copytruncate the old offset means nothing in the new content.
        units += self._check_rotation()
        if self._file is not None:  # None: the new file vanished again before we opened it
            units += self._read_current([self._budget_per_poll])
        return units

    def commit(self, *, save: bool = True) -> None:
        """Persist the position after everything `poll()` has returned so far (save=False:
        only record it in the store, for a caller that saves several tailers at once)."""
        if self._store is None:
            return
        position = self.position
        if position is not None:
            self._store.set(self.key, position)
            if save:
                self._store.save()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    # -- start ------------------------------------------------------------------------------

    def _start(self) -> None:
        self._started = True
        saved = self._store.get(self.key) if self._store is not None else None
        try:
            st = os.stat(self.path)
        except OSError:
            st = None
        if saved is None:
            if st is not None:
                self._open_path(offset=-1 if self._from_end else 0)
            return
        if st is not None and (st.st_dev, st.st_ino) == (saved.identity.dev, saved.identity.ino):
            head = _head_hash(self.path, self._record_size)
            same_head = saved.identity.head in ("", head)
            if same_head and st.st_size >= saved.offset:
                self._open_path(offset=saved.offset)
                return
        # The file at the path is not the one we were reading: it was rotated meanwhile.
        rotated = self._find_rotated(saved)
        if rotated is None:
            self.notes.append(
                f"{self.path}: the file read before (up to byte {saved.offset}) is gone or "
                "compressed; lines written to it after that point may be missing"
            )
        else:
            self._backlog.append((rotated, saved.offset))
            for later in self._rotated_after(rotated):
                self._backlog.append((later, 0))
        if st is not None:
            self._open_path(offset=0)

    def _siblings(self) -> list[str]:
        folder, base = os.path.split(os.path.abspath(self.path))
        pattern = re.compile(re.escape(base) + r"[.-]\d[\d-]*")
        try:
            names = os.listdir(folder)
        except OSError:
            return []
        return [os.path.join(folder, name) for name in sorted(names) if pattern.fullmatch(name)]

    def _find_rotated(self, saved: TailPosition) -> str | None:
        wanted = saved.identity
        by_head = None
        for candidate in self._siblings():
            try:
                st = os.stat(candidate)
            except OSError:
                continue
            if st.st_size < saved.offset:
                continue
            head = _head_hash(candidate, self._record_size)
            if (st.st_dev, st.st_ino) == (wanted.dev, wanted.ino) and wanted.head in ("", head):
                return candidate
            if wanted.head and head == wanted.head and by_head is None:
                by_head = candidate  # a copy (copytruncate)
        return by_head

    def _rotated_after(self, rotated: str) -> list[str]:
        """Siblings rotated after `rotated`: read whole, oldest first."""
        try:
            since = os.stat(rotated).st_mtime_ns
        except OSError:
            return []
        later = []
        for candidate in self._siblings():
            if candidate == rotated:
                continue
            try:
                mtime = os.stat(candidate).st_mtime_ns
            except OSError:
                continue
            if mtime > since:
                later.append((mtime, candidate))
        return [name for _, name in sorted(later)]

    # -- reading ----------------------------------------------------------------------------

    def _open_path(self, *, offset: int) -> bool:
        """Open the path; offset -1 means its current end."""
        self.close()
        try:
            handle = open(self.path, "rb", buffering=0)
        except OSError:
            return False
        st = os.fstat(handle.fileno())
        self._file = handle
        self._offset = st.st_size if offset < 0 else offset
        self._identity = FileIdentity(
            st.st_dev, st.st_ino, _head_hash_of(handle, self._record_size)
        )
        return True

    def _read_current(self, budget: list[int]) -> list[TailedUnit]:
        assert self._file is not None and self._identity is not None
        units, self._offset = self._read_units(
            self._file, self.path, self._offset, budget, final=False
        )
        if not self._identity.head:
            head = _head_hash_of(self._file, self._record_size)
            if head:
                self._identity = FileIdentity(self._identity.dev, self._identity.ino, head)
        return units

    def _check_rotation(self) -> list[TailedUnit]:
        """Units the rotated-away content still held; afterwards the current file and offset
        are the ones to read next."""
        assert self._file is not None and self._identity is not None
        try:
            st = os.stat(self.path)
        except OSError:
            return []  # renamed away and not yet recreated: keep following the old file
        identity = self._identity
        if (st.st_dev, st.st_ino) != (identity.dev, identity.ino):
            if st.st_size == 0:
                return []  # the writer has not reopened yet; it may still write to the old file
            units, _ = self._read_units(self._file, self.path, self._offset, [1 << 62], final=True)
            self._open_path(offset=0)
            return units
        current_head = _head_hash_of(self._file, self._record_size)
        truncated = st.st_size < self._offset
        replaced = bool(identity.head) and current_head != identity.head
        if not (truncated or replaced):
            return []
        units = []
        copy = self._find_rotated(TailPosition(identity, self._offset)) if identity.head else None
        if copy is not None:
            units += self._read_whole_rest(copy, self._offset)
        self._offset = 0
        self._identity = FileIdentity(identity.dev, identity.ino, current_head)
        return units

    def _read_whole_rest(self, path: str, offset: int) -> list[TailedUnit]:
        try:
            with open(path, "rb", buffering=0) as handle:
                units, _ = self._read_units(handle, path, offset, [1 << 62], final=True)
        except OSError as exc:
            self.notes.append(f"{path}: cannot finish rotated file: {exc}")
            return []
        return units

    def _read_units(
        self, handle: BinaryIO, path: str, offset: int, budget: list[int], *, final: bool
    ) -> tuple[list[TailedUnit], int]:
        """Complete units from `offset` on; returns them and the offset after the last one.
        `final`: the file will not grow any more, so an unfinished last line counts."""
        units: list[TailedUnit] = []
        handle.seek(offset)
        pending = b""
        start = offset
        while budget[0] > 0:
            chunk = handle.read(min(READ_CHUNK, budget[0]))
            if not chunk:
                break
            budget[0] -= len(chunk)
            pending += chunk
            start, pending = self._split(pending, start, path, units)
        if final and pending:
            if self._record_size is None:
                units.append(TailedUnit(pending, path, start))
                start += len(pending)
            else:
                self.notes.append(
                    f"{path}: truncated record at offset {start} ({len(pending)} bytes) ignored"
                )
        return units, start

    def _split(
        self, pending: bytes, start: int, path: str, units: list[TailedUnit]
    ) -> tuple[int, bytes]:
        size = self._record_size
        if size is not None:
            whole = len(pending) - len(pending) % size
            for at in range(0, whole, size):
                units.append(TailedUnit(pending[at : at + size], path, start + at))
            return start + whole, pending[whole:]
        at = 0
        while True:
            newline = pending.find(b"\n", at)
            if newline < 0:
                break
            units.append(TailedUnit(pending[at : newline + 1], path, start + at))
            at = newline + 1
        if len(pending) - at >= MAX_LINE:  # never stall on a runaway line
            units.append(TailedUnit(pending[at:], path, start + at))
            at = len(pending)
        return start + at, pending[at:]


def _head_hash(path: str, record_size: int | None) -> str:
    try:
        with open(path, "rb", buffering=0) as handle:
            return _head_hash_of(handle, record_size)
    except OSError:
        return ""


def _head_hash_of(handle: BinaryIO, record_size: int | None) -> str:
    """Hash of the first line (at most HEAD_BYTES) or first record; "" if not complete yet."""
    here = handle.tell()
    try:
        handle.seek(0)
        head = handle.read(record_size or HEAD_BYTES)
    finally:
        handle.seek(here)
    if record_size is not None:
        if len(head) < record_size:
            return ""
    else:
        newline = head.find(b"\n")
        if newline >= 0:
            head = head[: newline + 1]
        elif len(head) < HEAD_BYTES:
            return ""
    return hashlib.sha256(head).hexdigest()
