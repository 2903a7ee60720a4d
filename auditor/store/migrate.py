"""Schema migrations (Alembic), run by every auditor at start, on SQLite and PostgreSQL.

Several replicas may start at once: on PostgreSQL an advisory lock lets one of
them migrate while the others wait; SQLite's own write lock does the same there.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"
FIRST_REVISION = "0001"
_LOCK_KEY = 0x50414C49  # "PALI": the advisory lock serialising migrations across replicas


def _config(connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    return ScriptDirectory.from_config(_config(None)).get_current_head()


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Brings the database to the newest schema (creating it when empty)."""
    # Alembic narrates every start at INFO ("Context impl SQLiteImpl.", ...), which every
    # CLI command would print; the revisions applied are logged below instead.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    before = current(engine)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
        cfg = _config(conn)
        tables = set(inspect(conn).get_table_names())
        if "alembic_version" not in tables and "instances" in tables:
            # made by an auditor from before migrations existed: it has the first schema
            command.stamp(cfg, FIRST_REVISION)
        command.upgrade(cfg, "head")
    after = current(engine)
    if after != before:
        logging.getLogger("palisade.store").info("schema migrated from %s to %s", before, after)
