"""Advisories in OSV format (https://ossf.github.io/osv-schema/): parsing and matching installed
packages. Ecosystems: Debian ("Debian", "Debian:12") with dpkg ordering; Red Hat ("Red
Hat:enterprise_linux:9::appstream"), Rocky Linux ("Rocky Linux:9") and AlmaLinux
("AlmaLinux:9") with RPM ordering. Other ecosystems are parsed and ignored.

`parse_osv` takes untrusted JSON and either returns an Advisory or raises OsvError; it never
fails otherwise. `read_feed(path)` (a file holding one advisory or a list, a directory of
such files, or osv.dev's per-ecosystem zip exports) and `load_osv(path)` are the only I/O
here: `palisade advisories import` stores the records (store/advisories.py), and the check
runner builds the database from them (`database_from_documents`) and passes it to the
checks through CheckSettings.advisories.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cmp_to_key
from pathlib import Path
from typing import Any, Required, cast

from pydantic import ConfigDict, StrictStr
from typing_extensions import TypedDict  # pydantic reads typing.TypedDict only on 3.12+

from palisade.auditor.checks.vulnerabilities.versions import COMPARATORS, VersionError
from palisade.auditor.model.schema import SchemaError, validate

# OSV ecosystem base name -> version ordering
ECOSYSTEMS = {
    "Debian": "debian",
    "Ubuntu": "debian",
    "Red Hat": "rpm",
    "Rocky Linux": "rpm",
    "AlmaLinux": "rpm",
}
EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")


class OsvError(ValueError):
    """The document is not a valid OSV advisory."""


@dataclass(frozen=True)
class Event:
    kind: str  # introduced | fixed | last_affected | limit
    version: str


@dataclass(frozen=True)
class AffectedRange:
    type: str  # ECOSYSTEM | SEMVER | GIT
    events: tuple[Event, ...]


@dataclass(frozen=True)
class AffectedPackage:
    ecosystem: str  # as written, e.g. "Debian:12"
    name: str
    ranges: tuple[AffectedRange, ...] = ()
    versions: frozenset[str] = frozenset()
    severity: str = ""  # ecosystem_specific severity/urgency, when given

    @property
    def base(self) -> str:
        return self.ecosystem.split(":", 1)[0]

    @property
    def release(self) -> str:
        """The release the ecosystem names ("12", "9"), "" for all releases."""
        parts = self.ecosystem.split(":")
        if self.base == "Red Hat":  # Red Hat:enterprise_linux:9::appstream
            return parts[2] if len(parts) > 2 else ""
        return parts[1] if len(parts) > 1 else ""

    @property
    def ordering(self) -> str | None:
        return ECOSYSTEMS.get(self.base)

    def fixed_versions(self) -> list[str]:
        return [e.version for r in self.ranges for e in r.events if e.kind == "fixed"]

    def affects(self, version: str) -> bool:
        """The OSV evaluation: explicit versions, then each ECOSYSTEM range's events in
        version order (introduced sets, fixed / last_affected clear, limit caps)."""
        ordering = self.ordering
        if ordering is None:
            return False
        if version in self.versions:
            return True
        cmp = COMPARATORS[ordering]
        for rng in self.ranges:
            if rng.type != "ECOSYSTEM":
                continue
            if _range_affects(rng, version, cmp):
                return True
        return False


def _range_affects(rng: AffectedRange, version: str, cmp) -> bool:
    def before(a: Event, b: Event) -> int:
        if a.version == "0" or b.version == "0":
            return (a.version != "0") - (b.version != "0")
        return cmp(a.version, b.version)

    events = sorted((e for e in rng.events if e.kind != "limit"), key=cmp_to_key(before))
    limits = [e.version for e in rng.events if e.kind == "limit"]
    affected = False
    for e in events:
        if e.kind == "introduced":
            if e.version == "0" or cmp(version, e.version) >= 0:
                affected = True
        elif e.kind == "fixed":
            if cmp(version, e.version) >= 0:
                affected = False
        elif e.kind == "last_affected":
            if cmp(version, e.version) > 0:
                affected = False
    if affected and limits and not any(cmp(version, lim) < 0 for lim in limits if lim != "*"):
        affected = False
    return affected


@dataclass(frozen=True)
class Advisory:
    id: str
    summary: str
    details: str
    aliases: tuple[str, ...]
    modified: str
    affected: tuple[AffectedPackage, ...]
    severity: str = ""  # database_specific severity ("Important", "high", ...) when given
    cvss: tuple[str, ...] = ()  # CVSS vectors / scores as given
    references: tuple[str, ...] = ()
    withdrawn: str = ""


# ------------------------------------------------------------------ the schema
# The keys of the OSV schema (ossf/osv-schema, validation/schema.json); any other key is an
# error naming it. `database_specific` and `ecosystem_specific` are free-form by the spec.
# A documented key given as null counts as not given (the schema allows null lists).
# Text is never coerced from a number here (an OSV version is a string).
STRICT_DOCUMENT = ConfigDict(extra="forbid")


# TypedDicts (validated to plain dicts: a feed holds tens of thousands of records).
S = StrictStr | None
Free = dict[str, Any] | None


class _Package(TypedDict, total=False):
    __pydantic_config__ = STRICT_DOCUMENT  # type: ignore[misc]
    ecosystem: Required[StrictStr]
    name: Required[StrictStr]
    purl: S


class _Severity(TypedDict, total=False):
    __pydantic_config__ = STRICT_DOCUMENT  # type: ignore[misc]
    type: S
    score: S


class _Event(TypedDict, total=False):
    __pydantic_config__ = STRICT_DOCUMENT  # type: ignore[misc]
    introduced: S
    fixed: S
    last_affected: S
    limit: S


class _Range(TypedDict, total=False):
    __pydantic_config__ = STRICT_DOCUMENT  # type: ignore[misc]
    type: Required[StrictStr]
    events: list[_Event] | None
    repo: S
    database_specific: Free


class _Affected(TypedDict, total=False):
    __pydantic_config__ = STRICT_DOCUMENT  # type: ignore[misc]
    package: Required[_Package]
    severity: list[_Severity] | None
    ranges: list[_Range] | None
    versions: list[StrictStr] | None
    ecosystem_specific: Free
    database_specific: Free


class _Reference(TypedDict, total=False):
    __pydantic_config__ = STRICT_DOCUMENT  # type: ignore[misc]
    type: S
    url: S


class _Credit(TypedDict, total=False):
    __pydantic_config__ = STRICT_DOCUMENT  # type: ignore[misc]
    name: S
    contact: list[StrictStr] | None
    type: S


class OsvDocument(TypedDict, total=False):
    """One OSV advisory as the schema writes it."""

    __pydantic_config__ = STRICT_DOCUMENT  # type: ignore[misc]
    id: Required[StrictStr]
    schema_version: S
    modified: S
    published: S
    withdrawn: S
    aliases: list[StrictStr] | None
    upstream: list[StrictStr] | None
    related: list[Any] | None
    summary: S
    details: S
    severity: list[_Severity] | None
    affected: list[_Affected] | None
    references: list[_Reference] | None
    credits: list[_Credit] | None
    database_specific: Free


def _severity_word(specific: dict | None) -> str:
    for key in ("severity", "urgency"):
        value = (specific or {}).get(key)
        if isinstance(value, str):
            return value
    return ""


def _affected(raw: _Affected, where: str) -> AffectedPackage:
    ecosystem = raw["package"]["ecosystem"]
    ordering = ECOSYSTEMS.get(ecosystem.split(":", 1)[0])
    ranges = []
    for i, r in enumerate(raw.get("ranges") or ()):
        if not r.get("events"):
            raise OsvError(f"{where}.ranges[{i}]: no events")
        events = []
        for j, e in enumerate(r.get("events") or ()):
            fields = cast(dict[str, "str | None"], e)
            given = [k for k in EVENT_KINDS if fields.get(k) is not None]
            if len(given) != 1:
                raise OsvError(
                    f"{where}.ranges[{i}].events[{j}]: an event has exactly one of "
                    f"{', '.join(EVENT_KINDS)}"
                )
            kind = given[0]
            version = fields.get(kind) or ""
            if not version:
                raise OsvError(f"{where}.ranges[{i}].events[{j}]: empty version")
            if r["type"] == "ECOSYSTEM" and ordering is not None and version not in ("0", "*"):
                try:
                    COMPARATORS[ordering](version, version)
                except VersionError as exc:
                    raise OsvError(f"{where}.ranges[{i}].events[{j}]: {exc}") from None
            events.append(Event(kind, version))
        ranges.append(AffectedRange(r["type"], tuple(events)))
    return AffectedPackage(
        ecosystem,
        raw["package"]["name"],
        tuple(ranges),
        frozenset(raw.get("versions") or ()),
        _severity_word(raw.get("ecosystem_specific")),
    )


def parse_osv(doc: Any) -> Advisory:
    if isinstance(doc, dict) and not doc:
        raise OsvError("$: empty document")
    try:
        parsed = validate(OsvDocument, doc)
    except SchemaError as err:
        raise OsvError(str(err)) from None
    if not parsed["id"]:
        raise OsvError("$.id: empty")
    return Advisory(
        id=parsed["id"],
        summary=parsed.get("summary") or "",
        details=parsed.get("details") or "",
        aliases=tuple(parsed.get("aliases") or ()),
        modified=parsed.get("modified") or "",
        affected=tuple(
            _affected(a, f"$.affected[{i}]") for i, a in enumerate(parsed.get("affected") or ())
        ),
        severity=_severity_word(parsed.get("database_specific")),
        cvss=tuple(s.get("score") or "" for s in parsed.get("severity") or () if s.get("score")),
        references=tuple(
            r.get("url") or "" for r in parsed.get("references") or () if r.get("url")
        ),
        withdrawn=parsed.get("withdrawn") or "",
    )


# ------------------------------------------------------------------ the database


@dataclass(frozen=True)
class Match:
    advisory: Advisory
    affected: AffectedPackage
    package_name: str
    installed_version: str


@dataclass
class AdvisoryDatabase:
    advisories: dict[str, Advisory] = field(default_factory=dict)
    # (ecosystem base, package name) -> [(advisory id, index into its affected)]
    _index: dict[tuple[str, str], list[tuple[str, int]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # files/entries that were skipped

    def add(self, advisory: Advisory) -> None:
        old = self.advisories.get(advisory.id)
        if old is not None and old.modified > advisory.modified:
            return
        if old is not None:
            self._unindex(old)
            del self.advisories[advisory.id]
        if advisory.withdrawn:  # a newer withdrawn record takes the old one out
            return
        self.advisories[advisory.id] = advisory
        for n, a in enumerate(advisory.affected):
            if a.ordering is not None:
                self._index.setdefault((a.base, a.name), []).append((advisory.id, n))

    def _unindex(self, advisory: Advisory) -> None:
        for a in advisory.affected:
            entries = self._index.get((a.base, a.name), [])
            entries[:] = [e for e in entries if e[0] != advisory.id]

    def __len__(self) -> int:
        return len(self.advisories)

    def matches(
        self, ecosystem_bases: tuple[str, ...], release: str, names: tuple[str, ...], version: str
    ) -> list[Match]:
        """Advisories affecting `version` of a package known by any of `names` (binary name,
        source package) in one of the ecosystems, for the host's release ("12", "9")."""
        out: dict[str, Match] = {}
        for base in ecosystem_bases:
            for name in dict.fromkeys(n for n in names if n):
                for adv_id, n in self._index.get((base, name), ()):
                    if adv_id in out:
                        continue
                    adv = self.advisories[adv_id]
                    affected = adv.affected[n]
                    if affected.release and not _same_release(affected.release, release):
                        continue
                    try:
                        hit = affected.affects(version)
                    except VersionError:
                        continue
                    if hit:
                        out[adv_id] = Match(adv, affected, name, version)
        return list(out.values())


def _same_release(advisory_release: str, host_release: str) -> bool:
    """ "12" matches a host's "12" or "12.5"; "9" matches "9.3"."""
    return host_release == advisory_release or host_release.split(".")[0] == advisory_release


MAX_RECORD_BYTES = 16 * 1024 * 1024  # one OSV record; osv.dev's largest are a few MB


@dataclass(frozen=True)
class FeedItem:
    """One record read from a feed: its place (file, zip member, list index) and either the
    decoded JSON or why it could not be read."""

    where: str
    doc: Any = None
    error: str = ""


def read_feed(path: str | Path) -> Iterator[FeedItem]:
    """The records of a feed as osv.dev publishes it: one record's .json file, a .json file
    holding a list, a directory tree of such files, or a per-ecosystem zip export (one
    record a member: `gs://osv-vulnerabilities/<ecosystem>/all.zip`), also inside a
    directory. Nothing is raised for a bad file or record: it comes back with its error."""
    root = Path(path)
    if root.is_dir():
        files = sorted(
            f for f in root.rglob("*") if f.is_file() and f.suffix.lower() in (".json", ".zip")
        )
    else:
        files = [root]
    for f in files:
        if f.suffix.lower() == ".zip":
            yield from _read_zip(f)
            continue
        try:
            data = f.read_bytes()
        except OSError as exc:
            yield FeedItem(str(f), error=exc.strerror or str(exc))
            continue
        yield from _decode(str(f), data)


def _read_zip(path: Path) -> Iterator[FeedItem]:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        yield FeedItem(str(path), error=f"not a zip archive: {exc}")
        return
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir() or not info.filename.lower().endswith(".json"):
                continue
            where = f"{path}:{info.filename}"
            if info.file_size > MAX_RECORD_BYTES:
                yield FeedItem(where, error=f"over {MAX_RECORD_BYTES} bytes")
                continue
            try:
                data = archive.read(info)
            except (OSError, zipfile.BadZipFile, RuntimeError, EOFError) as exc:
                yield FeedItem(where, error=f"unreadable member: {exc}")
                continue
            yield from _decode(where, data)


def _decode(where: str, data: bytes) -> Iterator[FeedItem]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        yield FeedItem(where, error=f"not JSON: {exc}")
        return
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            yield FeedItem(f"{where}[{i}]", item)
    else:
        yield FeedItem(where, doc)


def load_osv(path: str | Path) -> AdvisoryDatabase:
    """A feed as `read_feed` takes it, parsed into a database. Files or records that are not
    valid OSV are skipped and listed in `errors`."""
    db = AdvisoryDatabase()
    for item in read_feed(path):
        if item.error:
            db.errors.append(f"{item.where}: {item.error}")
            continue
        try:
            db.add(parse_osv(item.doc))
        except OsvError as exc:
            db.errors.append(f"{item.where}: {exc}")
    return db


def database_from_documents(documents: Iterable[str]) -> AdvisoryDatabase:
    """The database from stored records' JSON texts (the store's feed); a text that no longer
    parses (a stricter reader than the one that imported it) is skipped and listed."""
    db = AdvisoryDatabase()
    for text in documents:
        try:
            db.add(parse_osv(json.loads(text)))
        except (ValueError, OsvError) as exc:
            db.errors.append(str(exc))
    return db
