"""RAM as the cloud has it, applied through the API actions (the same `api(action, params)`
as `palisade apply`): users, groups, custom policies (a changed document becomes a new
default version), roles (a changed trust policy, description or longest session: UpdateRole),
group members and policy attachments, both ways: a member the cloud removed from a group is
removed (RemoveUserFromGroup), a policy the cloud detached is detached (DetachPolicyFrom...).
Entities the model has and the cloud has not are reported in the notes, not deleted (the
auditor's own operators may be among them)."""

from __future__ import annotations

from palisade.auditor.fleetspec.apply import Api, ApplyResult, Change
from palisade.auditor.sync.reader import RamSpec

PRINCIPAL_PARAM = {"User": "UserName", "Group": "GroupName", "Role": "RoleName"}


def _all(api: Api, action: str, outer: str, inner: str, **params: str) -> list[dict]:
    out: list[dict] = []
    marker = None
    while True:
        query = {**params, "MaxItems": "100", **({"Marker": marker} if marker else {})}
        body = api(action, query)
        out.extend((body.get(outer) or {}).get(inner) or [])
        if not body.get("IsTruncated") or not body.get("Marker"):
            return out
        marker = body["Marker"]


def apply_ram(spec: RamSpec, api: Api, result: ApplyResult) -> None:
    def change(action: str, resource: str, detail: str = "") -> None:
        result.changes.append(Change(action, resource, detail))

    users = {u["UserName"]: u for u in _all(api, "ListUsers", "Users", "User")}
    for name, (display, comments) in sorted(spec.users.items()):
        have = users.get(name)
        if have is None:
            api("CreateUser", {"UserName": name, "DisplayName": display, "Comments": comments})
            change("CreateUser", name)
        elif (have.get("DisplayName") or "", have.get("Comments") or "") != (display, comments):
            api(
                "UpdateUser",
                {"UserName": name, "NewDisplayName": display, "NewComments": comments},
            )
            change("UpdateUser", name)
    groups = {g["GroupName"] for g in _all(api, "ListGroups", "Groups", "Group")}
    for name, comments in sorted(spec.groups.items()):
        if name not in groups:
            api("CreateGroup", {"GroupName": name, "Comments": comments})
            change("CreateGroup", name)
    policies = {
        p["PolicyName"]
        for p in _all(api, "ListPolicies", "Policies", "Policy", PolicyType="Custom")
    }
    for name, policy in sorted(spec.policies.items()):
        if name not in policies:
            api(
                "CreatePolicy",
                {
                    "PolicyName": name,
                    "PolicyDocument": policy.document,
                    "Description": policy.description,
                },
            )
            change("CreatePolicy", name)
            continue
        body = api("GetPolicy", {"PolicyName": name, "PolicyType": "Custom"})
        if body["DefaultPolicyVersion"]["PolicyDocument"] != policy.document:
            api(
                "CreatePolicyVersion",
                {
                    "PolicyName": name,
                    "PolicyDocument": policy.document,
                    "SetAsDefault": "true",
                    "RotateStrategy": "DeleteOldestNonDefaultVersionWhenLimitExceeded",
                },
            )
            change("CreatePolicyVersion", name, "the cloud's document is the default")
    roles = {r["RoleName"]: r for r in _all(api, "ListRoles", "Roles", "Role")}
    for name, role in sorted(spec.roles.items()):
        if name not in roles:
            api(
                "CreateRole",
                {
                    "RoleName": name,
                    "AssumeRolePolicyDocument": role.trust_policy,
                    "Description": role.description,
                    "MaxSessionDuration": str(role.max_session_duration),
                },
            )
            change("CreateRole", name)
        else:
            have = api("GetRole", {"RoleName": name})["Role"]
            updates = {}
            if have.get("AssumeRolePolicyDocument") != role.trust_policy:
                updates["NewAssumeRolePolicyDocument"] = role.trust_policy
            if (have.get("Description") or "") != role.description:
                updates["NewDescription"] = role.description
            if int(have.get("MaxSessionDuration") or 3600) != role.max_session_duration:
                updates["NewMaxSessionDuration"] = str(role.max_session_duration)
            if updates:
                api("UpdateRole", {"RoleName": name, **updates})
                what = {
                    "NewAssumeRolePolicyDocument": "trust policy",
                    "NewDescription": "description",
                    "NewMaxSessionDuration": "longest session",
                }
                change("UpdateRole", name, ", ".join(what[k] for k in updates))
    for name in sorted(spec.users):
        body = api("ListGroupsForUser", {"UserName": name})
        have_groups = {g["GroupName"] for g in body["Groups"]["Group"]}
        want = {g for g, u in spec.members if u == name}
        for g in sorted(want - have_groups):
            api("AddUserToGroup", {"UserName": name, "GroupName": g})
            change("AddUserToGroup", name, g)
        for g in sorted(have_groups - want):
            api("RemoveUserFromGroup", {"UserName": name, "GroupName": g})
            change("RemoveUserFromGroup", name, g)
    principals = [
        *(("User", n) for n in sorted(spec.users)),
        *(("Group", n) for n in sorted(spec.groups)),
        *(("Role", n) for n in sorted(spec.roles)),
    ]
    for kind, name in principals:
        param = PRINCIPAL_PARAM[kind]
        body = api(f"ListPoliciesFor{kind}", {param: name})
        have = {(p["PolicyType"], p["PolicyName"]) for p in body["Policies"]["Policy"]}
        want = {(t, p) for k, n, t, p in spec.attachments if (k, n) == (kind, name)}
        for kind_value, policy in sorted(want - have):
            api(
                f"AttachPolicyTo{kind}",
                {param: name, "PolicyType": kind_value, "PolicyName": policy},
            )
            change(f"AttachPolicyTo{kind}", name, f"{kind_value}:{policy}")
        for kind_value, policy in sorted(have - want):
            api(
                f"DetachPolicyFrom{kind}",
                {param: name, "PolicyType": kind_value, "PolicyName": policy},
            )
            change(f"DetachPolicyFrom{kind}", name, f"{kind_value}:{policy}")
    for label, have_names, want_names in (
        ("user", set(users), set(spec.users)),
        ("group", groups, set(spec.groups)),
        ("policy", policies, set(spec.policies)),
        ("role", set(roles), set(spec.roles)),
    ):
        for extra in sorted(have_names - want_names):
            result.notes.append(f"RAM {label} {extra} is not in the cloud (kept)")
