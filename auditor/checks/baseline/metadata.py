"""What the baseline checks are: id, title, severity, category, rationale and remediation."""

from palisade.auditor.checks.base import CheckMeta

BASELINE = CheckMeta(
    id="baseline",
    title="Baseline configuration check failed",
    severity="suspicious",
    category="baseline",
    rationale="Hardening items of the CIS benchmarks (sshd, accounts, file modes, Windows).",
    remediation="See each finding's remediation (from its policy).",
)
