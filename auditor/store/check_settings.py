"""The check settings an account changed through the API (table `check_settings`): the keys
given, as a JSON object, laid over the settings file's by the check runner of every replica.
What the keys mean and allow is the checks' (checks/settings_schema.py)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from palisade.auditor.store import schema
from palisade.auditor.store.database import Database


def load(conn: Connection, account_id: str) -> tuple[int, dict[str, Any]]:
    """(version, the stored keys); (0, {}) when the account changed nothing."""
    t = schema.check_settings
    row = conn.execute(
        select(t.c.version, t.c.document).where(t.c.account_id == account_id)
    ).first()
    return (0, {}) if row is None else (int(row[0]), json.loads(row[1]))


def read(db: Database, account_id: str) -> tuple[int, dict[str, Any]]:
    with db.engine.connect() as conn:
        return load(conn, account_id)


def version(db: Database, account_id: str) -> int:
    """Cheap: polled before every round of checks."""
    t = schema.check_settings
    with db.engine.connect() as conn:
        value = conn.execute(select(t.c.version).where(t.c.account_id == account_id)).scalar()
    return int(value or 0)


def save(conn: Connection, account_id: str, document: dict[str, Any], now_ms: int) -> int:
    """Replaces the account's keys (in the caller's write transaction); the new version."""
    t = schema.check_settings
    old, _ = load(conn, account_id)
    text = json.dumps(document, sort_keys=True)
    if old:
        conn.execute(
            t.update()
            .where(t.c.account_id == account_id)
            .values(document=text, version=old + 1, updated_at_ms=now_ms)
        )
    else:
        conn.execute(
            t.insert().values(account_id=account_id, document=text, version=1, updated_at_ms=now_ms)
        )
    return old + 1
