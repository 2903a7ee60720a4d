"""Read-only questions about the security-group model, authorised like every other action:
ExplainSecurityGroupDecision (`palisade sg explain`: can a source reach an instance, and which
rule decided) and RenderNftables (`palisade sg render-nft`: the nftables ruleset that enforces
an instance's groups on a host). Both count a DDoS black hole in force now (CloudState.ddos):
the instance's inbound traffic from the internet is dropped."""

from __future__ import annotations

import re

from palisade.auditor.api.actions.ecs.common import get_instance, instance_resource
from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.network.engine import Decision
from palisade.auditor.model.network.nft_render import render_nft
from palisade.auditor.model.network.rules_json import rule_to_permission
from palisade.auditor.model.network.security_group import NicType


def decision_view(decision: Decision | None) -> dict | None:
    if decision is None:
        return None
    return {
        "Verdict": decision.verdict.value,
        "Kind": decision.kind,
        "Reason": decision.reason,
        "SecurityGroupId": decision.group_id or "",
        "Rule": rule_to_permission(decision.rule) if decision.rule is not None else None,
        "Notes": list(decision.notes),
    }


@action(
    "ExplainSecurityGroupDecision",
    writes=False,
    resources=instance_resource,
    params=("InstanceId", "Source", "IpProtocol", "Port"),
)
def explain_security_group_decision(ctx: ActionContext, p: Params) -> dict:
    """Can `Source` (an IP, a CIDR, `internet`, an instance id or a group id) open
    `IpProtocol`/`Port` to the instance? Every path with the deciding rule (or default)."""
    # Imported here: the reachability module is large and only this action needs it.
    from palisade.auditor.model.network.reachability import reachable

    instance = get_instance(ctx, p)
    protocol = p.req("IpProtocol")
    port = p.int("Port", 0, minimum=0, maximum=65535)
    result = reachable(
        ctx.state.cloud,
        p.req("Source"),
        instance.instance_id,
        protocol,
        port,
        black_holed=ctx.state.ddos.get(instance.instance_id).black_holed(ctx.now),
    )
    return {
        "InstanceId": instance.instance_id,
        "Source": p.req("Source"),
        "IpProtocol": protocol.lower(),
        "Port": port,
        "Reachable": result.reachable,
        "Complete": result.complete,
        "Reason": result.reason,
        "Paths": {
            "Path": [
                {
                    "Sources": path.sources,
                    "TargetIp": path.target_ip,
                    "Allowed": path.allowed,
                    "Ingress": decision_view(path.ingress),
                    "Egress": decision_view(path.egress),
                }
                for path in result.paths
            ]
        },
    }


_IFACE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")


def _interface(p: Params, name: str) -> str | None:
    value = p.str(name)
    if value is not None and not _IFACE.match(value):
        raise ModelError(
            f"Invalid{name}.Malformed",
            f"{name} {value[:32]!r} is not an interface name (1-15 letters, digits, . _ -).",
        )
    return value


@action(
    "RenderNftables",
    writes=False,
    resources=instance_resource,
    params=("InstanceId", "NetworkInterfaceId", "InternetInterface", "IntranetInterface"),
)
def render_nftables(ctx: ActionContext, p: Params) -> dict:
    """The nftables ruleset enforcing the instance's groups (its primary NIC by default). For
    classic instances, name the host interfaces of the internet and intranet NICs."""
    instance = get_instance(ctx, p)
    interfaces = {}
    for nic_type, name in (
        (NicType.INTERNET, "InternetInterface"),
        (NicType.INTRANET, "IntranetInterface"),
    ):
        value = _interface(p, name)
        if value is not None:
            interfaces[nic_type] = value
    nic_id = p.str("NetworkInterfaceId")
    if nic_id is not None and instance.nic(nic_id) is None:
        raise ModelError(
            "InvalidNetworkInterfaceId.NotFound",
            f"NIC {nic_id[:64]!r} is not on {instance.instance_id}.",
        )
    ruleset = render_nft(
        ctx.state.cloud,
        instance.instance_id,
        interfaces or None,
        nic_id,
        black_holed=ctx.state.ddos.get(instance.instance_id).black_holed(ctx.now),
    )
    return {"InstanceId": instance.instance_id, "Ruleset": ruleset}
