"""Instances: RunInstances (with the region's default security group for an account's first
instance there), start, stop, reboot, delete, and the outbound SMTP unblock."""

from __future__ import annotations

from datetime import datetime

from palisade.auditor.model import changes as K
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.membership import MembershipOperations
from palisade.auditor.model.fleet.placement import check_zone
from palisade.auditor.model.fleet.resources import (
    DEFAULT_INSTANCE_TYPE,
    Instance,
    InstanceState,
    Nic,
    OsFamily,
    SystemDisk,
    Vpc,
    VSwitch,
)
from palisade.auditor.model.network import ipv4
from palisade.auditor.model.network.security_group import (
    Direction,
    GroupType,
    IpProtocol,
    NetworkType,
    NicType,
    PortRange,
    RulePolicy,
    SecurityGroup,
    SecurityGroupRule,
)


class InstanceOperations(MembershipOperations):
    def create_instance(
        self,
        account_id: str,
        region_id: str,
        *,
        created_at: datetime,
        instance_type: str = DEFAULT_INSTANCE_TYPE,
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
        vswitch_id: str | None = None,
        zone_id: str | None = None,
        image_id: str = "",
        host_name: str = "",
        system_disk: SystemDisk | None = None,
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> Instance:
        """RunInstances. With no security group, an account that has none in the region gets
        the region's default group (created here). On a vSwitch the instance is in the
        vSwitch's VPC and zone, and without a private IP it gets the first free address of the
        vSwitch's block."""
        self.get_account(account_id)
        self.get_region(region_id)
        vswitch: VSwitch | None = None
        if vswitch_id is not None:
            vswitch = self.get_vswitch(vswitch_id)
            if vswitch.account_id != account_id or vswitch.region_id != region_id:
                raise ModelError(
                    "InvalidVSwitchId.NotFound",
                    f"vSwitch {vswitch_id!r} is not in account {account_id} / region {region_id}.",
                )
            if vpc_id is not None and vpc_id != vswitch.vpc_id:
                raise ModelError(
                    "InvalidParameter.Mismatch",
                    f"vSwitch {vswitch_id} is in VPC {vswitch.vpc_id}, not {vpc_id}; drop VpcId "
                    "or name a vSwitch of that VPC.",
                )
            if zone_id and zone_id != vswitch.zone_id:
                raise ModelError(
                    "InvalidParameter.Mismatch",
                    f"vSwitch {vswitch_id} is in zone {vswitch.zone_id}, not {zone_id}; drop "
                    "ZoneId or name a vSwitch of that zone.",
                )
            vpc_id, zone_id = vswitch.vpc_id, vswitch.zone_id
        elif zone_id:
            check_zone(zone_id, region_id)
        try:
            network = NetworkType(network_type)
            os_kind = OsFamily(os_family)
        except ValueError as exc:
            raise ModelError(
                "InvalidParameter", f"{exc}; use network type vpc/classic and OS linux/windows."
            ) from None
        vpc: Vpc | None = None  # set for a VPC instance
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
        if not ips and vswitch is not None:
            ips = [self._free_address(vswitch)]
        if not ips:
            raise ModelError(
                "MissingParameter.PrivateIpAddress", "Give the instance a private IP address."
            )
        canonical: list[str] = []
        for ip in ips + ([public_ip] if public_ip else []):
            text = ipv4.canonical_ip(ip)
            if text is None:
                raise ModelError(
                    "InvalidIpAddress.Malformed",
                    f"IP address {ip!r} is not valid; use a dotted quad such as 172.16.0.10.",
                )
            canonical.append(text)
        # Stored as canonical text: one address has one spelling (duplicates compare text).
        ips, public_ip = canonical[: len(ips)], canonical[-1] if public_ip else public_ip
        if vswitch is not None:
            slo, shi = ipv4.cidr_text_interval(vswitch.cidr)
            for ip in ips:
                if not slo <= ipv4.ip_value(ip) <= shi:
                    raise ModelError(
                        "InvalidPrivateIpAddress.Mismatch",
                        f"Private IP {ip} is outside vSwitch {vswitch.vswitch_id} "
                        f"({vswitch.cidr}).",
                    )
        if vpc is not None:
            lo, hi = ipv4.cidr_text_interval(vpc.cidr)
            taken = self._vpc_ips.get(vpc.vpc_id, set())
            for ip in ips:
                if not lo <= ipv4.ip_value(ip) <= hi:
                    raise ModelError(
                        "InvalidPrivateIpAddress.Mismatch",
                        f"Private IP {ip} is outside VPC {vpc_id} ({vpc.cidr}).",
                    )
                if ip in taken:
                    raise ModelError(
                        "InvalidPrivateIpAddress.Duplicated",
                        f"Private IP {ip} is already used in VPC {vpc_id}.",
                    )
        if instance_id is not None and instance_id in self.instances:
            raise ModelError(
                "InvalidInstanceId.Duplicate", f"Instance {instance_id!r} already exists."
            )
        # The ids it will get; given out (counted) only once every check has passed.
        new_id = instance_id or self._peek_ids("i", 1, self.instances)[0]
        nic = Nic(self._peek_ids("eni")[0], ips, public_ip, [], True)
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
            zone_id or "",
            image_id,
            vswitch_id,
            host_name,
            system_disk,
            description,
            dict(tags or {}),
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
                account_id,
                region_id,
                network,
                vpc_id,
                created_at,
                default_group_web_ports,
                self._peek_ids("sg", 1, self.groups)[0],
                iter(self._peek_ids("sgr", 6)),
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
        # Every check passed: the ids checked with are given out.
        if instance_id is None:
            self._take_ids("i", [new_id])
        self._take_ids("eni", [nic.nic_id])
        if default_group:
            self._take_ids("sg", [default_group.group_id])
            self._take_ids("sgr", [rule.rule_id for rule in default_group.rules])
            self.groups[default_group.group_id] = default_group
            self.changes.touch(K.GROUP, default_group.group_id)
        self.instances[new_id] = instance
        self.changes.touch(K.INSTANCE, new_id)
        for gid in nic.security_group_ids:
            self._add_member(gid, new_id, nic)
        if vpc_id is not None:
            self._vpc_ips.setdefault(vpc_id, set()).update(ips)
        return instance

    def _free_address(self, vswitch: VSwitch) -> str:
        """The lowest address of the vSwitch's block that is free in its VPC. ECS keeps the
        first address and the last three of every vSwitch block for itself."""
        lo, hi = ipv4.cidr_text_interval(vswitch.cidr)
        taken = self._vpc_ips.get(vswitch.vpc_id, set())
        for value in range(lo + 1, hi - 2):
            text = ipv4.format_ip(value)
            if text not in taken:
                return text
        raise ModelError(
            "InvalidVSwitchId.IpNotEnough",
            f"vSwitch {vswitch.vswitch_id} ({vswitch.cidr}) has no free private address left.",
        )

    def _default_group(
        self, account_id, region_id, network, vpc_id, now, web_ports, group_id, rule_ids
    ) -> SecurityGroup:
        """The region's default group, with the ids given (`rule_ids`: an iterator)."""
        group = SecurityGroup(
            group_id,
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
                    next(rule_ids),
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
                next(rule_ids),
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
        if instance.state is not new:
            instance.state = new
            self.changes.touch(K.INSTANCE, instance_id)
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
        self.changes.touch(K.INSTANCE, instance_id)

    def set_smtp_unblocked(self, instance_id: str, unblocked: bool = True) -> None:
        instance = self.get_instance(instance_id)
        if instance.smtp_unblocked != unblocked:
            instance.smtp_unblocked = unblocked
            self.changes.touch(K.INSTANCE, instance_id)

    def set_host_name(self, instance_id: str, host_name: str) -> Instance:
        """The instance's host name (RunInstances names a host iZ<id>Z when none is given)."""
        instance = self.get_instance(instance_id)
        if instance.host_name != host_name:
            instance.host_name = host_name
            self.changes.touch(K.INSTANCE, instance_id)
        return instance
