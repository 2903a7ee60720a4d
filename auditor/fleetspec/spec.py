"""A declarative fleet (`palisade apply FILE.yaml`): regions, peer accounts, VPCs, security groups
with their rules, key pairs and instances, read from YAML/JSON written by people, or converted
from the JSON the real ECS API answers (DescribeSecurityGroups, DescribeSecurityGroupAttribute,
DescribeInstances) for `palisade import-ecs`.

Both readers take untrusted input: anything that is not the expected shape is a `SpecError`
naming the place (`$.security_groups[0].rules[2].ports`). Values are checked for type only;
their meaning is checked by the model when the actions run (a dry run first).

```yaml
region: cn-hangzhou            # default region of the entries below
regions: [cn-shanghai]         # more regions to model
accounts: [{id: "2001", name: partner}]   # peer accounts (cross-account rules)
vpcs: [{name: prod, cidr: 172.16.0.0/12}]
security_groups:
  - name: web
    vpc: prod                  # a VPC of the file (name) or an id; none: classic network
    type: normal               # or enterprise
    description: Web servers
    inner_access_policy: Accept
    rules:                     # exactly these (omit the key to leave a group's rules alone)
      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0}
      - {protocol: tcp, ports: 22/22, group: bastion}
      - {direction: egress, protocol: all, cidr: 10.0.0.0/8, policy: drop, priority: 5}
key_pairs: [{name: deploy, public_key: "ssh-ed25519 AAAA... me@host"}]
instances:
  - {name: web-1, vpc: prod, private_ip: 172.16.0.10, public_ip: 47.0.0.10,
     security_groups: [web], key_pair: deploy, status: Running}
```
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field

DEFAULT_REGION = "cn-hangzhou"


class SpecError(ValueError):
    """The file is not a fleet: `where` is the JSON path of the problem."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@dataclass(frozen=True)
class AccountSpec:
    account_id: str
    name: str = ""


@dataclass(frozen=True)
class VpcSpec:
    name: str
    region: str
    cidr: str = "172.16.0.0/12"
    vpc_id: str | None = None
    account: str | None = None  # None: the auditor's own account


@dataclass(frozen=True)
class RuleSpec:
    protocol: str
    ports: str
    direction: str = "ingress"
    cidr: str | None = None
    group: str | None = None  # a group of the file (name) or an id
    owner_account: str | None = None
    policy: str = "accept"
    priority: str = "1"
    nic_type: str | None = None
    description: str = ""


@dataclass(frozen=True)
class GroupSpec:
    name: str
    region: str
    vpc: str | None = None
    type: str = "normal"
    description: str = ""
    inner_access_policy: str | None = None
    rules: tuple[RuleSpec, ...] | None = None  # None: leave the rules alone
    group_id: str | None = None
    account: str | None = None


@dataclass(frozen=True)
class KeyPairSpec:
    name: str
    region: str
    public_key: str


@dataclass(frozen=True)
class InstanceSpec:
    name: str
    region: str
    private_ip: str
    vpc: str | None = None
    public_ip: str | None = None
    security_groups: tuple[str, ...] | None = None
    os: str = "linux"
    instance_type: str = "ecs.g6.large"
    key_pair: str | None = None
    ram_role: str | None = None
    status: str = "Running"
    instance_id: str | None = None
    created_at: str | None = None
    account: str | None = None


@dataclass(frozen=True)
class FleetSpec:
    regions: tuple[str, ...] = ()
    accounts: tuple[AccountSpec, ...] = ()
    vpcs: tuple[VpcSpec, ...] = ()
    groups: tuple[GroupSpec, ...] = ()
    key_pairs: tuple[KeyPairSpec, ...] = ()
    instances: tuple[InstanceSpec, ...] = ()
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def all_regions(self) -> list[str]:
        seen = dict.fromkeys(self.regions)
        for item in (*self.vpcs, *self.groups, *self.key_pairs, *self.instances):
            seen.setdefault(item.region)
        return list(seen)


# -- reading values ----------------------------------------------------------------------------

MAX_TEXT = 4096


class _Reader:
    """One mapping of the file: typed getters that name the place of a problem."""

    def __init__(self, value: object, where: str, known: tuple[str, ...]) -> None:
        if not isinstance(value, dict):
            raise SpecError(where, f"expected a mapping, not {_kind(value)}")
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
            raise SpecError(f"{self.where}.{key}", f"expected text, not {_kind(value)}")
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
            raise SpecError(f"{self.where}.{key}", f"expected a list, not {_kind(value)}")
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


def _kind(value: object) -> str:
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


def _ports(value: str | None, protocol: str) -> str:
    if value is None:
        return "-1/-1" if protocol.lower() not in ("tcp", "udp") else ""
    return f"{value}/{value}" if value.isdigit() else value


# -- the YAML/JSON fleet -----------------------------------------------------------------------


def parse_fleet(document: object) -> FleetSpec:
    """A fleet from parsed YAML/JSON (see the module docstring)."""
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
                r.text("type", "ecs.g6.large") or "ecs.g6.large",
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
        _ports(r.text("ports"), protocol),
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


# -- the JSON of the real ECS API --------------------------------------------------------------


_PRIVATE_BLOCKS = ("192.168.0.0/16", "172.16.0.0/12", "10.0.0.0/8")


def parse_ecs(documents: list[object]) -> FleetSpec:
    """A fleet from responses of the real ECS API: DescribeSecurityGroups (the groups),
    DescribeSecurityGroupAttribute (a group and its rules) and DescribeInstances, each as
    answered (several in a JSON array). Ids, names and creation dates are kept. What Palisade
    cannot model (IPv6 rules, system rules of priority 110, key pairs it has no public key of)
    is left out with a warning."""
    groups: dict[str, dict] = {}  # id -> merged fields
    rules: dict[str, list[RuleSpec]] = {}
    instances: list[InstanceSpec] = []
    warnings: list[str] = []
    flat: list[tuple[str, object]] = []
    for i, doc in enumerate(documents):
        if isinstance(doc, list):
            flat += [(f"$[{i}][{j}]", d) for j, d in enumerate(doc)]
        else:
            flat.append((f"$[{i}]", doc))
    if not flat:
        raise SpecError("$", "no ECS responses in the file")
    for where, doc in flat:
        if not isinstance(doc, dict):
            raise SpecError(where, f"expected an ECS API response (a mapping), not {_kind(doc)}")
        if "SecurityGroups" in doc:
            region = _opt_text(doc, "RegionId", where)
            for j, g in enumerate(_ecs_list(doc, "SecurityGroups", "SecurityGroup", where)):
                _merge_group(groups, g, f"{where}.SecurityGroups.SecurityGroup[{j}]", region)
        elif "Permissions" in doc and "SecurityGroupId" in doc:
            gid = _merge_group(groups, doc, where, _opt_text(doc, "RegionId", where))
            rules[gid] = []
            perms = _ecs_list(doc, "Permissions", "Permission", where)
            for j, perm in enumerate(perms):
                rule = _ecs_rule(perm, f"{where}.Permissions.Permission[{j}]", gid, warnings)
                if rule is not None:
                    rules[gid].append(rule)
        elif "Instances" in doc:
            for j, inst in enumerate(_ecs_list(doc, "Instances", "Instance", where)):
                instances.append(_ecs_instance(inst, f"{where}.Instances.Instance[{j}]", warnings))
        else:
            raise SpecError(
                where,
                "not a DescribeSecurityGroups, DescribeSecurityGroupAttribute or "
                "DescribeInstances response (no SecurityGroups, Permissions or Instances)",
            )
    for gid in rules:
        if groups[gid]["region"] is None:
            raise SpecError("$", f"the region of {gid} is not given (RegionId)")
    vpcs = _ecs_vpcs(groups, instances)
    group_specs = tuple(
        GroupSpec(
            g["name"],
            g["region"] or DEFAULT_REGION,
            g["vpc"],
            g["type"],
            g["description"],
            g["inner"],
            tuple(rules[gid]) if gid in rules else None,
            gid,
        )
        for gid, g in groups.items()
    )
    ids = [i.instance_id for i in instances]
    if len(set(ids)) != len(ids):
        raise SpecError("$", "an instance is listed twice")
    spec = FleetSpec(
        (),
        (),
        vpcs,
        group_specs,
        (),
        tuple(instances),
        tuple(warnings),
    )
    return spec


def _opt_text(doc: dict, key: str, where: str, limit: int = 256) -> str | None:
    value = doc.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)) or len(str(value)) > limit:
        raise SpecError(f"{where}.{key}", f"expected a short text, not {_kind(value)}")
    return str(value)


def _ecs_list(doc: dict, outer: str, inner: str, where: str) -> list:
    value = doc.get(outer)
    if isinstance(value, dict):
        value = value.get(inner, [])
    if not isinstance(value, list):
        raise SpecError(f"{where}.{outer}", f"expected {{{inner!r}: [...]}} or a list")
    return value


def _merge_group(groups: dict[str, dict], doc: object, where: str, region: str | None) -> str:
    if not isinstance(doc, dict):
        raise SpecError(where, f"expected a security group (a mapping), not {_kind(doc)}")
    gid = _opt_text(doc, "SecurityGroupId", where)
    if gid is None:
        raise SpecError(f"{where}.SecurityGroupId", "missing")
    entry = groups.setdefault(
        gid,
        {
            "name": "",
            "description": "",
            "vpc": None,
            "type": "normal",
            "inner": None,
            "region": None,
        },
    )
    for key, field_name in (
        ("SecurityGroupName", "name"),
        ("Description", "description"),
        ("VpcId", "vpc"),
        ("SecurityGroupType", "type"),
        ("InnerAccessPolicy", "inner"),
        ("RegionId", "region"),
    ):
        value = _opt_text(doc, key, where)
        if value is not None:
            entry[field_name] = value
    if region is not None and entry["region"] is None:
        entry["region"] = region
    return gid


def _ecs_rule(perm: object, where: str, group_id: str, warnings: list[str]) -> RuleSpec | None:
    if not isinstance(perm, dict):
        raise SpecError(where, f"expected a permission (a mapping), not {_kind(perm)}")
    text = {k: _opt_text(perm, k, where, MAX_TEXT) for k in _PERMISSION_FIELDS}
    direction = (text["Direction"] or "ingress").lower()
    side = "Dest" if direction == "egress" else "Source"
    cidr, peer = text[f"{side}CidrIp"], text[f"{side}GroupId"]
    if cidr is None and peer is None:
        if text[f"Ipv6{side}CidrIp"] or text[f"{side}PrefixListId"]:
            warnings.append(f"{group_id}: left out an IPv6 or prefix-list rule ({where})")
            return None
    priority = text["Priority"] or "1"
    if priority.isdigit() and int(priority) > 100:
        warnings.append(
            f"{group_id}: left out a priority-{priority} system rule "
            f"({text['IpProtocol']} {text['PortRange']}); such rules cannot be created"
        )
        return None
    protocol = text["IpProtocol"] or ""
    return RuleSpec(
        protocol,
        text["PortRange"] or _ports(None, protocol),
        direction,
        cidr,
        peer,
        text[f"{side}GroupOwnerAccount"],
        text["Policy"] or "accept",
        priority,
        text["NicType"],
        text["Description"] or "",
    )


_PERMISSION_FIELDS = (
    "Direction",
    "IpProtocol",
    "PortRange",
    "SourceCidrIp",
    "SourceGroupId",
    "SourceGroupOwnerAccount",
    "DestCidrIp",
    "DestGroupId",
    "DestGroupOwnerAccount",
    "Ipv6SourceCidrIp",
    "Ipv6DestCidrIp",
    "SourcePrefixListId",
    "DestPrefixListId",
    "Policy",
    "Priority",
    "NicType",
    "Description",
)


def _first_ip(doc: dict, key: str, where: str) -> str | None:
    value = doc.get(key)
    if value is None:
        return None
    ips = value.get("IpAddress") if isinstance(value, dict) else value
    if not isinstance(ips, list) or not all(isinstance(ip, str) for ip in ips):
        raise SpecError(f"{where}.{key}", 'expected {"IpAddress": ["a.b.c.d", ...]}')
    return ips[0][:64] if ips else None


def _ecs_instance(inst: object, where: str, warnings: list[str]) -> InstanceSpec:
    if not isinstance(inst, dict):
        raise SpecError(where, f"expected an instance (a mapping), not {_kind(inst)}")
    iid = _opt_text(inst, "InstanceId", where)
    if iid is None:
        raise SpecError(f"{where}.InstanceId", "missing")
    vpc_attrs = inst.get("VpcAttributes") or {}
    if not isinstance(vpc_attrs, dict):
        raise SpecError(f"{where}.VpcAttributes", "expected a mapping")
    vpc = _opt_text(vpc_attrs, "VpcId", f"{where}.VpcAttributes")
    private = _first_ip(vpc_attrs, "PrivateIpAddress", f"{where}.VpcAttributes") or _first_ip(
        inst, "InnerIpAddress", where
    )
    if private is None:
        raise SpecError(where, f"{iid} has no private IP (VpcAttributes.PrivateIpAddress)")
    public = _first_ip(inst, "PublicIpAddress", where)
    eip = inst.get("EipAddress")
    if public is None and isinstance(eip, dict):
        public = _opt_text(eip, "IpAddress", f"{where}.EipAddress")
    groups = inst.get("SecurityGroupIds")
    group_ids = _ecs_list(inst, "SecurityGroupIds", "SecurityGroupId", where) if groups else []
    if not all(isinstance(g, str) and len(g) <= 64 for g in group_ids):
        raise SpecError(f"{where}.SecurityGroupIds", "expected group ids")
    status_text = (_opt_text(inst, "Status", where) or "Running").lower()
    status = "Stopped" if status_text in ("stopped", "stopping") else "Running"
    key_pair = _opt_text(inst, "KeyPairName", where)
    if key_pair:
        warnings.append(
            f"{iid}: key pair {key_pair!r} not bound (DescribeInstances has no public key; "
            "ImportKeyPair it, then AttachKeyPair)"
        )
    os_type = (_opt_text(inst, "OSType", where) or "linux").lower()
    return InstanceSpec(
        _opt_text(inst, "InstanceName", where) or "",
        _opt_text(inst, "RegionId", where) or DEFAULT_REGION,
        private,
        vpc,
        public,
        tuple(group_ids),
        os_type,
        _opt_text(inst, "InstanceType", where) or "ecs.g6.large",
        None,
        None,
        status,
        iid,
        _opt_text(inst, "CreationTime", where),
    )


def _ecs_vpcs(groups: dict[str, dict], instances: list[InstanceSpec]) -> tuple[VpcSpec, ...]:
    """The VPCs the groups and instances name, each with the private block its instances'
    addresses are in (the responses do not give VPC CIDRs)."""
    regions: dict[str, str] = {}
    addresses: dict[str, list[str]] = {}
    for g in groups.values():
        if g["vpc"]:
            regions.setdefault(g["vpc"], g["region"] or DEFAULT_REGION)
            addresses.setdefault(g["vpc"], [])
    for inst in instances:
        if inst.vpc:
            regions.setdefault(inst.vpc, inst.region)
            addresses.setdefault(inst.vpc, []).append(inst.private_ip)
    out = []
    for vpc_id, ips in addresses.items():
        block = "172.16.0.0/12"
        try:
            parsed = [ipaddress.IPv4Address(ip) for ip in ips]
        except ValueError:
            parsed = []  # the instance's own check reports the address
        if parsed:
            fits = [
                b for b in _PRIVATE_BLOCKS if all(ip in ipaddress.IPv4Network(b) for ip in parsed)
            ]
            if not fits:
                raise SpecError(
                    "$",
                    f"the instances of {vpc_id} use addresses of several private blocks; "
                    "Palisade models one CIDR block per VPC",
                )
            block = fits[0]
        out.append(VpcSpec("", regions[vpc_id], block, vpc_id))
    return tuple(out)


# -- files -------------------------------------------------------------------------------------

MAX_FILE = 16 * 1024 * 1024


def load_document(text: str, name: str = "file") -> object:
    """YAML or JSON text -> data (YAML's safe loader: no objects, no tags)."""
    import yaml

    if len(text) > MAX_FILE:
        raise SpecError("$", f"{name} is larger than {MAX_FILE} bytes")
    try:
        if text.lstrip().startswith(("{", "[")):
            return json.loads(text)
        return yaml.safe_load(text)
    except (ValueError, yaml.YAMLError, RecursionError) as exc:
        raise SpecError("$", f"{name} is not valid YAML/JSON: {str(exc)[:300]}") from None


def looks_like_ecs(document: object) -> bool:
    items = document if isinstance(document, list) else [document]
    return bool(items) and all(
        isinstance(d, (dict, list))
        and (
            isinstance(d, list)
            or "SecurityGroups" in d
            or "Instances" in d
            or ("Permissions" in d and "SecurityGroupId" in d)
        )
        for d in items
    )
