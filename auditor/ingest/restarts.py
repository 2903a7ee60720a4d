"""Noticing that an instance restarted: the boot time its agent reports has changed.

The ingest asks for the stored boot time before it stores a snapshot and compares after the
commit; a change is passed on (instance id, new boot time in unix seconds) to the listener,
which the auditor wires to the cloud model (a pending key-pair change takes effect). A
listener failure is logged and never refuses the agent's message: it is already stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from palisade.auditor.store.store import Store

log = logging.getLogger("palisade.ingest")

RestartListener = Callable[[str, int], None]


class RestartWatch:
    def __init__(self, store: Store, listener: RestartListener) -> None:
        self.store, self.listener = store, listener

    def boot_time(self, instance_id: str) -> int:
        row = self.store.instance(instance_id)
        return int(row["boot_time"] or 0) if row else 0

    def after_store(self, instance_id: str, boot_time_before: int) -> None:
        after = self.boot_time(instance_id)
        if not boot_time_before or not after or after == boot_time_before:
            return
        try:
            self.listener(instance_id, after)
        except Exception:  # noqa: BLE001 - the snapshot is stored; the reaction is best effort
            log.exception("reacting to the restart of %s failed", instance_id)
