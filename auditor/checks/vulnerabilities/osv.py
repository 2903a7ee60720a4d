"""Advisories in OSV format (https://ossf.github.io/osv-schema/): parsing and matching installed
packages. Ecosystems: Debian ("Debian", "Debian:12") with dpkg ordering; Red Hat ("Red
Hat:enterprise_linux:9::appstream"), Rocky Linux ("Rocky Linux:9") and AlmaLinux
("AlmaLinux:9") with RPM ordering. Other ecosystems are parsed and ignored.

`parse_osv` takes untrusted JSON and either returns an Advisory or raises OsvError; it never
fails otherwise. `load_osv(path)` (a file holding one advisory or a list, or a directory of
such files) is the only I/O here: the caller loads the feed and passes the database to the
checks through CheckSettings.advisories.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cmp_to_key
from pathlib import Path
from typing import Any

from palisade.auditor.checks.vulnerabilities.versions import COMPARATORS, VersionError

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


def _str(value: Any, where: str, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise OsvError(f"{where}: expected a string")
    return value


def _list(value: Any, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise OsvError(f"{where}: expected a list")
    return value


def _dict(value: Any, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise OsvError(f"{where}: expected an object")
    return value


def _severity_word(specific: dict) -> str:
    for key in ("severity", "urgency"):
        value = specific.get(key)
        if isinstance(value, str):
            return value
    return ""


def _parse_event(raw: Any, where: str, ordering: str | None) -> Event:
    raw = _dict(raw, where)
    kinds = [k for k in EVENT_KINDS if k in raw]
    if len(kinds) != 1:
        raise OsvError(f"{where}: an event has exactly one of {', '.join(EVENT_KINDS)}")
    version = _str(raw[kinds[0]], f"{where}.{kinds[0]}", required=True)
    if not version:
        raise OsvError(f"{where}: empty version")
    if ordering is not None and version not in ("0", "*"):
        try:
            COMPARATORS[ordering](version, version)
        except VersionError as exc:
            raise OsvError(f"{where}: {exc}") from None
    return Event(kinds[0], version)


def _parse_affected(raw: Any, where: str) -> AffectedPackage:
    raw = _dict(raw, where)
    pkg = _dict(raw.get("package"), f"{where}.package")
    ecosystem = _str(pkg.get("ecosystem"), f"{where}.package.ecosystem", required=True)
    name = _str(pkg.get("name"), f"{where}.package.name", required=True)
    ordering = ECOSYSTEMS.get(ecosystem.split(":", 1)[0])
    ranges = []
    for i, r in enumerate(_list(raw.get("ranges"), f"{where}.ranges")):
        r = _dict(r, f"{where}.ranges[{i}]")
        rtype = _str(r.get("type"), f"{where}.ranges[{i}].type", required=True)
        events = tuple(
            _parse_event(
                e, f"{where}.ranges[{i}].events[{j}]", ordering if rtype == "ECOSYSTEM" else None
            )
            for j, e in enumerate(_list(r.get("events"), f"{where}.ranges[{i}].events"))
        )
        if not events:
            raise OsvError(f"{where}.ranges[{i}]: no events")
        ranges.append(AffectedRange(rtype, events))
    versions = frozenset(
        _str(v, f"{where}.versions", required=True)
        for v in _list(raw.get("versions"), f"{where}.versions")
    )
    specific = _dict(raw.get("ecosystem_specific"), f"{where}.ecosystem_specific")
    return AffectedPackage(ecosystem, name, tuple(ranges), versions, _severity_word(specific))


def parse_osv(doc: Any) -> Advisory:
    doc = _dict(doc, "$")
    if not doc:
        raise OsvError("$: empty document")
    adv_id = _str(doc.get("id"), "$.id", required=True)
    if not adv_id:
        raise OsvError("$.id: empty")
    cvss = []
    for i, s in enumerate(_list(doc.get("severity"), "$.severity")):
        s = _dict(s, f"$.severity[{i}]")
        cvss.append(_str(s.get("score"), f"$.severity[{i}].score"))
    refs = []
    for i, r in enumerate(_list(doc.get("references"), "$.references")):
        refs.append(_str(_dict(r, f"$.references[{i}]").get("url"), f"$.references[{i}].url"))
    return Advisory(
        id=adv_id,
        summary=_str(doc.get("summary"), "$.summary"),
        details=_str(doc.get("details"), "$.details"),
        aliases=tuple(_str(a, "$.aliases", True) for a in _list(doc.get("aliases"), "$.aliases")),
        modified=_str(doc.get("modified"), "$.modified"),
        affected=tuple(
            _parse_affected(a, f"$.affected[{i}]")
            for i, a in enumerate(_list(doc.get("affected"), "$.affected"))
        ),
        severity=_severity_word(_dict(doc.get("database_specific"), "$.database_specific")),
        cvss=tuple(c for c in cvss if c),
        references=tuple(r for r in refs if r),
        withdrawn=_str(doc.get("withdrawn"), "$.withdrawn"),
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
        if advisory.withdrawn:
            return
        old = self.advisories.get(advisory.id)
        if old is not None and old.modified > advisory.modified:
            return
        if old is not None:
            self._unindex(old)
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


def load_osv(path: str | Path) -> AdvisoryDatabase:
    """A file (one advisory, or a JSON list of them) or a directory tree of *.json files.
    Files or entries that are not valid OSV are skipped and listed in `errors`."""
    db = AdvisoryDatabase()
    root = Path(path)
    files = sorted(root.rglob("*.json")) if root.is_dir() else [root]
    for f in files:
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            db.errors.append(f"{f}: {exc}")
            continue
        for i, item in enumerate(doc if isinstance(doc, list) else [doc]):
            try:
                db.add(parse_osv(item))
            except OsvError as exc:
                db.errors.append(f"{f}[{i}]: {exc}")
    return db
