"""`CloudModel`: the fleet (accounts, regions, VPCs, instances, security groups) and the ECS
management operations on it, as pure methods.

Every operation validates everything first and only then changes the model, so a `ModelError`
leaves the model exactly as it was. No clock reads: callers pass `now`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.resources import (
    Account,
    Instance,
    InstanceState,
    Nic,
    OsFamily,
    Region,
    Vpc,
)
from palisade.auditor.model.limits import DEFAULT_LIMITS, Limits
from palisade.auditor.model.network import ipv4
from palisade.auditor.model.network.rules_json import (
    ExportedRules,
    ImportPreview,
    ImportResult,
    export_filename,
    group_document,
    permission_to_request,
    permissions_of,
)
from palisade.auditor.model.network.security_group import (
    Direction,
    GroupType,
    InnerAccessPolicy,
    IpProtocol,
    NetworkType,
    NicType,
    PortRange,
    RulePolicy,
    RuleRequest,
    SecurityGroup,
    SecurityGroupRule,
    Template,
    check_account_id_format,
    check_description,
    check_group_id_format,
    check_name,
    parse_cidr_list,
    parse_direction,
    parse_nic_type,
    parse_policy,
    parse_port_range,
    parse_priority,
    parse_protocol,
    parse_template,
    template_rules,
)


@dataclass(frozen=True)
class RestorePreview:
    """What a restore does: `added` (green), `removed` (red, full restore only) and target rules
    that cannot be created (`skipped`, e.g. priority-110 system rules) with the reason."""

    mode: str
    added: list[SecurityGroupRule]
    removed: list[SecurityGroupRule]
    skipped: list[tuple[SecurityGroupRule, str]] = field(default_factory=list)


@dataclass(frozen=True)
class CloneResult:
    group: SecurityGroup
    skipped: list[tuple[SecurityGroupRule, str]]


def _unchanged_rule_fields(rule: SecurityGroupRule) -> RuleRequest:
    return RuleRequest(
        direction=rule.direction,
        ip_protocol=rule.ip_protocol,
        port_range=str(rule.port_range),
        peer_cidr=rule.peer_cidr,
        peer_group_id=rule.peer_group_id,
        peer_group_owner_account=rule.peer_group_owner_account,
        policy=rule.policy,
        priority=rule.priority,
        nic_type=rule.nic_type,
        description=rule.description,
    )


class CloudModel:
    """The fleet as the cloud sees it. `id_prefix` keeps generated ids of two models apart."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS, id_prefix: str = "") -> None:
        if id_prefix and not (id_prefix.isascii() and id_prefix.isalnum()):
            raise ValueError("id_prefix must be ASCII letters and digits")
        self.limits = limits
        self.id_prefix = id_prefix
        self.accounts: dict[str, Account] = {}
        self.regions: dict[str, Region] = {}
        self.vpcs: dict[str, Vpc] = {}
        self.instances: dict[str, Instance] = {}
        self.groups: dict[str, SecurityGroup] = {}
        self._counters: dict[str, int] = {}
        # group id -> {(instance id, nic id)}
        self._members: dict[str, set[tuple[str, str]]] = {}
        self._group_ip_count: dict[str, int] = {}
        self._vpc_ips: dict[str, set[str]] = {}

    # ------------------------------------------------------------ ids and lookups

    def _new_id(self, kind: str) -> str:
        n = self._counters.get(kind, 0) + 1
        self._counters[kind] = n
        return f"{kind}-{self.id_prefix}{n:012x}"

    def _ensure_unique_id(self, kind: str, existing: dict) -> str:
        while True:
            candidate = self._new_id(kind)
            if candidate not in existing:
                return candidate

    def get_account(self, account_id: str) -> Account:
        account = self.accounts.get(account_id)
        if account is None:
            raise ModelError(
                "InvalidAccountId.NotFound", f"Account {account_id!r} does not exist; add it first."
            )
        return account

    def get_region(self, region_id: str) -> Region:
        region = self.regions.get(region_id)
        if region is None:
            raise ModelError(
                "InvalidRegionId.NotFound", f"Region {region_id!r} does not exist; add it first."
            )
        return region

    def get_vpc(self, vpc_id: str) -> Vpc:
        vpc = self.vpcs.get(vpc_id) if isinstance(vpc_id, str) else None
        if vpc is None:
            raise ModelError(
                "InvalidVpcId.NotFound", f"VPC {vpc_id!r} does not exist; check the VpcId."
            )
        return vpc

    def get_instance(self, instance_id: str) -> Instance:
        instance = self.instances.get(instance_id) if isinstance(instance_id, str) else None
        if instance is None:
            raise ModelError(
                "InvalidInstanceId.NotFound",
                f"Instance {instance_id!r} does not exist; check the InstanceId.",
            )
        return instance

    def get_group(self, group_id: str) -> SecurityGroup:
        group = self.groups.get(group_id) if isinstance(group_id, str) else None
        if group is None:
            raise ModelError(
                "InvalidSecurityGroupId.NotFound",
                f"Security group {group_id!r} does not exist; check the SecurityGroupId.",
            )
        return group

    def members(self, group_id: str) -> list[tuple[Instance, Nic]]:
        """The NICs in a group (with their instances), in a stable order."""
        out = []
        for instance_id, nic_id in sorted(self._members.get(group_id, ())):
            instance = self.instances[instance_id]
            nic = instance.nic(nic_id)
            assert nic is not None
            out.append((instance, nic))
        return out

    def member_private_ips(self, group_id: str) -> list[str]:
        return [ip for _, nic in self.members(group_id) for ip in nic.private_ips]

    def nic_rule_count(self, nic: Nic) -> int:
        return sum(len(self.groups[g].rules) for g in nic.security_group_ids)

    def describe_security_groups(
        self,
        account_id: str,
        region_id: str,
        group_ids: list[str] | None = None,
        vpc_id: str | None = None,
        name: str | None = None,
    ) -> list[SecurityGroup]:
        return [
            g
            for g in self.groups.values()
            if g.account_id == account_id
            and g.region_id == region_id
            and (group_ids is None or g.group_id in group_ids)
            and (vpc_id is None or g.vpc_id == vpc_id)
            and (name is None or g.name == name)
        ]

    # ------------------------------------------------------------ accounts, regions, VPCs

    def add_account(self, account_id: str, name: str = "") -> Account:
        check_account_id_format(account_id, "AccountId")
        if account_id in self.accounts:
            raise ModelError(
                "InvalidAccountId.Duplicate", f"Account {account_id!r} already exists."
            )
        account = Account(account_id, name)
        self.accounts[account_id] = account
        return account

    def add_region(self, region_id: str) -> Region:
        if not (
            isinstance(region_id, str)
            and region_id
            and region_id.isascii()
            and region_id.replace("-", "").isalnum()
        ):
            raise ModelError(
                "InvalidRegionId.Malformed",
                f"RegionId {region_id!r} is not valid; use a name such as cn-hangzhou.",
            )
        return self.regions.setdefault(region_id, Region(region_id))

    def create_vpc(
        self,
        account_id: str,
        region_id: str,
        cidr: str = "172.16.0.0/12",
        vpc_id: str | None = None,
        name: str = "",
    ) -> Vpc:
        self.get_account(account_id)
        self.get_region(region_id)
        parsed = ipv4.parse_cidr(cidr)
        if (
            parsed is None
            or ipv4.host_bits_set(*parsed)
            or not ipv4.intersect([ipv4.cidr_interval(*parsed)], ipv4.PRIVATE_SPACE)
            == [ipv4.cidr_interval(*parsed)]
        ):
            raise ModelError(
                "InvalidCidrBlock.Malformed",
                f"CidrBlock {cidr!r} is not valid; use a private block such as 192.168.0.0/16, "
                "172.16.0.0/12 or 10.0.0.0/8.",
            )
        if vpc_id is not None and vpc_id in self.vpcs:
            raise ModelError("InvalidVpcId.Duplicate", f"VPC {vpc_id!r} already exists.")
        vpc = Vpc(
            vpc_id or self._ensure_unique_id("vpc", self.vpcs), account_id, region_id, cidr, name
        )
        self.vpcs[vpc.vpc_id] = vpc
        return vpc

    def delete_vpc(self, vpc_id: str) -> Vpc:
        """DeleteVpc: refused while instances or security groups are in it."""
        vpc = self.get_vpc(vpc_id)
        users = sorted(i.instance_id for i in self.instances.values() if i.vpc_id == vpc_id)
        users += sorted(g.group_id for g in self.groups.values() if g.vpc_id == vpc_id)
        if users:
            raise ModelError(
                "DependencyViolation",
                f"VPC {vpc_id} still holds {', '.join(users[:5])}"
                f"{' ...' if len(users) > 5 else ''}; delete them first.",
            )
        del self.vpcs[vpc_id]
        self._vpc_ips.pop(vpc_id, None)
        return vpc

    # ------------------------------------------------------------ instances

    def create_instance(
        self,
        account_id: str,
        region_id: str,
        *,
        created_at: datetime,
        instance_type: str = "ecs.g6.large",
        os_family: OsFamily | str = OsFamily.LINUX,
        network_type: NetworkType | str = NetworkType.VPC,
        vpc_id: str | None = None,
        private_ips: list[str] | None = None,
        public_ip: str | None = None,
        security_group_ids: list[str] | None = None,
        smtp_unblocked: bool = False,
        ipv6_capable: bool | None = None,
        instance_id: str | None = None,
        name: str = "",
        default_group_web_ports: bool = False,
    ) -> Instance:
        """RunInstances. With no security group, an account that has none in the region gets
        the region's default group (created here)."""
        self.get_account(account_id)
        self.get_region(region_id)
        try:
            network = NetworkType(network_type)
            os_kind = OsFamily(os_family)
        except ValueError as exc:
            raise ModelError(
                "InvalidParameter", f"{exc}; use network type vpc/classic and OS linux/windows."
            ) from None
        if network is NetworkType.VPC:
            if vpc_id is None:
                raise ModelError(
                    "MissingParameter.VpcId", "A VPC instance needs a VpcId; create a VPC first."
                )
            vpc = self.get_vpc(vpc_id)
            if vpc.account_id != account_id or vpc.region_id != region_id:
                raise ModelError(
                    "InvalidVpcId.NotFound",
                    f"VPC {vpc_id!r} is not in account {account_id} / region {region_id}.",
                )
        elif vpc_id is not None:
            raise ModelError(
                "InvalidParameter.VpcId",
                "A classic-network instance has no VPC; drop VpcId or use network type vpc.",
            )
        ips = list(private_ips or [])
        if not ips:
            raise ModelError(
                "MissingParameter.PrivateIpAddress", "Give the instance a private IP address."
            )
        for ip in ips + ([public_ip] if public_ip else []):
            if ipv4.parse_ip(ip) is None:
                raise ModelError(
                    "InvalidIpAddress.Malformed",
                    f"IP address {ip!r} is not valid; use a dotted quad such as 172.16.0.10.",
                )
        if network is NetworkType.VPC:
            lo, hi = ipv4.cidr_text_interval(self.vpcs[vpc_id].cidr)  # type: ignore[index]
            taken = self._vpc_ips.get(vpc_id, set())  # type: ignore[arg-type]
            for ip in ips:
                if not lo <= ipv4.parse_ip(ip) <= hi:  # type: ignore[operator]
                    raise ModelError(
                        "InvalidPrivateIpAddress.Mismatch",
                        f"Private IP {ip} is outside VPC {vpc_id} ({self.vpcs[vpc_id].cidr}).",
                    )  # type: ignore[index]
                if ip in taken:
                    raise ModelError(
                        "InvalidPrivateIpAddress.Duplicated",
                        f"Private IP {ip} is already used in VPC {vpc_id}.",
                    )
        if instance_id is not None and instance_id in self.instances:
            raise ModelError(
                "InvalidInstanceId.Duplicate", f"Instance {instance_id!r} already exists."
            )
        new_id = instance_id or self._ensure_unique_id("i", self.instances)
        nic = Nic(self._new_id("eni"), ips, public_ip, [], True)
        instance = Instance(
            new_id,
            account_id,
            region_id,
            instance_type,
            os_kind,
            network,
            [nic],
            created_at,
            vpc_id,
            InstanceState.RUNNING,
            smtp_unblocked,
            ipv6_capable,
            name,
        )
        wanted = list(security_group_ids or [])
        default_group = None
        if not wanted:
            if any(
                g.account_id == account_id and g.region_id == region_id
                for g in self.groups.values()
            ):
                raise ModelError(
                    "MissingParameter.SecurityGroupId",
                    "The account already has security groups in this region; name one "
                    "(SecurityGroupId).",
                )
            default_group = self._default_group(
                account_id, region_id, network, vpc_id, created_at, default_group_web_ports
            )
        # Check every join against the would-be state before changing anything.
        groups = [default_group] if default_group else [self.get_group(g) for g in wanted]
        if len(set(wanted)) != len(wanted):
            raise ModelError(
                "InvalidSecurityGroupId.Duplicate",
                "The same security group is named twice; name each group once.",
            )
        lookup = dict(self.groups)
        if default_group:
            lookup[default_group.group_id] = default_group
        for group in groups:
            self._check_join(instance, nic, group, lookup)
            nic.security_group_ids.append(group.group_id)
        if default_group:
            self.groups[default_group.group_id] = default_group
        self.instances[new_id] = instance
        for gid in nic.security_group_ids:
            self._add_member(gid, new_id, nic)
        if vpc_id is not None:
            self._vpc_ips.setdefault(vpc_id, set()).update(ips)
        return instance

    def _add_member(self, group_id: str, instance_id: str, nic: Nic) -> None:
        self._members.setdefault(group_id, set()).add((instance_id, nic.nic_id))
        self._group_ip_count[group_id] = self._group_ip_count.get(group_id, 0) + len(
            nic.private_ips
        )

    def _remove_member(self, group_id: str, instance_id: str, nic: Nic) -> None:
        self._members.get(group_id, set()).discard((instance_id, nic.nic_id))
        self._group_ip_count[group_id] = self._group_ip_count.get(group_id, 0) - len(
            nic.private_ips
        )

    def _default_group(
        self, account_id, region_id, network, vpc_id, now, web_ports
    ) -> SecurityGroup:
        group = SecurityGroup(
            self._ensure_unique_id("sg", self.groups),
            account_id,
            region_id,
            network,
            GroupType.NORMAL,
            vpc_id,
            name="default",
            description="System created security group.",
            create_time=now,
            is_default=True,
        )
        nic_type = NicType.INTRANET if network is NetworkType.VPC else NicType.INTERNET
        specs = [
            (IpProtocol.ICMP, PortRange(-1, -1)),
            (IpProtocol.TCP, PortRange(22, 22)),
            (IpProtocol.TCP, PortRange(3389, 3389)),
        ]
        if web_ports:
            specs += [(IpProtocol.TCP, PortRange(80, 80)), (IpProtocol.TCP, PortRange(443, 443))]
        for protocol, ports in specs:
            group.rules.append(
                SecurityGroupRule(
                    self._new_id("sgr"),
                    Direction.INGRESS,
                    RulePolicy.ACCEPT,
                    protocol,
                    ports,
                    self.limits.system_priority,
                    nic_type,
                    peer_cidr="0.0.0.0/0",
                    create_time=now,
                )
            )
        group.rules.append(
            SecurityGroupRule(
                self._new_id("sgr"),
                Direction.EGRESS,
                RulePolicy.ACCEPT,
                IpProtocol.ALL,
                PortRange(-1, -1),
                self.limits.system_priority,
                nic_type,
                peer_cidr="0.0.0.0/0",
                create_time=now,
            )
        )
        return group

    def _set_state(
        self, instance_id: str, allowed: tuple[InstanceState, ...], new: InstanceState, action: str
    ) -> Instance:
        instance = self.get_instance(instance_id)
        if instance.state not in allowed:
            raise ModelError(
                "IncorrectInstanceStatus",
                f"{action} needs the instance to be {' or '.join(s.value for s in allowed)}; it "
                f"is {instance.state.value}.",
            )
        instance.state = new
        return instance

    def start_instance(self, instance_id: str) -> Instance:
        return self._set_state(
            instance_id, (InstanceState.STOPPED,), InstanceState.RUNNING, "StartInstance"
        )

    def stop_instance(self, instance_id: str) -> Instance:
        return self._set_state(
            instance_id, (InstanceState.RUNNING,), InstanceState.STOPPED, "StopInstance"
        )

    def reboot_instance(self, instance_id: str) -> Instance:
        return self._set_state(
            instance_id, (InstanceState.RUNNING,), InstanceState.RUNNING, "RebootInstance"
        )

    def delete_instance(self, instance_id: str, force: bool = False) -> None:
        instance = self.get_instance(instance_id)
        if instance.state is not InstanceState.STOPPED and not force:
            raise ModelError(
                "IncorrectInstanceStatus",
                "DeleteInstance needs a Stopped instance; stop it first or use Force.",
            )
        for nic in instance.nics:
            for gid in nic.security_group_ids:
                self._remove_member(gid, instance_id, nic)
            if instance.vpc_id is not None:
                self._vpc_ips.get(instance.vpc_id, set()).difference_update(nic.private_ips)
        del self.instances[instance_id]

    def set_smtp_unblocked(self, instance_id: str, unblocked: bool = True) -> None:
        self.get_instance(instance_id).smtp_unblocked = unblocked

    # ------------------------------------------------------------ groups

    def create_security_group(
        self,
        account_id: str,
        region_id: str,
        *,
        now: datetime,
        name: str = "",
        description: str = "",
        template: Template | str = Template.CUSTOM,
        group_type: GroupType | str = GroupType.NORMAL,
        network_type: NetworkType | str = NetworkType.VPC,
        vpc_id: str | None = None,
        inner_access_policy: InnerAccessPolicy | str = InnerAccessPolicy.ACCEPT,
        group_id: str | None = None,
    ) -> SecurityGroup:
        self.get_account(account_id)
        self.get_region(region_id)
        check_name(name, self.limits)
        check_description(description, self.limits)
        kind = self._enum(
            GroupType,
            group_type,
            "InvalidSecurityGroupType.ValueNotSupported",
            "normal or enterprise",
        )
        network = self._enum(
            NetworkType, network_type, "InvalidNetworkType.ValueNotSupported", "vpc or classic"
        )
        inner = self._enum(
            InnerAccessPolicy,
            inner_access_policy,
            "InvalidInnerAccessPolicy.ValueNotSupported",
            "Accept or Drop",
        )
        tmpl = parse_template(template)
        if kind is GroupType.ENTERPRISE:
            if network is not NetworkType.VPC:
                raise ModelError(
                    "InvalidSecurityGroupType.ClassicNotSupported",
                    "Enterprise security groups are VPC only; use network type vpc.",
                )
            inner = InnerAccessPolicy.DROP  # members are not connected by default
        if network is NetworkType.VPC:
            if vpc_id is None:
                raise ModelError("MissingParameter.VpcId", "A VPC security group needs a VpcId.")
            vpc = self.get_vpc(vpc_id)
            if vpc.account_id != account_id or vpc.region_id != region_id:
                raise ModelError(
                    "InvalidVpcId.NotFound",
                    f"VPC {vpc_id!r} is not in account {account_id} / region {region_id}.",
                )
        elif vpc_id is not None:
            raise ModelError(
                "InvalidParameter.VpcId",
                "A classic security group has no VPC; drop VpcId or use network type vpc.",
            )
        if group_id is not None:
            check_group_id_format(group_id)
            if group_id in self.groups:
                raise ModelError(
                    "InvalidSecurityGroupId.Duplicate",
                    f"Security group {group_id!r} already exists.",
                )
        group = SecurityGroup(
            group_id or self._ensure_unique_id("sg", self.groups),
            account_id,
            region_id,
            network,
            kind,
            vpc_id,
            name,
            description,
            inner,
            [],
            now,
        )
        nic_type = NicType.INTRANET if network is NetworkType.VPC else NicType.INTERNET
        for request in template_rules(tmpl):
            for rule in self._build_rules(group, replace(request, nic_type=nic_type), self.groups):
                group.rules.append(replace(rule, rule_id=self._new_id("sgr"), create_time=now))
        self.groups[group.group_id] = group
        return group

    @staticmethod
    def _enum(kind, value, code: str, choices: str):
        try:
            return kind(value)
        except ValueError:
            if isinstance(value, str):
                for member in kind:
                    if member.value.lower() == value.lower():
                        return member
            raise ModelError(code, f"{value!r} is not valid; use {choices}.") from None

    def modify_security_group_attribute(
        self, group_id: str, name: str | None = None, description: str | None = None
    ) -> SecurityGroup:
        group = self.get_group(group_id)
        if name is not None:
            check_name(name, self.limits)
        if description is not None:
            check_description(description, self.limits)
        if name is not None:
            group.name = name
        if description is not None:
            group.description = description
        return group

    def modify_security_group_policy(
        self, group_id: str, inner_access_policy: InnerAccessPolicy | str
    ) -> SecurityGroup:
        group = self.get_group(group_id)
        inner = self._enum(
            InnerAccessPolicy,
            inner_access_policy,
            "InvalidInnerAccessPolicy.ValueNotSupported",
            "Accept or Drop",
        )
        if group.group_type is GroupType.ENTERPRISE and inner is InnerAccessPolicy.ACCEPT:
            raise ModelError(
                "InvalidSecurityGroupType.NotSupported",
                "Enterprise group members are never connected by default; add allow rules instead.",
            )
        group.inner_access_policy = inner
        return group

    def delete_security_group(self, group_id: str) -> None:
        group = self.get_group(group_id)
        if self._members.get(group_id):
            n = len(self._members[group_id])
            raise ModelError(
                "DependencyViolation",
                f"Security group {group_id} still has {n} NIC(s); remove its instances first "
                "(LeaveSecurityGroup).",
            )
        referrers = sorted(
            {
                g.group_id
                for g in self.groups.values()
                if g.group_id != group_id
                for r in g.rules
                if r.peer_group_id == group_id
            }
        )
        if referrers:
            raise ModelError(
                "DependencyViolation.ReferencedBySecurityGroup",
                f"Security group {group_id} is authorised in rules of {', '.join(referrers)}; "
                "revoke those rules first.",
            )
        del self.groups[group.group_id]
        self._members.pop(group_id, None)
        self._group_ip_count.pop(group_id, None)

    # ------------------------------------------------------------ rules

    def _build_rules(
        self, group: SecurityGroup, request: RuleRequest, groups: dict[str, SecurityGroup]
    ) -> list[SecurityGroupRule]:
        """Validate a request against `group` and return the rules it stands for (no ids yet)."""
        limits = self.limits
        if not isinstance(request, RuleRequest):
            raise ModelError("InvalidParameter", "A rule request must be a RuleRequest.")
        direction = parse_direction(request.direction)
        side = "Source" if direction is Direction.INGRESS else "Dest"
        protocol = parse_protocol(request.ip_protocol)
        ports = parse_port_range(request.port_range, protocol)
        policy = parse_policy(request.policy)
        priority = parse_priority(request.priority, limits)
        nic_type = parse_nic_type(request.nic_type)
        description = check_description(request.description, limits)
        enterprise = group.group_type is GroupType.ENTERPRISE
        if enterprise and policy is RulePolicy.DROP:
            raise ModelError(
                "InvalidPolicy.ValueNotSupported",
                "Enterprise groups take allow rules only; use policy accept (or a normal group "
                "for drop rules).",
            )
        if enterprise and priority != 1:
            raise ModelError(
                "InvalidPriority.ValueNotSupported",
                "Enterprise group rules have no priorities (always 1); leave Priority at 1.",
            )
        if group.network_type is NetworkType.VPC and nic_type is not NicType.INTRANET:
            raise ModelError(
                "InvalidNicType.ValueNotSupported",
                "VPC groups do not distinguish NIC types; use NicType intranet (it covers public "
                "traffic too).",
            )
        has_cidr = request.peer_cidr not in (None, "")
        has_group = request.peer_group_id not in (None, "")
        if has_cidr == has_group:
            raise ModelError(
                f"InvalidParameter.{side}Peer" if has_cidr else f"MissingParameter.{side}CidrIp",
                f"Give exactly one of {side}CidrIp or {side}GroupId.",
            )
        if has_group and request.peer_group_owner_account not in (None, ""):
            check_account_id_format(request.peer_group_owner_account, f"{side}GroupOwnerAccount")
        if has_cidr:
            if request.peer_group_owner_account not in (None, ""):
                raise ModelError(
                    f"InvalidParameter.{side}GroupOwnerAccount",
                    f"{side}GroupOwnerAccount only goes with {side}GroupId; drop it.",
                )
            cidrs = parse_cidr_list(request.peer_cidr, direction, limits)
            if (
                group.network_type is NetworkType.CLASSIC
                and direction is Direction.INGRESS
                and nic_type is NicType.INTRANET
            ):
                for cidr in cidrs:
                    if not cidr.endswith(f"/{limits.classic_intranet_ingress_prefix}"):
                        raise ModelError(
                            "InvalidSourceCidrIp.NotSingleIp",
                            "Classic intranet ingress rules authorise single IPs only; use "
                            f"a.b.c.d/{limits.classic_intranet_ingress_prefix} "
                            f"instead of {cidr}, or authorise a security group.",
                        )
            return [
                SecurityGroupRule(
                    "",
                    direction,
                    policy,
                    protocol,
                    ports,
                    priority,
                    nic_type,
                    peer_cidr=c,
                    description=description,
                )
                for c in cidrs
            ]
        peer_id = check_group_id_format(request.peer_group_id, f"{side}GroupId")
        if enterprise:
            raise ModelError(
                f"Invalid{side}GroupId.NotSupported",
                "Enterprise groups cannot authorise security groups; authorise CIDR blocks "
                "instead.",
            )
        peer = groups.get(peer_id)
        owner = request.peer_group_owner_account or None
        if (
            peer is None
            or (owner is None and peer.account_id != group.account_id)
            or (owner is not None and peer.account_id != owner)
        ):
            hint = (
                f" in account {owner}"
                if owner
                else " in this account (for another account's group give its owner account)"
            )
            raise ModelError(
                f"Invalid{side}GroupId.NotFound",
                f"Security group {peer_id!r} does not exist{hint}.",
            )
        if peer.region_id != group.region_id:
            raise ModelError(
                f"Invalid{side}GroupId.NotFound",
                f"Security group {peer_id} is in region {peer.region_id}; authorise a group of "
                f"{group.region_id}.",
            )
        if peer.group_type is GroupType.ENTERPRISE:
            raise ModelError(
                f"Invalid{side}GroupId.NotSupported",
                f"{peer_id} is an enterprise group and cannot be authorised; authorise its CIDR "
                "blocks.",
            )
        if peer.network_type is not group.network_type:
            raise ModelError(
                f"Invalid{side}GroupId.NetworkTypeMismatch",
                f"{peer_id} is a {peer.network_type.value} group; authorise a "
                f"{group.network_type.value} group.",
            )
        if (
            group.network_type is NetworkType.VPC
            and peer.account_id == group.account_id
            and peer.vpc_id != group.vpc_id
        ):
            raise ModelError(
                f"Invalid{side}GroupId.VpcMismatch",
                f"{peer_id} is in VPC {peer.vpc_id}; authorise a group of VPC {group.vpc_id}.",
            )
        if nic_type is not NicType.INTRANET:
            raise ModelError(
                "InvalidNicType.ValueNotSupported",
                "Security group authorisation works on the private network only; use NicType "
                "intranet.",
            )
        if owner == group.account_id:
            owner = None
        return [
            SecurityGroupRule(
                "",
                direction,
                policy,
                protocol,
                ports,
                priority,
                nic_type,
                peer_group_id=peer_id,
                peer_group_owner_account=owner,
                description=description,
            )
        ]

    def _check_capacity(self, group: SecurityGroup, rules_after: list[SecurityGroupRule]) -> None:
        limits = self.limits
        if len(rules_after) > limits.rules_per_group:
            raise ModelError(
                "QuotaExceed.RulePerGroup",
                f"Security group {group.group_id} would have {len(rules_after)} rules; at most "
                f"{limits.rules_per_group} "
                "(ingress and egress together). Remove redundant rules or use another group.",
            )
        authorised = {
            r.peer_group_id
            for r in rules_after
            if r.peer_group_id and r.peer_group_id != group.group_id
        }
        if len(authorised) > limits.authorized_groups_per_group:
            raise ModelError(
                "QuotaExceed.AuthorizedSecurityGroup",
                f"Security group {group.group_id} would authorise {len(authorised)} groups; at "
                f"most {limits.authorized_groups_per_group}.",
            )
        delta = len(rules_after) - len(group.rules)
        if delta > 0:
            for instance, nic in self.members(group.group_id):
                total = self.nic_rule_count(nic) + delta
                if total > limits.rules_per_nic:
                    raise ModelError(
                        "RuleCountExceeded",
                        f"NIC {nic.nic_id} of {instance.instance_id} would be governed by {total} "
                        "rules over its groups; "
                        f"at most {limits.rules_per_nic}. Remove redundant rules.",
                    )

    def authorize(
        self, group_id: str, request: RuleRequest, now: datetime
    ) -> list[SecurityGroupRule]:
        """AuthorizeSecurityGroup / AuthorizeSecurityGroupEgress (direction in the request).
        Returns the rules added; an identical rule already present is not added again."""
        group = self.get_group(group_id)
        candidates = self._build_rules(group, request, self.groups)
        known = {r.key() for r in group.rules}
        new: list[SecurityGroupRule] = []
        for rule in candidates:
            if rule.key() not in known:
                known.add(rule.key())
                new.append(rule)
        self._check_capacity(group, group.rules + new)
        added = [replace(r, rule_id=self._new_id("sgr"), create_time=now) for r in new]
        group.rules.extend(added)
        return added

    def authorize_egress(
        self, group_id: str, request: RuleRequest, now: datetime
    ) -> list[SecurityGroupRule]:
        return self.authorize(group_id, replace(request, direction=Direction.EGRESS), now)

    def revoke(
        self, group_id: str, rule_id: str | None = None, request: RuleRequest | None = None
    ) -> list[SecurityGroupRule]:
        """RevokeSecurityGroup(Egress): by rule id, or by the rule's fields."""
        group = self.get_group(group_id)
        if rule_id is not None:
            doomed = [r for r in group.rules if r.rule_id == rule_id]
            if not doomed:
                raise ModelError(
                    "InvalidSecurityGroupRuleId.NotFound",
                    f"Rule {rule_id!r} is not in {group_id}; check the SecurityGroupRuleId.",
                )
        elif request is not None:
            keys = {r.key() for r in self._build_rules(group, request, self.groups)}
            doomed = [r for r in group.rules if r.key() in keys]
            if not doomed:
                raise ModelError(
                    "InvalidPermission.NotFound",
                    f"No rule of {group_id} matches the given fields; nothing to revoke.",
                )
        else:
            raise ModelError("MissingParameter", "Give SecurityGroupRuleId or the rule's fields.")
        gone = {id(r) for r in doomed}
        group.rules = [r for r in group.rules if id(r) not in gone]
        return doomed

    def modify_rule(self, group_id: str, rule_id: str, request: RuleRequest) -> SecurityGroupRule:
        """ModifySecurityGroupRule: replace a rule's fields (id and creation time stay)."""
        group = self.get_group(group_id)
        old = group.rule(rule_id)
        if old is None:
            raise ModelError(
                "InvalidSecurityGroupRuleId.NotFound",
                f"Rule {rule_id!r} is not in {group_id}; check the SecurityGroupRuleId.",
            )
        built = self._build_rules(group, request, self.groups)
        if len(built) != 1:
            raise ModelError(
                "InvalidParameter.AuthorizationObjectCountExceeded",
                "A modified rule takes one authorisation object; add the others as new rules.",
            )
        new = replace(built[0], rule_id=old.rule_id, create_time=old.create_time)
        if any(r.key() == new.key() for r in group.rules if r.rule_id != rule_id):
            raise ModelError(
                "InvalidPermission.Duplicate",
                f"{group_id} already has this rule; revoke {rule_id} instead.",
            )
        after = [new if r.rule_id == rule_id else r for r in group.rules]
        self._check_capacity(group, after)
        group.rules = after
        return new

    # ------------------------------------------------------------ membership

    def _check_join(
        self, instance: Instance, nic: Nic, group: SecurityGroup, groups: dict[str, SecurityGroup]
    ) -> None:
        limits = self.limits
        if group.account_id != instance.account_id:
            raise ModelError(
                "InvalidSecurityGroupId.NotFound",
                f"Security group {group.group_id} is not in the instance's account "
                f"{instance.account_id}.",
            )
        if group.region_id != instance.region_id:
            raise ModelError(
                "InvalidSecurityGroupId.RegionMismatch",
                f"{group.group_id} is in {group.region_id}; the instance is in "
                f"{instance.region_id}. Use a group of the same region.",
            )
        if group.group_id in nic.security_group_ids:
            raise ModelError(
                "InvalidInstanceId.AlreadyExists",
                f"{instance.instance_id} is already in {group.group_id}.",
            )
        if group.network_type is not instance.network_type:
            raise ModelError(
                "InvalidSecurityGroupId.NetworkTypeMismatch",
                f"{group.group_id} is a {group.network_type.value} group; a "
                f"{instance.network_type.value} instance needs a {instance.network_type.value} "
                "group.",
            )
        if instance.network_type is NetworkType.VPC and group.vpc_id != instance.vpc_id:
            raise ModelError(
                "InvalidSecurityGroupId.VpcMismatch",
                f"{group.group_id} is in VPC {group.vpc_id}; the instance is in "
                f"{instance.vpc_id}. Use a group of the instance's VPC.",
            )
        if len(nic.security_group_ids) + 1 > limits.groups_per_nic:
            raise ModelError(
                "InstanceSecurityGroupLimitExceeded",
                f"NIC {nic.nic_id} is already in {len(nic.security_group_ids)} groups; at most "
                f"{limits.groups_per_nic}. Leave a group first.",
            )
        kinds = {groups[g].group_type for g in nic.security_group_ids}
        if kinds and kinds != {group.group_type}:
            raise ModelError(
                "InvalidSecurityGroupType.Mismatch",
                f"{instance.instance_id} is in {kinds.pop().value} groups; it cannot also join "
                f"the {group.group_type.value} group {group.group_id}.",
            )
        if group.group_type is GroupType.ENTERPRISE:
            if instance.created_at.date() < limits.enterprise_min_instance_created:
                raise ModelError(
                    "InvalidInstanceId.CreatedTooEarly",
                    f"{instance.instance_id} was created {instance.created_at.date()}; instances "
                    "created before "
                    f"{limits.enterprise_min_instance_created} cannot join enterprise groups. Use "
                    "a normal group.",
                )
            if not instance.supports_ipv6:
                raise ModelError(
                    "InvalidInstanceType.NotSupportEnterpriseGroup",
                    f"Instance type {instance.instance_type} does not support IPv6, which "
                    "enterprise groups require; use a normal group.",
                )
            if len(self._members.get(group.group_id, ())) + 1 > limits.enterprise_nics_per_group:
                raise ModelError(
                    "QuotaExceed.NicPerGroup",
                    f"{group.group_id} already holds {limits.enterprise_nics_per_group} NICs.",
                )
        else:
            ips = self._group_ip_count.get(group.group_id, 0) + len(nic.private_ips)
            if ips > limits.private_ips_per_normal_group:
                raise ModelError(
                    "QuotaExceed.PrivateIpPerGroup",
                    f"{group.group_id} would hold {ips} private IPs; a normal group holds at most "
                    f"{limits.private_ips_per_normal_group}. Use another group (or an enterprise "
                    "group).",
                )
        total = sum(len(groups[g].rules) for g in nic.security_group_ids) + len(group.rules)
        if total > limits.rules_per_nic:
            raise ModelError(
                "RuleCountExceeded",
                f"Joining {group.group_id} would put {total} rules on NIC {nic.nic_id}; at most "
                f"{limits.rules_per_nic} over all its groups. "
                "Remove redundant rules or join a smaller group.",
            )

    def join(self, instance_id: str, group_id: str, nic_id: str | None = None) -> None:
        """JoinSecurityGroup (for an instance: its primary NIC)."""
        instance = self.get_instance(instance_id)
        group = self.get_group(group_id)
        nic = instance.nic(nic_id)
        if nic is None:
            raise ModelError(
                "InvalidNetworkInterfaceId.NotFound", f"NIC {nic_id!r} is not on {instance_id}."
            )
        self._check_join(instance, nic, group, self.groups)
        nic.security_group_ids.append(group_id)
        self._add_member(group_id, instance_id, nic)

    def leave(self, instance_id: str, group_id: str, nic_id: str | None = None) -> None:
        """LeaveSecurityGroup; a NIC keeps at least one group."""
        instance = self.get_instance(instance_id)
        self.get_group(group_id)
        nic = instance.nic(nic_id)
        if nic is None:
            raise ModelError(
                "InvalidNetworkInterfaceId.NotFound", f"NIC {nic_id!r} is not on {instance_id}."
            )
        if group_id not in nic.security_group_ids:
            raise ModelError(
                "InvalidInstanceId.NotInSecurityGroup", f"{instance_id} is not in {group_id}."
            )
        if len(nic.security_group_ids) == 1:
            raise ModelError(
                "InvalidOperation.LastSecurityGroup",
                f"{group_id} is the only group of {instance_id}; every instance belongs to at "
                "least one group. Join another group first.",
            )
        nic.security_group_ids.remove(group_id)
        self._remove_member(group_id, instance_id, nic)

    # ------------------------------------------------------------ clone and restore

    def clone_security_group(
        self,
        group_id: str,
        *,
        now: datetime,
        region_id: str | None = None,
        name: str | None = None,
        network_type: NetworkType | str | None = None,
        vpc_id: str | None = None,
        description: str | None = None,
    ) -> CloneResult:
        """Clone a group, possibly into another region and/or network type. Rules that cannot
        exist there (group authorisation across regions, internet NIC rules in a VPC) are
        reported as skipped."""
        source = self.get_group(group_id)
        region = region_id or source.region_id
        network = self._enum(
            NetworkType,
            network_type or source.network_type,
            "InvalidNetworkType.ValueNotSupported",
            "vpc or classic",
        )
        if network is NetworkType.VPC and vpc_id is None:
            if network is source.network_type and region == source.region_id:
                vpc_id = source.vpc_id
        draft_name = source.name if name is None else name
        # Validate the target group before creating anything.
        probe = CloudModel(self.limits)
        probe.accounts, probe.regions, probe.vpcs = self.accounts, self.regions, self.vpcs
        shell = probe.create_security_group(
            source.account_id,
            region,
            now=now,
            name=draft_name,
            description=source.description if description is None else description,
            group_type=source.group_type,
            network_type=network,
            vpc_id=vpc_id,
            inner_access_policy=source.inner_access_policy,
        )
        shell.group_id = self._ensure_unique_id("sg", self.groups)
        kept, skipped = [], []
        for rule in source.rules:
            if rule.priority > self.limits.priority_max:
                skipped.append(
                    (
                        rule,
                        f"priority {rule.priority} system rules cannot be created; add a similar "
                        f"rule with priority {self.limits.priority_max}",
                    )
                )
                continue
            request = _unchanged_rule_fields(rule)
            if network is NetworkType.VPC and rule.nic_type is NicType.INTERNET:
                request = replace(request, nic_type=NicType.INTRANET)
            if (
                network is NetworkType.CLASSIC
                and source.network_type is NetworkType.VPC
                and rule.peer_cidr is not None
            ):
                request = replace(request, nic_type=NicType.INTERNET)
            try:
                built = self._build_rules(shell, request, self.groups)
            except ModelError as err:
                skipped.append((rule, err.message))
                continue
            for b in built:
                if b.key() not in {k.key() for k in kept}:
                    kept.append(b)
        shell.rules = [replace(r, rule_id=self._new_id("sgr"), create_time=now) for r in kept]
        self.groups[shell.group_id] = shell
        return CloneResult(shell, skipped)

    def restore_preview(
        self, group_id: str, target_group_id: str, mode: str = "full"
    ) -> RestorePreview:
        """What `restore` would do: the target's extra rules are added (green); with `full` the
        rules the target lacks are removed (red)."""
        group = self.get_group(group_id)
        target = self.get_group(target_group_id)
        if mode not in ("full", "partial"):
            raise ModelError(
                "InvalidParameter.RestoreMode",
                f"Restore mode {mode!r} is not valid; use full or partial.",
            )
        if target.region_id != group.region_id:
            raise ModelError(
                "InvalidSecurityGroupId.RegionMismatch",
                f"{target_group_id} is in {target.region_id}; restore from a group of "
                f"{group.region_id}.",
            )
        if target.network_type is not group.network_type:
            raise ModelError(
                "InvalidSecurityGroupId.NetworkTypeMismatch",
                f"{target_group_id} is a {target.network_type.value} group; restore from a "
                f"{group.network_type.value} group.",
            )
        match = (lambda r: r.content()) if mode == "full" else (lambda r: r.key())
        target_keys = {match(r) for r in target.rules}
        removed = [r for r in group.rules if match(r) not in target_keys] if mode == "full" else []
        remaining = {
            match(r) for r in group.rules if not (mode == "full" and match(r) not in target_keys)
        }
        added, skipped = [], []
        for rule in target.rules:
            if match(rule) in remaining:
                continue
            if rule.priority > self.limits.priority_max:
                skipped.append(
                    (
                        rule,
                        f"priority {rule.priority} system rules cannot be created by a restore; "
                        f"add a similar rule with priority {self.limits.priority_max}",
                    )
                )
                continue
            try:
                self._build_rules(group, _unchanged_rule_fields(rule), self.groups)
            except ModelError as err:
                skipped.append((rule, err.message))
                continue
            remaining.add(match(rule))
            added.append(rule)
        removed_ids = {r.rule_id for r in removed}
        self._check_capacity(
            group, [r for r in group.rules if r.rule_id not in removed_ids] + added
        )
        return RestorePreview(mode, added, removed, skipped)

    def restore(
        self, group_id: str, target_group_id: str, mode: str, now: datetime
    ) -> RestorePreview:
        preview = self.restore_preview(group_id, target_group_id, mode)
        group = self.groups[group_id]
        removed_ids = {r.rule_id for r in preview.removed}
        group.rules = [r for r in group.rules if r.rule_id not in removed_ids] + [
            replace(r, rule_id=self._new_id("sgr"), create_time=now) for r in preview.added
        ]
        return preview

    # ------------------------------------------------------------ export and import

    def export_rules(self, group_id: str) -> ExportedRules:
        group = self.get_group(group_id)
        return ExportedRules(
            export_filename(group.region_id, group.group_id), group_document(group)
        )

    def import_preview(self, group_id: str, document: object) -> ImportPreview:
        """Per-permission result of importing `document` into the group: what `import_rules`
        will then do, with the reason of every failure."""
        group = self.get_group(group_id)
        permissions = permissions_of(document)
        results: list[ImportResult] = []
        present = {r.key() for r in group.rules}
        accepted: list[SecurityGroupRule] = []
        for index, permission in enumerate(permissions):
            if index >= self.limits.import_max_rules:
                results.append(
                    ImportResult(
                        index,
                        "failed",
                        f"an import takes at most {self.limits.import_max_rules} rules; import "
                        "the rest separately",
                        "QuotaExceed.ImportRules",
                    )
                )
                continue
            try:
                request = permission_to_request(permission)
                built = self._build_rules(group, request, self.groups)
                fresh = [b for b in built if b.key() not in present]
                if not fresh:
                    results.append(
                        ImportResult(
                            index,
                            "exists",
                            "an identical rule is already in the group (import never overwrites)",
                        )
                    )
                    continue
                self._check_capacity(group, group.rules + accepted + fresh)
            except ModelError as err:
                results.append(ImportResult(index, "failed", err.message, err.code))
                continue
            for rule in fresh:
                present.add(rule.key())
                accepted.append(rule)
                results.append(ImportResult(index, "added", "", "", rule))
        return ImportPreview(group_id, len(permissions), results)

    def import_rules(self, group_id: str, document: object, now: datetime) -> ImportPreview:
        preview = self.import_preview(group_id, document)
        group = self.groups[group_id]
        group.rules.extend(
            replace(r, rule_id=self._new_id("sgr"), create_time=now) for r in preview.added
        )
        return preview
