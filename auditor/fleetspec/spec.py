"""A declarative fleet (`palisade apply FILE.yaml`): regions, peer accounts, VPCs and their
vSwitches, security groups with their rules, key pairs and instances, read from YAML/JSON
written by people, or converted from the JSON the real ECS API answers (DescribeSecurityGroups,
DescribeSecurityGroupAttribute, DescribeInstances, and the VPC API's DescribeVSwitches) for
`palisade import-ecs`.

This module holds what both readers produce (`FleetSpec` and its parts); `fleet_file` reads
the YAML/JSON below, `ecs_import` the ECS API's JSON, `documents` turns a file's text into
data. Both readers take untrusted input: anything that is not the expected shape is a
`SpecError` naming the place (`$.security_groups[0].rules[2].ports`). Values are checked for
type only; their meaning is checked by the model when the actions run (a dry run first).

```yaml
region: cn-hangzhou            # default region of the entries below
regions: [cn-shanghai]         # more regions to model
accounts: [{id: "2001", name: partner}]   # peer accounts (cross-account rules)
vpcs: [{name: prod, cidr: 172.16.0.0/12}]
vswitches: [{name: web-h, vpc: prod, zone: cn-hangzhou-h, cidr: 172.16.1.0/24}]
security_groups:
  - name: web
    vpc: prod                  # a VPC of the file (name) or an id; none: classic network
    type: normal               # or enterprise
    description: Web servers
    inner_access_policy: Accept
    rules:                     # exactly these (omit the key to leave a group's rules alone)
      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0}
      - {protocol: tcp, ports: 22/22, group: bastion}
      - {protocol: tcp, ports: 443, ipv6_cidr: "2001:db8::/32"}            # an IPv6 peer
      - {protocol: udp, ports: 53, source_ports: 1024/65535, cidr: 10.0.0.0/8}
      - {direction: egress, protocol: all, cidr: 10.0.0.0/8, policy: drop, priority: 5}
key_pairs: [{name: deploy, public_key: "ssh-ed25519 AAAA... me@host"}]
instances:
  - {name: web-1, vpc: prod, vswitch: web-h, private_ip: 172.16.1.10, public_ip: 47.0.0.10,
     security_groups: [web], key_pair: deploy, status: Running}
```
"""

from __future__ import annotations

from dataclasses import dataclass, field

from palisade.auditor.model.fleet.resources import DEFAULT_INSTANCE_TYPE
from palisade.auditor.model.schema import MAX_TEXT as MAX_TEXT
from palisade.auditor.model.schema import SchemaError
from palisade.auditor.model.schema import kind_of as kind_of

DEFAULT_REGION = "cn-hangzhou"

# A fleet file's problem is a SchemaError: `where` is the JSON path, `message` what is wrong.
SpecError = SchemaError


def rule_ports(value: str | None, protocol: str) -> str:
    """A rule's port range: `22` -> `22/22`; none: `-1/-1` for protocols without ports."""
    if value is None:
        return "-1/-1" if protocol.lower() not in ("tcp", "udp") else ""
    return f"{value}/{value}" if value.isdigit() else value


@dataclass(frozen=True)
class AccountSpec:
    account_id: str
    name: str = ""


@dataclass(frozen=True)
class VpcSpec:
    name: str
    region: str
    cidr: str = "172.16.0.0/12"
    vpc_id: str | None = None
    account: str | None = None  # None: the auditor's own account


@dataclass(frozen=True)
class VSwitchSpec:
    name: str
    region: str
    vpc: str  # a VPC of the file (name) or an id
    zone: str
    cidr: str
    description: str = ""
    vswitch_id: str | None = None
    account: str | None = None


@dataclass(frozen=True)
class RuleSpec:
    protocol: str
    ports: str
    direction: str = "ingress"
    cidr: str | None = None
    group: str | None = None  # a group of the file (name) or an id
    owner_account: str | None = None
    policy: str = "accept"
    priority: str = "1"
    nic_type: str | None = None
    description: str = ""
    source_ports: str | None = None  # SourcePortRange; None: any source port
    ipv6_cidr: str | None = None  # Ipv6SourceCidrIp / Ipv6DestCidrIp: the rule's IPv6 peer


@dataclass(frozen=True)
class GroupSpec:
    name: str
    region: str
    vpc: str | None = None
    type: str = "normal"
    description: str = ""
    inner_access_policy: str | None = None
    rules: tuple[RuleSpec, ...] | None = None  # None: leave the rules alone
    group_id: str | None = None
    account: str | None = None


@dataclass(frozen=True)
class KeyPairSpec:
    name: str
    region: str
    public_key: str


@dataclass(frozen=True)
class InstanceSpec:
    name: str
    region: str
    private_ip: str
    vpc: str | None = None
    public_ip: str | None = None
    security_groups: tuple[str, ...] | None = None
    os: str = "linux"
    instance_type: str = DEFAULT_INSTANCE_TYPE
    key_pair: str | None = None
    ram_role: str | None = None
    status: str = "Running"
    instance_id: str | None = None
    created_at: str | None = None
    account: str | None = None
    vswitch: str | None = None  # a vSwitch of the file (name) or an id


@dataclass(frozen=True)
class FleetSpec:
    regions: tuple[str, ...] = ()
    accounts: tuple[AccountSpec, ...] = ()
    vpcs: tuple[VpcSpec, ...] = ()
    groups: tuple[GroupSpec, ...] = ()
    key_pairs: tuple[KeyPairSpec, ...] = ()
    instances: tuple[InstanceSpec, ...] = ()
    vswitches: tuple[VSwitchSpec, ...] = ()
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def all_regions(self) -> list[str]:
        seen = dict.fromkeys(self.regions)
        for item in (*self.vpcs, *self.vswitches, *self.groups, *self.key_pairs, *self.instances):
            seen.setdefault(item.region)
        return list(seen)
