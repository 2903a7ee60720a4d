"""Where the notification actions keep their settings and messages: the auditor's database
(`ctx.services["store"]`), and the audit-log row each change writes in the same transaction."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from palisade.auditor.api.actions.sas.common import actor, arn
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.registry import ActionContext
from palisade.auditor.store import schema
from palisade.auditor.store.database import Database


def notification_database(ctx: ActionContext) -> Database:
    store = ctx.services.get("store")
    if store is None:
        raise ApiError("ServiceUnavailable", "the notification store is not available", 503)
    return store


def write_transaction(ctx: ActionContext) -> AbstractContextManager[Connection]:
    """The action's write transaction (`Database.write_transaction()`): its change and its
    audit row commit together or not at all."""
    return notification_database(ctx).write_transaction()


def read_connection(ctx: ActionContext) -> Connection:
    return notification_database(ctx).engine.connect()


def now_ms(ctx: ActionContext) -> int:
    return int(ctx.now.timestamp() * 1000)


def record_audit(
    conn: Connection, ctx: ActionContext, action_name: str, resource: str, before, after
) -> None:
    """The change's audit-log row, in the action's write transaction."""
    conn.execute(
        insert(schema.audit_log).values(
            at_ms=now_ms(ctx),
            request_id=ctx.request_id,
            actor=actor(ctx),
            source_ip=ctx.source_ip,
            action=action_name,
            resource=arn(ctx, resource),
            before=None if before is None else json.dumps(before, sort_keys=True),
            after=None if after is None else json.dumps(after, sort_keys=True),
        )
    )
