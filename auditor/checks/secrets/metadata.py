"""What the secrets checks are: id, title, severity, category, rationale and remediation."""

from palisade.auditor.checks.base import CheckMeta

PLAINTEXT_ACCESS_KEY = CheckMeta(
    id="secrets.plaintext_access_key",
    title="A plaintext AccessKey is stored on the host",
    severity="serious",
    category="secrets",
    rationale=(
        "An AccessKey in a file on an instance is one file read away from an attacker. The ECS "
        "security guide advises an instance RAM role instead, whose STS credentials come from "
        "the metadata service and rotate by themselves."
    ),
    remediation=(
        "Delete the key from the file, disable and rotate it in RAM, and grant the instance a "
        "RAM role instead."
    ),
)
