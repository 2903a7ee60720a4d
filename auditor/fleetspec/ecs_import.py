"""Reading the JSON the real ECS API answers (DescribeSecurityGroups,
DescribeSecurityGroupAttribute, DescribeInstances) into a `FleetSpec`, for
`palisade import-ecs`."""

from __future__ import annotations

import ipaddress

from palisade.auditor.fleetspec.spec import (
    DEFAULT_REGION,
    MAX_TEXT,
    FleetSpec,
    GroupSpec,
    InstanceSpec,
    RuleSpec,
    SpecError,
    VpcSpec,
    kind_of,
    rule_ports,
)
from palisade.auditor.model.fleet.resources import DEFAULT_INSTANCE_TYPE

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
            raise SpecError(where, f"expected an ECS API response (a mapping), not {kind_of(doc)}")
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
        raise SpecError(f"{where}.{key}", f"expected a short text, not {kind_of(value)}")
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
        raise SpecError(where, f"expected a security group (a mapping), not {kind_of(doc)}")
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
        raise SpecError(where, f"expected a permission (a mapping), not {kind_of(perm)}")
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
        text["PortRange"] or rule_ports(None, protocol),
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
        raise SpecError(where, f"expected an instance (a mapping), not {kind_of(inst)}")
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
        _opt_text(inst, "InstanceType", where) or DEFAULT_INSTANCE_TYPE,
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
