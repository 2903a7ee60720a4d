"""RAM: users, console passwords, AccessKeys, groups, policies, roles (the RAM API's names).

Resources are RAM ARNs `acs:ram:*:<account>:user/<name>` (`group/`, `policy/`, `role/`). An
action that links two entities (a policy to a user, a user to a group) is authorised on both.
Secrets never reach the audit log: a console password is recorded as its flags only, a new
AccessKey as its id and status.
"""

from __future__ import annotations

from datetime import datetime

from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params, invalid, paginate
from palisade.auditor.api.registry import ActionContext, Resources, action
from palisade.auditor.model.ram import (
    SYSTEM_POLICIES,
    AccessKey,
    CustomPolicy,
    Group,
    LoginProfile,
    PolicySummary,
    PolicyType,
    PolicyVersion,
    RamAccount,
    RamError,
    Role,
    User,
    parse_policy,
    users_with_password_and_access_keys,
)
from palisade.auditor.model.ram.policies import MAX_POLICY_VERSIONS
from palisade.auditor.model.ram.signing import format_timestamp

ROTATE_STRATEGIES = ("None", "DeleteOldestNonDefaultVersionWhenLimitExceeded")


# ---- resources ----------------------------------------------------------------------------


def ram_arn(ctx: ActionContext, kind: str, name: str | None) -> str:
    return ctx.arn("ram", "*", f"{kind}/{name or '*'}")


def entity(*pairs: tuple[str, str]) -> Resources:
    """The ARNs of the entities named by parameters: `entity(("user", "UserName"), ...)`."""

    def arns(ctx: ActionContext, p: Params) -> list[str]:
        return [ram_arn(ctx, kind, p.str(param)) for kind, param in pairs]

    return arns


def access_key_owner(ctx: ActionContext, p: Params) -> list[str]:
    return [ram_arn(ctx, "user", key_user(ctx, p))]


def key_user(ctx: ActionContext, p: Params) -> str:
    """AccessKey actions without UserName act on the calling RAM user's own keys."""
    name = p.str("UserName")
    if name is not None:
        return name
    if ctx.caller.kind == "user":
        return ctx.caller.name
    raise ApiError(
        "MissingParameter.UserName",
        "UserName is required unless the caller is a RAM user acting on its own AccessKeys",
    )


# ---- response shapes ----------------------------------------------------------------------


def ts(moment: datetime | None) -> str | None:
    return None if moment is None else format_timestamp(moment)


def user_view(user: User) -> dict:
    return {
        "UserId": user.user_id,
        "UserName": user.user_name,
        "DisplayName": user.display_name,
        "Comments": user.comments,
        "CreateDate": ts(user.create_date),
    }


def login_profile_view(user_name: str, profile: LoginProfile) -> dict:
    # the password hash stays inside: nobody gets it back, not even the audit log
    return {
        "UserName": user_name,
        "PasswordResetRequired": profile.password_reset_required,
        "MFABindRequired": profile.mfa_bind_required,
        "CreateDate": ts(profile.create_date),
    }


def access_key_view(key: AccessKey) -> dict:
    return {
        "AccessKeyId": key.access_key_id,
        "Status": key.status.value,
        "CreateDate": ts(key.create_date),
    }


def group_view(group: Group) -> dict:
    return {
        "GroupName": group.group_name,
        "Comments": group.comments,
        "CreateDate": ts(group.create_date),
    }


def policy_view(summary: PolicySummary) -> dict:
    return {
        "PolicyName": summary.policy_name,
        "PolicyType": summary.policy_type.value,
        "Description": summary.description,
        "DefaultVersion": summary.default_version,
        "AttachmentCount": summary.attachment_count,
        "CreateDate": ts(summary.create_date),
    }


def custom_policy_view(policy: CustomPolicy) -> dict:
    return {
        "PolicyName": policy.policy_name,
        "PolicyType": PolicyType.CUSTOM.value,
        "Description": policy.description,
        "DefaultVersion": policy.default_version,
        "CreateDate": ts(policy.create_date),
    }


def version_view(version: PolicyVersion, default_version: str) -> dict:
    return {
        "VersionId": version.version_id,
        "IsDefaultVersion": version.version_id == default_version,
        "PolicyDocument": version.document_text,
        "CreateDate": ts(version.create_date),
    }


def role_view(role: Role) -> dict:
    return {
        "RoleId": role.role_id,
        "RoleName": role.role_name,
        "Arn": role.arn,
        "Description": role.description,
        "AssumeRolePolicyDocument": role.assume_role_policy_document,
        "MaxSessionDuration": role.max_session_duration,
        "CreateDate": ts(role.create_date),
    }


def marker_page(p: Params, items: list, key) -> tuple[list, dict]:
    """RAM's list paging: `MaxItems` (1..1000) and `Marker` (where the previous page ended)."""
    max_items = p.int("MaxItems", 100, minimum=1, maximum=1000)
    assert max_items is not None
    start = 0
    marker = p.str("Marker")
    if marker is not None:
        names = [key(item) for item in items]
        if marker not in names:
            raise invalid("Marker", "not a marker this list returned")
        start = names.index(marker)
    page = items[start : start + max_items]
    rest = items[start + max_items :]
    paging = {"IsTruncated": bool(rest)}
    if rest:
        paging["Marker"] = key(rest[0])
    return page, paging


def policy_type(p: Params) -> PolicyType:
    text = p.req("PolicyType")
    for kind in PolicyType:
        if text == kind.value:
            return kind
    raise ApiError(
        "InvalidParameter.PolicyType", f"PolicyType must be System or Custom, not {text[:40]!r}"
    )


def policy_resources(principal_kind: str, principal_param: str) -> Resources:
    return entity(("policy", "PolicyName"), (principal_kind, principal_param))


# ---- users --------------------------------------------------------------------------------


@action(
    "CreateUser",
    service="ram",
    writes=True,
    resources=entity(("user", "UserName")),
    params=("UserName", "DisplayName", "Comments"),
)
def create_user(ctx: ActionContext, p: Params) -> dict:
    user = ctx.state.ram.create_user(
        p.req("UserName"), ctx.now, p.str("DisplayName"), p.str("Comments", "") or ""
    )
    ctx.record(ram_arn(ctx, "user", user.user_name), None, user_view(user))
    return {"User": user_view(user)}


@action(
    "GetUser",
    service="ram",
    writes=False,
    resources=entity(("user", "UserName")),
    params=("UserName",),
)
def get_user(ctx: ActionContext, p: Params) -> dict:
    return {"User": user_view(ctx.state.ram.get_user(p.req("UserName")))}


@action(
    "UpdateUser",
    service="ram",
    writes=True,
    resources=entity(("user", "UserName")),
    params=("UserName", "NewUserName", "NewDisplayName", "NewComments"),
)
def update_user(ctx: ActionContext, p: Params) -> dict:
    name = p.req("UserName")
    ram = ctx.state.ram
    before = user_view(ram.get_user(name))
    new_name = p.str("NewUserName")
    if new_name is not None and new_name != name:
        # renaming makes a new resource: the caller must be allowed to have that name too
        ctx.state.ram.require(
            ctx.caller,
            "ram:UpdateUser",
            ram_arn(ctx, "user", new_name),
            ctx.request_context(),
            "Forbidden.RAM",
        )
    user = ram.update_user(name, new_name, p.str("NewDisplayName"), p.raw.get("NewComments"))
    ctx.record(ram_arn(ctx, "user", name), before, user_view(user))
    return {"User": user_view(user)}


@action(
    "DeleteUser",
    service="ram",
    writes=True,
    resources=entity(("user", "UserName")),
    params=("UserName",),
)
def delete_user(ctx: ActionContext, p: Params) -> dict:
    name = p.req("UserName")
    before = user_view(ctx.state.ram.get_user(name))
    ctx.state.ram.delete_user(name)
    ctx.record(ram_arn(ctx, "user", name), before, None)
    return {}


@action(
    "ListUsers",
    service="ram",
    writes=False,
    resources=lambda ctx, p: [ram_arn(ctx, "user", None)],
    params=("Marker", "MaxItems"),
)
def list_users(ctx: ActionContext, p: Params) -> dict:
    page, paging = marker_page(p, ctx.state.ram.list_users(), lambda u: u.user_name)
    return {**paging, "Users": {"User": [user_view(u) for u in page]}}


# ---- console passwords --------------------------------------------------------------------

LOGIN_PROFILE_PARAMS = ("UserName", "Password", "PasswordResetRequired", "MFABindRequired")


def optional_bool(p: Params, name: str) -> bool | None:
    return None if p.str(name) is None else p.bool(name)


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


# ---- AccessKeys ---------------------------------------------------------------------------


@action(
    "CreateAccessKey",
    service="ram",
    writes=True,
    resources=access_key_owner,
    params=("UserName",),
)
def create_access_key(ctx: ActionContext, p: Params) -> dict:
    name = key_user(ctx, p)
    key = ctx.state.ram.create_access_key(name, ctx.now)
    stored = ctx.state.ram.get_user(name).access_keys[key.access_key_id]
    ctx.record(ram_arn(ctx, "user", name) + "/accesskey", None, access_key_view(stored))
    # the only time the secret leaves the auditor
    return {
        "AccessKey": {
            "AccessKeyId": key.access_key_id,
            "AccessKeySecret": key.access_key_secret,
            "Status": key.status.value,
            "CreateDate": ts(key.create_date),
        }
    }


@action(
    "ListAccessKeys",
    service="ram",
    writes=False,
    resources=access_key_owner,
    params=("UserName",),
)
def list_access_keys(ctx: ActionContext, p: Params) -> dict:
    keys = ctx.state.ram.list_access_keys(key_user(ctx, p))
    return {"AccessKeys": {"AccessKey": [access_key_view(k) for k in keys]}}


def user_key(ram: RamAccount, user_name: str, key_id: str) -> AccessKey:
    for key in ram.list_access_keys(user_name):
        if key.access_key_id == key_id:
            return key
    raise RamError(
        "EntityNotExist.User.AccessKey", f"the user {user_name} has no AccessKey {key_id[:64]}"
    )


@action(
    "UpdateAccessKey",
    service="ram",
    writes=True,
    resources=access_key_owner,
    params=("UserName", "UserAccessKeyId", "Status"),
)
def update_access_key(ctx: ActionContext, p: Params) -> dict:
    name = key_user(ctx, p)
    key_id = p.req("UserAccessKeyId")
    status = p.req("Status")
    ram = ctx.state.ram
    before = access_key_view(user_key(ram, name, key_id))
    key = ram.update_access_key(name, key_id, status)
    ctx.record(ram_arn(ctx, "user", name) + "/accesskey", before, access_key_view(key))
    return {}


@action(
    "DeleteAccessKey",
    service="ram",
    writes=True,
    resources=access_key_owner,
    params=("UserName", "UserAccessKeyId"),
)
def delete_access_key(ctx: ActionContext, p: Params) -> dict:
    name = key_user(ctx, p)
    key_id = p.req("UserAccessKeyId")
    ram = ctx.state.ram
    before = access_key_view(user_key(ram, name, key_id))
    ram.delete_access_key(name, key_id)
    ctx.record(ram_arn(ctx, "user", name) + "/accesskey", before, None)
    return {}


# ---- groups -------------------------------------------------------------------------------


@action(
    "CreateGroup",
    service="ram",
    writes=True,
    resources=entity(("group", "GroupName")),
    params=("GroupName", "Comments"),
)
def create_group(ctx: ActionContext, p: Params) -> dict:
    group = ctx.state.ram.create_group(p.req("GroupName"), ctx.now, p.str("Comments", "") or "")
    ctx.record(ram_arn(ctx, "group", group.group_name), None, group_view(group))
    return {"Group": group_view(group)}


@action(
    "GetGroup",
    service="ram",
    writes=False,
    resources=entity(("group", "GroupName")),
    params=("GroupName",),
)
def get_group(ctx: ActionContext, p: Params) -> dict:
    return {"Group": group_view(ctx.state.ram.get_group(p.req("GroupName")))}


@action(
    "ListGroups",
    service="ram",
    writes=False,
    resources=lambda ctx, p: [ram_arn(ctx, "group", None)],
    params=("Marker", "MaxItems"),
)
def list_groups(ctx: ActionContext, p: Params) -> dict:
    page, paging = marker_page(p, ctx.state.ram.list_groups(), lambda g: g.group_name)
    return {**paging, "Groups": {"Group": [group_view(g) for g in page]}}


@action(
    "DeleteGroup",
    service="ram",
    writes=True,
    resources=entity(("group", "GroupName")),
    params=("GroupName",),
)
def delete_group(ctx: ActionContext, p: Params) -> dict:
    name = p.req("GroupName")
    before = group_view(ctx.state.ram.get_group(name))
    ctx.state.ram.delete_group(name)
    ctx.record(ram_arn(ctx, "group", name), before, None)
    return {}


@action(
    "AddUserToGroup",
    service="ram",
    writes=True,
    resources=entity(("group", "GroupName"), ("user", "UserName")),
    params=("UserName", "GroupName"),
)
def add_user_to_group(ctx: ActionContext, p: Params) -> dict:
    user, group = p.req("UserName"), p.req("GroupName")
    ctx.state.ram.add_user_to_group(user, group)
    ctx.record(ram_arn(ctx, "group", group), None, {"Member": user})
    return {}


@action(
    "RemoveUserFromGroup",
    service="ram",
    writes=True,
    resources=entity(("group", "GroupName"), ("user", "UserName")),
    params=("UserName", "GroupName"),
)
def remove_user_from_group(ctx: ActionContext, p: Params) -> dict:
    user, group = p.req("UserName"), p.req("GroupName")
    ctx.state.ram.remove_user_from_group(user, group)
    ctx.record(ram_arn(ctx, "group", group), {"Member": user}, None)
    return {}


@action(
    "ListGroupsForUser",
    service="ram",
    writes=False,
    resources=entity(("user", "UserName")),
    params=("UserName",),
)
def list_groups_for_user(ctx: ActionContext, p: Params) -> dict:
    groups = ctx.state.ram.list_groups_for_user(p.req("UserName"))
    return {"Groups": {"Group": [group_view(g) for g in groups]}}


@action(
    "ListUsersForGroup",
    service="ram",
    writes=False,
    resources=entity(("group", "GroupName")),
    params=("GroupName", "Marker", "MaxItems"),
)
def list_users_for_group(ctx: ActionContext, p: Params) -> dict:
    users = ctx.state.ram.list_users_for_group(p.req("GroupName"))
    page, paging = marker_page(p, users, lambda u: u.user_name)
    return {
        **paging,
        "Users": {"User": [{"UserName": u.user_name, "DisplayName": u.display_name} for u in page]},
    }


# ---- policies -----------------------------------------------------------------------------


@action(
    "CreatePolicy",
    service="ram",
    writes=True,
    resources=entity(("policy", "PolicyName")),
    params=("PolicyName", "PolicyDocument", "Description"),
)
def create_policy(ctx: ActionContext, p: Params) -> dict:
    policy = ctx.state.ram.create_policy(
        p.req("PolicyName"), p.req("PolicyDocument"), ctx.now, p.str("Description", "") or ""
    )
    view = custom_policy_view(policy)
    ctx.record(
        ram_arn(ctx, "policy", policy.policy_name),
        None,
        {**view, "PolicyDocument": policy.default.document_text},
    )
    return {"Policy": view}


@action(
    "GetPolicy",
    service="ram",
    writes=False,
    resources=entity(("policy", "PolicyName")),
    params=("PolicyName", "PolicyType"),
)
def get_policy(ctx: ActionContext, p: Params) -> dict:
    name, kind = p.req("PolicyName"), policy_type(p)
    summary = ctx.state.ram.get_policy(name, kind)
    out = {"Policy": {**policy_view(summary), "PolicyDocument": summary.document_text}}
    if kind is PolicyType.CUSTOM:
        policy = ctx.state.ram.policies[name]
        out["DefaultPolicyVersion"] = version_view(policy.default, policy.default_version)
    else:
        out["DefaultPolicyVersion"] = {
            "VersionId": "v1",
            "IsDefaultVersion": True,
            "PolicyDocument": SYSTEM_POLICIES[name].document_text,
        }
    return out


@action(
    "ListPolicies",
    service="ram",
    writes=False,
    resources=lambda ctx, p: [ram_arn(ctx, "policy", None)],
    params=("PolicyType", "Marker", "MaxItems"),
)
def list_policies(ctx: ActionContext, p: Params) -> dict:
    kind = policy_type(p) if p.str("PolicyType") is not None else None
    summaries = ctx.state.ram.list_policies(kind)
    page, paging = marker_page(p, summaries, lambda s: f"{s.policy_type.value}:{s.policy_name}")
    return {**paging, "Policies": {"Policy": [policy_view(s) for s in page]}}


@action(
    "DeletePolicy",
    service="ram",
    writes=True,
    resources=entity(("policy", "PolicyName")),
    params=("PolicyName",),
)
def delete_policy(ctx: ActionContext, p: Params) -> dict:
    name = p.req("PolicyName")
    ram = ctx.state.ram
    before = policy_view(ram.get_policy(name, PolicyType.CUSTOM))
    ram.delete_policy(name)
    ctx.record(ram_arn(ctx, "policy", name), before, None)
    return {}


@action(
    "CreatePolicyVersion",
    service="ram",
    writes=True,
    resources=entity(("policy", "PolicyName")),
    params=("PolicyName", "PolicyDocument", "SetAsDefault", "RotateStrategy"),
)
def create_policy_version(ctx: ActionContext, p: Params) -> dict:
    name, text = p.req("PolicyName"), p.req("PolicyDocument")
    set_as_default = p.bool("SetAsDefault")
    strategy = p.str("RotateStrategy", "None")
    if strategy not in ROTATE_STRATEGIES:
        raise invalid("RotateStrategy", f"must be one of {', '.join(ROTATE_STRATEGIES)}")
    ram = ctx.state.ram
    ram.get_policy(name, PolicyType.CUSTOM)  # EntityNotExist.Policy before anything else
    policy = ram.policies[name]
    parse_policy(text)  # refuse a bad document before any old version is rotated out
    if strategy != "None" and len(policy.versions) >= MAX_POLICY_VERSIONS:
        oldest = next(v for v in policy.versions if v != policy.default_version)
        ram.delete_policy_version(name, oldest)
        ctx.record(ram_arn(ctx, "policy", name) + f"/version/{oldest}", {"VersionId": oldest}, None)
    before_default = policy.default_version
    version = ram.create_policy_version(name, text, ctx.now, set_as_default)
    view = version_view(version, policy.default_version)
    ctx.record(
        ram_arn(ctx, "policy", name) + f"/version/{version.version_id}",
        None,
        {**view, "PreviousDefaultVersion": before_default},
    )
    return {"PolicyVersion": view}


ATTACH_PARAMS = {"User": "UserName", "Group": "GroupName", "Role": "RoleName"}


def _register_attachments(principal: str) -> None:
    param = ATTACH_PARAMS[principal]
    kind = principal.lower()
    attach = getattr(RamAccount, f"attach_policy_to_{kind}")
    detach = getattr(RamAccount, f"detach_policy_from_{kind}")
    listing = getattr(RamAccount, f"list_policies_for_{kind}")

    def attach_handler(ctx: ActionContext, p: Params) -> dict:
        kind_value, name, who = policy_type(p), p.req("PolicyName"), p.req(param)
        attach(ctx.state.ram, kind_value, name, who)
        ctx.record(
            ram_arn(ctx, kind, who), None, {"PolicyType": kind_value.value, "PolicyName": name}
        )
        return {}

    def detach_handler(ctx: ActionContext, p: Params) -> dict:
        kind_value, name, who = policy_type(p), p.req("PolicyName"), p.req(param)
        detach(ctx.state.ram, kind_value, name, who)
        ctx.record(
            ram_arn(ctx, kind, who), {"PolicyType": kind_value.value, "PolicyName": name}, None
        )
        return {}

    def list_handler(ctx: ActionContext, p: Params) -> dict:
        summaries = listing(ctx.state.ram, p.req(param))
        return {"Policies": {"Policy": [policy_view(s) for s in summaries]}}

    params = ("PolicyType", "PolicyName", param)
    resources = policy_resources(kind, param)
    action(
        f"AttachPolicyTo{principal}", service="ram", writes=True, resources=resources, params=params
    )(attach_handler)
    action(
        f"DetachPolicyFrom{principal}",
        service="ram",
        writes=True,
        resources=resources,
        params=params,
    )(detach_handler)
    action(
        f"ListPoliciesFor{principal}",
        service="ram",
        writes=False,
        resources=entity((kind, param)),
        params=(param,),
    )(list_handler)


for _principal in ATTACH_PARAMS:
    _register_attachments(_principal)


# ---- roles --------------------------------------------------------------------------------


@action(
    "CreateRole",
    service="ram",
    writes=True,
    resources=entity(("role", "RoleName")),
    params=("RoleName", "AssumeRolePolicyDocument", "Description", "MaxSessionDuration"),
)
def create_role(ctx: ActionContext, p: Params) -> dict:
    duration = p.int("MaxSessionDuration", 3600, minimum=0, maximum=10**6)
    assert duration is not None
    role = ctx.state.ram.create_role(
        p.req("RoleName"),
        p.req("AssumeRolePolicyDocument"),
        ctx.now,
        p.str("Description", "") or "",
        duration,
    )
    ctx.record(ram_arn(ctx, "role", role.role_name), None, role_view(role))
    return {"Role": role_view(role)}


@action(
    "GetRole",
    service="ram",
    writes=False,
    resources=entity(("role", "RoleName")),
    params=("RoleName",),
)
def get_role(ctx: ActionContext, p: Params) -> dict:
    return {"Role": role_view(ctx.state.ram.get_role(p.req("RoleName")))}


@action(
    "ListRoles",
    service="ram",
    writes=False,
    resources=lambda ctx, p: [ram_arn(ctx, "role", None)],
    params=("Marker", "MaxItems"),
)
def list_roles(ctx: ActionContext, p: Params) -> dict:
    page, paging = marker_page(p, ctx.state.ram.list_roles(), lambda r: r.role_name)
    return {**paging, "Roles": {"Role": [role_view(r) for r in page]}}


@action(
    "DeleteRole",
    service="ram",
    writes=True,
    resources=entity(("role", "RoleName")),
    params=("RoleName",),
)
def delete_role(ctx: ActionContext, p: Params) -> dict:
    name = p.req("RoleName")
    before = role_view(ctx.state.ram.get_role(name))
    ctx.state.ram.delete_role(name)
    ctx.record(ram_arn(ctx, "role", name), before, None)
    # instances that had it lose it now: their next credential refresh is refused
    for instance_id in ctx.state.instance_roles.forget_role(name):
        instance = ctx.state.cloud.instances.get(instance_id)
        region = instance.region_id if instance is not None else "*"
        ctx.record(ctx.arn("ecs", region, f"instance/{instance_id}"), {"RamRoleName": name}, None)
    return {}


# ---- findings -----------------------------------------------------------------------------


@action(
    "ListRamFindings",
    service="ram",
    writes=False,
    resources=lambda ctx, p: [ram_arn(ctx, "user", None)],
    params=("PageNumber", "PageSize"),
)
def list_ram_findings(ctx: ActionContext, p: Params) -> dict:
    """RAM hygiene the seed advises on: users with both a console password and AccessKeys."""
    findings = users_with_password_and_access_keys(ctx.state.ram)
    number, size = p.page(default_size=50)
    return {
        "TotalCount": len(findings),
        "PageNumber": number,
        "PageSize": size,
        "Findings": {
            "Finding": [
                {
                    "FindingType": "UserHasPasswordAndAccessKey",
                    "Resource": ram_arn(ctx, "user", f.user_name),
                    "UserName": f.user_name,
                    "AccessKeyIds": {"AccessKeyId": list(f.access_key_ids)},
                    "Advice": f.advice,
                }
                for f in paginate(findings, number, size)
            ]
        },
    }
