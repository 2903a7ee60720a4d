"""Replacing a file so that a crash leaves either the old content or the new one, never a mix.

One implementation for the agent's spool, cursors and status file, the keys and certificates
(shared/tls.py) and the CLI's outputs:
write a temporary file beside the target, fsync it, rename it over the target, then (unless the
caller fsyncs the folder itself after several renames) fsync the folder so the rename survives a
power loss.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    """Makes the renames inside `folder` durable (a no-op where folders cannot be opened)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(
    path: Path, data: bytes, *, sync_dir: bool = True, mode: int | None = None
) -> None:
    """Replace `path` with `data`. `sync_dir=False` when the caller fsyncs the folder itself,
    once after a batch of renames. `mode` (e.g. 0o600 for a secret): the file's permissions
    from its creation on, whatever the umask; None: the umask decides."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the pid keeps two processes writing the same file from sharing a temporary file
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666 if mode is None else mode)
        with open(fd, "wb") as out:
            if mode is not None:
                os.fchmod(fd, mode)  # the umask may have taken bits os.open was given
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def write_text_atomic(path: Path, text: str, *, sync_dir: bool = True) -> None:
    write_atomic(path, text.encode("utf-8"), sync_dir=sync_dir)
