"""The security-group pages: the list, one group with its rules and members, the
reachability explainer, and the forms that run the group's API actions (add, modify and
delete rules, restore, clone, import, export)."""

from __future__ import annotations

import json
import re

from palisade.auditor.api.http import Reply
from palisade.auditor.checks.rule_advice.check import META_OF_KIND, SEVERITY_OF
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.network.reachability import reachable
from palisade.auditor.model.network.rule_analysis import analyze_group
from palisade.auditor.model.network.security_group import Direction
from palisade.auditor.web.errors import NotFound
from palisade.auditor.web.pages.common import message_query, natural_key, paged
from palisade.auditor.web.pages.router import page


@page("GET", "/security-groups")
def security_groups(p):
    p.require("ecs:DescribeSecurityGroups", p.arn("ecs", "*", "securitygroup/*"))
    cloud = p.state.cloud
    groups = sorted(
        cloud.groups.values(),
        key=lambda g: (g.region_id, natural_key(g.name), natural_key(g.group_id)),
    )
    groups, number, pages = paged(p, groups)
    rows = [
        {
            "id": g.group_id,
            "name": g.name,
            "region": g.region_id,
            "vpc": g.vpc_id or "",
            "type": g.group_type.value,
            "rules": len(g.rules),
            "members": len(cloud.members(g.group_id)),
            "description": g.description,
        }
        for g in groups
    ]
    account = p.state.account_id
    return p.app.render(
        "security_groups.html",
        p,
        p.lang,
        rows=rows,
        number=number,
        pages=pages,
        total=len(cloud.groups),
        regions=sorted(cloud.regions),
        vpcs=_vpcs(cloud, account),
        can_create=p.can("ecs:CreateSecurityGroup", p.arn("ecs", "*", "securitygroup/*")),
        message=p.params.get("message", ""),
    )


def _vpcs(cloud, account: str) -> list[dict]:
    return [
        {"id": v.vpc_id, "region": v.region_id, "cidr": v.cidr, "name": v.name}
        for v in sorted(cloud.vpcs.values(), key=lambda v: (v.region_id, v.vpc_id))
        if v.account_id == account
    ]


@page("GET", "/security-groups/([A-Za-z0-9._-]{1,128})")
def security_group(p, group_id: str):
    cloud = p.state.cloud
    group = cloud.groups.get(group_id)
    if group is None:
        raise NotFound(f"No security group {group_id}.")
    arn = p.arn("ecs", group.region_id, f"securitygroup/{group_id}")
    p.require("ecs:DescribeSecurityGroupAttribute", arn)
    explain = None
    if p.params.get("instance"):
        explain = _explain(p, cloud)
    members = [inst.instance_id for inst, _nic in cloud.members(group_id)]
    preview = None
    target = p.params.get("restore_from", "")[:128]
    if target:
        mode = "partial" if p.params.get("mode") == "partial" else "full"
        ok, body = p.call(
            "RestoreSecurityGroup",
            RegionId=group.region_id,
            SecurityGroupId=group_id,
            TargetSecurityGroupId=target,
            Mode=mode,
            DryRun="true",
        )
        preview = {"ok": ok, "body": body, "target": target, "mode": mode}
    others = sorted(g for g in cloud.groups if g != group_id)
    return p.app.render(
        "security_group.html",
        p,
        p.lang,
        group=group,
        rules=sorted(group.rules, key=lambda r: (r.direction.value, r.priority, r.rule_id)),
        members=members,
        explain=explain,
        message=p.params.get("message", ""),
        preview=preview,
        others=others,
        editing=group.rule(p.params.get("edit", "")) if p.params.get("edit") else None,
        can_restore=p.can("ecs:RestoreSecurityGroup", arn),
        can_clone=p.can("ecs:CloneSecurityGroup", arn),
        can_modify=p.can("ecs:AuthorizeSecurityGroup", arn),
        can_revoke=p.can("ecs:RevokeSecurityGroup", arn),
        can_rename=p.can("ecs:ModifySecurityGroupAttribute", arn),
        can_policy=p.can("ecs:ModifySecurityGroupPolicy", arn),
        can_delete=p.can("ecs:DeleteSecurityGroup", arn),
        regions=sorted(cloud.regions),
        vpcs=_vpcs(cloud, group.account_id),
        advice=_advice(cloud, group_id),
    )


def _advice(cloud, group_id: str) -> list[dict]:
    """The group's rule advice, as the rule-advice checks raise it (checks/rule_advice)."""
    return [
        {
            "title": META_OF_KIND[f.kind].title,
            "level": SEVERITY_OF.get(f.severity, META_OF_KIND[f.kind].severity),
            "message": f.message,
            "rule_ids": f.rule_ids,
        }
        for f in analyze_group(cloud, group_id)
    ]


def _explain(p, cloud) -> dict:
    src = p.params.get("from", "internet")[:64]
    proto = p.params.get("proto", "tcp")[:8]
    port_text = p.params.get("port", "22")
    port = int(port_text) if port_text.isdigit() else 0
    iid = p.params.get("instance", "")[:128]
    try:
        result = reachable(cloud, src, iid, proto, port)
    except Exception as exc:
        return {"error": getattr(exc, "message", str(exc))[:300]}
    paths = [
        {"sources": path.sources, "allowed": path.allowed, "rule": path.ingress.reason}
        for path in result.paths[:10]
    ]
    return {
        "instance": iid,
        "from": src,
        "proto": proto,
        "port": port,
        "reachable": result.reachable,
        "reason": result.reason,
        "paths": paths,
    }


def _group_or_404(p, group_id: str):
    group = p.state.cloud.groups.get(group_id)
    if group is None:
        raise NotFound(f"No security group {group_id}.")
    return group


@page("POST", "/security-groups/([A-Za-z0-9._-]{1,128})/rules")
def add_rule(p, group_id: str):
    group = _group_or_404(p, group_id)
    f = p.form
    egress = f.get("direction") == "egress"
    peer_key = "DestCidrIp" if egress else "SourceCidrIp"
    rule_id = f.get("rule_id", "")
    if rule_id:  # the edit form: modify that rule in place
        action = "ModifySecurityGroupEgressRule" if egress else "ModifySecurityGroupRule"
        ok, body = p.call(
            action,
            RegionId=group.region_id,
            SecurityGroupId=group_id,
            SecurityGroupRuleId=rule_id,
            IpProtocol=f.get("protocol", ""),
            PortRange=f.get("port_range", ""),
            Policy=f.get("policy", "accept"),
            Priority=f.get("priority", "1"),
            Description=f.get("description") or None,
            **{peer_key: f.get("cidr", "")},
        )
        message = "Rule modified." if ok else f"{body.get('Code')}: {body.get('Message')}"
        return p.app.redirect(f"/ui/security-groups/{group_id}?message=" + message_query(message))
    ok, body = p.call(
        "AuthorizeSecurityGroupEgress" if egress else "AuthorizeSecurityGroup",
        RegionId=group.region_id,
        SecurityGroupId=group_id,
        IpProtocol=f.get("protocol", ""),
        PortRange=f.get("port_range", ""),
        Policy=f.get("policy", "accept"),
        Priority=f.get("priority", "1"),
        Description=f.get("description") or None,
        **{peer_key: f.get("cidr", "")},
    )
    message = "Rule added." if ok else f"{body.get('Code')}: {body.get('Message')}"
    return p.app.redirect(f"/ui/security-groups/{group_id}?message=" + message_query(message))


@page("POST", "/security-groups/([A-Za-z0-9._-]{1,128})/rules/([A-Za-z0-9._-]{1,128})/delete")
def delete_rule(p, group_id: str, rule_id: str):
    group = _group_or_404(p, group_id)
    rule = group.rule(rule_id)
    action = (
        "RevokeSecurityGroupEgress"
        if rule and rule.direction is Direction.EGRESS
        else "RevokeSecurityGroup"
    )
    ok, body = p.call(
        action,
        RegionId=group.region_id,
        SecurityGroupId=group_id,
        **{"SecurityGroupRuleId.1": rule_id},
    )
    message = "Rule deleted." if ok else f"{body.get('Code')}: {body.get('Message')}"
    return p.app.redirect(f"/ui/security-groups/{group_id}?message=" + message_query(message))


@page("POST", "/security-groups/([A-Za-z0-9._-]{1,128})/restore")
def restore_group(p, group_id: str):
    group = _group_or_404(p, group_id)
    mode = "partial" if p.form.get("mode") == "partial" else "full"
    ok, body = p.call(
        "RestoreSecurityGroup",
        RegionId=group.region_id,
        SecurityGroupId=group_id,
        TargetSecurityGroupId=p.form.get("target", ""),
        Mode=mode,
    )
    message = "Restored." if ok else f"{body.get('Code')}: {body.get('Message')}"
    return p.app.redirect(f"/ui/security-groups/{group_id}?message=" + message_query(message))


@page("POST", "/security-groups/([A-Za-z0-9._-]{1,128})/clone")
def clone_group(p, group_id: str):
    group = _group_or_404(p, group_id)
    vpc = p.state.cloud.vpcs.get(p.form.get("vpc", ""))
    ok, body = p.call(
        "CloneSecurityGroup",
        RegionId=group.region_id,
        SecurityGroupId=group_id,
        # a VPC names its region: choosing one is enough
        DestinationRegionId=p.form.get("region") or (vpc.region_id if vpc else None),
        VpcId=p.form.get("vpc") or None,
        SecurityGroupName=p.form.get("name") or None,
    )
    if ok:
        return p.app.redirect(
            f"/ui/security-groups/{body.get('SecurityGroupId')}?message=" + message_query("Cloned.")
        )
    message = f"{body.get('Code')}: {body.get('Message')}"
    return p.app.redirect(f"/ui/security-groups/{group_id}?message=" + message_query(message))


@page("POST", "/security-groups/([A-Za-z0-9._-]{1,128})/import")
def import_rules(p, group_id: str):
    """An exported rule set: previewed rule by rule (added, exists, failed with the reason),
    imported only when asked to after the preview."""
    group = _group_or_404(p, group_id)
    document = p.form.get("document", "")
    apply = p.form.get("apply") == "1"
    ok, body = p.call(
        "ImportSecurityGroupRules",
        RegionId=group.region_id,
        SecurityGroupId=group_id,
        Document=document,
        DryRun=None if apply else "true",
    )
    if apply:
        message = (
            f"Imported {body.get('AddedCount', 0)} rules."
            if ok
            else f"{body.get('Code')}: {body.get('Message')}"
        )
        return p.app.redirect(f"/ui/security-groups/{group_id}?message=" + message_query(message))
    return p.app.render(
        "import_preview.html", p, p.lang, group=group, ok=ok, body=body, document=document
    )


@page("GET", "/security-groups/([A-Za-z0-9._-]{1,128})/export")
def export_group(p, group_id: str):
    group = _group_or_404(p, group_id)
    ok, body = p.call(
        "ExportSecurityGroupRules", RegionId=group.region_id, SecurityGroupId=group_id
    )
    if not ok:
        raise ModelError(body.get("Code", "Error"), body.get("Message", ""))
    name = re.sub(r"[^A-Za-z0-9._-]", "_", body["FileName"])
    return Reply(
        200,
        json.dumps(body["Document"], indent=2, ensure_ascii=False).encode(),
        "application/json; charset=utf-8",
        {"Content-Disposition": f'attachment; filename="{name}"'},
    )
