"""History: what changed between two snapshots of a host."""

import json

from palisade.auditor.store.history import diff
from palisade.shared.proto import facts_pb2


def _snap(listeners=(), keys=(), boot=100, mode=0o600):
    s = facts_pb2.Snapshot(
        host=facts_pb2.HostInfo(hostname="h", boot_time=boot, os_name="Debian", os_version="12")
    )
    for port, name in listeners:
        s.listeners.add(
            protocol="tcp", family="ipv4", address="0.0.0.0", port=port, process_name=name
        )
    f = s.authorized_keys.add(
        user="root", path="/root/.ssh/authorized_keys", owner="root", mode=mode, exists=True
    )
    for fp in keys:
        f.keys.add(line_number=1, key_type="ssh-ed25519", fingerprint_sha256=fp)
    return s


def test_first_snapshot_is_one_change():
    changes = diff(None, _snap([(22, "sshd")], ["SHA256:a"]))
    assert [c.kind for c in changes] == ["first_snapshot"]
    assert json.loads(changes[0].detail) == {"listeners": 1, "authorized_keys": 1}


def test_listeners_and_keys_added_and_removed():
    old = _snap([(22, "sshd"), (80, "nginx")], ["SHA256:a"])
    new = _snap([(22, "sshd"), (5432, "postgres")], ["SHA256:b"])
    kinds = sorted((c.kind, c.subject) for c in diff(old, new))
    assert kinds == [
        ("key_added", "root /root/.ssh/authorized_keys ssh-ed25519 SHA256:b"),
        ("key_removed", "root /root/.ssh/authorized_keys ssh-ed25519 SHA256:a"),
        ("listener_added", "tcp 0.0.0.0:5432 (postgres)"),
        ("listener_removed", "tcp 0.0.0.0:80 (nginx)"),
    ]


def test_identical_snapshots_change_nothing():
    assert diff(_snap([(22, "sshd")], ["SHA256:a"]), _snap([(22, "sshd")], ["SHA256:a"])) == []


def test_reboot_and_permission_changes_are_recorded():
    kinds = {c.kind for c in diff(_snap(boot=1), _snap(boot=2, mode=0o666))}
    assert kinds == {"rebooted", "key_file_permissions_changed"}
