"""Reading the JSON the real ECS API answers (DescribeSecurityGroups,
DescribeSecurityGroupAttribute, DescribeInstances, and the VPC API's DescribeVSwitches) into a
`FleetSpec`, for `palisade import-ecs` and `palisade sync`.

Each response is read through a schema whose keys are those the official SDKs' models give
the response (`alibabacloud_ecs20140526` and `alibabacloud_vpc20160428`,
models/_describe_*_response_body.py); a key it does not know is an error naming it, as is a
value of the wrong kind. A rule is one `Permission` (model/network/permission.py), the schema
the API's rule parameters use too.

A rule is imported exactly or not at all: its `SourcePortRange` and its IPv6 peer
(`Ipv6SourceCidrIp` / `Ipv6DestCidrIp`) are kept; what Palisade cannot model (a prefix list as
the only peer, a port list, a system rule above priority 100) is left out with a note naming
the rule and what was not imported. Never is a narrower rule imported as a wider one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import replace
from typing import Annotated, Any, Required

from pydantic import BeforeValidator
from typing_extensions import TypedDict  # pydantic reads typing.TypedDict only on 3.12+

from palisade.auditor.fleetspec.spec import (
    DEFAULT_REGION,
    FleetSpec,
    GroupSpec,
    InstanceSpec,
    RuleSpec,
    SpecError,
    VpcSpec,
    VSwitchSpec,
    kind_of,
    rule_ports,
)
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.resources import DEFAULT_INSTANCE_TYPE
from palisade.auditor.model.limits import Limits
from palisade.auditor.model.network.permission import Permission, PermissionFields
from palisade.auditor.model.network.security_group import parse_priority
from palisade.auditor.model.schema import DOCUMENT, ShortText, validate

_PRIVATE_BLOCKS = ("192.168.0.0/16", "172.16.0.0/12", "10.0.0.0/8")


# The response schemas are TypedDicts (validated to plain dicts, several times faster than
# models for thousands of instances); "" is an absent value, as ECS answers it.
Opt = ShortText | None


def _shape(name: str, read: dict[str, Any], *unread: str) -> Any:
    """A response object: `read` (the keys Palisade reads, typed) plus its other documented
    keys, taken as they come."""
    shape = TypedDict(name, {**read, **dict.fromkeys(unread, Any)}, total=False)  # type: ignore[operator]
    shape.__pydantic_config__ = DOCUMENT
    return shape


def _wrapped(inner: str, item: Any) -> Any:
    """ECS wraps its lists: `{"SecurityGroup": [...]}` (read as a mapping of that one key, so
    a problem's path names it); a bare list is read as the list it wraps."""

    def wrap(value: object) -> object:
        return {inner: value} if isinstance(value, list) else value

    return Annotated[_shape(f"{inner}List", {inner: list[item]}), BeforeValidator(wrap)] | None


def _items(wrapper: dict | None) -> list:
    return next(iter(wrapper.values()), []) if wrapper else []


_TAGS = _wrapped("Tag", _shape("Tag", {}, "TagKey", "TagValue"))
_SECURITY_GROUP = _shape(
    "SecurityGroup",
    {
        "SecurityGroupId": Required[ShortText],
        "SecurityGroupName": Opt,
        "Description": Opt,
        "VpcId": Opt,
        "SecurityGroupType": Opt,
        "Tags": _TAGS,
    },
    "AvailableInstanceAmount",
    "CreationTime",
    "EcsCount",
    "GroupToGroupRuleCount",
    "ResourceGroupId",
    "RuleCount",
    "ServiceID",
    "ServiceManaged",
)
# DescribeSecurityGroups
GroupsResponse = _shape(
    "DescribeSecurityGroups",
    {"SecurityGroups": Required[_wrapped("SecurityGroup", _SECURITY_GROUP)], "RegionId": Opt},
    "RequestId",
    "TotalCount",
    "PageNumber",
    "PageSize",
    "NextToken",
)
# DescribeSecurityGroupAttribute: a group and its rules (each a `Permission`)
AttributeResponse = _shape(
    "DescribeSecurityGroupAttribute",
    {
        "SecurityGroupId": Required[ShortText],
        "Permissions": Required[_wrapped("Permission", PermissionFields)],
        "RegionId": Opt,
        "SecurityGroupName": Opt,
        "Description": Opt,
        "VpcId": Opt,
        "InnerAccessPolicy": Opt,
    },
    "RequestId",
    "NextToken",
    "SnapshotPolicyIds",
)
_IPS = _wrapped("IpAddress", str)
_INSTANCE = _shape(
    "Instance",
    {
        "InstanceId": Required[ShortText],
        "InstanceName": Opt,
        "RegionId": Opt,
        "InstanceType": Opt,
        "OSType": Opt,
        "Status": Opt,
        "CreationTime": Opt,
        "KeyPairName": Opt,
        "VpcAttributes": _shape(
            "VpcAttributes",
            {"VpcId": Opt, "VSwitchId": Opt, "PrivateIpAddress": _IPS},
            "NatIpAddress",
        )
        | None,
        "InnerIpAddress": _IPS,
        "PublicIpAddress": _IPS,
        "EipAddress": _shape(
            "EipAddress",
            {"IpAddress": Opt},
            "AllocationId",
            "Bandwidth",
            "InternetChargeType",
            "IsSupportUnassociate",
        )
        | None,
        "SecurityGroupIds": _wrapped("SecurityGroupId", ShortText),
        "Tags": _TAGS,
    },
    *"""AdditionalInfo AutoReleaseTime ClockOptions ClusterId Cpu CpuOptions CreditSpecification
    DedicatedHostAttribute DedicatedInstanceAttribute DeletionProtection DeploymentSetGroupNo
    DeploymentSetId Description DeviceAvailable EcsCapacityReservationAttr EnableNVS
    ExpiredTime GPUAmount GPUSpec HibernationOptions HostName HpcClusterId ISP ImageId
    ImageOptions InstanceChargeType InstanceNetworkType InstanceTypeFamily InternetChargeType
    InternetMaxBandwidthIn InternetMaxBandwidthOut IoOptimized LocalStorageAmount
    LocalStorageCapacity Memory MetadataOptions NetworkInterfaces OSName OSNameEn
    OperationLocks PrivateDnsNameOptions RdmaIpAddress Recyclable ResourceGroupId SaleCycle
    SecurityOptions SerialNumber SpotDuration SpotInterruptionBehavior SpotPriceLimit
    SpotStrategy StartTime StoppedMode VlanId ZoneId""".split(),
)
_VSWITCH = _shape(
    "VSwitch",
    {
        "VSwitchId": Required[ShortText],
        "VpcId": Required[ShortText],
        "ZoneId": Required[ShortText],
        "CidrBlock": Required[ShortText],
        "VSwitchName": Opt,
        "Description": Opt,
    },
    *"""AvailableIpAddressCount CreationTime EnabledIpv6 Ipv6CidrBlock IsDefault NetworkAclId
    OwnerId ResourceGroupId RouteTable ShareType Status Tags""".split(),
)
# DescribeVSwitches (the VPC API; `RegionId` is the region asked for)
VSwitchesResponse = _shape(
    "DescribeVSwitches",
    {"VSwitches": Required[_wrapped("VSwitch", _VSWITCH)], "RegionId": Opt},
    "RequestId",
    "TotalCount",
    "PageNumber",
    "PageSize",
    "NextToken",
)
# DescribeInstances
InstancesResponse = _shape(
    "DescribeInstances",
    {"Instances": Required[_wrapped("Instance", _INSTANCE)]},
    "RequestId",
    "TotalCount",
    "PageNumber",
    "PageSize",
    "NextToken",
)


def parse_ecs(documents: list[object]) -> FleetSpec:
    """A fleet from responses of the real ECS API: DescribeSecurityGroups (the groups),
    DescribeSecurityGroupAttribute (a group and its rules), DescribeInstances and the VPC
    API's DescribeVSwitches, each as answered (several in a JSON array). Ids, names and
    creation dates are kept. What Palisade cannot model (prefix-list and port-list rules,
    system rules above priority 100, key pairs it has no public key of, an instance's vSwitch
    no DescribeVSwitches answer gives) is left out with a warning."""
    groups: dict[str, dict] = {}  # id -> merged fields
    rules: dict[str, list[RuleSpec]] = {}
    instances: list[InstanceSpec] = []
    vswitches: dict[str, VSwitchSpec] = {}
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
            listed = validate(GroupsResponse, doc, where)
            for g in _items(listed["SecurityGroups"]):
                _merge_group(groups, g, listed.get("RegionId") or None)
        elif "Permissions" in doc and "SecurityGroupId" in doc:
            attribute = validate(AttributeResponse, doc, where)
            gid = _merge_group(groups, attribute, attribute.get("RegionId") or None)
            rules[gid] = []
            for j, perm in enumerate(_items(attribute["Permissions"])):
                rule = _ecs_rule(perm, f"{where}.Permissions.Permission[{j}]", gid, warnings)
                if rule is not None:
                    rules[gid].append(rule)
        elif "VSwitches" in doc:
            listed_vswitches = validate(VSwitchesResponse, doc, where)
            region = listed_vswitches.get("RegionId") or DEFAULT_REGION
            for sw in _items(listed_vswitches["VSwitches"]):
                vswitches[sw["VSwitchId"]] = VSwitchSpec(
                    sw.get("VSwitchName") or "",
                    region,
                    sw["VpcId"],
                    sw["ZoneId"],
                    sw["CidrBlock"],
                    sw.get("Description") or "",
                    sw["VSwitchId"],
                )
        elif "Instances" in doc:
            listed_instances = validate(InstancesResponse, doc, where)
            for j, inst in enumerate(_items(listed_instances["Instances"])):
                instances.append(_ecs_instance(inst, f"{where}.Instances.Instance[{j}]", warnings))
        else:
            raise SpecError(
                where,
                "not a DescribeSecurityGroups, DescribeSecurityGroupAttribute, "
                "DescribeInstances or DescribeVSwitches response (no SecurityGroups, "
                "Permissions, Instances or VSwitches)",
            )
    for gid in rules:
        if groups[gid]["region"] is None:
            raise SpecError("$", f"the region of {gid} is not given (RegionId)")
    instances = [_known_vswitch(i, vswitches, warnings) for i in instances]
    vpcs = _ecs_vpcs(groups, instances, vswitches.values())
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
    return FleetSpec(
        vpcs=vpcs,
        groups=group_specs,
        instances=tuple(instances),
        vswitches=tuple(vswitches.values()),
        warnings=tuple(warnings),
    )


def _known_vswitch(
    inst: InstanceSpec, vswitches: dict[str, VSwitchSpec], warnings: list[str]
) -> InstanceSpec:
    """An instance keeps its vSwitch when the responses give that vSwitch (DescribeVSwitches);
    otherwise it is imported without one, and a note says so."""
    if inst.vswitch is None or inst.vswitch in vswitches:
        return inst
    warnings.append(
        f"{inst.instance_id}: vSwitch {inst.vswitch} not imported (no DescribeVSwitches "
        "answer gives it); the instance is imported in its VPC without a vSwitch"
    )
    return replace(inst, vswitch=None)


def _merge_group(groups: dict[str, dict], doc: dict, region: str | None) -> str:
    gid = doc["SecurityGroupId"]
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
        value = doc.get(key)
        if value:
            entry[field_name] = value
    if region is not None and entry["region"] is None:
        entry["region"] = region
    return gid


_LIMITS = Limits()


def _ecs_rule(
    fields: PermissionFields, where: str, group_id: str, warnings: list[str]
) -> RuleSpec | None:
    """The rule exactly as described, or None (left out, with a warning naming the rule and
    what Palisade cannot model); never a wider rule than the one described."""
    perm = Permission(fields)
    try:
        direction = perm.direction()
        unsupported = perm.unsupported(direction)
    except ModelError as err:
        raise SpecError(where, f"{err.code}: {err.message}") from None
    port_list = perm.PortRangeListId
    if unsupported is None and port_list:
        unsupported = ModelError(
            "InvalidPortRangeListId.NotSupported",
            f"PortRangeListId {port_list[:64]!r}: Palisade has no port lists; the rule's "
            "ports are the list's, which the answer does not give (authorise its ranges with "
            "PortRange).",
        )
    if unsupported is not None:
        kind = "a port-list" if "PortRangeList" in unsupported.code else "a prefix-list"
        warnings.append(f"{group_id}: left out {kind} rule ({where}): {unsupported.message}")
        return None
    if perm.system_rule(_LIMITS):
        warnings.append(
            f"{group_id}: left out a priority-{perm.Priority} system rule "
            f"({perm.IpProtocol} {perm.PortRange}); such rules cannot be created"
        )
        return None
    try:  # the other fields are checked by the dry run, with the action's error code
        parse_priority(perm.Priority or "1", _LIMITS)
    except ModelError as err:
        raise SpecError(f"{where}.Priority", f"{err.code}: {err.message}") from None
    f = perm.fields
    protocol = f.get("IpProtocol") or ""
    cidr, peer, owner = perm.peer(direction)
    source_ports = f.get("SourcePortRange") or None
    return RuleSpec(
        protocol,
        f.get("PortRange") or rule_ports(None, protocol),
        direction.value,
        cidr,
        peer,
        owner,
        f.get("Policy") or "accept",
        f.get("Priority") or "1",
        f.get("NicType") or None,
        f.get("Description") or "",
        None if source_ports == "-1/-1" else source_ports,  # -1/-1: any, as absent
        perm.ipv6_peer(direction),
    )


def _ecs_instance(inst: dict, where: str, warnings: list[str]) -> InstanceSpec:
    iid = inst["InstanceId"]
    vpc_attrs = inst.get("VpcAttributes") or {}
    vpc = vpc_attrs.get("VpcId") or None
    addresses = _items(vpc_attrs.get("PrivateIpAddress")) or _items(inst.get("InnerIpAddress"))
    if not addresses:
        raise SpecError(where, f"{iid} has no private IP (VpcAttributes.PrivateIpAddress)")
    private = addresses[0][:64]
    public_ips = _items(inst.get("PublicIpAddress"))
    public = public_ips[0][:64] if public_ips else None
    if public is None:
        public = (inst.get("EipAddress") or {}).get("IpAddress") or None
    status_text = (inst.get("Status") or "Running").lower()
    status = "Stopped" if status_text in ("stopped", "stopping") else "Running"
    key_pair = inst.get("KeyPairName")
    if key_pair:
        warnings.append(
            f"{iid}: key pair {key_pair!r} not bound (DescribeInstances has no public "
            "key; ImportKeyPair it, then AttachKeyPair)"
        )
    return InstanceSpec(
        inst.get("InstanceName") or "",
        inst.get("RegionId") or DEFAULT_REGION,
        private,
        vpc,
        public,
        tuple(_items(inst.get("SecurityGroupIds"))),
        (inst.get("OSType") or "linux").lower(),
        inst.get("InstanceType") or DEFAULT_INSTANCE_TYPE,
        None,
        None,
        status,
        iid,
        inst.get("CreationTime") or None,
        vswitch=vpc_attrs.get("VSwitchId") or None,
    )


def _ecs_vpcs(
    groups: dict[str, dict], instances: list[InstanceSpec], vswitches: Iterable[VSwitchSpec] = ()
) -> tuple[VpcSpec, ...]:
    """The VPCs the groups, vSwitches and instances name, each with the private block its
    instances' addresses and its vSwitches' blocks are in (the responses do not give VPC
    CIDRs)."""
    regions: dict[str, str] = {}
    addresses: dict[str, list[str]] = {}
    for g in groups.values():
        if g["vpc"]:
            regions.setdefault(g["vpc"], g["region"] or DEFAULT_REGION)
            addresses.setdefault(g["vpc"], [])
    for sw in vswitches:
        regions.setdefault(sw.vpc, sw.region)
        try:
            net = ipaddress.IPv4Network(sw.cidr, strict=False)
        except ValueError:
            net = None  # the vSwitch's own check reports the block
        if net is not None:
            addresses.setdefault(sw.vpc, []).extend(
                (str(net.network_address), str(net.broadcast_address))
            )
        else:
            addresses.setdefault(sw.vpc, [])
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
                    f"the instances and vSwitches of {vpc_id} use addresses of several private "
                    "blocks; Palisade models one CIDR block per VPC",
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
            or "VSwitches" in d
            or ("Permissions" in d and "SecurityGroupId" in d)
        )
        for d in items
    )
