"""Paths on a host that may be mounted somewhere else (an image, a container's rootfs).

Collectors take `host_root`; a path such as /home/a/.ssh/authorized_keys is looked up under it
with symlinks resolved as if host_root were "/", so a link cannot lead out of the image.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import deque

MAX_SYMLINKS = 40  # Linux's limit before ELOOP


def is_live_root(host_root: str) -> bool:
    """True when host_root is this machine's own root."""
    return os.path.abspath(host_root) == os.path.abspath(os.sep)


def resolve(host_root: str, host_path: str) -> str:
    """The local path of `host_path` (absolute on the host) under `host_root`.

    Symlinks are followed inside the root: absolute targets restart at the root and `..`
    stops there. Missing components are kept as written. Raises OSError(ELOOP) on loops.
    """
    if is_live_root(host_root):
        return host_path
    pending = deque(p for p in host_path.split("/") if p)
    resolved: list[str] = []
    links = 0
    while pending:
        part = pending.popleft()
        if part == ".":
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(host_root, *resolved, part)
        try:
            mode = os.lstat(candidate).st_mode
        except OSError:
            resolved.append(part)
            continue
        if not stat.S_ISLNK(mode):
            resolved.append(part)
            continue
        links += 1
        if links > MAX_SYMLINKS:
            raise OSError(errno.ELOOP, "too many levels of symbolic links", host_path)
        target = os.readlink(candidate)
        if target.startswith("/"):
            resolved = []
        pending.extendleft(reversed([p for p in target.split("/") if p]))
    return os.path.join(host_root, *resolved)
