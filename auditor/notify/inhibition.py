"""Stage "inhibit": rules as data, as Alertmanager's inhibit_rules (pure).

While an alert matching a rule's source checks is firing (open: pending or handling), an
alert matching its target checks whose `equal` labels have the same values is not sent: the
source says it all. An alert never inhibits itself. The labels of an alert are its account,
instance, check, subject and source (the address it is about, "" when none).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from palisade.auditor.notify.models import NotifyEvent


@dataclass(frozen=True)
class InhibitRule:
    name: str
    source_checks: frozenset[str]
    target_checks: frozenset[str]
    equal: tuple[str, ...] = ("instance_id", "source")


# A guessed password says more than the guessing and the login from the new source: one
# attack, one message (the success's; it names what it inhibited).
RULES: tuple[InhibitRule, ...] = (
    InhibitRule(
        "brute force succeeded",
        source_checks=frozenset({"login.brute_force_success"}),
        target_checks=frozenset({"login.brute_force", "login.new_source"}),
    ),
)


def labels(event: NotifyEvent) -> dict[str, str]:
    return {
        "account_id": event.account_id,
        "instance_id": event.instance_id,
        "check_id": event.check_id,
        "subject": event.subject,
        "source": event.source,
    }


def source_checks(rules: Iterable[InhibitRule]) -> frozenset[str]:
    return frozenset(c for rule in rules for c in rule.source_checks)


def inhibitor(
    target: NotifyEvent, firing: Sequence[NotifyEvent], rules: Sequence[InhibitRule] = RULES
) -> tuple[InhibitRule, NotifyEvent] | None:
    """The rule and the firing alert that inhibit `target`, or None."""
    wanted = labels(target)
    for rule in rules:
        if target.check_id not in rule.target_checks:
            continue
        for source in firing:
            if source.alert_id == target.alert_id or source.check_id not in rule.source_checks:
                continue
            have = labels(source)
            if have["account_id"] == wanted["account_id"] and all(
                have[name] == wanted[name] for name in rule.equal
            ):
                return rule, source
    return None
