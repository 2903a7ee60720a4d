"""One atomic file replacement for the agent's spool, cursors, status file and CLI outputs."""

from __future__ import annotations

import os

import pytest

from palisade.shared import atomic_file


def test_write_replaces_the_file_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "sub" / "state.json"
    atomic_file.write_atomic(target, b"one")
    atomic_file.write_text_atomic(target, "two")
    assert target.read_text() == "two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["state.json"]


def test_a_failed_write_keeps_the_old_content_and_removes_its_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "state.json"
    atomic_file.write_atomic(target, b"old")

    def no_space(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError, match="No space"):
        atomic_file.write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_the_folder_is_synced_unless_the_caller_syncs_it(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(atomic_file, "fsync_dir", synced.append)
    atomic_file.write_atomic(tmp_path / "a", b"x")
    atomic_file.write_atomic(tmp_path / "b", b"x", sync_dir=False)
    assert synced == [tmp_path]


def test_a_secret_is_owner_only_from_its_creation_whatever_the_umask(tmp_path):
    from palisade.shared import tls

    old = os.umask(0o000)  # a umask that would leave the file world-readable
    try:
        tls.write_secret(tmp_path / "ca.key", b"key")
        tls.write_public(tmp_path / "ca.pem", b"cert")
    finally:
        os.umask(old)
    assert (tmp_path / "ca.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "ca.pem").stat().st_mode & 0o777 == 0o666
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ca.key", "ca.pem"]
