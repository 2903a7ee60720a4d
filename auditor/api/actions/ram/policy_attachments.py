"""Policies attached to users, groups and roles: AttachPolicyTo{User,Group,Role},
DetachPolicyFrom{User,Group,Role}, ListPoliciesFor{User,Group,Role}.

Attaching and detaching are authorised on both the policy and the principal.
"""

from __future__ import annotations

from palisade.auditor.api.actions.ram.common import entity, ram_arn
from palisade.auditor.api.actions.ram.policies import policy_type, policy_view
from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ActionContext, Resources, action
from palisade.auditor.model.ram import RamAccount


def policy_resources(principal_kind: str, principal_param: str) -> Resources:
    return entity(("policy", "PolicyName"), (principal_kind, principal_param))


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
