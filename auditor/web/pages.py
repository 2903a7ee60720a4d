"""The dashboard's pages: one function per page, each naming the RAM action it shows."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from palisade.auditor.model.network.reachability import reachable
from palisade.auditor.model.network.security_group import Direction

PAGE_SIZE = 50
STALE_AFTER_MS = 5 * 60 * 1000  # an agent silent this long shows grey

Handler = Callable[..., object]
_ROUTES: list[tuple[str, re.Pattern, Handler]] = []


def page(method: str, pattern: str):
    def register(fn: Handler) -> Handler:
        _ROUTES.append((method, re.compile(f"^{pattern}$"), fn))
        return fn

    return register


def route(method: str, path: str) -> tuple[Handler | None, tuple]:
    for m, rx, fn in _ROUTES:
        match = rx.match(path)
        if match and m == method:
            return fn, match.groups()
    return None, ()


def format_ms(ms: int | None) -> str:
    if not ms:
        return "—"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _page_number(p) -> int:
    text = p.params.get("page", "1")
    return max(1, min(int(text), 10**6)) if text.isdigit() else 1


# -- fleet -----------------------------------------------------------------------------------


def shield(agent: dict | None, open_alerts: dict[str, int], now_ms: int) -> str:
    """The instance list's shield: grey without a reporting agent, red/orange with open
    alerts (red for serious ones), green otherwise."""
    seen = agent["last_seen_ms"] if agent else 0
    if not seen or now_ms - seen > STALE_AFTER_MS:
        return "grey"
    if open_alerts.get("serious"):
        return "red"
    return "orange" if open_alerts else "green"


def instance_rows(p, agents: dict[str, dict], now_ms: int) -> list[dict]:
    """The union of modelled instances and enrolled agents, with a security state each."""
    cloud = p.state.cloud
    alerts = p.app.alert_counts_by_instance()
    bindings = getattr(p.state.keypairs, "bindings", {})
    rows = []
    for iid in sorted(set(cloud.instances) | set(agents)):
        inst = cloud.instances.get(iid)
        agent = agents.get(iid)
        seen = agent["last_seen_ms"] if agent else 0
        open_alerts = alerts.get(iid, {})
        binding = bindings.get(iid)
        rows.append(
            {
                "instance_id": iid,
                "name": inst.name if inst else "",
                "hostname": agent["hostname"] if agent else "",
                "os": f"{agent['os_name']} {agent['os_version']}".strip()
                if agent
                else (inst.os_family.value if inst else ""),
                "region": inst.region_id if inst else "",
                "state": inst.state.value if inst else "",
                "groups": [g for n in inst.nics for g in n.security_group_ids] if inst else [],
                "key_pair": binding.active.name if binding and binding.active else "",
                "last_seen_ms": seen,
                "shield": shield,
                "alerts": sum(open_alerts.values()),
            }
        )
    return rows


@page("GET", "/")
def overview(p):
    p.require("ecs:DescribeInstances", p.arn("ecs", "*", "instance/*"))
    now_ms = int(p.app.api.clock().timestamp() * 1000)
    seen = p.store.last_seen_by_instance()
    alerts = p.app.alert_counts_by_instance()
    by_state: dict[str, int] = {}
    ids = set(p.state.cloud.instances) | set(seen)
    for iid in ids:
        agent = {"last_seen_ms": seen[iid]} if iid in seen else None
        state = shield(agent, alerts.get(iid, {}), now_ms)
        by_state[state] = by_state.get(state, 0) + 1
    return p.app.render(
        "overview.html",
        p,
        p.lang,
        by_state=by_state,
        total=len(ids),
        alerts_by_level=p.app.alert_counts_by_level(),
        activity=p.app.login_activity(now_ms),
        alert_activity=p.app.alerts_per_hour(now_ms),
        exposures=p.app.exposures_by_service(),
        top_sources=p.app.top_failed_sources(now_ms),
    )


@page("GET", "/instances")
def instances(p):
    p.require("ecs:DescribeInstances", p.arn("ecs", "*", "instance/*"))
    now_ms = int(p.app.api.clock().timestamp() * 1000)
    q = p.params.get("q", "").strip()[:100].lower()
    shield = p.params.get("state", "")
    rows = instance_rows(p, {a["instance_id"]: a for a in p.store.instances()}, now_ms)
    if q:
        rows = [
            r
            for r in rows
            if any(q in str(r[k]).lower() for k in ("instance_id", "name", "hostname", "region"))
        ]
    if shield in ("green", "orange", "red", "grey"):
        rows = [r for r in rows if r["shield"] == shield]
    number = _page_number(p)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    shown = rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    return p.app.render(
        "instances.html",
        p,
        p.lang,
        rows=shown,
        q=q,
        shield=shield,
        number=number,
        pages=pages,
        total=len(rows),
    )


@page("GET", "/instances/([A-Za-z0-9._-]{1,128})")
def instance(p, instance_id: str):
    cloud = p.state.cloud
    inst = cloud.instances.get(instance_id)
    region = inst.region_id if inst else "*"
    p.require("ecs:DescribeInstances", p.arn("ecs", region, f"instance/{instance_id}"))
    agent = p.store.instance(instance_id)
    if inst is None and agent is None:
        from palisade.auditor.web.app import NotFound

        raise NotFound(f"No instance {instance_id}.")
    snapshot = p.store.latest_snapshot(instance_id) if agent else None
    listeners = []
    for lis in snapshot.listeners if snapshot else []:
        verdict, rule = _exposure_of(cloud, instance_id, lis) if inst else (None, "")
        listeners.append(
            {
                "protocol": lis.protocol,
                "address": lis.address,
                "port": lis.port,
                "process": lis.process_name,
                "user": lis.user,
                "pid": lis.pid,
                "exposed": verdict,
                "rule": rule,
            }
        )
    binding = getattr(p.state.keypairs, "bindings", {}).get(instance_id)
    bound_fp = binding.active.fingerprint if binding and binding.active else None
    keys = []
    for f in snapshot.authorized_keys if snapshot else []:
        for k in f.keys:
            keys.append(
                {
                    "user": f.user,
                    "path": f.path,
                    "line": k.line_number,
                    "type": k.key_type,
                    "fingerprint": k.fingerprint_sha256,
                    "md5": k.fingerprint_md5,
                    "comment": k.comment,
                    "malformed": k.malformed,
                    "error": k.error,
                    "drift": bool(bound_fp) and k.fingerprint_md5 != bound_fp,
                }
            )
    logins = p.store.recent_logins(instance_id, 50) if agent else []
    return p.app.render(
        "instance.html",
        p,
        p.lang,
        iid=instance_id,
        inst=inst,
        agent=agent,
        listeners=listeners,
        keys=keys,
        binding=binding,
        logins=logins,
        history=p.store.history(instance_id, 50) if agent else [],
        baseline=p.app.baseline_results(instance_id),
        traffic=_traffic(snapshot),
        ddos=_ddos_threshold(inst),
        timeline=p.app.login_timeline(instance_id, int(p.app.api.clock().timestamp() * 1000))
        if agent
        else "",
        alerts=p.app.alerts_for(instance_id),
        message=p.params.get("message", ""),
    )


def _exposure_of(cloud, instance_id: str, lis) -> tuple[bool | None, str]:
    if lis.address in ("127.0.0.1", "::1") or lis.address.startswith("127."):
        return False, "bound to loopback"
    if lis.protocol not in ("tcp", "udp") or not 1 <= lis.port <= 65535:
        return None, ""
    try:
        result = reachable(cloud, "internet", instance_id, lis.protocol, lis.port)
    except Exception as exc:
        return None, str(exc)[:200]
    deciding = next((path for path in result.paths if path.allowed), None) or (
        result.paths[0] if result.paths else None
    )
    rule = deciding.ingress.reason if deciding else result.reason
    return result.reachable, rule


def _ddos_threshold(inst) -> dict | None:
    """The instance type's scrubbing threshold (the seed's table) and the black-hole line."""
    if inst is None:
        return None
    from palisade.auditor.checks import CheckSettings

    settings = CheckSettings()
    threshold = settings.ddos_thresholds.get(inst.instance_type)
    if threshold is None:
        return {
            "type": inst.instance_type,
            "known": False,
            "black_hole_mbps": settings.ddos_black_hole_bps / 1e6,
        }
    return {
        "type": inst.instance_type,
        "known": True,
        "mbps": threshold.bps / 1e6,
        "pps": threshold.pps,
        "black_hole_mbps": settings.ddos_black_hole_bps / 1e6,
    }


def _traffic(snapshot) -> list[dict]:
    if snapshot is None or not snapshot.HasField("traffic"):
        return []
    out = []
    for nic in snapshot.traffic.interfaces:
        out.append(
            {
                "name": nic.name,
                "rx_bps": getattr(nic, "rx_bits_per_second", 0),
                "rx_pps": getattr(nic, "rx_packets_per_second", 0),
            }
        )
    return out


# -- security groups -------------------------------------------------------------------------


@page("GET", "/security-groups")
def security_groups(p):
    p.require("ecs:DescribeSecurityGroups", p.arn("ecs", "*", "securitygroup/*"))
    cloud = p.state.cloud
    groups = sorted(cloud.groups.values(), key=lambda g: (g.region_id, g.name, g.group_id))
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
    return p.app.render("security_groups.html", p, p.lang, rows=rows)


@page("GET", "/security-groups/([A-Za-z0-9._-]{1,128})")
def security_group(p, group_id: str):
    cloud = p.state.cloud
    group = cloud.groups.get(group_id)
    if group is None:
        from palisade.auditor.web.app import NotFound

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
    )


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


@page("POST", "/security-groups/([A-Za-z0-9._-]{1,128})/rules")
def add_rule(p, group_id: str):
    group = p.state.cloud.groups.get(group_id)
    if group is None:
        from palisade.auditor.web.app import NotFound

        raise NotFound(f"No security group {group_id}.")
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
        return p.app.redirect(f"/ui/security-groups/{group_id}?message=" + _q(message))
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
    return p.app.redirect(f"/ui/security-groups/{group_id}?message=" + _q(message))


@page("POST", "/security-groups/([A-Za-z0-9._-]{1,128})/rules/([A-Za-z0-9._-]{1,128})/delete")
def delete_rule(p, group_id: str, rule_id: str):
    group = p.state.cloud.groups.get(group_id)
    if group is None:
        from palisade.auditor.web.app import NotFound

        raise NotFound(f"No security group {group_id}.")
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
    return p.app.redirect(f"/ui/security-groups/{group_id}?message=" + _q(message))


def _group_or_404(p, group_id: str):
    group = p.state.cloud.groups.get(group_id)
    if group is None:
        from palisade.auditor.web.app import NotFound

        raise NotFound(f"No security group {group_id}.")
    return group


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
    return p.app.redirect(f"/ui/security-groups/{group_id}?message=" + _q(message))


@page("POST", "/security-groups/([A-Za-z0-9._-]{1,128})/clone")
def clone_group(p, group_id: str):
    group = _group_or_404(p, group_id)
    ok, body = p.call(
        "CloneSecurityGroup",
        RegionId=group.region_id,
        SecurityGroupId=group_id,
        DestinationRegionId=p.form.get("region") or None,
        SecurityGroupName=p.form.get("name") or None,
    )
    if ok:
        return p.app.redirect(
            f"/ui/security-groups/{body.get('SecurityGroupId')}?message=" + _q("Cloned.")
        )
    message = f"{body.get('Code')}: {body.get('Message')}"
    return p.app.redirect(f"/ui/security-groups/{group_id}?message=" + _q(message))


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
        return p.app.redirect(f"/ui/security-groups/{group_id}?message=" + _q(message))
    return p.app.render(
        "import_preview.html", p, p.lang, group=group, ok=ok, body=body, document=document
    )


@page("GET", "/security-groups/([A-Za-z0-9._-]{1,128})/export")
def export_group(p, group_id: str):
    import json

    from palisade.auditor.api.http import Reply

    group = _group_or_404(p, group_id)
    ok, body = p.call(
        "ExportSecurityGroupRules", RegionId=group.region_id, SecurityGroupId=group_id
    )
    if not ok:
        from palisade.auditor.model.errors import ModelError

        raise ModelError(body.get("Code", "Error"), body.get("Message", ""))
    name = re.sub(r"[^A-Za-z0-9._-]", "_", body["FileName"])
    return Reply(
        200,
        json.dumps(body["Document"], indent=2, ensure_ascii=False).encode(),
        "application/json; charset=utf-8",
        {"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text[:300], safe="")


# -- key pairs -------------------------------------------------------------------------------


@page("GET", "/key-pairs")
def key_pairs(p):
    p.require("ecs:DescribeKeyPairs", p.arn("ecs", "*", "keypair/*"))
    service = p.state.keypairs
    users: dict[str, list[str]] = {}
    for iid, binding in getattr(service, "bindings", {}).items():
        for bound in (binding.active, binding.pending):
            if bound:
                users.setdefault(bound.name, []).append(iid)
    rows = [
        {
            "name": kp.name,
            "fingerprint": kp.fingerprint,
            "type": kp.key_type,
            "region": kp.region_id,
            "created": kp.created_at.strftime("%Y-%m-%d %H:%M"),
            "instances": sorted(set(users.get(kp.name, []))),
        }
        for kp in sorted(service.pairs.values(), key=lambda k: (k.region_id, k.name))
    ]
    return p.app.render("key_pairs.html", p, p.lang, rows=rows)


# -- alerts, notifications, inbox: shown through the API actions themselves -------------------
# (so RAM decides exactly as it does for `palisade api`)


def _api_or_forbidden(p, action: str, **params: str) -> dict:
    ok, body = p.call(action, **params)
    if not ok:
        from palisade.auditor.web.app import Forbidden

        if body.get("Code", "").startswith("Forbidden"):
            raise Forbidden(body.get("Message", action))
        from palisade.auditor.model.errors import ModelError

        raise ModelError(body.get("Code", "Error"), body.get("Message", ""))
    return body


LEVELS = ("serious", "suspicious", "remind")
STATUSES = ("pending", "handling", "handled", "ignored", "false_positive", "expired")


@page("GET", "/alerts")
def alerts(p):
    level = p.params.get("level", "")
    status = p.params.get("status", "")
    check = p.params.get("check", "")[:128]
    iid = p.params.get("instance", "")[:128]
    number = _page_number(p)
    params = {"PageNumber": str(number), "PageSize": str(PAGE_SIZE)}
    if level in LEVELS:
        params["Levels"] = level
    if status in STATUSES:
        params["Status"] = status
    if check:
        params["CheckId"] = check
    if iid:
        params["InstanceId"] = iid
    body = _api_or_forbidden(p, "DescribeAlerts", **params)
    rows = body.get("Alerts", {}).get("Alert", [])
    total = int(body.get("TotalCount", len(rows)))
    return p.app.render(
        "alerts.html",
        p,
        p.lang,
        rows=rows,
        level=level,
        status=status,
        check=check,
        instance=iid,
        number=number,
        total=total,
        pages=max(1, -(-total // PAGE_SIZE)),
        levels=LEVELS,
        statuses=STATUSES,
        message=p.params.get("message", ""),
    )


@page("POST", "/alerts/([0-9]{1,18})/status")
def alert_status(p, alert_id: str):
    status = p.form.get("status", "")
    ok, body = p.call(
        "HandleAlert", AlertId=alert_id, Status=status, Comment=p.form.get("comment") or None
    )
    message = f"Alert {alert_id}: {status}." if ok else f"{body.get('Code')}: {body.get('Message')}"
    back = p.form.get("back", "/ui/alerts")
    if not back.startswith("/ui/") or "//" in back or "\\" in back:
        back = "/ui/alerts"
    sep = "&" if "?" in back else "?"
    return p.app.redirect(f"{back}{sep}message={_q(message)}")


@page("POST", "/alerts/([0-9]{1,18})/silence")
def alert_silence(p, alert_id: str):
    """Silences this alert's condition (check, instance, subject) for a while."""
    found, body = p.call("DescribeAlert", AlertId=alert_id)
    if not found:
        message = f"{body.get('Code')}: {body.get('Message')}"
    else:
        alert = body["Alert"]
        duration = p.form.get("duration", "24h")
        ok, result = p.call(
            "CreateSilence",
            CheckId=alert["CheckId"],
            InstanceId=alert.get("InstanceId") or None,
            Subject=alert.get("Subject") or None,
            Duration=duration if duration in ("1h", "24h", "7d") else "24h",
            Comment=p.form.get("comment") or f"silenced from the dashboard (alert {alert_id})",
        )
        message = (
            f"Silenced for {duration}." if ok else f"{result.get('Code')}: {result.get('Message')}"
        )
    return p.app.redirect("/ui/alerts?message=" + _q(message))


@page("GET", "/notifications")
def notifications(p):
    channels = _api_or_forbidden(p, "DescribeNotificationChannels")
    subs = _api_or_forbidden(p, "DescribeSubscriptions")
    window = _api_or_forbidden(p, "DescribeNotificationWindow")
    return p.app.render(
        "notifications.html",
        p,
        p.lang,
        channels=channels.get("Channels", {}).get("Channel", []),
        subscriptions=subs.get("Subscriptions", {}).get("Subscription", []),
        window=window,
        message=p.params.get("message", ""),
    )


@page("POST", "/notifications/window")
def notification_window(p):
    ok, body = p.call(
        "ModifyNotificationWindow",
        Start=p.form.get("start", ""),
        End=p.form.get("end", ""),
        TimeZone=p.form.get("tz", ""),
    )
    message = "Saved." if ok else f"{body.get('Code')}: {body.get('Message')}"
    return p.app.redirect("/ui/notifications?message=" + _q(message))


@page("GET", "/inbox")
def inbox(p):
    number = _page_number(p)
    body = _api_or_forbidden(p, "DescribeInbox", PageNumber=str(number), PageSize=str(PAGE_SIZE))
    rows = body.get("Messages", {}).get("Message", [])
    total = int(body.get("TotalCount", len(rows)))
    return p.app.render(
        "inbox.html",
        p,
        p.lang,
        rows=rows,
        number=number,
        total=total,
        pages=max(1, -(-total // PAGE_SIZE)),
    )


@page("POST", "/inbox/read")
def inbox_read(p):
    p.call("MarkInboxRead", All="true")
    return p.app.redirect("/ui/inbox")
