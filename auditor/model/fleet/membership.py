"""Security group membership of NICs: the checks a join must pass (account, region, network,
type, quotas), JoinSecurityGroup and LeaveSecurityGroup."""

from __future__ import annotations

from palisade.auditor.model import changes as K
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.inventory import FleetInventory
from palisade.auditor.model.fleet.resources import Instance, Nic
from palisade.auditor.model.network.security_group import GroupType, NetworkType, SecurityGroup


class MembershipOperations(FleetInventory):
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
        self.changes.touch(K.INSTANCE, instance_id)

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
        self.changes.touch(K.INSTANCE, instance_id)
