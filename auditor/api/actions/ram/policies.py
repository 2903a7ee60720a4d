"""RAM policies, each a list of versions: CreatePolicy, GetPolicy, ListPolicies, DeletePolicy,
CreatePolicyVersion. (Attaching them to users, groups and roles: policy_attachments.py.)"""

from __future__ import annotations

from palisade.auditor.api.actions.ram.common import entity, marker_page, ram_arn, ts
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params, invalid
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model.ram import (
    SYSTEM_POLICIES,
    CustomPolicy,
    PolicySummary,
    PolicyType,
    PolicyVersion,
    parse_policy,
)
from palisade.auditor.model.ram.policies import MAX_POLICY_VERSIONS

ROTATE_STRATEGIES = ("None", "DeleteOldestNonDefaultVersionWhenLimitExceeded")


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


def policy_type(p: Params) -> PolicyType:
    text = p.req("PolicyType")
    for kind in PolicyType:
        if text == kind.value:
            return kind
    raise ApiError(
        "InvalidParameter.PolicyType", f"PolicyType must be System or Custom, not {text[:40]!r}"
    )


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
