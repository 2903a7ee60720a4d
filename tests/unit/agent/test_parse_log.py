"""`palisade-agent parse-log`: format detection, output, exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from palisade.agent.collectors.logins import CONTRACT_FIELDS, detect_format, read_log_file
from palisade.agent.parse_log import main
from tests.unit.agent.collectors.logins.annotated_corpus import DATA, line_samples
from tests.unit.agent.collectors.logins.utmp_writer import LOGIN_PROCESS, USER_PROCESS, utmp_record

REPO = Path(__file__).resolve().parents[3]


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _sample_lines(path: Path) -> str:
    _, samples = line_samples(path)
    return "".join(sample.text + "\n" for sample in samples)


def test_json_output_subprocess_on_a_corpus_file(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(_sample_lines(DATA / "sshd_openssh9_iso.log"))
    python = REPO / ".venv" / "bin" / "python"
    completed = subprocess.run(
        [
            str(python if python.exists() else sys.executable),
            "-m",
            "palisade.agent.parse_log",
            str(log),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TZ": "UTC"},
    )
    assert completed.returncode == 0, completed.stderr
    rows = [json.loads(line) for line in completed.stdout.splitlines()]
    _, samples = line_samples(DATA / "sshd_openssh9_iso.log")
    expected = [s for s in samples if s.expected is not None]
    assert len(rows) == len(expected)
    for row, sample in zip(rows, expected, strict=True):
        assert tuple(row) == CONTRACT_FIELDS
        assert row["raw"] == sample.text
        assert (row["time"], row["result"], row["user"]) == (
            sample.expected["time"],
            sample.expected["result"],
            sample.expected.get("user"),
        )


def test_table_output_lists_events(tmp_path: Path) -> None:
    log = tmp_path / "secure"
    log.write_text(_sample_lines(DATA / "sshd_rhel_secure.log"))
    code, out, err = _run([str(log), "--year", "2024"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "time",
        "result",
        "method",
        "user",
        "source",
        "port",
        "service",
        "key",
    ]
    assert "scanner.example.net" in out and "too_many_failures" in out
    assert err.strip().endswith("events (syslog)")


def test_journal_json_is_detected(tmp_path: Path) -> None:
    log = tmp_path / "journal.json"
    log.write_text(_sample_lines(DATA / "journal_sshd.jsonl"))
    code, out, _ = _run([str(log), "--json"])
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows[0]["user"] == "alice" and rows[0]["time"] == "2026-11-29T04:10:01.123456Z"


def test_windows_xml_is_detected() -> None:
    code, out, _ = _run([str(DATA / "windows_security_4624_4625.xml"), "--json"])
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [row["service"] for row in rows][:2] == ["rdp", "network"]


def test_btmp_file_gives_failures(tmp_path: Path) -> None:
    btmp = tmp_path / "btmp"
    btmp.write_bytes(
        utmp_record(
            type=LOGIN_PROCESS, line="ssh:notty", user="admin", host="192.0.2.5", addr="192.0.2.5"
        )
        + b"\0" * 10
    )
    code, out, err = _run([str(btmp), "--json"])
    assert code == 0
    assert json.loads(out)["result"] == "failure"
    assert "truncated record at offset 384" in err


def test_wtmp_file_gives_successes(tmp_path: Path) -> None:
    wtmp = tmp_path / "wtmp.1"
    wtmp.write_bytes(
        utmp_record(type=USER_PROCESS, user="alice", host="192.0.2.6", addr="192.0.2.6")
    )
    code, out, _ = _run([str(wtmp), "--json", "--format", "utmp"])
    assert code == 0 and json.loads(out)["result"] == "success"


def test_missing_file_is_exit_2_with_a_message(tmp_path: Path) -> None:
    code, out, err = _run([str(tmp_path / "nope.log")])
    assert (code, out) == (2, "")
    assert "cannot read" in err and "nope.log" in err


def test_directory_is_exit_2(tmp_path: Path) -> None:
    code, _, err = _run([str(tmp_path)])
    assert code == 2 and "directory" in err


def test_unknown_binary_is_exit_2(tmp_path: Path) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 4)
    code, _, err = _run([str(blob)])
    assert code == 2 and "binary data" in err


def test_doctype_xml_is_exit_2(tmp_path: Path) -> None:
    xml = tmp_path / "evil.xml"
    xml.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Event>&a;</Event>')
    code, _, err = _run([str(xml)])
    assert code == 2 and "DOCTYPE" in err


def test_bad_option_is_exit_2(tmp_path: Path) -> None:
    code, _, _ = _run(["--format", "pcap", str(tmp_path)])
    assert code == 2
    code, _, err = _run(["--year", "0", str(tmp_path)])
    assert code == 2 and "out of range" in err


def test_plain_text_that_is_not_a_log_is_zero_events(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("nothing to see\n")
    code, out, _ = _run([str(text), "--json"])
    assert (code, out) == (0, "")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"Nov 29 04:10:01 h sshd[1]: x\n", "syslog"),
        (b"2026-11-29T04:10:01+00:00 h sshd[1]: x\n", "syslog"),
        (b'{"MESSAGE": "x"}\n', "journal-json"),
        (b"<Event xmlns='x'></Event>", "windows-xml"),
        (b"\xef\xbb\xbf<?xml version='1.0'?><Events/>", "windows-xml"),
        ("<Event/>".encode("utf-16"), "windows-xml"),
        (utmp_record(user="a"), "utmp"),
        (b"", "syslog"),
    ],
)
def test_format_detection(head: bytes, expected: str) -> None:
    assert detect_format(head) == expected


def test_empty_wtmp_is_utmp_by_name() -> None:
    assert detect_format(b"", "/var/log/wtmp") == "utmp"


def test_read_log_file_reports_the_format(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text("Nov 29 04:10:01 h sshd[1]: Invalid user x from 192.0.2.1 port 5\n")
    result = read_log_file(str(log), format="syslog", year=2026)
    assert result.format == "syslog" and len(result.events) == 1


def test_no_file_and_no_journal_nor_syslog_file_says_so(tmp_path: Path, monkeypatch) -> None:
    from palisade.agent import parse_log as module
    from palisade.agent.collectors.logins import log_file

    monkeypatch.setattr(log_file, "JOURNAL_DIRECTORIES", (str(tmp_path / "journal"),))
    monkeypatch.setattr(module, "SYSLOG_FILES", (str(tmp_path / "auth.log"),))
    code, out, err = _run([])
    assert code == 2 and out == ""
    assert "no FILE given, and this host has no journal to read" in err
    assert f"no {tmp_path / 'auth.log'}; name a log file: parse-log FILE" in err


def test_no_file_and_no_journal_reads_the_syslog_file(tmp_path: Path, monkeypatch) -> None:
    from palisade.agent import parse_log as module
    from palisade.agent.collectors.logins import log_file

    auth = tmp_path / "auth.log"
    auth.write_text(
        "Dec  6 05:46:40 web1 sshd[4242]: Failed password for root from 203.0.113.9 "
        "port 52222 ssh2\n"
    )
    monkeypatch.setattr(log_file, "JOURNAL_DIRECTORIES", (str(tmp_path / "journal"),))
    monkeypatch.setattr(module, "SYSLOG_FILES", (str(tmp_path / "missing"), str(auth)))
    code, out, err = _run(["--json"])
    assert code == 0, err
    (event,) = [json.loads(line) for line in out.splitlines()]
    assert (event["result"], event["user"]) == ("failure", "root")


def test_a_file_and_a_directory_together_are_a_usage_error(tmp_path: Path) -> None:
    code, _out, err = _run([str(tmp_path / "x"), "--directory", str(tmp_path)])
    assert code == 2 and "not both" in err
