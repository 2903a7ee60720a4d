"""Cloud drift: what `palisade sync --watch` found changed in the cloud since its last round.

The finding is not computed from the agents' reports: the sync hands its changes to the
auditor (ReportCloudDrift), which raises them with `drift_findings`. The check is registered
so that its metadata is known everywhere checks are listed (titles, notification routing,
translations); its round function has nothing to evaluate and returns None (not evaluated:
no drift alert is ever resolved by a round)."""

from __future__ import annotations

from dataclasses import dataclass

from palisade.auditor.checks.base import Evidence, Finding
from palisade.auditor.checks.drift.metadata import CLOUD_DRIFT
from palisade.auditor.checks.inputs import FleetInput
from palisade.auditor.checks.registry import fleet_check


@dataclass(frozen=True, kw_only=True)
class DriftEvidence(Evidence):
    changes: tuple[str, ...]  # what the sync did to make the model hold the cloud again
    source: str  # the cloud endpoint the sync read


@fleet_check(CLOUD_DRIFT)
def cloud_drift(inp: FleetInput) -> list[Finding] | None:
    return None  # raised by ReportCloudDrift, never by a round


def drift_findings(changes: list[tuple[str, str]], source: str) -> list[Finding]:
    """One finding per drifted resource from (resource, change) pairs, in the order given."""
    by_resource: dict[str, list[str]] = {}
    for resource, change in changes:
        by_resource.setdefault(resource, []).append(change)
    return [
        CLOUD_DRIFT.finding(
            None,
            resource,
            f"The cloud ({source}) changed {resource}: " + "; ".join(done),
            DriftEvidence(changes=tuple(done), source=source),
        )
        for resource, done in by_resource.items()
    ]
