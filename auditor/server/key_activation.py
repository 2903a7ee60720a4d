"""Pending key-pair changes take effect once their instance has booted since they were asked
for (ECS: binding or unbinding a running instance's key pair waits for its restart).

Level-triggered: the check runner's periodic sweep looks at every pending binding and the
boot time its instance's agent last reported, and activates those that booted after the
request. The ingest's restart hook (`ingest/restarts.py`) is the same function for the one
instance that just restarted, so a restart is acted on at once; when that fails (it is best
effort), or no snapshot ever showed the boot time change (the agent first reported after
the restart), the next sweep does it.

Both write through `ApiService.apply_system_change`: the state document's optimistic
concurrency, audit rows with actor "system". Several replicas may sweep at once: one saves,
the others replay on the newer state, find nothing pending and write nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from palisade.auditor.api.actions.ecs import keypairs as keypair_actions
from palisade.auditor.api.pipeline import ApiService
from palisade.auditor.ingest.restarts import RestartListener
from palisade.auditor.store.database import Database

CHANGE = "InstanceRestarted"  # the audit log's action name for the activation


def activate(api: ApiService, boot_times: Mapping[str, int]) -> bool:
    """Activates what the instances' boots (id -> unix seconds) made effective; returns
    whether something was saved."""
    if not boot_times:
        return False
    return api.apply_system_change(CHANGE, keypair_actions.activate_booted(boot_times))


def restart_listener(api: ApiService) -> RestartListener:
    """The ingest's hook: the instance just reported a new boot time."""
    return lambda instance_id, boot_time: activate(api, {instance_id: boot_time})


def sweep(api: ApiService, store: Database) -> bool:
    """Every pending binding whose instance has booted since the change was requested."""
    pending = api.current().keypairs.pending_instance_ids()
    if not pending:
        return False
    return activate(api, store.boot_times(pending))
