"""An instance's password and its outbound TCP 25: ModifyInstanceAttribute (Password) and
ApplyTcp25Unblock.

ModifyInstanceAttribute with `Password` is ECS's password reset. The security guide (2 SSH key
pairs): binding a key pair turns password login off; a password reset after the binding turns it
on again, next to the key. Palisade never stores the password: it checks ECS's rules for it and
records only that password login is on again (the key-pair binding's `password_login_enabled`).
ECS applies the new password at the instance's next console restart; the model treats login as
re-enabled from the reset on (the stricter reading for the audit: password login is possible).

ApplyTcp25Unblock is Palisade's: ECS blocks outbound TCP 25 to the internet on every instance
and lifts the block only on an application made in the console ("TCP 25 端口控制台解封申请"),
which no public API exposes. The action records the application (the audit log keeps who asked,
when and the reason given) and lifts the block on the instance (`Instance.smtp_unblocked`): the
engine, `sg explain` and RenderNftables stop dropping TCP 25 egress for it.
"""

from __future__ import annotations

from palisade.auditor.api.actions.ecs.common import get_instance, instance_arn, instance_resource
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model.fleet.resources import InstanceState, OsFamily
from palisade.auditor.model.keypairs.service import binding_view

# ECS's ModifyInstanceAttribute: 8 to 30 characters, at least three of the four kinds.
PASSWORD_SPECIALS = frozenset("()`~!@#$%^&*-_+=|{}[]:;'<>,.?/")
_PASSWORD_RULE = (
    "The password must be 8 to 30 characters and contain at least three of: uppercase letters, "
    "lowercase letters, digits, special characters ()`~!@#$%^&*-_+=|{}[]:;'<>,.?/"
)
MAX_REASON = 256


def password_problem(password: str, windows: bool) -> str | None:
    """Why ECS would refuse `password`, or None when it is acceptable."""
    if not 8 <= len(password) <= 30:
        return _PASSWORD_RULE
    if any(not (c.isascii() and (c.isalnum() or c in PASSWORD_SPECIALS)) for c in password):
        return _PASSWORD_RULE
    kinds = (
        any(c.isupper() for c in password)
        + any(c.islower() for c in password)
        + any(c.isdigit() for c in password)
        + any(c in PASSWORD_SPECIALS for c in password)
    )
    if kinds < 3:
        return _PASSWORD_RULE
    if windows and password.startswith("/"):
        return "A Windows instance's password cannot start with a forward slash (/)."
    return None


def _login_view(ctx: ActionContext, instance_id: str) -> dict:
    view = binding_view(ctx.state.keypairs.binding(instance_id))
    return {"InstanceId": instance_id, "PasswordLoginEnabled": view["password_login_enabled"]}


@action(
    "ModifyInstanceAttribute",
    writes=True,
    resources=instance_resource,
    params=("InstanceId", "Password"),
)
def modify_instance_attribute(ctx: ActionContext, p: Params) -> dict:
    """Password: ECS's password reset (8 to 30 characters, three of upper case, lower case,
    digits, specials). Password login is on again next to a bound key pair; the password
    itself is never stored. Other attributes of ECS's action are not modelled."""
    instance = get_instance(ctx, p)
    password = p.str("Password")
    if password is None:
        return {}  # nothing else of the instance's attributes is modelled here
    problem = password_problem(password, instance.os_family is OsFamily.WINDOWS)
    if problem is not None:
        raise ApiError(
            "InvalidPassword.Malformed",
            f'The specified parameter "Password" is not valid. {problem}',
        )
    if instance.state is InstanceState.STARTING:
        raise ApiError(
            "IncorrectInstanceStatus",
            "The password cannot be reset while the instance is Starting.",
            403,
        )
    before = _login_view(ctx, instance.instance_id)
    ctx.state.keypairs.password_reset(instance.instance_id)
    ctx.record(instance_arn(instance), before, _login_view(ctx, instance.instance_id))
    return {}


def _smtp_view(instance, reason: str | None = None) -> dict:
    view = {"InstanceId": instance.instance_id, "Tcp25Unblocked": instance.smtp_unblocked}
    if reason is not None:
        view["Reason"] = reason
    return view


@action(
    "ApplyTcp25Unblock",
    writes=True,
    resources=instance_resource,
    params=("InstanceId", "Reason"),
)
def apply_tcp25_unblock(ctx: ActionContext, p: Params) -> dict:
    """Applies for the lifting of the platform's outbound TCP 25 block on one instance (Reason:
    what it sends mail for, kept in the audit log); granted at once in the model."""
    instance = get_instance(ctx, p)
    reason = (p.str("Reason") or "").strip()
    if not reason:
        raise ApiError(
            "MissingParameter.Reason",
            "An unblock application needs a Reason (what the instance sends mail for).",
        )
    if len(reason) > MAX_REASON:
        raise ApiError("InvalidReason.Malformed", f"The Reason is at most {MAX_REASON} characters.")
    before = _smtp_view(instance)
    if not instance.smtp_unblocked:
        ctx.state.cloud.set_smtp_unblocked(instance.instance_id)
    ctx.record(instance_arn(instance), before, _smtp_view(instance, reason))
    return {"InstanceId": instance.instance_id, "Tcp25Unblocked": True}
