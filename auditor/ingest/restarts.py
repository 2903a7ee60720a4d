"""Noticing that an instance restarted: the boot time its agent reports has changed.

The store compares the boot time of each snapshot with the one stored before, in the same
transaction, and says so in its result (`ApplyResult.restarted_at_boot_time`); the ingest
then passes the change on (instance id, new boot time in unix seconds) to the listener,
which the auditor wires to the cloud model (a pending key-pair change takes effect:
`server/key_activation.py`). A listener failure is logged and never refuses the agent's
message: it is already stored; the check runner's periodic sweep activates what it missed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger("palisade.ingest")

RestartListener = Callable[[str, int], None]


class RestartWatch:
    def __init__(self, listener: RestartListener) -> None:
        self.listener = listener

    def restarted(self, instance_id: str, boot_time: int) -> None:
        try:
            self.listener(instance_id, boot_time)
        except Exception:
            log.exception("reacting to the restart of %s failed", instance_id)
