"""The cloud's resources: accounts, regions, VPCs, instances and their NICs.

Plain data; the operations that change them live in `fleet.CloudModel`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from palisade.auditor.model.network.security_group import NetworkType

# What an instance is when no type is given (RunInstances, fleet files, ECS imports): a type of
# the seed's DDoS threshold table (model/ddos/data), so that it has a scrubbing threshold;
# ecs.g6.large, the former default, has no row there.
DEFAULT_INSTANCE_TYPE = "ecs.g5.large"


class OsFamily(str, Enum):
    LINUX = "linux"
    WINDOWS = "windows"


class InstanceState(str, Enum):
    PENDING = "Pending"
    STARTING = "Starting"
    RUNNING = "Running"
    STOPPING = "Stopping"
    STOPPED = "Stopped"


@dataclass
class Account:
    account_id: str
    name: str = ""


@dataclass
class Region:
    region_id: str


@dataclass
class Vpc:
    vpc_id: str
    account_id: str
    region_id: str
    cidr: str = "172.16.0.0/12"
    name: str = ""


@dataclass
class Nic:
    """A network interface (ENI). Security groups attach here; a classic instance's one NIC
    carries both its intranet (private) and internet (public) address."""

    nic_id: str
    private_ips: list[str]
    public_ip: str | None = None
    security_group_ids: list[str] = field(default_factory=list)
    primary: bool = True


@dataclass
class Instance:
    instance_id: str
    account_id: str
    region_id: str
    instance_type: str
    os_family: OsFamily
    network_type: NetworkType
    nics: list[Nic]
    created_at: datetime
    vpc_id: str | None = None
    state: InstanceState = InstanceState.RUNNING
    smtp_unblocked: bool = False  # the platform's outbound TCP 25 block was lifted on request
    ipv6_capable: bool | None = None  # None: derived from the instance type
    name: str = ""

    @property
    def primary_nic(self) -> Nic:
        return next((n for n in self.nics if n.primary), self.nics[0])

    def nic(self, nic_id: str | None) -> Nic | None:
        if nic_id is None:
            return self.primary_nic
        return next((n for n in self.nics if n.nic_id == nic_id), None)

    @property
    def private_ips(self) -> list[str]:
        return [ip for n in self.nics for ip in n.private_ips]

    @property
    def supports_ipv6(self) -> bool:
        if self.ipv6_capable is not None:
            return self.ipv6_capable
        return instance_type_supports_ipv6(self.instance_type)


_TYPE = re.compile(r"^ecs\.([a-z]+)([0-9]+)([a-z]*)\.")  # not \d: any script's digits
_IPV6_OLD_FAMILIES = {"sn1ne", "sn2ne", "se1ne", "hfc", "hfg", "hfr"}


def instance_type_supports_ipv6(instance_type: str) -> bool:
    """Enterprise groups need an IPv6-capable type; in ECS that is the 5th generation and later
    (g5, c5, r5, g6, ...) and the network-enhanced 'ne' families. Unknown names: not capable."""
    m = _TYPE.match(instance_type or "")
    if not m:
        return False
    family, generation, suffix = m.groups()
    return (
        int(generation) >= 5
        or f"{family}{generation}{suffix}" in _IPV6_OLD_FAMILIES
        or suffix == "ne"
    )
