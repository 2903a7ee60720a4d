"""The settings file's `[limits]` (the later ECS quotas: 200 rules a group, 1,000 a NIC) into
the stored cloud state at `serve`'s start: the model's Limits live in the state document, so
every replica and every API action uses the same figures. Saved as a system change (audited)
only when they differ from the stored ones."""

from __future__ import annotations

import dataclasses
import logging

from palisade.auditor.api.pipeline import ApiService
from palisade.auditor.api.registry import AuditEntry

log = logging.getLogger("palisade.auditor")
CHANGE = "QuotaSettingsApplied"  # the audit log's action name


def apply(api: ApiService, **given: int | None) -> bool:
    """Sets the given Limits fields (None: left as stored); returns whether it saved."""
    wanted = {k: v for k, v in given.items() if v is not None}
    if not wanted:
        return False

    def change(state, _now) -> list[AuditEntry]:
        before = state.cloud.limits
        after = dataclasses.replace(before, **wanted)
        if after == before:
            return []
        state.cloud.set_limits(after)
        old = {k: getattr(before, k) for k in wanted}
        return [AuditEntry(f"acs:ecs:*:{state.account_id}:quota/*", old, wanted)]

    return api.apply_system_change(CHANGE, change)
