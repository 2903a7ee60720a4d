"""`palisade serve --config palisade.toml`: one file for the check settings, the alert
lifecycle and the serve flags (tomllib). Every key is validated by its schema: an unknown key
or a bad value stops `serve` with the key's path (`checks.brute_force_window_s: ...`). A flag
given on the command line wins over the file; the file wins over the built-in defaults."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import Field, StrictFloat, StrictInt

from palisade.auditor.api.instance_credentials import MAX_TTL, MIN_TTL
from palisade.auditor.checks.settings_schema import ChecksDocument
from palisade.auditor.model.schema import Schema, SchemaError, ShortText, validate

DAY = 86_400


class ServeDocument(Schema):
    grpc: ShortText | None = None
    enroll: ShortText | None = None
    http: ShortText | None = None
    db: Annotated[str, Field(max_length=2048)] | None = None
    check_period_s: Annotated[StrictInt | StrictFloat, Field(ge=1, le=DAY)] | None = None
    max_message_bytes: Annotated[StrictInt, Field(ge=65_536, le=512 * 1024 * 1024)] | None = None
    http_timeout_s: Annotated[StrictInt, Field(ge=1, le=3600)] | None = None
    sts_ttl_s: (
        Annotated[
            StrictInt,
            Field(ge=int(MIN_TTL.total_seconds()), le=int(MAX_TTL.total_seconds())),
        ]
        | None
    ) = None
    allow_hook_hosts: list[ShortText] | None = None


class AlertsDocument(Schema):
    handled_reopen_after_s: Annotated[StrictInt, Field(ge=0, le=3650 * DAY)] | None = None


class LimitsDocument(Schema):
    """ECS quotas (model/limits.py): the security guide's 100 rules a group and 500 a NIC by
    default; later accounts have 200 and 1,000."""

    rules_per_group: Annotated[StrictInt, Field(ge=1, le=1000)] | None = None
    rules_per_nic: Annotated[StrictInt, Field(ge=1, le=5000)] | None = None


class ConfigDocument(Schema):
    serve: ServeDocument = ServeDocument()
    checks: ChecksDocument = ChecksDocument()
    alerts: AlertsDocument = AlertsDocument()
    limits: LimitsDocument = LimitsDocument()


class ConfigError(ValueError):
    """The settings file cannot be used: the message names the file and the key."""


def load(path: Path) -> ConfigDocument:
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not TOML: {exc}") from None
    return parse(raw, str(path))


def parse(raw: object, name: str = "palisade.toml") -> ConfigDocument:
    try:
        return validate(ConfigDocument, raw, root="")
    except SchemaError as err:
        key = err.where.lstrip(".") or "(top level)"
        raise ConfigError(f"{name}: {key}: {err.message}") from None
