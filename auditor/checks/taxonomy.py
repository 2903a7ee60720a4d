"""The words every layer shares about a finding and its alert, in one place: `Severity`,
`Category` (of a check), `AlertStatus`. Pure; checks, alerts, notify, the API and the
dashboard import them from here (`checks.base` re-exports them for check authors).

They are `StrEnum`s: a member is its string ("serious" == Severity.SERIOUS), so what the
database, the API and JSON payloads hold stays plain text.
"""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """Security Center's levels, worst first."""

    SERIOUS = "serious"
    SUSPICIOUS = "suspicious"
    REMIND = "remind"

    @property
    def rank(self) -> int:
        """0 for serious (the worst) .. 2 for remind."""
        return _SEVERITY_ORDER.index(self)


_SEVERITY_ORDER = tuple(Severity)


class Category(StrEnum):
    """A check's family, as its CheckMeta names it."""

    EXPOSURE = "exposure"
    KEYPAIR = "keypair"
    LOGIN = "login"
    BASELINE = "baseline"
    DDOS = "ddos"
    SECRETS = "secrets"
    VULNERABILITY = "vulnerability"
    RAM = "ram"
    RULES = "rules"  # security group rule advice (checks/rule_advice)
    CLOUD = "cloud"  # the cloud changed what the model held (checks/drift, palisade sync)


class AlertStatus(StrEnum):
    """What an alert's status says (see alerts/lifecycle.py for the transitions).

    pending, handling: open, the condition is current and unanswered.
    handled: a user fixed it; while the condition is still reported the alert stays the
      key's alert ("handled, still present") and nothing is opened or notified for it.
    accepted_risk: a user accepted it until an expiry, with a comment; then it reopens.
    ignored, false_positive: a user's standing suppression of the key.
    expired: not seen for the expiry period (final).
    """

    PENDING = "pending"
    HANDLING = "handling"
    HANDLED = "handled"
    ACCEPTED_RISK = "accepted_risk"
    IGNORED = "ignored"
    FALSE_POSITIVE = "false_positive"
    EXPIRED = "expired"


SEVERITIES: tuple[str, ...] = tuple(Severity)
CATEGORIES: tuple[str, ...] = tuple(Category)
ALERT_STATUSES: tuple[str, ...] = tuple(AlertStatus)
# the condition is current and nobody answered it: these are notified and shown as open
OPEN_STATUSES = frozenset({AlertStatus.PENDING, AlertStatus.HANDLING})
# a user's decision to the set a user may choose (HandleAlert)
USER_STATUSES: tuple[str, ...] = (
    AlertStatus.HANDLING,
    AlertStatus.HANDLED,
    AlertStatus.ACCEPTED_RISK,
    AlertStatus.IGNORED,
    AlertStatus.FALSE_POSITIVE,
)


def severity_rank(severity: str) -> int:
    """0 for serious (the worst) .. 2 for remind; an unknown level ranks after them."""
    try:
        return Severity(severity).rank
    except ValueError:
        return len(_SEVERITY_ORDER)
