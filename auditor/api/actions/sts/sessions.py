"""STS's AssumeRole (temporary credentials for a role whose trust policy names the caller)
and GetCallerIdentity (who the credentials belong to), with the answers the official STS
SDK (alibabacloud-sts20150401) reads."""

from __future__ import annotations

from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params, invalid
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model.ram import issue_role_credentials
from palisade.auditor.model.ram.policy_language import Effect
from palisade.auditor.model.ram.signing import format_timestamp
from palisade.auditor.model.ram.sts import ASSUMED_SESSION
from palisade.auditor.model.ram.wildcard import wildcard_match

SERVICE = "sts"
DEFAULT_DURATION = 3600
_SESSION_NAME_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.@-_"
)


def _caller_arn(ctx: ActionContext) -> str:
    caller = ctx.caller
    if caller.kind == "root":
        return f"acs:ram::{ctx.account_id}:root"
    return f"acs:ram::{ctx.account_id}:{caller.kind}/{caller.name}"


def _role_name(ctx: ActionContext, arn: str) -> str:
    prefix = f"acs:ram::{ctx.account_id}:role/"
    if not arn.lower().startswith(prefix.lower()) or len(arn) == len(prefix):
        raise invalid("RoleArn", f"not a role of the account {ctx.account_id}: {arn[:128]!r}")
    return arn[len(prefix) :]


def _trusts(ctx: ActionContext, trust) -> bool:
    """Whether the trust policy lets the caller assume the role: an Allow naming the account
    (`:root`) or the caller, and no Deny; a statement with conditions counts for a Deny
    only (the cautious reading, as for service principals)."""
    mine = _caller_arn(ctx)
    account = f"acs:ram::{ctx.account_id}:root"
    allowed = False
    for statement in trust.statements:
        principal = statement.principal
        if principal is None or not statement.matches_action("sts:AssumeRole"):
            continue
        named = any(
            wildcard_match(p, mine, ignore_case=True)
            or wildcard_match(p, account, ignore_case=True)
            for p in principal.ram
        )
        if not named:
            continue
        if statement.effect is Effect.DENY:
            return False
        if not statement.conditions:
            allowed = True
    return allowed


@action(
    "AssumeRole",
    service=SERVICE,
    writes=False,
    resources=lambda ctx, p: [p.req("RoleArn")],
    params=("RoleArn", "RoleSessionName", "DurationSeconds", "Policy", "ExternalId"),
)
def assume_role(ctx: ActionContext, p: Params) -> dict:
    role = ctx.state.ram.get_role(_role_name(ctx, p.req("RoleArn")))
    session = p.req("RoleSessionName")
    if not 2 <= len(session) <= 64 or not set(session) <= _SESSION_NAME_CHARS:
        raise invalid("RoleSessionName", "2 to 64 of A-Z a-z 0-9 . @ - _")
    if p.str("Policy") is not None or p.str("ExternalId") is not None:
        raise ApiError(
            "InvalidParameter.NotSupported",
            "Palisade's STS does not take a session Policy or an ExternalId",
        )
    duration = p.int("DurationSeconds", DEFAULT_DURATION, minimum=900, maximum=43200)
    assert duration is not None
    if duration > max(role.max_session_duration, DEFAULT_DURATION):
        raise invalid(
            "DurationSeconds", f"at most the role's MaxSessionDuration {role.max_session_duration}"
        )
    if not _trusts(ctx, role.trust):
        raise ApiError(
            "NoPermission",
            f"You are not authorized to assume the role {role.arn}: its trust policy does not "
            f"name {_caller_arn(ctx)}",
            403,
        )
    credentials = issue_role_credentials(
        role,
        ctx.now,
        duration,
        signing_key=ctx.state.sts_signing_key,
        session_name=session,
        kind=ASSUMED_SESSION,  # revoked with the role, not with an instance binding
    )
    return {
        "AssumedRoleUser": {
            "Arn": f"{role.arn}/{session}",
            "AssumedRoleId": f"{role.role_id}:{session}",
        },
        "Credentials": {
            "AccessKeyId": credentials.access_key_id,
            "AccessKeySecret": credentials.access_key_secret,
            "SecurityToken": credentials.security_token,
            "Expiration": format_timestamp(credentials.expiration),
        },
    }


@action("GetCallerIdentity", service=SERVICE, writes=False, resources=lambda ctx, p: [])
def get_caller_identity(ctx: ActionContext, p: Params) -> dict:
    caller = ctx.caller
    answer = {"AccountId": ctx.account_id, "Arn": _caller_arn(ctx)}
    if caller.kind == "root":
        return {**answer, "IdentityType": "Account", "PrincipalId": ctx.account_id}
    if caller.kind == "user":
        user = ctx.state.ram.get_user(caller.name)
        return {
            **answer,
            "IdentityType": "RAMUser",
            "UserId": user.user_id,
            "PrincipalId": user.user_id,
        }
    role = ctx.state.ram.get_role(caller.name)
    return {
        **answer,
        "IdentityType": "AssumedRoleUser",
        "RoleId": role.role_id,
        "PrincipalId": role.role_id,
    }
