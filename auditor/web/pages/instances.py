"""The instance pages: the list of modelled instances and enrolled agents with a security
state each, and one instance's listeners, keys, logins, alerts and traffic."""

from __future__ import annotations

from palisade.auditor.checks import CheckSettings
from palisade.auditor.model.network.reachability import reachable
from palisade.auditor.web.errors import NotFound
from palisade.auditor.web.pages.common import PAGE_SIZE, page_number, paged
from palisade.auditor.web.pages.router import page

STALE_AFTER_MS = 5 * 60 * 1000  # an agent silent this long shows grey
SHIELDS = ("green", "orange", "red", "grey")


def shield(agent: dict | None, open_alerts: dict[str, int], now_ms: int) -> str:
    """The instance list's shield: grey without a reporting agent, red/orange with open
    alerts (red for serious ones), green otherwise."""
    seen = agent["last_seen_ms"] if agent else 0
    if not seen or now_ms - seen > STALE_AFTER_MS:
        return "grey"
    if open_alerts.get("serious"):
        return "red"
    return "orange" if open_alerts else "green"


def instance_rows(p, now_ms: int, q: str = "", state: str = "") -> tuple[list[dict], int]:
    """The union of modelled instances and enrolled agents, with a security state each,
    searched (`q`: id, name, hostname, region) and filtered by state: (this page's rows, the
    number found). Only the rows shown are built in full, and without a search only their
    agents are read in full (the fleet may be 10,000; the shields need only the last-seen)."""
    cloud = p.state.cloud
    alerts = p.app.alert_counts_by_instance()
    if q:
        agents: dict[str, dict] = {a["instance_id"]: a for a in p.store.instances()}
        seen = {iid: a["last_seen_ms"] for iid, a in agents.items()}
    else:
        agents, seen = {}, p.store.last_seen_by_instance()
    found = []
    for iid in sorted(set(cloud.instances) | set(seen)):
        inst = cloud.instances.get(iid)
        agent = agents.get(iid)
        if q and not any(
            q in text.lower()
            for text in (
                iid,
                inst.name if inst else "",
                agent["hostname"] if agent else "",
                inst.region_id if inst else "",
            )
        ):
            continue
        last = seen.get(iid)
        colour = shield({"last_seen_ms": last} if last else None, alerts.get(iid, {}), now_ms)
        if state and colour != state:
            continue
        found.append((iid, inst, colour))
    shown, _number, _pages = paged(p, found)
    bindings = getattr(p.state.keypairs, "bindings", {})
    rows = []
    for iid, inst, colour in shown:
        agent = agents.get(iid) if q else (p.store.instance(iid) if iid in seen else None)
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
                "last_seen_ms": agent["last_seen_ms"] if agent else 0,
                "shield": colour,
                "alerts": sum(alerts.get(iid, {}).values()),
            }
        )
    return rows, len(found)


@page("GET", "/instances")
def instances(p):
    p.require("ecs:DescribeInstances", p.arn("ecs", "*", "instance/*"))
    now_ms = int(p.app.api.clock().timestamp() * 1000)
    q = p.params.get("q", "").strip()[:100].lower()
    state = p.params.get("state", "")
    state = state if state in SHIELDS else ""
    rows, total = instance_rows(p, now_ms, q, state)
    pages = max(1, -(-total // PAGE_SIZE))
    return p.app.render(
        "instances.html",
        p,
        p.lang,
        rows=rows,
        q=q,
        shield=state,
        shields=SHIELDS,
        number=min(page_number(p), pages),
        pages=pages,
        total=total,
    )


@page("GET", "/instances/([A-Za-z0-9._-]{1,128})")
def instance(p, instance_id: str):
    cloud = p.state.cloud
    inst = cloud.instances.get(instance_id)
    region = inst.region_id if inst else "*"
    p.require("ecs:DescribeInstances", p.arn("ecs", region, f"instance/{instance_id}"))
    agent = p.store.instance(instance_id)
    now_ms = int(p.app.api.clock().timestamp() * 1000)
    if inst is None and agent is None:
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
        ddos_status=p.state.ddos.get(instance_id).effective_status(p.app.api.clock()).value,
        logins_per_hour=p.app.instance_logins_per_hour(
            instance_id, int(p.app.api.clock().timestamp() * 1000)
        )
        if agent
        else None,
        alerts=p.app.alerts_for(instance_id),
        hours=p.app.hour_labels(now_ms),
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
    """The instance type's scrubbing threshold (from the ECS security guide's table) and the
    black-hole line."""
    if inst is None:
        return None
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
