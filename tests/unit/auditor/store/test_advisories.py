"""The advisory feed in the store (both backends): a record is replaced only by a newer one,
every import is counted (the feed's version), the feed's age is the newest record's; the
0010 migration adds it to a database at 0009 without touching what was there."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine

from palisade.auditor.store import advisories as feed
from palisade.auditor.store import migrate
from palisade.auditor.store.database import Database


def _rec(advisory_id: str, modified: str, doc: str = "{}") -> feed.StoredAdvisory:
    return feed.StoredAdvisory(advisory_id, modified, ("Debian:12",), doc)


def test_newer_records_replace_older_ones_and_each_import_moves_the_version(db_url):
    db = Database(db_url)
    try:
        assert feed.feed_version(db) == 0
        assert feed.feed_status(db).imports == 0
        first = feed.import_advisories(
            db, [_rec("DSA-1", "2024-01-01T00:00:00Z", "a"), _rec("DSA-2", "2024-02-01T00:00:00Z")],
            "one.zip", 1_000, rejected=3,
        )  # fmt: skip
        assert (first.added, first.updated, first.unchanged, first.rejected) == (2, 0, 0, 3)
        v1 = feed.feed_version(db)
        assert v1 == first.import_id > 0
        second = feed.import_advisories(
            db,
            [
                _rec("DSA-1", "2024-03-01T00:00:00.5Z", "b"),  # newer: replaces
                _rec("DSA-2", "2023-01-01T00:00:00Z", "old"),  # older: kept as stored
                _rec("DSA-3", "2024-01-01T00:00:00Z"),
                _rec("DSA-3", "2024-01-02T00:00:00Z", "newest of two"),  # twice: the newer
            ],
            "two",
            2_000,
        )
        assert (second.added, second.updated, second.unchanged) == (1, 1, 1)
        assert feed.feed_version(db) > v1
        assert list(feed.iter_documents(db)) == ["b", "{}", "newest of two"]
        status = feed.feed_status(db)
        assert (status.records, status.imports, status.last_source) == (3, 2, "two")
        assert status.newest_modified == "2024-03-01T00:00:00.5Z"
        march_1 = 1709251200000
        assert status.age_s(march_1 + 86_400_500) == 86_400
    finally:
        db.close()


def test_fractional_seconds_compare_as_times_not_text(db_url):
    db = Database(db_url)
    try:
        feed.import_advisories(db, [_rec("X", "2024-01-01T00:00:00Z", "whole")], "a", 1)
        # as text ".5Z" sorts before "Z"; as a time it is half a second later
        s = feed.import_advisories(db, [_rec("X", "2024-01-01T00:00:00.5Z", "half")], "b", 2)
        assert s.updated == 1
        assert list(feed.iter_documents(db)) == ["half"]
    finally:
        db.close()


def test_describe_age():
    assert [feed.describe_age(s) for s in (None, 5, 61, 3600 * 5, 86_400 * 3 + 1)] == [
        "-", "5s", "1m", "5h", "3d"
    ]  # fmt: skip


def test_0010_adds_the_feed_to_a_database_at_0009(db_url):
    engine = create_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(migrate._config(conn), "0009")  # noqa: SLF001
        conn.exec_driver_sql(
            "INSERT INTO api_client_tokens (token_key, fingerprint, answer, expires_at_ms)"
            " VALUES ('k', 'f', '{}', 5)"
        )
    engine.dispose()
    db = Database(db_url)
    try:
        assert migrate.current(db.engine) == migrate.head()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT token_key FROM api_client_tokens").all() == [("k",)]
        assert feed.feed_version(db) == 0
        feed.import_advisories(db, [_rec("DSA-1", "2024-01-01T00:00:00Z")], "x", 1)
        assert feed.feed_status(db).records == 1
    finally:
        db.close()
