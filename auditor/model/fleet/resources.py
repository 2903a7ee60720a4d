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
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class VSwitch:
    """A vSwitch: a zone's slice of a VPC (its CIDR lies inside the VPC's). A VPC instance on
    it is in its zone and takes its private address from its block."""

    vswitch_id: str
    account_id: str
    region_id: str
    vpc_id: str
    zone_id: str
    cidr: str
    name: str = ""
    description: str = ""
    created_at: datetime | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class SystemDisk:
    """The system disk an instance was created with (`SystemDisk.*` of RunInstances)."""

    category: str = "cloud_efficiency"
    size_gib: int = 40
    performance_level: str = ""
    name: str = ""
    description: str = ""


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
    zone_id: str = ""  # "" for instances stored before zones were modelled
    image_id: str = ""
    vswitch_id: str | None = None
    host_name: str = ""
    system_disk: SystemDisk | None = None
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)

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


# vCPUs of the size suffix of an instance type name (ecs.<family>.<size>), as ECS names them.
_SIZE_CPUS = {"small": 1, "medium": 1, "large": 2, "xlarge": 4}
_SIZE = re.compile(r"^(\d+)xlarge$")
# GiB of memory per vCPU by family letter: g general purpose 1:4, c compute 1:2, r memory 1:8,
# t/s/n shared 1:2 (ECS's published ratios for those families; anything else is taken as 1:4).
_MEMORY_RATIO = {"g": 4, "c": 2, "r": 8, "t": 2, "s": 2, "n": 2, "hfc": 2, "hfg": 4, "hfr": 8}


def instance_type_capacity(instance_type: str) -> tuple[int, int]:
    """(vCPUs, memory in MiB) an ECS instance type name stands for, from its size suffix and
    family; (0, 0) for a name that does not follow the ecs.<family>.<size> pattern.
    Hand-written: ECS publishes the sizes as a table (DescribeInstanceTypes), the model has no
    access to it, and the naming rule gives the same figures for the regular families."""
    parts = (instance_type or "").split(".")
    if len(parts) != 3 or parts[0] != "ecs":
        return 0, 0
    family, size = parts[1], parts[2]
    cpus = _SIZE_CPUS.get(size)
    m = _SIZE.match(size)
    if m:
        cpus = 4 * int(m.group(1))
    if cpus is None:
        return 0, 0
    letters = re.match(r"^[a-z]+", family)
    key = letters.group(0) if letters else ""
    ratio = _MEMORY_RATIO.get(key, _MEMORY_RATIO.get(key[:1], 4))
    memory = cpus * ratio * 1024
    if size == "small":  # ecs.t5-lc1m1.small and friends: 1 vCPU, 1 GiB
        memory = 1024
    return cpus, memory


_OS_NAMES = (
    ("aliyun", "Alibaba Cloud Linux"),
    ("alinux", "Alibaba Cloud Linux"),
    ("ubuntu", "Ubuntu"),
    ("centos", "CentOS"),
    ("debian", "Debian"),
    ("rockylinux", "Rocky Linux"),
    ("almalinux", "AlmaLinux"),
    ("anolis", "Anolis OS"),
    ("opensuse", "openSUSE"),
    ("suse", "SUSE Linux Enterprise Server"),
    ("rhel", "Red Hat Enterprise Linux"),
    ("fedora", "Fedora"),
    ("win", "Windows Server"),
)


def image_os_name(image_id: str) -> str:
    """The OSName ECS shows for a public image id such as
    `ubuntu_22_04_x64_20G_alibase_20230907.vhd` ("Ubuntu 22.04 64 bit"); "" for a custom
    image (m-...) or an id that names no known system."""
    text = (image_id or "").lower()
    for prefix, name in _OS_NAMES:
        if text.startswith(prefix):
            rest = text[len(prefix) :].lstrip("_")
            numbers = re.findall(r"(?<![a-z0-9])(\d+)(?=_|$)", rest.split("_x")[0])
            version = ".".join(numbers[:2]) if prefix != "win" else " ".join(numbers[:1])
            bits = " 64 bit" if "_x64" in text else (" 32 bit" if "_i386" in text else "")
            return f"{name} {version}".strip() + bits
    return ""


def image_os_family(image_id: str) -> OsFamily | None:
    """The OS family an image id names (public Windows images start with `win`), or None."""
    text = (image_id or "").lower()
    if not text or text.startswith("m-"):
        return None
    return OsFamily.WINDOWS if text.startswith("win") else OsFamily.LINUX
