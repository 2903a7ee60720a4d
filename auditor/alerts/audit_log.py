"""The append-only audit log of user changes to alerts, silences and whitelist entries: who
asked (`AuditInfo`) and what the resource was before and after, written in the same
transaction as the change."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from palisade.auditor.store import schema


@dataclass(frozen=True)
class AuditInfo:
    """Who asked for a change, for the append-only audit log (written in the same
    transaction as the change)."""

    request_id: str
    actor: str
    source_ip: str
    action: str
    at_ms: int
    resource_prefix: str = ""  # e.g. "acs:sas:*:<account>:", before "alert/<id>"


def write_audit_entry(
    conn: Connection, audit: AuditInfo, resource: str, before: dict | None, after: dict | None
) -> None:
    """Appends one entry: `resource` as it was (`before`, None when it was created) and as it
    is (`after`, None when it was deleted)."""
    conn.execute(
        insert(schema.audit_log).values(
            at_ms=audit.at_ms,
            request_id=audit.request_id,
            actor=audit.actor,
            source_ip=audit.source_ip,
            action=audit.action,
            resource=audit.resource_prefix + resource,
            before=None if before is None else _json(before),
            after=None if after is None else _json(after),
        )
    )


def _json(value) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
