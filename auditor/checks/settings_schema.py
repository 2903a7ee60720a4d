"""The check settings as a user writes them (the `[checks]` table of `palisade serve
--config palisade.toml`): every key optional, each bounded, unknown keys errors naming their
path (the pydantic base of model/schema.py). `apply` lays a document over CheckSettings;
`describe` gives the current values under the same keys."""

from __future__ import annotations

import dataclasses
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, StrictInt, field_validator

from palisade.auditor.checks.inputs import CheckSettings
from palisade.auditor.model.schema import Schema, ShortText

DAY = 86_400


class ChecksDocument(Schema):
    """Keys are CheckSettings' field names; README's "Settings file" documents each."""

    # logins
    brute_force_failures: StrictInt | None = Field(None, ge=2, le=10_000)
    brute_force_window_s: StrictInt | None = Field(None, ge=10, le=DAY)
    brute_force_success_min_failures: StrictInt | None = Field(None, ge=1, le=10_000)
    brute_force_success_window_s: StrictInt | None = Field(None, ge=60, le=7 * DAY)
    learning_window_s: StrictInt | None = Field(None, ge=0, le=90 * DAY)
    unusual_hour_tolerance_h: StrictInt | None = Field(None, ge=0, le=12)
    timezone: ShortText | None = None
    fleet_failure_min_instances: StrictInt | None = Field(None, ge=2, le=100_000)
    fleet_failure_window_s: StrictInt | None = Field(None, ge=60, le=7 * DAY)
    ssh_scanner_connections: StrictInt | None = Field(None, ge=1, le=100_000)
    ssh_scanner_window_s: StrictInt | None = Field(None, ge=10, le=DAY)
    # ddos
    ddos_black_hole_bps: StrictInt | None = Field(None, ge=1_000_000, le=10**12)
    ddos_black_hole_s: StrictInt | None = Field(None, ge=60, le=30 * DAY)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a dir
            raise ValueError(
                f"{value[:60]!r} is not an IANA time zone (e.g. Asia/Shanghai)"
            ) from None
        return value


KEYS = tuple(ChecksDocument.model_fields)


def apply(settings: CheckSettings, doc: ChecksDocument) -> CheckSettings:
    """`settings` with the document's given keys."""
    given = {k: v for k, v in doc.model_dump().items() if v is not None}
    if "ddos_black_hole_bps" in given:
        given["ddos_black_hole_bps"] = float(given["ddos_black_hole_bps"])
    return dataclasses.replace(settings, **given)


def describe(settings: CheckSettings) -> dict[str, Any]:
    """The current values under the document's keys."""
    out: dict[str, Any] = {k: getattr(settings, k) for k in KEYS}
    out["ddos_black_hole_bps"] = int(out["ddos_black_hole_bps"])
    return out


def api_name(key: str) -> str:
    """The API parameter of a key: brute_force_window_s -> BruteForceWindowSeconds."""
    if key == "timezone":
        return "TimeZone"
    words = key.split("_")
    words[-1] = {"s": "seconds", "h": "hours"}.get(words[-1], words[-1])
    return "".join(w.capitalize() for w in words)


API_NAMES = {key: api_name(key) for key in KEYS}
INTEGER_KEYS = tuple(k for k in KEYS if k != "timezone")
