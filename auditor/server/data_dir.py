"""The auditor's data dir: its CA, its SQLite database (unless --db names another) and the
addresses the running auditor listens on (auditor.json), which the CLI reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from palisade.auditor.ingest.ca import CertificateAuthority
from palisade.auditor.store.database import Database, sqlite_url
from palisade.shared import tls

STATE_FILE = "auditor.json"


@dataclass
class DataDir:
    """Where an auditor keeps its CA, its SQLite database and its addresses."""

    path: Path

    @property
    def state_file(self) -> Path:
        return self.path / STATE_FILE

    def ca(self) -> CertificateAuthority:
        return CertificateAuthority.load_or_create(self.path / "ca")

    def state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return {}

    def db_url(self, override: str | None = None) -> str:
        return override or self.state().get("db") or sqlite_url(self.path)

    def store(self, db: str | None = None) -> Database:
        self.path.mkdir(parents=True, exist_ok=True)
        return Database(self.db_url(db))

    def write_state(self, state: dict) -> None:
        # mode 0600: a PostgreSQL URL may carry a password
        tls.write_secret(self.state_file, (json.dumps(state, indent=2) + "\n").encode())
