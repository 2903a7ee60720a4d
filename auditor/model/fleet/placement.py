"""Where resources live: accounts, regions and VPCs (add, create, delete)."""

from __future__ import annotations

from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.inventory import FleetInventory
from palisade.auditor.model.fleet.resources import Account, Region, Vpc
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
            vpc_id or self._ensure_unique_id("vpc", self.vpcs),
            account_id,
            region_id,
            ipv4.format_cidr(*parsed),  # canonical: a bare address is a /32
            name,
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
