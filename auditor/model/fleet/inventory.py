"""`FleetInventory`: what the fleet holds (accounts, regions, VPCs, instances, security
groups), the indexes kept alongside it (group members, private IPs per group and per VPC), the
id counters and the lookups. The operations that change it are the mixins of `CloudModel`."""

from __future__ import annotations

from collections.abc import Container

from palisade.auditor.model import changes as K
from palisade.auditor.model.changes import Changes
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.resources import Account, Instance, Nic, Region, Vpc, VSwitch
from palisade.auditor.model.limits import DEFAULT_LIMITS, Limits
from palisade.auditor.model.network.security_group import SecurityGroup


class FleetInventory:
    """The resources, indexes and id counters every family of operations works on. `id_prefix`
    keeps generated ids of two models apart."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS, id_prefix: str = "") -> None:
        if id_prefix and not (id_prefix.isascii() and id_prefix.isalnum()):
            raise ValueError("id_prefix must be ASCII letters and digits")
        self.limits = limits
        self.id_prefix = id_prefix
        self.accounts: dict[str, Account] = {}
        self.regions: dict[str, Region] = {}
        self.vpcs: dict[str, Vpc] = {}
        self.vswitches: dict[str, VSwitch] = {}
        self.instances: dict[str, Instance] = {}
        self.groups: dict[str, SecurityGroup] = {}
        self._counters: dict[str, int] = {}
        # group id -> {(instance id, nic id)}
        self._members: dict[str, set[tuple[str, str]]] = {}
        self._group_ip_count: dict[str, int] = {}
        self._vpc_ips: dict[str, set[str]] = {}
        self.changes = Changes()  # what a write touched (see model.changes)

    # ------------------------------------------------------------ ids and lookups

    def _new_id(self, kind: str) -> str:
        n = self._counters.get(kind, 0) + 1
        self._counters[kind] = n
        self.changes.touch(K.FLEET, "")  # the counters are the fleet unit's
        return f"{kind}-{self.id_prefix}{n:012x}"

    def _ensure_unique_id(self, kind: str, existing: dict) -> str:
        while True:
            candidate = self._new_id(kind)
            if candidate not in existing:
                return candidate

    def _peek_ids(self, kind: str, count: int = 1, existing: Container[str] = ()) -> list[str]:
        """The ids the next `count` calls of `_ensure_unique_id(kind, existing)` will give,
        without giving them out (an operation checks with them before it changes anything)."""
        out: list[str] = []
        n = self._counters.get(kind, 0)
        while len(out) < count:
            n += 1
            candidate = f"{kind}-{self.id_prefix}{n:012x}"
            if candidate not in existing:
                out.append(candidate)
        return out

    def _take_ids(self, kind: str, ids: list[str]) -> None:
        """Gives out ids `_peek_ids(kind, ...)` showed: the counter moves past the last one,
        as the `_ensure_unique_id` calls it stood for would have moved it."""
        if ids:
            last = int(ids[-1][len(kind) + 1 + len(self.id_prefix) :], 16)
            self._counters[kind] = max(self._counters.get(kind, 0), last)
            self.changes.touch(K.FLEET, "")  # the counters are the fleet unit's

    def id_counters(self) -> dict[str, int]:
        """The last number given out per id kind; a stored model keeps them so that ids keep
        counting up after a load."""
        return dict(self._counters)

    def restore_id_counters(self, counters: dict[str, int]) -> None:
        self._counters = dict(counters)
        self.changes.touch(K.FLEET, "")

    def set_limits(self, limits: Limits) -> None:
        """The quotas every operation checks (the settings file's `[limits]`)."""
        if limits != self.limits:
            self.limits = limits
            self.changes.touch(K.FLEET, "")

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

    def get_vswitch(self, vswitch_id: str) -> VSwitch:
        vswitch = self.vswitches.get(vswitch_id) if isinstance(vswitch_id, str) else None
        if vswitch is None:
            raise ModelError(
                "InvalidVSwitchId.NotFound",
                f"vSwitch {str(vswitch_id)[:64]!r} does not exist; check the VSwitchId.",
            )
        return vswitch

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

    # ------------------------------------------------------------ derived indexes

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

    def rebuild_indexes(self) -> None:
        """Recompute the indexes kept up to date as instances join, leave and come and go
        (group members, private IPs per group and per VPC) from the instances: they are not
        stored."""
        members: dict[str, set[tuple[str, str]]] = {}
        ip_count: dict[str, int] = {}
        vpc_ips: dict[str, set[str]] = {}
        for instance in self.instances.values():
            for nic in instance.nics:
                if instance.vpc_id:
                    vpc_ips.setdefault(instance.vpc_id, set()).update(nic.private_ips)
                for group_id in nic.security_group_ids:
                    members.setdefault(group_id, set()).add((instance.instance_id, nic.nic_id))
                    ip_count[group_id] = ip_count.get(group_id, 0) + len(nic.private_ips)
        self._members, self._group_ip_count, self._vpc_ips = members, ip_count, vpc_ips

    def replace_instance(self, instance_id: str, instance: Instance | None) -> None:
        """Puts `instance` (None: nothing) where `instance_id` was, keeping the indexes right
        without rebuilding them: what a replica applying a stored change does."""
        old = self.instances.get(instance_id)
        if old is not None:
            for nic in old.nics:
                if old.vpc_id:
                    self._vpc_ips.get(old.vpc_id, set()).difference_update(nic.private_ips)
                for group_id in nic.security_group_ids:
                    self._remove_member(group_id, instance_id, nic)
        if instance is None:
            self.instances.pop(instance_id, None)
            return
        self.instances[instance_id] = instance
        for nic in instance.nics:
            if instance.vpc_id:
                self._vpc_ips.setdefault(instance.vpc_id, set()).update(nic.private_ips)
            for group_id in nic.security_group_ids:
                self._add_member(group_id, instance_id, nic)
