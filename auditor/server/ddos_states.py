"""Each instance's DDoS protection state (normal -> scrubbing -> black hole, model/ddos/
protection.py) moved by its agent's traffic: the check runner calls `observe` for every
instance it checks (after each ingest commit for that instance, and in the periodic sweep, which
also ends black holes whose time is up).

A change is saved in the state document through `ApiService.apply_system_change` (optimistic
concurrency, audit rows with actor "system"), so every replica sees it; rounds that change
nothing write nothing. Replicas that observe the same reading compute the same state: one
saves, the others replay on the newer document and find nothing to change.
"""

from __future__ import annotations

import logging

from palisade.auditor.api.actions.ecs.common import instance_arn
from palisade.auditor.api.pipeline import ApiService
from palisade.auditor.api.registry import AuditEntry
from palisade.auditor.checks.ddos.check import inbound_traffic, instance_threshold
from palisade.auditor.checks.inputs import CheckInput
from palisade.auditor.model.cloud_state import CloudState
from palisade.auditor.model.ddos.protection import InboundTraffic, InstanceDdos, next_state
from palisade.auditor.model.document import encode

CHANGE = "DdosStatusChanged"  # the audit log's action name
log = logging.getLogger("palisade.ddos")


def _next(state: CloudState, inp: CheckInput, traffic: InboundTraffic | None) -> InstanceDdos:
    threshold = instance_threshold(inp.settings, state, inp.instance_id)
    current = state.ddos.get(inp.instance_id)
    return next_state(current, traffic, threshold, inp.settings.ddos_policy, inp.now)


def observe(api: ApiService, inp: CheckInput) -> bool:
    """Moves the instance's state for this round's reading; returns whether it changed."""
    if inp.instance_id not in inp.state.cloud.instances:
        return False  # an agent without a modelled instance has no protection state
    traffic = inbound_traffic(inp)
    if _next(inp.state, inp, traffic) == inp.state.ddos.get(inp.instance_id):
        return False  # the common case: no write, no lock

    def change(state: CloudState, _now) -> list[AuditEntry]:
        instance = state.cloud.instances.get(inp.instance_id)
        if instance is None:
            return []
        before = state.ddos.get(inp.instance_id)
        after = _next(state, inp, traffic)
        if after == before:
            return []
        state.ddos.put(inp.instance_id, after)
        log.info("%s: DDoS %s -> %s", inp.instance_id, before.status.value, after.status.value)
        return [AuditEntry(instance_arn(instance), encode(before), encode(after))]

    return api.apply_system_change(CHANGE, change)
