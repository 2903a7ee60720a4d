"""The check settings as a user writes them (the `[checks]` table of `palisade serve
--config palisade.toml`): every key optional, each bounded, unknown keys errors naming their
path (the pydantic base of model/schema.py). `apply` lays a document over CheckSettings;
`describe` gives the current values under the same keys."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, StrictInt, field_validator

from palisade.auditor.checks.inputs import CheckSettings
from palisade.auditor.model.schema import Schema, ShortText

DAY = 86_400


def _int(low: int, high: int) -> Any:
    return Annotated[StrictInt, Field(ge=low, le=high)] | None


class ChecksDocument(Schema):
    """Keys are CheckSettings' field names; README's "Settings file" documents each."""

    # logins
    brute_force_failures: _int(2, 10_000) = None
    brute_force_window_s: _int(10, DAY) = None
    brute_force_success_min_failures: _int(1, 10_000) = None
    brute_force_success_window_s: _int(60, 7 * DAY) = None
    learning_window_s: _int(0, 90 * DAY) = None
    unusual_hour_tolerance_h: _int(0, 12) = None
    timezone: ShortText | None = None
    fleet_failure_min_instances: _int(2, 100_000) = None
    fleet_failure_window_s: _int(60, 7 * DAY) = None
    ssh_scanner_connections: _int(1, 100_000) = None
    ssh_scanner_window_s: _int(10, DAY) = None
    # ddos
    ddos_black_hole_bps: Annotated[StrictInt, Field(ge=1_000_000, le=10**12)] | None = None
    ddos_black_hole_s: _int(60, 30 * DAY) = None

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
