"""`CloudModel` <-> JSON document. Derived indexes (group members, IP counts, VPC
addresses) are not stored: they are rebuilt from the instances on load. Fields added since a
document was saved (vSwitches, tags, an instance's zone, image, disk) take their defaults."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from palisade.auditor.model.document import DocumentError, decode, encode
from palisade.auditor.model.fleet.cloud_model import CloudModel
from palisade.auditor.model.fleet.resources import Account, Instance, Region, Vpc, VSwitch
from palisade.auditor.model.limits import Limits
from palisade.auditor.model.network import ipv4
from palisade.auditor.model.network.security_group import SecurityGroup

FORMAT = 1

_R = TypeVar("_R")  # a resource type (Account, Vpc, ...)


def meta_document(model: CloudModel) -> dict:
    """What the document holds besides the resource lists (the "fleet" unit)."""
    return {
        "format": FORMAT,
        "limits": encode(model.limits),
        "id_prefix": model.id_prefix,
        "counters": model.id_counters(),
    }


def apply_meta_document(model: CloudModel, doc: dict) -> None:
    """`meta_document`'s fields read back into a live model (a replica catching up)."""
    model.limits = decode(Limits, doc["limits"], "$.limits")
    model.id_prefix = doc.get("id_prefix", "")
    model.restore_id_counters({str(k): int(v) for k, v in doc.get("counters", {}).items()})


def to_document(model: CloudModel) -> dict:
    return {
        **meta_document(model),
        "accounts": [encode(a) for a in model.accounts.values()],
        "regions": [encode(r) for r in model.regions.values()],
        "vpcs": [encode(v) for v in model.vpcs.values()],
        "vswitches": [encode(s) for s in model.vswitches.values()],
        "groups": [encode(g) for g in model.groups.values()],
        "instances": [encode(i) for i in model.instances.values()],
    }


def from_document(doc: dict) -> CloudModel:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DocumentError(f"unknown cloud document format {doc.get('format')!r}")
    model = CloudModel(
        limits=decode(Limits, doc["limits"], "$.limits"), id_prefix=doc.get("id_prefix", "")
    )
    model.restore_id_counters({str(k): int(v) for k, v in doc.get("counters", {}).items()})
    _load(doc, "accounts", Account, model.accounts, lambda a: a.account_id)
    _load(doc, "regions", Region, model.regions, lambda r: r.region_id)
    _load(doc, "vpcs", Vpc, model.vpcs, lambda v: v.vpc_id)
    _load(doc, "vswitches", VSwitch, model.vswitches, lambda s: s.vswitch_id)  # none before
    _load(doc, "groups", SecurityGroup, model.groups, lambda g: g.group_id)
    _load(doc, "instances", Instance, model.instances, lambda i: i.instance_id)
    _canonical_addresses(model)
    model.rebuild_indexes()
    return model


def _canonical_addresses(model: CloudModel) -> None:
    """Documents saved before addresses were read by `ipaddress` may hold an address spelt
    with another script's digits or a trailing newline: stored canonical from now on."""
    for vpc in model.vpcs.values():
        vpc.cidr = ipv4.repair_cidr(vpc.cidr)
    for instance in model.instances.values():
        for nic in instance.nics:
            nic.private_ips = [ipv4.repair_ip(ip) for ip in nic.private_ips]
            if nic.public_ip:
                nic.public_ip = ipv4.repair_ip(nic.public_ip)


def _load(
    doc: dict, key: str, cls: type[_R], target: dict[str, _R], identity: Callable[[_R], str]
) -> None:
    """The list `doc[key]` of `cls` into `target`, keyed by `identity`, in stored order."""
    for i, item in enumerate(doc.get(key, [])):
        obj = decode(cls, item, f"$.{key}[{i}]")
        target[identity(obj)] = obj
