"""What the drift check is: id, title, severity, category, rationale and remediation."""

from palisade.auditor.checks.base import CheckMeta

CLOUD_DRIFT = CheckMeta(
    id="cloud.drift",
    title="The cloud changed a resource Palisade had modelled",
    severity="suspicious",
    category="cloud",
    rationale="A change made in the cloud outside Palisade (a rule opened in the console, an "
    "instance or key pair added by a script) is not what the security team reviewed; an "
    "attacker with cloud credentials makes changes the same way.",
    remediation="Check who changed the resource in the cloud's own audit trail (ActionTrail); "
    "keep the change if it was meant, revert it in the cloud otherwise.",
    kind="event",
)
