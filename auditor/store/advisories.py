"""The advisory feed in the database (tables `advisories`, `advisory_imports`), so that every
replica checks against the same records. The store keeps each OSV record's JSON text as
imported; parsing and matching are the vulnerability check's (checks/vulnerabilities/osv.py).

A record replaces the stored one of the same id only when its `modified` is newer (OSV's
rule: the newest modification wins); a withdrawn record replaces it too (and then matches
nothing). Each import is one transaction and one `advisory_imports` row; the newest row's id
is the feed's version, which the check runner polls to reload the feed when it moves.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from palisade.auditor.store import schema
from palisade.auditor.store.database import Database

_BATCH = 500


@dataclass(frozen=True)
class StoredAdvisory:
    advisory_id: str
    modified: str  # RFC 3339, as the record gives it ("" when it gives none)
    ecosystems: tuple[str, ...]
    document: str  # the record's JSON text


@dataclass(frozen=True)
class ImportSummary:
    import_id: int
    added: int
    updated: int
    unchanged: int  # the stored record is as new or newer
    rejected: int


@dataclass(frozen=True)
class FeedStatus:
    records: int
    imports: int
    last_import_ms: int | None
    last_source: str
    newest_modified: str  # the newest record's `modified`: how fresh the feed is

    def age_s(self, now_ms: int) -> int | None:
        """Seconds since the newest record was modified (else since the last import)."""
        newest = _modified_ms(self.newest_modified) if self.newest_modified else None
        since = newest if newest is not None else self.last_import_ms
        return None if since is None else max(0, (now_ms - since) // 1000)


def describe_age(seconds: int | None) -> str:
    """90061 -> "1d" (the largest whole unit), for the CLI and the dashboard."""
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _modified_ms(text: str) -> int | None:
    try:
        when = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return int(when.timestamp() * 1000)


def _newer(candidate: str, stored: str) -> bool:
    a, b = _modified_ms(candidate), _modified_ms(stored)
    if a is not None and b is not None:
        return a > b
    return candidate > stored  # not RFC 3339 on one side: text order, as OSV tools do


def import_advisories(
    db: Database, records: Iterable[StoredAdvisory], source: str, now_ms: int, rejected: int = 0
) -> ImportSummary:
    """Stores the records in one transaction; returns what changed."""
    t = schema.advisories
    added = updated = unchanged = 0
    newest: dict[str, StoredAdvisory] = {}
    for r in records:  # the same id twice in one import: the newer one
        old = newest.get(r.advisory_id)
        if old is None or _newer(r.modified, old.modified):
            newest[r.advisory_id] = r
    ids = sorted(newest)
    with db.write_transaction() as conn:
        for at in range(0, len(ids), _BATCH):
            batch = ids[at : at + _BATCH]
            stored = dict(
                conn.execute(
                    select(t.c.advisory_id, t.c.modified).where(t.c.advisory_id.in_(batch))
                ).all()
            )
            inserts, updates = [], []
            for advisory_id in batch:
                r = newest[advisory_id]
                row = {
                    "advisory_id": advisory_id,
                    "modified": r.modified,
                    "ecosystems": ",".join(r.ecosystems),
                    "document": r.document,
                    "imported_at_ms": now_ms,
                }
                if advisory_id not in stored:
                    inserts.append(row)
                elif _newer(r.modified, stored[advisory_id]):
                    updates.append(row)
                else:
                    unchanged += 1
            if inserts:
                conn.execute(t.insert(), inserts)
                added += len(inserts)
            for row in updates:
                conn.execute(t.update().where(t.c.advisory_id == row["advisory_id"]).values(**row))
            updated += len(updates)
        import_id = conn.execute(
            schema.advisory_imports.insert().values(
                source=source,
                imported_at_ms=now_ms,
                added=added,
                updated=updated,
                unchanged=unchanged,
                rejected=rejected,
            )
        ).inserted_primary_key[0]
    return ImportSummary(int(import_id), added, updated, unchanged, rejected)


def feed_version(db: Database) -> int:
    """The newest import's id (0: nothing imported). Cheap: polled by every check round."""
    with db.engine.connect() as conn:
        value = conn.execute(select(func.max(schema.advisory_imports.c.import_id))).scalar()
    return int(value or 0)


def iter_documents(db: Database) -> Iterator[str]:
    """Every stored record's JSON text, in id order, read in pages."""
    t = schema.advisories
    after = ""
    while True:
        with db.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.advisory_id, t.c.document)
                .where(t.c.advisory_id > after)
                .order_by(t.c.advisory_id)
                .limit(2000)
            ).all()
        if not rows:
            return
        for _, document in rows:
            yield document
        after = rows[-1][0]


def feed_status(db: Database) -> FeedStatus:
    t, imports = schema.advisories, schema.advisory_imports
    with db.engine.connect() as conn:
        records = conn.execute(select(func.count()).select_from(t)).scalar() or 0
        count = conn.execute(select(func.count()).select_from(imports)).scalar() or 0
        last = conn.execute(
            select(imports.c.imported_at_ms, imports.c.source)
            .order_by(imports.c.import_id.desc())
            .limit(1)
        ).first()
        # RFC 3339 texts of one feed sort as their times (the same format throughout)
        newest = conn.execute(select(func.max(t.c.modified))).scalar() or ""
    return FeedStatus(
        int(records),
        int(count),
        int(last[0]) if last else None,
        str(last[1]) if last else "",
        str(newest),
    )
