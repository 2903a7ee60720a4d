"""Vulnerabilities: installed packages (Snapshot.packages) against the OSV advisory feed in
CheckSettings.advisories (osv.load_osv). One finding per advisory that affects the host."""

from __future__ import annotations

from dataclasses import dataclass

from palisade.auditor.checks.base import Evidence, Finding, worst
from palisade.auditor.checks.inputs import CheckInput
from palisade.auditor.checks.registry import instance_check
from palisade.auditor.checks.vulnerabilities.metadata import VULNERABLE_PACKAGE
from palisade.auditor.checks.vulnerabilities.osv import Match
from palisade.shared.proto import facts_pb2


@dataclass(frozen=True, kw_only=True)
class VulnerabilityEvidence(Evidence):
    advisory_id: str
    aliases: tuple[str, ...]
    summary: str
    packages: tuple[dict, ...]  # name, version, arch, matched_as, fixed
    references: tuple[str, ...]


# host os_name (lower-case prefix) -> OSV ecosystem bases
_DISTROS = (
    ("debian", ("Debian",)),
    ("ubuntu", ("Ubuntu",)),
    ("rocky", ("Rocky Linux",)),
    ("almalinux", ("AlmaLinux",)),
    ("red hat", ("Red Hat",)),
    ("rhel", ("Red Hat",)),
)
_SEVERITY_WORDS = {
    "critical": "serious",
    "important": "serious",
    "high": "serious",
    "moderate": "suspicious",
    "medium": "suspicious",
    "low": "remind",
    "negligible": "remind",
    "unimportant": "remind",
}


def host_ecosystems(host: facts_pb2.HostInfo) -> tuple[str, ...]:
    name = host.os_name.lower()
    for prefix, bases in _DISTROS:
        if name.startswith(prefix):
            return bases
    return ()


def match_severity(m: Match) -> str:
    for word in (m.affected.severity, m.advisory.severity):
        if word and word.lower() in _SEVERITY_WORDS:
            return _SEVERITY_WORDS[word.lower()]
    return VULNERABLE_PACKAGE.severity


@instance_check(VULNERABLE_PACKAGE)
def vulnerable_package(inp: CheckInput) -> list[Finding] | None:
    db = inp.settings.advisories
    if db is None or inp.snapshot is None:
        return None
    bases = host_ecosystems(inp.snapshot.host)
    if not bases:
        return None  # a distribution without a feed ecosystem: cannot tell
    release = inp.snapshot.host.os_version
    by_advisory: dict[str, list[tuple[facts_pb2.Package, Match]]] = {}
    for pkg in inp.snapshot.packages:
        if pkg.source not in ("dpkg", "rpm") or not pkg.version:
            continue
        for m in db.matches(bases, release, (pkg.name, pkg.source_package), pkg.version):
            by_advisory.setdefault(m.advisory.id, []).append((pkg, m))
    findings = []
    for adv_id, hits in sorted(by_advisory.items()):
        adv = hits[0][1].advisory
        packages = [
            {
                "name": p.name,
                "version": p.version,
                "arch": p.arch,
                "matched_as": m.package_name,
                "fixed": m.affected.fixed_versions(),
            }
            for p, m in hits
        ]
        names = ", ".join(f"{p['name']} {p['version']}" for p in packages[:5])
        fixed = sorted({v for p in packages for v in p["fixed"]})
        findings.append(
            VULNERABLE_PACKAGE.finding(
                inp.instance_id,
                adv_id,
                f"{adv_id}"
                + (f" ({', '.join(adv.aliases[:3])})" if adv.aliases else "")
                + f": {names} affected"
                + (f"; fixed in {', '.join(fixed[:3])}" if fixed else "; no fix yet")
                + (f". {adv.summary}" if adv.summary else "."),
                VulnerabilityEvidence(
                    advisory_id=adv_id,
                    aliases=tuple(adv.aliases),
                    summary=adv.summary,
                    packages=tuple(packages),
                    references=tuple(adv.references[:10]),
                ),
                severity=worst(match_severity(m) for _, m in hits),
            )
        )
    return findings
