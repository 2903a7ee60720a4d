"""Reading a fleet file written by people (`palisade apply FILE`, the format in
fleetspec/spec.py), already parsed from YAML/JSON, into a `FleetSpec`.

The file is read through the schemas below (pydantic, model/schema.py): an unknown key, a
missing one or a value of the wrong kind is a `SpecError` naming its path
(`$.security_groups[0].rules[2].prots`). A key given as null counts as not given."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, model_validator

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
    rule_ports,
)
from palisade.auditor.model.schema import Schema, ShortText, Text, validate


class _Entry(Schema):
    """A mapping of a fleet file: a key given as null is a key not given."""

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None or k == "rules"}
        return data


def _status(value: object) -> object:
    if isinstance(value, str):
        for status in ("Running", "Stopped"):
            if value.lower() == status.lower():
                return status
        raise ValueError(f"{value[:40]!r} is not Running or Stopped")
    return value


class AccountDoc(_Entry):
    id: Text
    name: Text = ""


class VpcDoc(_Entry):
    name: Text = ""
    region: Text | None = None
    cidr: Text = "172.16.0.0/12"
    id: Text | None = None
    account: Text | None = None


class RuleDoc(_Entry):
    protocol: Text
    direction: Text = "ingress"
    ports: Text | None = None
    cidr: Text | None = None
    group: Text | None = None
    owner_account: Text | None = None
    policy: Text = "accept"
    priority: Text = "1"
    nic_type: Text | None = None
    description: Text = ""


def _no_rules(value: object) -> object:
    return [] if value is None else value  # `rules:` with nothing after it: no rules


class GroupDoc(_Entry):
    name: Text = ""
    region: Text | None = None
    vpc: Text | None = None
    type: Text = "normal"
    description: Text = ""
    inner_access_policy: Text | None = None
    # absent: the group's rules are left alone
    rules: Annotated[list[RuleDoc] | None, BeforeValidator(_no_rules)] = None
    id: Text | None = None
    account: Text | None = None


class KeyPairDoc(_Entry):
    name: Text
    public_key: Text
    region: Text | None = None


class InstanceDoc(_Entry):
    private_ip: Text
    name: Text = ""
    region: Text | None = None
    vpc: Text | None = None
    public_ip: Text | None = None
    security_groups: list[ShortText] | None = None
    os: Text = "linux"
    type: Text = "ecs.g6.large"
    key_pair: Text | None = None
    ram_role: Text | None = None
    status: Annotated[Text, BeforeValidator(_status)] = "Running"
    id: Text | None = None
    created_at: Text | None = None
    account: Text | None = None


class FleetDoc(_Entry):
    """A fleet file (the format in fleetspec/spec.py)."""

    region: Text | None = None
    regions: list[ShortText] = []
    accounts: list[AccountDoc] = []
    vpcs: list[VpcDoc] = []
    security_groups: list[GroupDoc] = []
    key_pairs: list[KeyPairDoc] = []
    instances: list[InstanceDoc] = []


def parse_fleet(document: object) -> FleetSpec:
    """A fleet from parsed YAML/JSON (the format: see fleetspec/spec.py)."""
    doc = validate(FleetDoc, document)
    region = doc.region or DEFAULT_REGION

    def named(items: list, kind: str, what: str) -> None:
        for i, item in enumerate(items):
            if not item.name and not item.id:
                raise SpecError(f"$.{kind}[{i}]", f"give the {what} a name (or an id)")

    named(doc.vpcs, "vpcs", "VPC")
    named(doc.security_groups, "security_groups", "group")
    named(doc.instances, "instances", "instance")
    spec = FleetSpec(
        (region, *doc.regions) if doc.region is not None else tuple(doc.regions),
        tuple(AccountSpec(a.id, a.name) for a in doc.accounts),
        tuple(VpcSpec(v.name, v.region or region, v.cidr, v.id, v.account) for v in doc.vpcs),
        tuple(
            GroupSpec(
                g.name,
                g.region or region,
                g.vpc,
                g.type,
                g.description,
                g.inner_access_policy,
                None if g.rules is None else tuple(_rule(r) for r in g.rules),
                g.id,
                g.account,
            )
            for g in doc.security_groups
        ),
        tuple(KeyPairSpec(k.name, k.region or region, k.public_key) for k in doc.key_pairs),
        tuple(
            InstanceSpec(
                i.name,
                i.region or region,
                i.private_ip,
                i.vpc,
                i.public_ip,
                None if i.security_groups is None else tuple(i.security_groups),
                i.os,
                i.type,
                i.key_pair,
                i.ram_role,
                i.status,
                i.id,
                i.created_at,
                i.account,
            )
            for i in doc.instances
        ),
    )
    _check_unique(spec)
    return spec


def _rule(r: RuleDoc) -> RuleSpec:
    return RuleSpec(
        r.protocol,
        rule_ports(r.ports, r.protocol),
        r.direction,
        r.cidr,
        r.group,
        r.owner_account,
        r.policy,
        r.priority,
        r.nic_type,
        r.description,
    )


def _check_unique(spec: FleetSpec) -> None:
    for kind, items, key in (
        ("vpcs", spec.vpcs, lambda v: (v.account, v.region, v.name or v.vpc_id)),
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
