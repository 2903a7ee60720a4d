"""Console passwords (RAM login profiles): CreateLoginProfile, UpdateLoginProfile,
GetLoginProfile, DeleteLoginProfile.

The password never reaches the audit log: a login profile is recorded as its flags only, and
a changed password as `PasswordChanged`.
"""

from __future__ import annotations

from palisade.auditor.api.actions.ram.common import entity, ram_arn, ts
from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model.ram import LoginProfile

LOGIN_PROFILE_PARAMS = ("UserName", "Password", "PasswordResetRequired", "MFABindRequired")


def optional_bool(p: Params, name: str) -> bool | None:
    return None if p.str(name) is None else p.bool(name)


def login_profile_view(user_name: str, profile: LoginProfile) -> dict:
    # the password hash stays inside: nobody gets it back, not even the audit log
    return {
        "UserName": user_name,
        "PasswordResetRequired": profile.password_reset_required,
        "MFABindRequired": profile.mfa_bind_required,
        "CreateDate": ts(profile.create_date),
    }


@action(
    "CreateLoginProfile",
    service="ram",
    writes=True,
    resources=entity(("user", "UserName")),
    params=LOGIN_PROFILE_PARAMS,
)
def create_login_profile(ctx: ActionContext, p: Params) -> dict:
    name = p.req("UserName")
    profile = ctx.state.ram.create_login_profile(
        name,
        p.req("Password"),
        ctx.now,
        p.bool("PasswordResetRequired"),
        p.bool("MFABindRequired"),
    )
    view = login_profile_view(name, profile)
    ctx.record(ram_arn(ctx, "user", name) + "/loginprofile", None, view)
    return {"LoginProfile": view}


@action(
    "UpdateLoginProfile",
    service="ram",
    writes=True,
    resources=entity(("user", "UserName")),
    params=LOGIN_PROFILE_PARAMS,
)
def update_login_profile(ctx: ActionContext, p: Params) -> dict:
    name = p.req("UserName")
    ram = ctx.state.ram
    before = login_profile_view(name, ram.get_login_profile(name))
    password = p.str("Password")
    reset = optional_bool(p, "PasswordResetRequired")
    mfa = optional_bool(p, "MFABindRequired")
    profile = ram.update_login_profile(name, password, reset, mfa)
    after = login_profile_view(name, profile)
    if password is not None:
        after["PasswordChanged"] = True  # that it changed, never what it is
    ctx.record(ram_arn(ctx, "user", name) + "/loginprofile", before, after)
    return {}


@action(
    "GetLoginProfile",
    service="ram",
    writes=False,
    resources=entity(("user", "UserName")),
    params=("UserName",),
)
def get_login_profile(ctx: ActionContext, p: Params) -> dict:
    name = p.req("UserName")
    return {"LoginProfile": login_profile_view(name, ctx.state.ram.get_login_profile(name))}


@action(
    "DeleteLoginProfile",
    service="ram",
    writes=True,
    resources=entity(("user", "UserName")),
    params=("UserName",),
)
def delete_login_profile(ctx: ActionContext, p: Params) -> dict:
    name = p.req("UserName")
    before = login_profile_view(name, ctx.state.ram.get_login_profile(name))
    ctx.state.ram.delete_login_profile(name)
    ctx.record(ram_arn(ctx, "user", name) + "/loginprofile", before, None)
    return {}
