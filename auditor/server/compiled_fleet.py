"""The compiled exposure engine of this auditor process: one `ExposureIndex` for the live cloud
state, kept current change by change instead of rebuilt for every instance a check looks at.

The live state (store/live_state.py) calls `changed(units)` after every change it applies,
its own writes and the other replicas' alike, on the thread that applied it and holding its
lock: `units` are the (kind, id) pairs that changed, or None when the whole state was
reloaded. That must stay cheap (a request is waiting), so it only notes the groups and
instances named. The check runner asks for the index (`index(model)`) on its own thread
before each instance round; the noted changes are applied then (`ExposureIndex.update`,
which recompiles only what depends on them), holding the live state's lock so that the model
does not change while the index reads it. A whole reload, a model the index was not built
for, or an update that fails, rebuild the index from the model.
"""

from __future__ import annotations

import logging
import threading
from contextlib import AbstractContextManager, nullcontext

from palisade.auditor.model import changes as K
from palisade.auditor.model.network.exposure_index import ExposureIndex

log = logging.getLogger("palisade.checks")


class CompiledFleet:
    def __init__(self, live_lock: AbstractContextManager | None = None) -> None:
        # the live state's lock: the model changes only under it (None: the caller's care)
        self._live_lock = live_lock
        self._pending_lock = threading.Lock()  # what `changed` notes; held for a moment only
        self._apply_lock = threading.Lock()  # one thread applies or rebuilds at a time
        self._index: ExposureIndex | None = None
        self._groups: set[str] = set()
        self._instances: set[str] = set()
        self._meta = False
        self._reload = True
        self.builds = 0  # whole builds so far
        self.updates = 0  # updates applied so far

    @classmethod
    def follow(cls, api) -> CompiledFleet | None:
        """A compiled fleet that listens to the API's live state (`api.live.listeners`); None
        when the API keeps no live state to follow (the checks then build their own index)."""
        live = getattr(api, "live", None)
        listeners = getattr(live, "listeners", None)
        if not isinstance(listeners, list):
            return None
        fleet = cls(getattr(live, "lock", None))
        listeners.append(fleet.changed)
        return fleet

    def changed(self, units: set[tuple[str, str]] | None) -> None:
        """The live state's listener: note what changed (applied at the next `index`)."""
        with self._pending_lock:
            if units is None:
                self._reload = True
                self._groups.clear()
                self._instances.clear()
                self._meta = False
                return
            for kind, unit_id in units:
                if kind == K.GROUP:
                    self._groups.add(unit_id)
                elif kind == K.INSTANCE:
                    self._instances.add(unit_id)
                elif kind == K.FLEET:  # the limits (the carrier-blocked ports a report notes)
                    self._meta = True

    def index(self, model) -> ExposureIndex:
        """The index for `model` (the live state's cloud), with every change noted so far."""
        with self._live_lock or nullcontext(), self._apply_lock:
            with self._pending_lock:
                groups, self._groups = self._groups, set()
                instances, self._instances = self._instances, set()
                meta, self._meta = self._meta, False
                reload, self._reload = self._reload, False
            index = self._index
            if reload or index is None or index.model is not model:
                return self._build(model)
            if groups or instances or meta:
                try:
                    index.update(groups, instances, meta)
                except Exception:  # never serve a half-updated index: build it again
                    log.exception("updating the compiled fleet failed; rebuilding it")
                    return self._build(model)
                self.updates += 1
            return index

    def _build(self, model) -> ExposureIndex:
        self._index = None
        index = ExposureIndex(model)
        self._index = index
        self.builds += 1
        return index
