"""Host identity: instance id, hostname, OS, kernel, boot time, agent version."""

from __future__ import annotations

import os
import platform
import socket
import sys
from pathlib import Path

import psutil

from palisade.agent.version import AGENT_VERSION
from palisade.shared.proto import facts_pb2


def _os_release(host_root: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for rel in ("etc/os-release", "usr/lib/os-release"):
        path = Path(host_root, rel)
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() and not key.startswith("#"):
                values[key.strip()] = value.strip().strip("\"'")
        break
    return values


def _hostname(host_root: str) -> str:
    if os.path.realpath(host_root) == "/":
        return socket.gethostname()
    try:
        return Path(host_root, "etc/hostname").read_text(errors="replace").strip()
    except OSError:
        return ""


def collect(instance_id: str = "", host_root: str = "/") -> facts_pb2.HostInfo:
    """Facts about this host (or about the filesystem mounted at host_root)."""
    msg = facts_pb2.HostInfo(
        instance_id=instance_id, hostname=_hostname(host_root), agent_version=AGENT_VERSION
    )
    on_this_host = os.path.realpath(host_root) == "/"
    if sys.platform == "win32" and on_this_host:
        msg.os_family, msg.os_name = "windows", "Windows"
        msg.os_version = platform.version()
    elif sys.platform.startswith("linux") or not on_this_host:
        rel = _os_release(host_root)
        msg.os_family = "linux"
        msg.os_name = rel.get("NAME", "Linux")
        msg.os_version = rel.get("VERSION_ID", "")
    else:
        msg.os_family, msg.os_name, msg.os_version = (
            sys.platform,
            platform.system(),
            platform.release(),
        )
    if on_this_host:
        msg.kernel = platform.release()
        msg.arch = platform.machine()
        msg.boot_time = int(psutil.boot_time())
    return msg
