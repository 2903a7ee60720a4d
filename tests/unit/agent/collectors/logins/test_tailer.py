"""Following a log across rotation (rename, copytruncate) and agent restarts: nothing lost,
nothing read twice."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from palisade.agent.collectors.logins import FileTailer, TailStateStore


def _lines(units) -> list[bytes]:
    return [unit.data for unit in units]


def _append(path: Path, text: str) -> None:
    with open(path, "ab") as out:
        out.write(text.encode())


def _numbered(start: int, stop: int) -> str:
    return "".join(f"Nov 29 04:10:{n % 60:02d} h sshd[{n}]: line {n}\n" for n in range(start, stop))


def _expected(start: int, stop: int) -> list[bytes]:
    return [line.encode() + b"\n" for line in _numbered(start, stop).splitlines()]


def _tailer(log: Path, state: Path, **options: object) -> FileTailer:
    return FileTailer(log, TailStateStore(state), **options)


def test_follows_appends_and_keeps_a_partial_line_until_complete(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(_numbered(0, 3) + "Nov 29 04:10:59 h sshd[9]: half")
    tailer = FileTailer(log)
    assert _lines(tailer.poll()) == _expected(0, 3)
    assert tailer.poll() == []
    _append(log, " a line\n")
    assert _lines(tailer.poll()) == [b"Nov 29 04:10:59 h sshd[9]: half a line\n"]
    _append(log, _numbered(3, 5))
    units = tailer.poll()
    assert _lines(units) == _expected(3, 5)
    assert units[0].offset == len(_numbered(0, 3)) + len("Nov 29 04:10:59 h sshd[9]: half a line\n")


def test_rename_rotation_finishes_the_old_file_then_reads_the_new(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(_numbered(0, 5))
    tailer = FileTailer(log)
    assert _lines(tailer.poll()) == _expected(0, 5)
    _append(log, _numbered(5, 8))  # written just before the rename, not yet read
    os.rename(log, tmp_path / "auth.log.1")
    assert _lines(tailer.poll()) == _expected(5, 8)  # no new file yet: follow the old one
    _append(tmp_path / "auth.log.1", _numbered(8, 9))  # daemon still writes to the old file
    log.write_text("")
    assert _lines(tailer.poll()) == _expected(8, 9)  # new file still empty: stay on the old
    _append(log, _numbered(9, 12))
    assert _lines(tailer.poll()) == _expected(9, 12)
    _append(log, _numbered(12, 13))
    assert _lines(tailer.poll()) == _expected(12, 13)


def test_rename_rotation_delivers_the_old_files_unfinished_last_line(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(_numbered(0, 2) + "cut off")
    tailer = FileTailer(log)
    assert _lines(tailer.poll()) == _expected(0, 2)
    os.rename(log, tmp_path / "auth.log.1")
    log.write_text(_numbered(2, 3))
    assert _lines(tailer.poll()) == [b"cut off"] + _expected(2, 3)


def test_copytruncate_rereads_from_the_start_and_takes_unread_lines_from_the_copy(
    tmp_path: Path,
) -> None:
    log = tmp_path / "auth.log"
    log.write_text(_numbered(0, 5))
    tailer = FileTailer(log)
    assert _lines(tailer.poll()) == _expected(0, 5)
    _append(log, _numbered(5, 7))  # never seen by the tailer before the copy
    shutil.copyfile(log, tmp_path / "auth.log.1")
    with open(log, "r+b") as handle:
        handle.truncate(0)
    _append(log, _numbered(7, 8))
    assert _lines(tailer.poll()) == _expected(5, 8)
    _append(log, _numbered(8, 9))
    assert _lines(tailer.poll()) == _expected(8, 9)


def test_copytruncate_noticed_even_when_the_file_regrew_past_the_offset(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(_numbered(0, 2))
    tailer = FileTailer(log)
    assert _lines(tailer.poll()) == _expected(0, 2)
    shutil.copyfile(log, tmp_path / "auth.log.1")
    with open(log, "r+b") as handle:
        handle.truncate(0)
    _append(log, _numbered(10, 20))  # bigger than before: only the head shows the change
    assert _lines(tailer.poll()) == _expected(10, 20)


def test_restart_resumes_after_the_committed_position(tmp_path: Path) -> None:
    log, state = tmp_path / "auth.log", tmp_path / "state" / "tail.json"
    log.write_text(_numbered(0, 4))
    first = _tailer(log, state)
    assert _lines(first.poll()) == _expected(0, 4)
    first.commit()
    first.close()
    _append(log, _numbered(4, 6))
    second = _tailer(log, state)
    assert _lines(second.poll()) == _expected(4, 6)


def test_uncommitted_lines_are_read_again_after_a_restart(tmp_path: Path) -> None:
    # at-least-once: a crash between poll and commit repeats lines (same event ids)
    log, state = tmp_path / "auth.log", tmp_path / "tail.json"
    log.write_text(_numbered(0, 2))
    first = _tailer(log, state)
    first.poll()
    first.commit()
    _append(log, _numbered(2, 3))
    assert _lines(first.poll()) == _expected(2, 3)
    assert _lines(_tailer(log, state).poll()) == _expected(2, 3)


def test_rename_rotation_while_stopped(tmp_path: Path) -> None:
    log, state = tmp_path / "auth.log", tmp_path / "tail.json"
    log.write_text(_numbered(0, 3))
    first = _tailer(log, state)
    first.poll()
    first.commit()
    first.close()
    _append(log, _numbered(3, 5))
    os.rename(log, tmp_path / "auth.log.1")
    log.write_text(_numbered(5, 7))
    second = _tailer(log, state)
    assert _lines(second.poll()) == _expected(3, 7)
    assert second.notes == []


def test_copytruncate_while_stopped(tmp_path: Path) -> None:
    log, state = tmp_path / "auth.log", tmp_path / "tail.json"
    log.write_text(_numbered(0, 3))
    first = _tailer(log, state)
    first.poll()
    first.commit()
    first.close()
    _append(log, _numbered(3, 5))
    shutil.copyfile(log, tmp_path / "auth.log.1")
    with open(log, "r+b") as handle:
        handle.truncate(0)
    _append(log, _numbered(5, 6))
    assert _lines(_tailer(log, state).poll()) == _expected(3, 6)


def test_two_rotations_while_stopped(tmp_path: Path) -> None:
    log, state = tmp_path / "auth.log", tmp_path / "tail.json"
    log.write_text(_numbered(0, 2))
    first = _tailer(log, state)
    first.poll()
    first.commit()
    first.close()
    _append(log, _numbered(2, 3))
    os.rename(log, tmp_path / "auth.log.1")
    log.write_text(_numbered(3, 5))
    os.utime(tmp_path / "auth.log.1", (1_000_000_000, 1_000_000_000))
    os.rename(tmp_path / "auth.log.1", tmp_path / "auth.log.2")
    os.rename(log, tmp_path / "auth.log.1")
    log.write_text(_numbered(5, 6))
    assert _lines(_tailer(log, state).poll()) == _expected(2, 6)


def test_missing_rotated_file_is_reported_and_the_new_file_read(tmp_path: Path) -> None:
    log, state = tmp_path / "auth.log", tmp_path / "tail.json"
    log.write_text(_numbered(0, 2))
    first = _tailer(log, state)
    first.poll()
    first.commit()
    first.close()
    os.rename(log, tmp_path / "auth.log.1.gz")  # compressed: out of reach
    log.write_text(_numbered(2, 3))
    second = _tailer(log, state)
    assert _lines(second.poll()) == _expected(2, 3)
    assert len(second.notes) == 1 and "may be missing" in second.notes[0]


def test_state_file_is_json_written_atomically(tmp_path: Path) -> None:
    log, state = tmp_path / "auth.log", tmp_path / "tail.json"
    log.write_text(_numbered(0, 2))
    tailer = _tailer(log, state)
    tailer.poll()
    tailer.commit()
    document = json.loads(state.read_text())
    entry = document["files"][str(log.resolve())]
    st = os.stat(log)
    assert (entry["dev"], entry["ino"], entry["offset"]) == (st.st_dev, st.st_ino, st.st_size)
    assert len(entry["head"]) == 64
    assert sorted(p.name for p in tmp_path.iterdir()) == ["auth.log", "tail.json"]


def test_unreadable_state_starts_over_with_a_note(tmp_path: Path) -> None:
    log, state = tmp_path / "auth.log", tmp_path / "tail.json"
    log.write_text(_numbered(0, 2))
    state.write_text("{not json")
    store = TailStateStore(state)
    assert store.notes and _lines(FileTailer(log, store).poll()) == _expected(0, 2)


def test_missing_file_is_picked_up_when_it_appears(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    tailer = FileTailer(log)
    assert tailer.poll() == []
    log.write_text(_numbered(0, 1))
    assert _lines(tailer.poll()) == _expected(0, 1)


def test_from_end_skips_history_only_on_first_start(tmp_path: Path) -> None:
    log, state = tmp_path / "auth.log", tmp_path / "tail.json"
    log.write_text(_numbered(0, 3))
    tailer = _tailer(log, state, from_end=True)
    assert tailer.poll() == []
    _append(log, _numbered(3, 4))
    assert _lines(tailer.poll()) == _expected(3, 4)


def test_fixed_size_records_wait_until_whole(tmp_path: Path) -> None:
    wtmp = tmp_path / "wtmp"
    wtmp.write_bytes(b"a" * 384 + b"b" * 100)
    tailer = FileTailer(wtmp, record_size=384)
    assert _lines(tailer.poll()) == [b"a" * 384]
    _append(wtmp, "b" * 284)
    units = tailer.poll()
    assert _lines(units) == [b"b" * 384] and units[0].offset == 384


def test_lines_spread_over_many_reads_are_reassembled(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(_numbered(0, 2000))
    tailer = FileTailer(log, max_bytes_per_poll=1000)
    got: list[bytes] = []
    for _ in range(1000):
        got += _lines(tailer.poll())
    assert got == _expected(0, 2000)
