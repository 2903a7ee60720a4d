"""The ECS security guide's DDoS basic-protection scrubbing thresholds per instance type
(data/ddos-scrubbing-thresholds.csv: instance_type, max_bps_threshold_mbit, max_pps_threshold).
These are the maxima: a user may lower an instance's threshold, never raise it."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class DdosThreshold:
    bps: float  # bits per second
    pps: float  # packets per second

    def lowered_by(self, other: DdosThreshold | None) -> DdosThreshold:
        """Users may only lower a threshold: the smaller of each figure."""
        if other is None:
            return self
        return DdosThreshold(min(self.bps, other.bps), min(self.pps, other.pps))

    def exceeded_by(self, bps: float, pps: float) -> bool:
        """Scrubbing starts when either figure is above its threshold."""
        return bps > self.bps or pps > self.pps


def parse_thresholds(text: str) -> dict[str, DdosThreshold]:
    out = {}
    for row in csv.DictReader(io.StringIO(text)):
        out[row["instance_type"].strip()] = DdosThreshold(
            float(row["max_bps_threshold_mbit"]) * 1e6, float(row["max_pps_threshold"])
        )
    return out


@lru_cache(maxsize=1)
def _packaged() -> dict[str, DdosThreshold]:
    path = resources.files("palisade.auditor.model.ddos") / "data" / "ddos-scrubbing-thresholds.csv"
    return parse_thresholds(path.read_text(encoding="utf-8"))


def load_default_thresholds() -> dict[str, DdosThreshold]:
    return dict(_packaged())
