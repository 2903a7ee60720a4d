"""Reading a fleet file written by people (`palisade apply FILE`, the format in
fleetspec/spec.py), already parsed from YAML/JSON, into a `FleetSpec`."""

from __future__ import annotations

from palisade.auditor.fleetspec.spec import (
    DEFAULT_REGION,
    MAX_TEXT,
    AccountSpec,
    FleetSpec,
    GroupSpec,
    InstanceSpec,
    KeyPairSpec,
    RuleSpec,
    SpecError,
    VpcSpec,
    kind_of,
    rule_ports,
)
from palisade.auditor.model.fleet.resources import DEFAULT_INSTANCE_TYPE


class _Reader:
    """One mapping of the file: typed getters that name the place of a problem."""

    def __init__(self, value: object, where: str, known: tuple[str, ...]) -> None:
        if not isinstance(value, dict):
            raise SpecError(where, f"expected a mapping, not {kind_of(value)}")
        for key in value:
            if not isinstance(key, str) or key not in known:
                raise SpecError(where, f"unknown key {str(key)[:40]!r}; known: {', '.join(known)}")
        self.value, self.where = value, where

    def text(self, key: str, default: str | None = None, required: bool = False) -> str | None:
        value = self.value.get(key)
        if value is None:
            if required:
                raise SpecError(f"{self.where}.{key}", "missing")
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise SpecError(f"{self.where}.{key}", f"expected text, not {kind_of(value)}")
        text = str(value)
        if len(text) > MAX_TEXT:
            raise SpecError(f"{self.where}.{key}", f"longer than {MAX_TEXT} characters")
        return text

    def req(self, key: str) -> str:
        value = self.text(key, required=True)
        assert value is not None
        return value

    def items(self, key: str) -> list:
        value = self.value.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise SpecError(f"{self.where}.{key}", f"expected a list, not {kind_of(value)}")
        return value

    def texts(self, key: str) -> tuple[str, ...] | None:
        if self.value.get(key) is None:
            return None
        out = []
        for i, item in enumerate(self.items(key)):
            if isinstance(item, bool) or not isinstance(item, (str, int)) or len(str(item)) > 256:
                raise SpecError(f"{self.where}.{key}[{i}]", "expected a short text")
            out.append(str(item))
        return tuple(out)


def parse_fleet(document: object) -> FleetSpec:
    """A fleet from parsed YAML/JSON (the format: see fleetspec/spec.py)."""
    top = _Reader(
        document,
        "$",
        ("region", "regions", "accounts", "vpcs", "security_groups", "key_pairs", "instances"),
    )
    default_region = top.text("region", DEFAULT_REGION) or DEFAULT_REGION
    accounts = []
    for i, item in enumerate(top.items("accounts")):
        r = _Reader(item, f"$.accounts[{i}]", ("id", "name"))
        accounts.append(AccountSpec(r.req("id"), r.text("name", "") or ""))
    vpcs = []
    for i, item in enumerate(top.items("vpcs")):
        r = _Reader(item, f"$.vpcs[{i}]", ("name", "region", "cidr", "id", "account"))
        vpcs.append(
            VpcSpec(
                r.text("name", "") or "",
                r.text("region", default_region) or default_region,
                r.text("cidr", "172.16.0.0/12") or "172.16.0.0/12",
                r.text("id"),
                r.text("account"),
            )
        )
        if not vpcs[-1].name and not vpcs[-1].vpc_id:
            raise SpecError(f"$.vpcs[{i}]", "give the VPC a name (or an id)")
    groups = []
    for i, item in enumerate(top.items("security_groups")):
        where = f"$.security_groups[{i}]"
        r = _Reader(
            item,
            where,
            (
                "name",
                "region",
                "vpc",
                "type",
                "description",
                "inner_access_policy",
                "rules",
                "id",
                "account",
            ),
        )
        rules = None
        if "rules" in r.value:
            rules = tuple(
                _rule(rule, f"{where}.rules[{j}]") for j, rule in enumerate(r.items("rules"))
            )
        groups.append(
            GroupSpec(
                r.text("name", "") or "",
                r.text("region", default_region) or default_region,
                r.text("vpc"),
                r.text("type", "normal") or "normal",
                r.text("description", "") or "",
                r.text("inner_access_policy"),
                rules,
                r.text("id"),
                r.text("account"),
            )
        )
        if not groups[-1].name and not groups[-1].group_id:
            raise SpecError(where, "give the group a name (or an id)")
    key_pairs = []
    for i, item in enumerate(top.items("key_pairs")):
        r = _Reader(item, f"$.key_pairs[{i}]", ("name", "region", "public_key"))
        key_pairs.append(
            KeyPairSpec(
                r.req("name"),
                r.text("region", default_region) or default_region,
                r.req("public_key"),
            )
        )
    instances = []
    for i, item in enumerate(top.items("instances")):
        r = _Reader(
            item,
            f"$.instances[{i}]",
            (
                "name",
                "region",
                "vpc",
                "private_ip",
                "public_ip",
                "security_groups",
                "os",
                "type",
                "key_pair",
                "ram_role",
                "status",
                "id",
                "created_at",
                "account",
            ),
        )
        instances.append(
            InstanceSpec(
                r.text("name", "") or "",
                r.text("region", default_region) or default_region,
                r.req("private_ip"),
                r.text("vpc"),
                r.text("public_ip"),
                r.texts("security_groups"),
                r.text("os", "linux") or "linux",
                r.text("type", DEFAULT_INSTANCE_TYPE) or DEFAULT_INSTANCE_TYPE,
                r.text("key_pair"),
                r.text("ram_role"),
                _status(r.text("status", "Running") or "Running", f"$.instances[{i}].status"),
                r.text("id"),
                r.text("created_at"),
                r.text("account"),
            )
        )
        if not instances[-1].name and not instances[-1].instance_id:
            raise SpecError(f"$.instances[{i}]", "give the instance a name (or an id)")
    regions = top.texts("regions") or ()
    spec = FleetSpec(
        (default_region, *regions) if "region" in top.value else tuple(regions),
        tuple(accounts),
        tuple(vpcs),
        tuple(groups),
        tuple(key_pairs),
        tuple(instances),
    )
    _check_unique(spec)
    return spec


def _status(value: str, where: str) -> str:
    for status in ("Running", "Stopped"):
        if value.lower() == status.lower():
            return status
    raise SpecError(where, f"{value[:40]!r} is not Running or Stopped")


def _rule(item: object, where: str) -> RuleSpec:
    r = _Reader(
        item,
        where,
        (
            "direction",
            "protocol",
            "ports",
            "cidr",
            "group",
            "owner_account",
            "policy",
            "priority",
            "nic_type",
            "description",
        ),
    )
    protocol = r.req("protocol")
    return RuleSpec(
        protocol,
        rule_ports(r.text("ports"), protocol),
        r.text("direction", "ingress") or "ingress",
        r.text("cidr"),
        r.text("group"),
        r.text("owner_account"),
        r.text("policy", "accept") or "accept",
        r.text("priority", "1") or "1",
        r.text("nic_type"),
        r.text("description", "") or "",
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
