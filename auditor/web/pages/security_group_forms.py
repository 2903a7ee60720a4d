"""The forms that create, change and delete whole security groups: create (with its VPC,
type and InnerAccessPolicy), rename and describe, the InnerAccessPolicy, delete. Each runs
the API action of the same name, so RAM, validation and the audit log are the API's."""

from __future__ import annotations

from palisade.auditor.web.errors import NotFound
from palisade.auditor.web.pages.common import back_to, error_text, run_form
from palisade.auditor.web.pages.router import page

GROUP = "([A-Za-z0-9._-]{1,128})"


def _group(p, group_id: str):
    group = p.state.cloud.groups.get(group_id)
    if group is None:
        raise NotFound(f"No security group {group_id}.")
    return group


@page("POST", "/security-groups")
def create_group(p):
    f = p.form
    vpc = p.state.cloud.vpcs.get(f.get("vpc", ""))
    region = vpc.region_id if vpc else f.get("region", "")
    ok, body = p.call(
        "CreateSecurityGroup",
        RegionId=region,
        VpcId=vpc.vpc_id if vpc else None,
        SecurityGroupName=f.get("name") or None,
        Description=f.get("description") or None,
        SecurityGroupType=f.get("type") or None,
        InnerAccessPolicy=f.get("inner_access_policy") or None,
    )
    if not ok:
        return back_to(p, "/ui/security-groups", error_text(body))
    return back_to(p, f"/ui/security-groups/{body['SecurityGroupId']}", "Security group created.")


@page("POST", f"/security-groups/{GROUP}/attributes")
def rename_group(p, group_id: str):
    group = _group(p, group_id)
    return run_form(
        p,
        f"/ui/security-groups/{group_id}",
        "Saved.",
        "ModifySecurityGroupAttribute",
        RegionId=group.region_id,
        SecurityGroupId=group_id,
        SecurityGroupName=p.form.get("name", ""),
        Description=p.form.get("description", ""),
    )


@page("POST", f"/security-groups/{GROUP}/policy")
def inner_access_policy(p, group_id: str):
    group = _group(p, group_id)
    return run_form(
        p,
        f"/ui/security-groups/{group_id}",
        "InnerAccessPolicy changed.",
        "ModifySecurityGroupPolicy",
        RegionId=group.region_id,
        SecurityGroupId=group_id,
        InnerAccessPolicy=p.form.get("inner_access_policy", ""),
    )


@page("POST", f"/security-groups/{GROUP}/delete")
def delete_group(p, group_id: str):
    group = _group(p, group_id)
    ok, body = p.call("DeleteSecurityGroup", RegionId=group.region_id, SecurityGroupId=group_id)
    if not ok:
        return back_to(p, f"/ui/security-groups/{group_id}", error_text(body))
    return back_to(p, "/ui/security-groups", f"Security group {group_id} deleted.")
