"""Loading and copying the cloud state at fleet scale: 10,000 instances, 2,000 groups, 100,000
rules (the model api_writes.py builds through the store).

- decode: the state document into live objects (`CloudState.from_document`: a replica's cold
  start, a reload after the change sequence was pruned), with the decoders compiled per type
  and, as the baseline in the same process, with the generic walk they replaced
  (tests/helpers/document_reference.py); prints the ratio.
- cold load: rows to a live state (`LiveState.current()` on a fresh process's view).
- plan lock: how long a DescribeFleetPlan holds the live state's lock (every other API call
  waits that long): before, the copy was a document round trip under the lock; now only the
  pickle dump of `LiveState.private_copy` is.

    .venv/bin/python benchmarks/state_load.py [--instances 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api_writes import build  # the 10,000-instance model, written through the store
from sg_engine import load  # the load average line

from palisade.auditor.model import document as document_module
from palisade.auditor.model.cloud_state import CloudState
from palisade.auditor.store.database import Database
from palisade.auditor.store.live_state import LiveState
from tests.helpers.document_reference import reference

DECODE_USERS = (
    "palisade.auditor.model.fleet.document",
    "palisade.auditor.model.units",
    "palisade.auditor.model.ddos.protection",
    "palisade.auditor.model.keypairs.service",
)


def timed(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/state.db"
        t0 = time.perf_counter()
        build(url, args.instances)
        print(f"built {args.instances:,} instances in {time.perf_counter() - t0:.0f} s ({load()})")
        store = Database(url)
        live = LiveState(store)
        state = live.current()
        assert state is not None
        doc = state.to_document()
        groups, rules = (
            len(state.cloud.groups),
            sum(len(g.rules) for g in state.cloud.groups.values()),
        )
        print(f"  {len(state.cloud.instances):,} instances, {groups:,} groups, {rules:,} rules")

        compiled = timed(lambda: CloudState.from_document(doc), args.rounds)
        generic_decode = document_module.decode  # swapped for the reference in every user
        patches = [mock.patch(f"{m}.decode", reference) for m in DECODE_USERS]
        for p in patches:
            p.start()
        try:
            assert document_module.decode is generic_decode
            generic = timed(lambda: CloudState.from_document(doc), 1)
            # the plan's copy as it was: a document round trip, under the lock
            before = timed(lambda: CloudState.from_document(state.to_document()), 1)
        finally:
            for p in patches:
                p.stop()
        print(
            f"decode state: {compiled:.2f} s compiled, {generic:.2f} s generic walk;"
            f" generic / compiled = {generic / compiled:.1f}"
        )

        def cold() -> None:
            LiveState(Database(url)).current()

        print(f"cold load from rows: {timed(cold, args.rounds):.2f} s")

        new_lock = timed(state.snapshot, args.rounds)
        copy_total = timed(live.private_copy, args.rounds)
        print(
            f"plan holds the live lock: {new_lock:.2f} s (its whole copy {copy_total:.2f} s);"
            f" before: {before:.2f} s under the lock; before / now = {before / new_lock:.1f}"
        )
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
