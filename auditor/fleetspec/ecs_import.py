"""Reading the JSON the real ECS API answers (DescribeSecurityGroups,
DescribeSecurityGroupAttribute, DescribeInstances) into a `FleetSpec`, for
`palisade import-ecs`.

Each response is read through a schema whose keys are those the official ECS SDK's models
give the response (`alibabacloud_ecs20140526`, models/_describe_*_response_body.py); a key it
does not know is an error naming it, as is a value of the wrong kind. A rule is one
`Permission` (model/network/permission.py), the schema the API's rule parameters use too.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

from pydantic import BeforeValidator, create_model

from palisade.auditor.fleetspec.spec import (
    DEFAULT_REGION,
    FleetSpec,
    GroupSpec,
    InstanceSpec,
    RuleSpec,
    SpecError,
    VpcSpec,
    kind_of,
    rule_ports,
)
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.limits import Limits
from palisade.auditor.model.network.permission import Permission
from palisade.auditor.model.schema import Schema, ShortText, validate

_PRIVATE_BLOCKS = ("192.168.0.0/16", "172.16.0.0/12", "10.0.0.0/8")


def _blank(value: object) -> object:
    return None if value == "" else value


Opt = Annotated[ShortText | None, BeforeValidator(_blank)]


def _wrapped(inner: str, item: Any) -> Any:
    """ECS wraps its lists: `{"SecurityGroup": [...]}` (read as a mapping of that one key, so
    a problem's path names it); a bare list is read as the list it wraps."""
    model = create_model(f"{inner}List", __base__=Schema, **{inner: (list[item], [])})

    def wrap(value: object) -> object:
        if isinstance(value, list):
            return {inner: value}
        return {} if value is None else value

    return Annotated[model, BeforeValidator(wrap)]


def _items(wrapper: Any) -> list:
    (name,) = type(wrapper).model_fields
    return getattr(wrapper, name)


def _documented(name: str, read: type[Schema], *unread: str) -> type[Schema]:
    """`read` (the fields Palisade reads, typed) plus the response's other documented keys,
    taken as they come."""
    return create_model(name, __base__=read, **{k: (Any, None) for k in unread})


class _Tag(Schema):
    TagKey: Any = None
    TagValue: Any = None


TagList = _wrapped("Tag", _Tag)


class _GroupRead(Schema):
    SecurityGroupId: ShortText
    SecurityGroupName: Opt = None
    Description: Opt = None
    VpcId: Opt = None
    SecurityGroupType: Opt = None
    Tags: TagList | None = None


SecurityGroupDoc = _documented(
    "SecurityGroup",
    _GroupRead,
    "AvailableInstanceAmount",
    "CreationTime",
    "EcsCount",
    "GroupToGroupRuleCount",
    "ResourceGroupId",
    "RuleCount",
    "ServiceID",
    "ServiceManaged",
)


class GroupsResponse(Schema):
    """DescribeSecurityGroups."""

    SecurityGroups: _wrapped("SecurityGroup", SecurityGroupDoc)
    RegionId: Opt = None
    RequestId: Any = None
    TotalCount: Any = None
    PageNumber: Any = None
    PageSize: Any = None
    NextToken: Any = None


class AttributeResponse(Schema):
    """DescribeSecurityGroupAttribute: a group and its rules."""

    SecurityGroupId: ShortText
    Permissions: _wrapped("Permission", Any)  # each item read as a Permission
    RegionId: Opt = None
    SecurityGroupName: Opt = None
    Description: Opt = None
    VpcId: Opt = None
    InnerAccessPolicy: Opt = None
    RequestId: Any = None
    NextToken: Any = None
    SnapshotPolicyIds: Any = None


IpList = _wrapped("IpAddress", str)


class _VpcAttributes(Schema):
    VpcId: Opt = None
    PrivateIpAddress: IpList | None = None
    VSwitchId: Any = None
    NatIpAddress: Any = None


class _EipAddress(Schema):
    IpAddress: Opt = None
    AllocationId: Any = None
    Bandwidth: Any = None
    InternetChargeType: Any = None
    IsSupportUnassociate: Any = None


class _InstanceRead(Schema):
    InstanceId: ShortText
    InstanceName: Opt = None
    RegionId: Opt = None
    InstanceType: Opt = None
    OSType: Opt = None
    Status: Opt = None
    CreationTime: Opt = None
    KeyPairName: Opt = None
    VpcAttributes: _VpcAttributes | None = None
    InnerIpAddress: IpList | None = None
    PublicIpAddress: IpList | None = None
    EipAddress: _EipAddress | None = None
    SecurityGroupIds: _wrapped("SecurityGroupId", ShortText) | None = None
    Tags: TagList | None = None


InstanceDoc = _documented(
    "Instance",
    _InstanceRead,
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


class InstancesResponse(Schema):
    """DescribeInstances."""

    Instances: _wrapped("Instance", InstanceDoc)
    RequestId: Any = None
    TotalCount: Any = None
    PageNumber: Any = None
    PageSize: Any = None
    NextToken: Any = None


def parse_ecs(documents: list[object]) -> FleetSpec:
    """A fleet from responses of the real ECS API: DescribeSecurityGroups (the groups),
    DescribeSecurityGroupAttribute (a group and its rules) and DescribeInstances, each as
    answered (several in a JSON array). Ids, names and creation dates are kept. What Palisade
    cannot model (IPv6 and prefix-list rules, system rules above priority 100, key pairs it
    has no public key of) is left out with a warning."""
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
            listed = validate(GroupsResponse, doc, where)
            for g in _items(listed.SecurityGroups):
                _merge_group(groups, g, listed.RegionId)
        elif "Permissions" in doc and "SecurityGroupId" in doc:
            attribute = validate(AttributeResponse, doc, where)
            gid = _merge_group(groups, attribute, attribute.RegionId)
            rules[gid] = []
            for j, perm in enumerate(_items(attribute.Permissions)):
                rule = _ecs_rule(perm, f"{where}.Permissions.Permission[{j}]", gid, warnings)
                if rule is not None:
                    rules[gid].append(rule)
        elif "Instances" in doc:
            listed_instances = validate(InstancesResponse, doc, where)
            for j, inst in enumerate(_items(listed_instances.Instances)):
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
    return FleetSpec((), (), vpcs, group_specs, (), tuple(instances), tuple(warnings))


def _merge_group(groups: dict[str, dict], doc: Any, region: str | None) -> str:
    gid = doc.SecurityGroupId
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
        value = getattr(doc, key, None)
        if value is not None:
            entry[field_name] = value
    if region is not None and entry["region"] is None:
        entry["region"] = region
    return gid


_LIMITS = Limits()


def _ecs_rule(raw: object, where: str, group_id: str, warnings: list[str]) -> RuleSpec | None:
    perm = Permission.read(raw, where)
    try:
        direction = perm.direction()
        unsupported = perm.unsupported(direction)
    except ModelError as err:
        raise SpecError(where, f"{err.code}: {err.message}") from None
    if unsupported is not None:
        kind = "an IPv6" if "Ipv6" in unsupported.code else "a prefix-list"
        warnings.append(f"{group_id}: left out {kind} rule ({where}): {unsupported.message}")
        return None
    if perm.system_rule(_LIMITS):
        warnings.append(
            f"{group_id}: left out a priority-{perm.Priority} system rule "
            f"({perm.IpProtocol} {perm.PortRange}); such rules cannot be created"
        )
        return None
    bad = perm.field_error(direction, _LIMITS)
    if bad is not None:
        name, err = bad
        raise SpecError(f"{where}.{name}", f"{err.code}: {err.message}")
    protocol = perm.IpProtocol or ""
    cidr, peer, owner = perm.peer(direction)
    return RuleSpec(
        protocol,
        perm.PortRange or rule_ports(None, protocol),
        direction.value,
        cidr,
        peer,
        owner,
        perm.Policy or "accept",
        perm.Priority or "1",
        perm.NicType,
        perm.Description or "",
    )


def _ecs_instance(inst: Any, where: str, warnings: list[str]) -> InstanceSpec:
    iid = inst.InstanceId
    vpc_attrs = inst.VpcAttributes
    vpc = vpc_attrs.VpcId if vpc_attrs is not None else None
    addresses = _ips(vpc_attrs.PrivateIpAddress if vpc_attrs else None) or _ips(inst.InnerIpAddress)
    if not addresses:
        raise SpecError(where, f"{iid} has no private IP (VpcAttributes.PrivateIpAddress)")
    private = addresses[0][:64]
    public_ips = _ips(inst.PublicIpAddress)
    public = public_ips[0][:64] if public_ips else None
    if public is None and inst.EipAddress is not None:
        public = inst.EipAddress.IpAddress
    status_text = (inst.Status or "Running").lower()
    status = "Stopped" if status_text in ("stopped", "stopping") else "Running"
    if inst.KeyPairName:
        warnings.append(
            f"{iid}: key pair {inst.KeyPairName!r} not bound (DescribeInstances has no public "
            "key; ImportKeyPair it, then AttachKeyPair)"
        )
    return InstanceSpec(
        inst.InstanceName or "",
        inst.RegionId or DEFAULT_REGION,
        private,
        vpc,
        public,
        tuple(_items(inst.SecurityGroupIds)) if inst.SecurityGroupIds else (),
        (inst.OSType or "linux").lower(),
        inst.InstanceType or "ecs.g6.large",
        None,
        None,
        status,
        iid,
        inst.CreationTime,
    )


def _ips(wrapper: Any) -> list[str]:
    return [] if wrapper is None else _items(wrapper)


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
