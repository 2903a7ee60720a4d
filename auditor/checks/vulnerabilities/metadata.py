"""What the vulnerability checks are: id, title, severity, category, rationale and remediation."""

from palisade.auditor.checks.base import CheckMeta

VULNERABLE_PACKAGE = CheckMeta(
    id="vulnerability.package",
    title="An installed package has a known vulnerability",
    severity="suspicious",
    category="vulnerability",
    rationale="The installed version is in an advisory's affected range.",
    remediation="Upgrade the package to the fixed version (apt-get / dnf upgrade) and restart "
    "what uses it.",
)
