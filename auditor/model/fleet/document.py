"""`CloudModel` <-> JSON document. Derived indexes (group members, IP counts, VPC
addresses) are not stored: they are rebuilt from the instances on load."""

from __future__ import annotations

from palisade.auditor.model.document import DocumentError, decode, encode
from palisade.auditor.model.fleet.cloud_model import CloudModel
from palisade.auditor.model.fleet.resources import Account, Instance, Region, Vpc
from palisade.auditor.model.limits import Limits
from palisade.auditor.model.network.security_group import SecurityGroup

FORMAT = 1


def to_document(model: CloudModel) -> dict:
    return {
        "format": FORMAT,
        "limits": encode(model.limits),
        "id_prefix": model.id_prefix,
        "counters": dict(model._counters),  # noqa: SLF001 - ids must keep counting up
        "accounts": [encode(a) for a in model.accounts.values()],
        "regions": [encode(r) for r in model.regions.values()],
        "vpcs": [encode(v) for v in model.vpcs.values()],
        "groups": [encode(g) for g in model.groups.values()],
        "instances": [encode(i) for i in model.instances.values()],
    }


def from_document(doc: dict) -> CloudModel:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DocumentError(f"unknown cloud document format {doc.get('format')!r}")
    model = CloudModel(
        limits=decode(Limits, doc["limits"], "$.limits"), id_prefix=doc.get("id_prefix", "")
    )
    model._counters = {str(k): int(v) for k, v in doc.get("counters", {}).items()}  # noqa: SLF001
    sections = (
        (Account, "accounts", model.accounts, lambda a: a.account_id),
        (Region, "regions", model.regions, lambda r: r.region_id),
        (Vpc, "vpcs", model.vpcs, lambda v: v.vpc_id),
        (SecurityGroup, "groups", model.groups, lambda g: g.group_id),
        (Instance, "instances", model.instances, lambda i: i.instance_id),
    )
    for cls, key, target, identity in sections:
        for i, item in enumerate(doc.get(key, [])):
            obj = decode(cls, item, f"$.{key}[{i}]")
            target[identity(obj)] = obj
    _rebuild_indexes(model)
    return model


def _rebuild_indexes(model: CloudModel) -> None:
    """The indexes CloudModel keeps up to date as instances join, leave and come and go."""
    members: dict[str, set[tuple[str, str]]] = {}
    ip_count: dict[str, int] = {}
    vpc_ips: dict[str, set[str]] = {}
    for instance in model.instances.values():
        for nic in instance.nics:
            if instance.vpc_id:
                vpc_ips.setdefault(instance.vpc_id, set()).update(nic.private_ips)
            for group_id in nic.security_group_ids:
                members.setdefault(group_id, set()).add((instance.instance_id, nic.nic_id))
                ip_count[group_id] = ip_count.get(group_id, 0) + len(nic.private_ips)
    model._members, model._group_ip_count, model._vpc_ips = members, ip_count, vpc_ips  # noqa: SLF001
