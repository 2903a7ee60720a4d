"""Reading a fleet file written by people (`palisade apply FILE`, the format in
fleetspec/spec.py), already parsed from YAML/JSON, into a `FleetSpec`.

The file is read through the schemas below (pydantic, model/schema.py): an unknown key, a
missing one or a value of the wrong kind is a `SpecError` naming its path
(`$.security_groups[0].rules[2].prots`). A key given as null counts as not given."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator
from typing_extensions import TypedDict  # pydantic reads typing.TypedDict only on 3.12+

from palisade.auditor.fleetspec.spec import (
    DEFAULT_REGION,
    AccountSpec,
    FleetSpec,
    GroupSpec,
    InstanceSpec,
    KeyPairSpec,
    RuleSpec,
    SpecError,
    VpcSpec,
    VSwitchSpec,
    rule_ports,
)
from palisade.auditor.model.fleet.resources import DEFAULT_INSTANCE_TYPE
from palisade.auditor.model.schema import DOCUMENT, ShortText, Text, validate

# Every key is optional in the schema (a key given as null counts as not given); defaults and
# required keys are applied by `parse_fleet`, which names the path of a missing one.


def _status(value: object) -> object:
    if isinstance(value, str):
        for status in ("Running", "Stopped"):
            if value.lower() == status.lower():
                return status
        raise ValueError(f"{value[:40]!r} is not Running or Stopped")
    return value


Opt = Text | None


class AccountDoc(TypedDict, total=False):
    __pydantic_config__ = DOCUMENT  # type: ignore[misc]
    id: Opt
    name: Opt


class VpcDoc(TypedDict, total=False):
    __pydantic_config__ = DOCUMENT  # type: ignore[misc]
    name: Opt
    region: Opt
    cidr: Opt
    id: Opt
    account: Opt


class VSwitchDoc(TypedDict, total=False):
    __pydantic_config__ = DOCUMENT  # type: ignore[misc]
    name: Opt
    region: Opt
    vpc: Opt
    zone: Opt
    cidr: Opt
    description: Opt
    id: Opt
    account: Opt


class RuleDoc(TypedDict, total=False):
    __pydantic_config__ = DOCUMENT  # type: ignore[misc]
    protocol: Opt
    direction: Opt
    ports: Opt
    cidr: Opt
    group: Opt
    owner_account: Opt
    policy: Opt
    priority: Opt
    nic_type: Opt
    description: Opt
    source_ports: Opt
    ipv6_cidr: Opt


class GroupDoc(TypedDict, total=False):
    __pydantic_config__ = DOCUMENT  # type: ignore[misc]
    name: Opt
    region: Opt
    vpc: Opt
    type: Opt
    description: Opt
    inner_access_policy: Opt
    rules: list[RuleDoc] | None  # absent: the group's rules are left alone
    id: Opt
    account: Opt


class KeyPairDoc(TypedDict, total=False):
    __pydantic_config__ = DOCUMENT  # type: ignore[misc]
    name: Opt
    public_key: Opt
    region: Opt


class InstanceDoc(TypedDict, total=False):
    __pydantic_config__ = DOCUMENT  # type: ignore[misc]
    private_ip: Opt
    name: Opt
    region: Opt
    vpc: Opt
    public_ip: Opt
    security_groups: list[ShortText] | None
    os: Opt
    type: Opt
    key_pair: Opt
    ram_role: Opt
    status: Annotated[Opt, BeforeValidator(_status)]
    id: Opt
    created_at: Opt
    account: Opt
    vswitch: Opt


class FleetDoc(TypedDict, total=False):
    """A fleet file (the format in fleetspec/spec.py)."""

    __pydantic_config__ = DOCUMENT  # type: ignore[misc]
    region: Opt
    regions: list[ShortText] | None
    accounts: list[AccountDoc] | None
    vpcs: list[VpcDoc] | None
    vswitches: list[VSwitchDoc] | None
    security_groups: list[GroupDoc] | None
    key_pairs: list[KeyPairDoc] | None
    instances: list[InstanceDoc] | None


def _required(value: str | None, where: str) -> str:
    if value is None:
        raise SpecError(where, f"missing {where.rsplit('.', 1)[-1]!r}")
    return value


def parse_fleet(document: object) -> FleetSpec:
    """A fleet from parsed YAML/JSON (the format: see fleetspec/spec.py)."""
    doc = validate(FleetDoc, document)
    region = doc.get("region") or DEFAULT_REGION
    vpcs, groups = doc.get("vpcs") or [], doc.get("security_groups") or []
    key_pairs, instances = doc.get("key_pairs") or [], doc.get("instances") or []

    def named(items: list, kind: str, what: str) -> None:
        for i, item in enumerate(items):
            if not item.get("name") and not item.get("id"):
                raise SpecError(f"$.{kind}[{i}]", f"give the {what} a name (or an id)")

    vswitches = doc.get("vswitches") or []
    named(vpcs, "vpcs", "VPC")
    named(vswitches, "vswitches", "vSwitch")
    named(groups, "security_groups", "group")
    named(instances, "instances", "instance")
    regions = tuple(doc.get("regions") or ())
    spec = FleetSpec(
        (region, *regions) if doc.get("region") is not None else regions,
        tuple(
            AccountSpec(_required(a.get("id"), f"$.accounts[{i}].id"), a.get("name") or "")
            for i, a in enumerate(doc.get("accounts") or [])
        ),
        tuple(
            VpcSpec(
                v.get("name") or "",
                v.get("region") or region,
                v.get("cidr") or "172.16.0.0/12",
                v.get("id"),
                v.get("account"),
            )
            for v in vpcs
        ),
        tuple(
            GroupSpec(
                g.get("name") or "",
                g.get("region") or region,
                g.get("vpc"),
                g.get("type") or "normal",
                g.get("description") or "",
                g.get("inner_access_policy"),
                _rules(g, f"$.security_groups[{i}]"),
                g.get("id"),
                g.get("account"),
            )
            for i, g in enumerate(groups)
        ),
        tuple(
            KeyPairSpec(
                _required(k.get("name"), f"$.key_pairs[{i}].name"),
                k.get("region") or region,
                _required(k.get("public_key"), f"$.key_pairs[{i}].public_key"),
            )
            for i, k in enumerate(key_pairs)
        ),
        tuple(
            InstanceSpec(
                inst.get("name") or "",
                inst.get("region") or region,
                _required(inst.get("private_ip"), f"$.instances[{i}].private_ip"),
                inst.get("vpc"),
                inst.get("public_ip"),
                _texts(inst.get("security_groups")),
                inst.get("os") or "linux",
                inst.get("type") or DEFAULT_INSTANCE_TYPE,
                inst.get("key_pair"),
                inst.get("ram_role"),
                inst.get("status") or "Running",
                inst.get("id"),
                inst.get("created_at"),
                inst.get("account"),
                inst.get("vswitch"),
            )
            for i, inst in enumerate(instances)
        ),
        tuple(
            VSwitchSpec(
                sw.get("name") or "",
                sw.get("region") or region,
                _required(sw.get("vpc"), f"$.vswitches[{i}].vpc"),
                _required(sw.get("zone"), f"$.vswitches[{i}].zone"),
                _required(sw.get("cidr"), f"$.vswitches[{i}].cidr"),
                sw.get("description") or "",
                sw.get("id"),
                sw.get("account"),
            )
            for i, sw in enumerate(vswitches)
        ),
    )
    _check_unique(spec)
    return spec


def _texts(value: list[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _rules(group: GroupDoc, where: str) -> tuple[RuleSpec, ...] | None:
    if "rules" not in group:
        return None  # absent: left alone
    out = []
    for j, r in enumerate(group.get("rules") or ()):  # `rules:` with nothing after: no rules
        protocol = _required(r.get("protocol"), f"{where}.rules[{j}].protocol")
        out.append(
            RuleSpec(
                protocol,
                rule_ports(r.get("ports"), protocol),
                r.get("direction") or "ingress",
                r.get("cidr"),
                r.get("group"),
                r.get("owner_account"),
                r.get("policy") or "accept",
                r.get("priority") or "1",
                r.get("nic_type"),
                r.get("description") or "",
                r.get("source_ports"),
                r.get("ipv6_cidr"),
            )
        )
    return tuple(out)


def _check_unique(spec: FleetSpec) -> None:
    for kind, items, key in (
        ("vpcs", spec.vpcs, lambda v: (v.account, v.region, v.name or v.vpc_id)),
        ("vswitches", spec.vswitches, lambda s: (s.account, s.region, s.name or s.vswitch_id)),
        (
            "security_groups",
            spec.groups,
            lambda g: (g.account, g.region, g.vpc, g.name or g.group_id),
        ),
        ("key_pairs", spec.key_pairs, lambda k: (k.region, k.name)),
        ("instances", spec.instances, lambda i: (i.account, i.region, i.name or i.instance_id)),
    ):
        seen = set()
        for i, item in enumerate(items):
            k = key(item)
            if k in seen:
                raise SpecError(f"$.{kind}[{i}]", f"{k[-1]!r} is declared twice")
            seen.add(k)
