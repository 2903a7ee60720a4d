"""Who sent a signed request: a RAM user's AccessKey or a role session's STS credentials."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from palisade.auditor.model.ram.account import RamAccount
from palisade.auditor.model.ram.authorisation import Caller
from palisade.auditor.model.ram.errors import RamError
from palisade.auditor.model.ram.instance_roles import InstanceRamRoles
from palisade.auditor.model.ram.signing import (
    HttpRequest,
    NonceRegistry,
    read_credentials,
    verify_any,
)
from palisade.auditor.model.ram.sts import (
    STS_KEY_PREFIX,
    SessionClaims,
    derive_sts_secret,
    verify_security_token,
)


@dataclass(frozen=True)
class AuthenticatedRequest:
    caller: Caller
    access_key_id: str
    session: SessionClaims | None = None  # set for STS credentials


def authenticate(
    account: RamAccount,
    params: Mapping[str, str],
    now: datetime,
    nonces: NonceRegistry,
    *,
    sts_signing_key: bytes,
    instance_roles: InstanceRamRoles,
    method: str = "GET",
    path: str = "/",
    headers: Mapping[str, str] | None = None,
    http: HttpRequest | None = None,
) -> AuthenticatedRequest:
    """Verify a request's signature (RPC style in `params`, or V3 in `http`'s Authorization
    header) and say who made it; raises RamError otherwise. STS credentials must also still be
    derived from a current binding in `instance_roles` (the same state as `account`); a
    revoked session is refused once its signature verifies."""
    access_key_id, token = read_credentials(params, http)
    if access_key_id.startswith(STS_KEY_PREFIX):
        if not token:
            raise RamError("MissingSecurityToken", "SecurityToken is mandatory for STS keys")
        claims = verify_security_token(token, sts_signing_key, now, access_key_id)
        if claims.account_id != account.account_id:
            raise RamError(
                "InvalidSecurityToken.MismatchWithAccount",
                "The security token was issued for another account",
            )
        secret = derive_sts_secret(sts_signing_key, access_key_id)
        verify_any(
            secret, params, now, nonces, method=method, path=path, headers=headers, http=http
        )
        instance_roles.check_session(account, claims)
        return AuthenticatedRequest(Caller.role(claims.role_name), access_key_id, claims)
    user, key = account.find_access_key(access_key_id)
    verify_any(
        key.secret, params, now, nonces, method=method, path=path, headers=headers, http=http
    )
    return AuthenticatedRequest(Caller.user(user.user_name), access_key_id)
