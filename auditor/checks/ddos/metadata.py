"""What the DDoS checks are: id, title, severity, category, rationale and remediation."""

from palisade.auditor.checks.base import CheckMeta

SCRUBBING = CheckMeta(
    id="ddos.scrubbing",
    title="Inbound traffic is above the DDoS scrubbing threshold",
    severity="serious",
    category="ddos",
    rationale=(
        "Above the instance type's BPS or PPS threshold, DDoS basic protection scrubs the "
        "instance's traffic: an attack is likely under way."
    ),
    remediation=(
        "Check the source of the traffic; consider Anti-DDoS Pro. Scrubbing ends by itself when "
        "the traffic falls back."
    ),
)

BLACK_HOLE = CheckMeta(
    id="ddos.black_hole",
    title="Inbound traffic is above the black-hole threshold",
    severity="serious",
    category="ddos",
    rationale=(
        "Above 5 Gbit/s the instance is black-holed: all public inbound traffic is dropped and "
        "the instance is unreachable from the internet."
    ),
    remediation="Wait for the black hole to be lifted or move the service behind Anti-DDoS Pro.",
)
