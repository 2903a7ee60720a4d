"""ClientToken, as ECS means it: an idempotency key. A call retried with the same token
(by the same caller, for the same action) within a day gets the first call's answer and
changes nothing again; the same token with other parameters is refused
(`IdempotentParameterMismatch`). Reads are never replayed: they answer the current state.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta

from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import AUTH_PARAMS
from palisade.auditor.store.cloud_state_repository import ClientTokenRow

TOKEN_TTL = timedelta(days=1)
MAX_TOKEN_LENGTH = 64  # ECS: at most 64 ASCII characters
_READS = ("Describe", "List", "Get", "Explain", "Render", "Export")


def client_token(action: str, params: Mapping[str, str]) -> str | None:
    """The call's ClientToken when it has one and the action changes something."""
    token = params.get("ClientToken") or None
    if token is None or action.startswith(_READS):
        return None
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii() or not token.isprintable():
        raise ApiError(
            "InvalidParameter.ClientToken",
            f"The ClientToken must be at most {MAX_TOKEN_LENGTH} printable ASCII characters",
        )
    return token


def token_key(account_id: str, caller: str, action: str, token: str) -> str:
    text = json.dumps([account_id, caller, action, token])
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(params: Mapping[str, str]) -> str:
    """What the call asked for: its parameters without the signature's and the token."""
    asked = sorted((k, v) for k, v in params.items() if k not in AUTH_PARAMS)
    return hashlib.sha256(json.dumps(asked).encode()).hexdigest()


def new_row(key: str, params: Mapping[str, str], answer: dict, now: datetime) -> ClientTokenRow:
    expires = int((now + TOKEN_TTL).timestamp() * 1000)
    return ClientTokenRow(key, fingerprint(params), answer, expires)


def replay(row: ClientTokenRow, params: Mapping[str, str]) -> dict:
    """The first answer, for a retry that asks for the same thing."""
    if row.fingerprint != fingerprint(params):
        raise ApiError(
            "IdempotentParameterMismatch",
            "The ClientToken was used before with other parameters",
        )
    return dict(row.answer)
