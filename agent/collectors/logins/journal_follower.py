"""Following journald as the agent runs, for hosts that keep sshd's messages only there
(Debian 12 and other systemd hosts without rsyslog have no /var/log/auth.log).

Each poll runs `journalctl -o json --after-cursor=C` and reads the entries written since the
last committed cursor; `commit()` saves the cursor of the last entry read, so a crash between
poll and commit reads those entries again (their event ids are content hashes: the auditor
keeps them once). The lines go through the same parser and session tracker as `parse-log`
(journal.py, sessions.py); the tracker lives as long as the follower, so a session spanning two
polls is one session. journalctl's own matches cannot say "sshd, sshd-session or
sshd(pam_unix)", so every entry is read with only the fields the parser uses
(`--output-fields`) and the parser skips the others on a substring test.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from palisade.agent.collectors.logins.event import LoginEvent
from palisade.agent.collectors.logins.journal import parse_journal_line
from palisade.agent.collectors.logins.sessions import SessionTracker
from palisade.shared.atomic_file import write_atomic

# the fields parse_journal_line reads (journalctl adds __CURSOR and the timestamps itself)
_FIELDS = "MESSAGE,SYSLOG_IDENTIFIER,_COMM,_PID,SYSLOG_PID,_HOSTNAME"
FIRST_START_SINCE = "-7d"  # what a first start reads back, like a week of rotated auth.log
TIMEOUT_S = 60.0


class JournalFollower:
    def __init__(
        self,
        state_path: str | os.PathLike[str],
        *,
        directory: str | None = None,
        journalctl: str = "journalctl",
        from_end: bool = False,
    ) -> None:
        """`state_path`: where the cursor is kept. `directory`: a journal directory to read
        instead of this host's (journalctl --directory). `from_end`: on the very first start,
        skip what the journal already holds."""
        self.state_path = Path(state_path)
        self.directory = directory
        self.journalctl = journalctl
        self.from_end = from_end
        self.notes: list[str] = []
        self.sessions = SessionTracker()
        self._committed = self._load_cursor()
        self._read: str | None = self._committed

    def _load_cursor(self) -> str | None:
        try:
            cursor = json.loads(self.state_path.read_text(encoding="utf-8"))["cursor"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.notes.append(f"journal cursor {self.state_path} unreadable ({exc}); starting over")
            return None
        return cursor if isinstance(cursor, str) and cursor else None

    def _command(self) -> list[str]:
        command = [self.journalctl, "-o", "json", "--no-pager", f"--output-fields={_FIELDS}"]
        if self.directory:
            command += ["--directory", self.directory]
        if self._read is not None:
            command.append(f"--after-cursor={self._read}")
        elif self.from_end:
            command += ["-n", "0", "--show-cursor"]  # nothing but where the journal ends
        else:
            command.append(f"--since={FIRST_START_SINCE}")
        return command

    def poll(self) -> list[LoginEvent]:
        """The login events written since the last poll (read, not yet committed)."""
        try:
            done = subprocess.run(
                self._command(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=TIMEOUT_S,
                env={**os.environ, "LC_ALL": "C", "SYSTEMD_PAGER": ""},
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.notes.append(f"journalctl could not be run: {exc}")
            return []
        if done.returncode != 0:
            problem = done.stderr.decode("utf-8", "backslashreplace").strip()
            self.notes.append(f"journalctl exited {done.returncode}: {problem[:300]}")
            return []
        events: list[LoginEvent] = []
        last_cursor = None
        for raw in done.stdout.splitlines():
            line = raw.decode("utf-8", "backslashreplace")
            if line.startswith("-- cursor: "):  # --show-cursor's last line
                last_cursor = line.removeprefix("-- cursor: ").strip() or last_cursor
                continue
            event = parse_journal_line(line, sessions=self.sessions)
            if event is not None:
                events.append(event)
            last_cursor = _cursor_of(line) or last_cursor
        if last_cursor is not None:
            self._read = last_cursor
        return events

    def commit(self) -> None:
        """Persist the cursor after what `poll` returned."""
        if self._read is None or self._read == self._committed:
            return
        write_atomic(self.state_path, json.dumps({"cursor": self._read}).encode("utf-8"))
        self._committed = self._read


def _cursor_of(line: str) -> str | None:
    # journalctl prints __CURSOR first; find it without parsing the whole entry again
    start = line.find('"__CURSOR":"')
    if start < 0:
        return None
    start += len('"__CURSOR":"')
    end = line.find('"', start)
    return line[start:end] if end > start else None


def journal_available(
    directories: tuple[str, ...] = ("/run/log/journal", "/var/log/journal"),
) -> bool:
    """Whether this host keeps a journal on disk or in /run (a journald host)."""
    return any(Path(d).is_dir() and any(Path(d).iterdir()) for d in directories)
