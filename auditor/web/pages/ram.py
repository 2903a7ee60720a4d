"""The RAM page: users (with their policies and whether they may log in to the console) and
custom policies, and the forms that create a user with a console password, create a policy
(the parser's error, with its position, is shown over the document kept as typed), attach or
detach a policy, and delete a user. Every form runs the RAM API action of the same name."""

from __future__ import annotations

from palisade.auditor.web.pages.common import (
    api_or_forbidden,
    back_to,
    error_text,
    natural_key,
    paged,
)
from palisade.auditor.web.pages.router import page

BACK = "/ui/ram"
POLICY_TEMPLATE = """{
  "Version": "1",
  "Statement": [
    {"Effect": "Allow", "Action": ["ecs:Describe*"], "Resource": "*"}
  ]
}"""


def _render(p, status: int = 200, **form_state):
    body = api_or_forbidden(p, "ListUsers", MaxItems="1000")
    users = sorted(body.get("Users", {}).get("User", []), key=lambda u: natural_key(u["UserName"]))
    shown, number, pages = paged(p, users)
    ram = p.state.ram
    for user in shown:
        ok, attached = p.call("ListPoliciesForUser", UserName=user["UserName"])
        user["Policies"] = attached.get("Policies", {}).get("Policy", []) if ok else []
        found = ram.users.get(user["UserName"])
        user["Console"] = bool(found and found.login_profile)
        ok, keys = p.call("ListAccessKeys", UserName=user["UserName"])
        user["AccessKeys"] = keys.get("AccessKeys", {}).get("AccessKey", []) if ok else []
    listed = api_or_forbidden(p, "ListPolicies", MaxItems="1000")
    every = sorted(
        listed.get("Policies", {}).get("Policy", []),
        key=lambda q: (q["PolicyType"] != "Custom", natural_key(q["PolicyName"])),
    )
    arn = p.arn("ram", "*", "user/*")
    return p.app.render(
        "ram.html",
        p,
        p.lang,
        status,
        users=shown,
        number=number,
        pages=pages,
        total=len(users),
        policies=[q for q in every if q["PolicyType"] == "Custom"],
        every_policy=every,
        policy_document=form_state.get("policy_document", POLICY_TEMPLATE),
        policy_name=form_state.get("policy_name", ""),
        policy_error=form_state.get("policy_error", ""),
        new_key=form_state.get("new_key"),
        can_keys=p.can("ram:CreateAccessKey", arn),
        can_change_keys=p.can("ram:UpdateAccessKey", arn),
        can_delete_keys=p.can("ram:DeleteAccessKey", arn),
        can_create_user=p.can("ram:CreateUser", arn),
        can_delete_user=p.can("ram:DeleteUser", arn),
        can_create_policy=p.can("ram:CreatePolicy", p.arn("ram", "*", "policy/*")),
        can_attach=p.can("ram:AttachPolicyToUser", arn),
        message=p.params.get("message", ""),
    )


@page("GET", "/ram")
def ram_page(p):
    return _render(p)


@page("POST", "/ram/users")
def create_user(p):
    """The user, then (when a password is given) its console login: two API actions, as
    `palisade api CreateUser` and `CreateLoginProfile` would run them."""
    name = p.form.get("name", "")
    ok, body = p.call(
        "CreateUser",
        UserName=name,
        DisplayName=p.form.get("display_name") or None,
        Comments=p.form.get("comments") or None,
    )
    if not ok:
        return back_to(p, BACK, error_text(body))
    password = p.form.get("password", "")
    if password:
        ok, body = p.call(
            "CreateLoginProfile",
            UserName=name,
            Password=password,
            PasswordResetRequired="false",
        )
        if not ok:
            return back_to(p, BACK, f"User {name} created; console login: {error_text(body)}")
    return back_to(p, BACK, f"User {name} created.")


@page("POST", "/ram/users/([A-Za-z0-9._@-]{1,64})/delete")
def delete_user(p, user_name: str):
    ok, body = p.call("DeleteUser", UserName=user_name)
    return back_to(p, BACK, f"User {user_name} deleted." if ok else error_text(body))


USER = "([A-Za-z0-9._@-]{1,64})"
KEY = "([A-Za-z0-9]{1,128})"


@page("POST", f"/ram/users/{USER}/access-keys")
def create_access_key(p, user_name: str):
    """The secret is shown on this answer once (never in a URL; the API keeps only what it
    needs to check signatures)."""
    ok, body = p.call("CreateAccessKey", UserName=user_name)
    if not ok:
        return back_to(p, BACK, error_text(body))
    key = body["AccessKey"]
    return _render(p, new_key={"user": user_name, **key})


@page("POST", f"/ram/users/{USER}/access-keys/{KEY}/(Active|Inactive)")
def update_access_key(p, user_name: str, key_id: str, status: str):
    ok, body = p.call("UpdateAccessKey", UserName=user_name, UserAccessKeyId=key_id, Status=status)
    return back_to(p, BACK, f"AccessKey {key_id}: {status}." if ok else error_text(body))


@page("POST", f"/ram/users/{USER}/access-keys/{KEY}/delete")
def delete_access_key(p, user_name: str, key_id: str):
    ok, body = p.call("DeleteAccessKey", UserName=user_name, UserAccessKeyId=key_id)
    return back_to(p, BACK, f"AccessKey {key_id} deleted." if ok else error_text(body))


@page("POST", "/ram/policies")
def create_policy(p):
    name = p.form.get("name", "")
    document = p.form.get("document", "")
    ok, body = p.call(
        "CreatePolicy",
        PolicyName=name,
        PolicyDocument=document,
        Description=p.form.get("description") or None,
    )
    if ok:
        return back_to(p, BACK, f"Policy {name} created.")
    # the document stays as typed, with the parser's message (and position) above it
    return _render(
        p, 400, policy_document=document, policy_name=name, policy_error=error_text(body)
    )


@page("POST", "/ram/attachments/(attach|detach)")
def policy_attachment(p, verb: str):
    user = p.form.get("user", "")
    policy = p.form.get("policy", "")
    kind, _, name = policy.partition(":")
    ok, body = p.call(
        "AttachPolicyToUser" if verb == "attach" else "DetachPolicyFromUser",
        PolicyType=kind,
        PolicyName=name,
        UserName=user,
    )
    done = f"{name} {verb}ed {'to' if verb == 'attach' else 'from'} {user}."
    return back_to(p, BACK, done if ok else error_text(body))
