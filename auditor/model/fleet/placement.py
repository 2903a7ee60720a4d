"""Where resources live: accounts, regions, VPCs and their vSwitches (add, create, delete)."""

from __future__ import annotations

from datetime import datetime

from palisade.auditor.model import changes as K
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.inventory import FleetInventory
from palisade.auditor.model.fleet.resources import Account, Region, Vpc, VSwitch
from palisade.auditor.model.network import ipv4
from palisade.auditor.model.network.security_group import check_account_id_format


class PlacementOperations(FleetInventory):
    def add_account(self, account_id: str, name: str = "") -> Account:
        check_account_id_format(account_id, "AccountId")
        if account_id in self.accounts:
            raise ModelError(
                "InvalidAccountId.Duplicate", f"Account {account_id!r} already exists."
            )
        account = Account(account_id, name)
        self.accounts[account_id] = account
        self.changes.touch(K.ACCOUNT, account_id)
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
        region = self.regions.get(region_id)
        if region is None:
            region = self.regions[region_id] = Region(region_id)
            self.changes.touch(K.REGION, region_id)
        return region

    def create_vpc(
        self,
        account_id: str,
        region_id: str,
        cidr: str = "172.16.0.0/12",
        vpc_id: str | None = None,
        name: str = "",
        description: str = "",
        tags: dict[str, str] | None = None,
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
            vpc_id or self._ensure_unique_id("vpc", self.vpcs),
            account_id,
            region_id,
            ipv4.format_cidr(*parsed),  # canonical: a bare address is a /32
            name,
            description,
            dict(tags or {}),
        )
        self.vpcs[vpc.vpc_id] = vpc
        self.changes.touch(K.VPC, vpc.vpc_id)
        return vpc

    def delete_vpc(self, vpc_id: str) -> Vpc:
        """DeleteVpc: refused while instances or security groups are in it."""
        vpc = self.get_vpc(vpc_id)
        users = sorted(i.instance_id for i in self.instances.values() if i.vpc_id == vpc_id)
        users += sorted(g.group_id for g in self.groups.values() if g.vpc_id == vpc_id)
        users += sorted(s.vswitch_id for s in self.vswitches.values() if s.vpc_id == vpc_id)
        if users:
            raise ModelError(
                "DependencyViolation",
                f"VPC {vpc_id} still holds {', '.join(users[:5])}"
                f"{' ...' if len(users) > 5 else ''}; delete them first.",
            )
        del self.vpcs[vpc_id]
        self._vpc_ips.pop(vpc_id, None)
        self.changes.touch(K.VPC, vpc_id)
        return vpc

    # ------------------------------------------------------------ vSwitches

    def create_vswitch(
        self,
        vpc_id: str,
        zone_id: str,
        cidr: str,
        *,
        created_at: datetime,
        name: str = "",
        description: str = "",
        vswitch_id: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> VSwitch:
        """CreateVSwitch: a block of the VPC's CIDR (mask /16 to /29) in one zone of the VPC's
        region, overlapping no other vSwitch of the VPC."""
        vpc = self.get_vpc(vpc_id)
        check_zone(zone_id, vpc.region_id)
        parsed = ipv4.parse_cidr(cidr)
        if parsed is None or ipv4.host_bits_set(*parsed) or not 16 <= parsed[1] <= 29:
            raise ModelError(
                "InvalidCidrBlock.Malformed",
                f"CidrBlock {str(cidr)[:64]!r} is not valid; use a network block with a mask "
                "of /16 to /29 such as 172.16.1.0/24.",
            )
        lo, hi = ipv4.cidr_interval(*parsed)
        vlo, vhi = ipv4.cidr_text_interval(vpc.cidr)
        if not (vlo <= lo and hi <= vhi):
            raise ModelError(
                "InvalidCidrBlock.Malformed",
                f"CidrBlock {ipv4.format_cidr(*parsed)} is not inside VPC {vpc_id} ({vpc.cidr}).",
            )
        for other in self.vswitches.values():
            if other.vpc_id != vpc_id:
                continue
            olo, ohi = ipv4.cidr_text_interval(other.cidr)
            if lo <= ohi and olo <= hi:
                raise ModelError(
                    "InvalidCidrBlock.Overlapped",
                    f"CidrBlock {ipv4.format_cidr(*parsed)} overlaps vSwitch "
                    f"{other.vswitch_id} ({other.cidr}) of VPC {vpc_id}.",
                )
        if vswitch_id is not None and vswitch_id in self.vswitches:
            raise ModelError(
                "InvalidVSwitchId.Duplicate", f"vSwitch {vswitch_id!r} already exists."
            )
        vswitch = VSwitch(
            vswitch_id or self._ensure_unique_id("vsw", self.vswitches),
            vpc.account_id,
            vpc.region_id,
            vpc_id,
            zone_id,
            ipv4.format_cidr(*parsed),
            name,
            description,
            created_at,
            dict(tags or {}),
        )
        self.vswitches[vswitch.vswitch_id] = vswitch
        self.changes.touch(K.VSWITCH, vswitch.vswitch_id)
        return vswitch

    def modify_vswitch(
        self, vswitch_id: str, name: str | None = None, description: str | None = None
    ) -> VSwitch:
        """ModifyVSwitchAttribute: a vSwitch's name and description (its VPC, zone and block
        cannot change)."""
        vswitch = self.get_vswitch(vswitch_id)
        self.changes.touch(K.VSWITCH, vswitch_id)
        if name is not None:
            vswitch.name = name
        if description is not None:
            vswitch.description = description
        return vswitch

    def delete_vswitch(self, vswitch_id: str) -> VSwitch:
        """DeleteVSwitch: refused while instances are on it."""
        vswitch = self.get_vswitch(vswitch_id)
        users = sorted(i.instance_id for i in self.instances.values() if i.vswitch_id == vswitch_id)
        if users:
            raise ModelError(
                "DependencyViolation",
                f"vSwitch {vswitch_id} still holds {', '.join(users[:5])}"
                f"{' ...' if len(users) > 5 else ''}; delete them first.",
            )
        del self.vswitches[vswitch_id]
        self.changes.touch(K.VSWITCH, vswitch_id)
        return vswitch


def check_zone(zone_id: str, region_id: str) -> None:
    """A zone is named after its region plus a suffix (cn-hangzhou-h, cn-hangzhou-i, ...)."""
    suffix = zone_id[len(region_id) + 1 :] if isinstance(zone_id, str) else ""
    if not (
        isinstance(zone_id, str)
        and zone_id.startswith(region_id + "-")
        and suffix.isascii()
        and 1 <= len(suffix) <= 16
        and suffix.replace("-", "").isalnum()
    ):
        raise ModelError(
            "InvalidZoneId.NotFound",
            f"Zone {str(zone_id)[:64]!r} is not a zone of region {region_id}; use a name such "
            f"as {region_id}-h.",
        )
