"""ECS-style API errors: a stable `Code`, a `Message` that says what to change, an HTTP status."""

from __future__ import annotations

from typing import TYPE_CHECKING

from palisade.auditor.model.errors import ModelError

if TYPE_CHECKING:
    from palisade.auditor.model.ram import Caller
    from palisade.auditor.model.ram.evaluation import Decision


class ApiError(ModelError):
    def __init__(self, code: str, message: str, status: int = 400, fields: dict | None = None):
        super().__init__(code, message)
        self.status = status
        self.fields = fields or {}  # more of the error body, e.g. AccessDeniedDetail


def http_status(error: ModelError) -> int:
    """The HTTP status the ECS API uses for a code."""
    if isinstance(error, ApiError):
        return error.status
    code = error.code
    if code.startswith("Forbidden") or code in ("NoPermission", "NotAuthorized"):
        return 403
    if code.endswith((".NotFound", "NotFound")) or code.startswith("EntityNotExist"):
        return 404
    return 400


def access_denied(caller: Caller, decision: Decision, account_id: str, who: str) -> ApiError:
    """RAM's refusal of an action, with the `AccessDeniedDetail` RAM answers alongside
    Code and Message: the action checked, who asked (type, name, owning account) and whether
    a Deny statement or the lack of an Allow refused it. RAM also sends an
    EncodedDiagnosticMessage for ram:DecodeDiagnosticMessage; Palisade has no such action,
    so it is left out rather than sent undecodable."""
    detail = {
        "AuthAction": decision.action,
        "AuthPrincipalType": _PRINCIPAL_TYPES.get(caller.kind, caller.kind),
        "AuthPrincipalDisplayName": caller.name or account_id,
        "AuthPrincipalOwnerId": account_id,
        "NoPermissionType": decision.reason.value,  # ExplicitDeny / ImplicitDeny
        "PolicyType": "AccountLevelIdentityBasedPolicy",
    }
    return ApiError(
        "Forbidden.RAM",
        f"{who} is not authorised: {decision.message()}",
        403,
        {"AccessDeniedDetail": detail},
    )


# RAM's names for the kinds of caller it refuses (a role session is an AssumedRoleUser).
_PRINCIPAL_TYPES = {"user": "SubUser", "role": "AssumedRoleUser", "root": "Account"}
