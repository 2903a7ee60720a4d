"""The check settings through the API: DescribeCheckSettings (the values in force: the
settings file's, with the account's changes over them) and ModifyCheckSettings (change some;
`Reset=true` first drops every change, back to the file's). Stored in the database
(store/check_settings.py), so every replica's check runner uses them from its next round;
each change writes its audit-log row in the same transaction. The keys and their bounds are
checks/settings_schema.py's (the `[checks]` table of the settings file), as PascalCase
parameters (brute_force_window_s: BruteForceWindowSeconds)."""

from __future__ import annotations

from palisade.auditor.api.actions.sas.common import SERVICE, resource
from palisade.auditor.api.actions.sas.notification_database import (
    notification_database,
    now_ms,
    record_audit,
    write_transaction,
)
from palisade.auditor.api.params import Params, invalid
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.checks import CheckSettings
from palisade.auditor.checks import settings_schema as schema
from palisade.auditor.model.schema import SchemaError, validate
from palisade.auditor.store import check_settings as stored

_KEY_OF = {name: key for key, name in schema.API_NAMES.items()}


def _file_settings(ctx: ActionContext) -> CheckSettings:
    """The auditor's settings from its settings file (the defaults without one)."""
    given = ctx.services.get("check_settings")
    return given if isinstance(given, CheckSettings) else CheckSettings()


def _effective(ctx: ActionContext, changes: dict) -> CheckSettings:
    return schema.apply(_file_settings(ctx), validate(schema.ChecksDocument, changes))


def effective_settings(ctx: ActionContext) -> CheckSettings:
    """The settings in force for the caller's account: the file's, with the account's
    changes (ModifyCheckSettings) over them; what the check runner uses too."""
    _, changes = stored.read(notification_database(ctx), ctx.account_id)
    return _effective(ctx, changes)


def _view(ctx: ActionContext, changes: dict) -> dict:
    values = schema.describe(_effective(ctx, changes))
    return {
        "CheckSettings": {schema.API_NAMES[k]: values[k] for k in schema.KEYS},
        "Modified": sorted(schema.API_NAMES[k] for k in changes),
    }


@action(
    "DescribeCheckSettings",
    service=SERVICE,
    writes=False,
    resources=resource("check-settings"),
    params=(),
)
def describe_check_settings(ctx: ActionContext, p: Params) -> dict:
    _, changes = stored.read(notification_database(ctx), ctx.account_id)
    return _view(ctx, changes)


@action(
    "ModifyCheckSettings",
    service=SERVICE,
    writes="check settings",  # its own tables, not the cloud state
    resources=resource("check-settings"),
    params=(*schema.API_NAMES.values(), "Reset"),
)
def modify_check_settings(ctx: ActionContext, p: Params) -> dict:
    given: dict = {}
    for key, name in schema.API_NAMES.items():
        if key in schema.INTEGER_KEYS:
            value = p.int(name)
        else:
            value = p.str(name)
        if value is not None:
            given[key] = value
    reset = p.bool("Reset")
    with write_transaction(ctx) as conn:
        _, old = stored.load(conn, ctx.account_id)
        changes = ({} if reset else dict(old)) | given
        try:
            validate(schema.ChecksDocument, changes)
        except SchemaError as err:
            key = err.where.rsplit(".", 1)[-1]
            raise invalid(schema.API_NAMES.get(key, key), err.message) from None
        stored.save(conn, ctx.account_id, changes, now_ms(ctx))
        record_audit(conn, ctx, "ModifyCheckSettings", "check-settings/*", old, changes)
    return _view(ctx, changes)
