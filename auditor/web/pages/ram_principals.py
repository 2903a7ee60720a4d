"""The RAM groups and roles page: groups with their members and policies, roles with their
trust policy and policies, and the forms that create and delete them, add and remove group
members and attach or detach policies. Each form runs the RAM API action of the same name."""

from __future__ import annotations

import json

from palisade.auditor.web.pages.common import api_or_forbidden, back_to, error_text, run_form
from palisade.auditor.web.pages.router import page

BACK = "/ui/ram/principals"
NAME = "([A-Za-z0-9._@-]{1,64})"
ECS_TRUST = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": ["ecs.aliyuncs.com"]},
            }
        ],
    },
    indent=2,
)


def _listed(body: dict, outer: str, inner: str) -> list:
    return body.get(outer, {}).get(inner, [])


@page("GET", "/ram/principals")
def principals(p):
    groups = _listed(api_or_forbidden(p, "ListGroups", MaxItems="1000"), "Groups", "Group")
    for group in groups[:200]:
        name = group["GroupName"]
        ok, members = p.call("ListUsersForGroup", GroupName=name)
        group["Users"] = [u["UserName"] for u in _listed(members, "Users", "User")] if ok else []
        ok, attached = p.call("ListPoliciesForGroup", GroupName=name)
        group["Policies"] = _listed(attached, "Policies", "Policy") if ok else []
    roles = _listed(api_or_forbidden(p, "ListRoles", MaxItems="1000"), "Roles", "Role")
    for role in roles[:200]:
        ok, attached = p.call("ListPoliciesForRole", RoleName=role["RoleName"])
        role["Policies"] = _listed(attached, "Policies", "Policy") if ok else []
    ok, users = p.call("ListUsers", MaxItems="1000")
    ok_policies, policies = p.call("ListPolicies", MaxItems="1000")
    arn = p.arn("ram", "*", "group/*")
    role_arn = p.arn("ram", "*", "role/*")
    return p.app.render(
        "ram_principals.html",
        p,
        p.lang,
        groups=groups,
        roles=roles,
        users=[u["UserName"] for u in _listed(users, "Users", "User")] if ok else [],
        policies=_listed(policies, "Policies", "Policy") if ok_policies else [],
        trust_template=ECS_TRUST,
        can_group=p.can("ram:CreateGroup", arn),
        can_delete_group=p.can("ram:DeleteGroup", arn),
        can_members=p.can("ram:AddUserToGroup", arn),
        can_role=p.can("ram:CreateRole", role_arn),
        can_delete_role=p.can("ram:DeleteRole", role_arn),
        can_attach=p.can("ram:AttachPolicyToGroup", arn)
        or p.can("ram:AttachPolicyToRole", role_arn),
        message=p.params.get("message", ""),
    )


@page("POST", "/ram/groups")
def create_group(p):
    name = p.form.get("name", "")
    return run_form(
        p, BACK, f"Group {name} created.", "CreateGroup",
        GroupName=name, Comments=p.form.get("comments") or None,
    )  # fmt: skip


@page("POST", f"/ram/groups/{NAME}/delete")
def delete_group(p, name: str):
    return run_form(p, BACK, f"Group {name} deleted.", "DeleteGroup", GroupName=name)


@page("POST", f"/ram/groups/{NAME}/(add|remove)")
def group_member(p, name: str, verb: str):
    user = p.form.get("user", "")
    action = "AddUserToGroup" if verb == "add" else "RemoveUserFromGroup"
    done = f"{user} {'added to' if verb == 'add' else 'removed from'} {name}."
    return run_form(p, BACK, done, action, GroupName=name, UserName=user)


@page("POST", "/ram/roles")
def create_role(p):
    name = p.form.get("name", "")
    ok, body = p.call(
        "CreateRole",
        RoleName=name,
        AssumeRolePolicyDocument=p.form.get("trust", ""),
        Description=p.form.get("description") or None,
    )
    return back_to(p, BACK, f"Role {name} created." if ok else error_text(body))


@page("POST", f"/ram/roles/{NAME}/delete")
def delete_role(p, name: str):
    return run_form(p, BACK, f"Role {name} deleted.", "DeleteRole", RoleName=name)


@page("POST", "/ram/principals/(attach|detach)")
def principal_policy(p, verb: str):
    """A policy to or from a group (`group:NAME`) or a role (`role:NAME`)."""
    kind, _, name = p.form.get("principal", "").partition(":")
    principal = {"group": ("Group", "GroupName"), "role": ("Role", "RoleName")}.get(kind)
    policy_type, _, policy = p.form.get("policy", "").partition(":")
    if principal is None:
        return back_to(p, BACK, "Choose a group or a role.")
    label, param = principal
    action = f"AttachPolicyTo{label}" if verb == "attach" else f"DetachPolicyFrom{label}"
    done = f"{policy} {verb}ed {'to' if verb == 'attach' else 'from'} {name}."
    return run_form(
        p, BACK, done, action, PolicyType=policy_type, PolicyName=policy, **{param: name}
    )
