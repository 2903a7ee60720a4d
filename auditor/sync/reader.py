"""The account as the official SDKs answer it (read-only calls only), as a `CloudSnapshot`:
the ECS/VPC side as the `FleetSpec` `palisade apply` applies (with the cloud's ids, so the
model holds the same ones), RAM as `RamSpec`.

Read: regions (DescribeRegions), VPCs (DescribeVpcs), vSwitches (DescribeVSwitches, counted:
the fleet spec has no vSwitches yet), security groups and their rules
(DescribeSecurityGroups, DescribeSecurityGroupAttribute), key pairs with their public keys
(DescribeKeyPairs), instances with their NICs' addresses, groups and key pairs
(DescribeInstances), instance roles (DescribeInstanceRamRole), and RAM: users, groups and
their members, custom policies with their default version, roles with their trust policy,
and the policies attached to each (ListUsers, ListGroups, ListGroupsForUser, ListPolicies,
GetPolicy, ListRoles, GetRole, ListPoliciesFor{User,Group,Role}); the account id from STS
GetCallerIdentity.

Answers are read from the SDK models' `to_map()` (the wire's own field names), the shape
fleetspec/apply.py already reads from Palisade's API."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from palisade.auditor.fleetspec.spec import (
    AccountSpec,
    FleetSpec,
    GroupSpec,
    InstanceSpec,
    KeyPairSpec,
    RuleSpec,
    VpcSpec,
)

PAGE = 50  # DescribeSecurityGroups, DescribeVpcs, DescribeKeyPairs, DescribeInstanceRamRole
INSTANCE_PAGE = 100


class SyncError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


@dataclass(frozen=True)
class RamPolicySpec:
    name: str
    document: str
    description: str = ""


@dataclass(frozen=True)
class RamRoleSpec:
    name: str
    trust_policy: str
    description: str = ""
    max_session_duration: int = 3600


@dataclass(frozen=True)
class RamSpec:
    users: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (display, comments)
    groups: dict[str, str] = field(default_factory=dict)  # name -> comments
    members: frozenset[tuple[str, str]] = frozenset()  # (group, user)
    policies: dict[str, RamPolicySpec] = field(default_factory=dict)
    roles: dict[str, RamRoleSpec] = field(default_factory=dict)
    # (principal kind User|Group|Role, principal, policy type System|Custom, policy name)
    attachments: frozenset[tuple[str, str, str, str]] = frozenset()


@dataclass(frozen=True)
class CloudSnapshot:
    account_id: str
    fleet: FleetSpec
    ram: RamSpec
    vswitches: int = 0


@dataclass(frozen=True)
class Endpoint:
    """One endpoint for every product (`--endpoint URL`), or None: the cloud's own."""

    url: str | None = None

    def config(self, credential, region: str | None, timeout_ms: int):
        from alibabacloud_tea_openapi import models as openapi_models

        config = openapi_models.Config(
            credential=credential,
            region_id=region or "cn-hangzhou",
            connect_timeout=timeout_ms,
            read_timeout=max(timeout_ms, 30000),
        )
        if self.url:
            parts = urlsplit(self.url if "://" in self.url else "https://" + self.url)
            config.endpoint = parts.netloc
            config.protocol = parts.scheme
        return config


def _call(method, request) -> dict:
    """One SDK call, its body as the wire has it; the SDK's errors as a SyncError."""
    from darabonba.runtime import RuntimeOptions

    runtime = RuntimeOptions(autoretry=False)
    try:
        answer = method(runtime) if request is None else method(request, runtime)
        return answer.body.to_map()
    except Exception as exc:  # the SDKs' own exceptions, and connection errors under them
        from darabonba.exceptions import ResponseException

        if isinstance(exc, ResponseException) and getattr(exc, "code", None):
            message = str(getattr(exc, "message", None) or exc).splitlines()[0][:400]
            raise SyncError(str(exc.code), message) from None
        # no answer (connection refused, timeout, TLS): the SDK wraps the transport's error
        raise SyncError("EndpointUnreachable", _plain(exc)) from None


def _plain(exc: Exception) -> str:
    text = str(getattr(exc, "message", None) or exc)
    if text.startswith("RetryError("):  # darabonba's wrapper around the transport's error
        text = text.split("'message': ", 1)[-1].strip("\"'}) ")
    return text.splitlines()[0][:400] if text else type(exc).__name__


def _items(body: dict, outer: str, inner: str) -> list[dict]:
    return list((body.get(outer) or {}).get(inner) or [])


def _first(value: Any) -> str | None:
    found = (value or {}).get("IpAddress") or []
    return found[0] if found else None


class Reader:
    def __init__(self, credential, endpoint: Endpoint, timeout_ms: int = 10000) -> None:
        self.credential, self.endpoint, self.timeout_ms = credential, endpoint, timeout_ms
        self._clients: dict[tuple[str, str | None], Any] = {}

    def client(self, product: str, region: str | None = None):
        key = (product, region)
        if key not in self._clients:
            config = self.endpoint.config(self.credential, region, self.timeout_ms)
            if product == "ecs":
                from alibabacloud_ecs20140526.client import Client
            elif product == "vpc":
                from alibabacloud_vpc20160428.client import Client  # type: ignore[no-redef]
            elif product == "ram":
                from alibabacloud_ram20150501.client import Client  # type: ignore[no-redef]

                if not self.endpoint.url:
                    config.endpoint = "ram.aliyuncs.com"
            else:
                from alibabacloud_sts20150401.client import Client  # type: ignore[no-redef]
            self._clients[key] = Client(config)
        return self._clients[key]

    # -- the account ----------------------------------------------------------------------

    def account_id(self) -> str:
        body = _call(self.client("sts").get_caller_identity_with_options, None)
        return str(body.get("AccountId", ""))

    def regions(self, wanted: list[str]) -> list[str]:
        from alibabacloud_ecs20140526 import models as ecs

        body = _call(self.client("ecs").describe_regions_with_options, ecs.DescribeRegionsRequest())
        known = [r["RegionId"] for r in _items(body, "Regions", "Region")]
        if not wanted:
            return known
        missing = [r for r in wanted if r not in known]
        if missing:
            raise SyncError("InvalidRegionId.NotFound", f"the cloud has no region {missing[0]}")
        return list(dict.fromkeys(wanted))

    def snapshot(self, regions: list[str]) -> CloudSnapshot:
        account = self.account_id()
        vpcs: list[VpcSpec] = []
        groups: list[GroupSpec] = []
        pairs: list[KeyPairSpec] = []
        instances: list[InstanceSpec] = []
        peers: dict[str, None] = {}
        vswitches = 0
        warnings: list[str] = []
        for region in self.regions(regions):
            vpcs.extend(self.vpcs(region))
            vswitches += self.vswitch_count(region)
            for group in self.groups(region, account):
                groups.append(group)
                for rule in group.rules or ():
                    if rule.owner_account:
                        peers.setdefault(rule.owner_account)
            region_pairs, skipped = self.key_pairs(region)
            pairs.extend(region_pairs)
            warnings.extend(f"key pair {n} ({region}): no public key given" for n in skipped)
            instances.extend(self.instances(region))
        fleet = FleetSpec(
            regions=tuple(dict.fromkeys(regions or [])),
            accounts=tuple(AccountSpec(a) for a in peers),
            vpcs=tuple(vpcs),
            groups=tuple(groups),
            key_pairs=tuple(pairs),
            instances=tuple(instances),
            warnings=tuple(warnings),
        )
        return CloudSnapshot(account, fleet, self.ram(), vswitches)

    # -- ECS and VPC ----------------------------------------------------------------------

    def _pages(self, method, make, outer: str, inner: str, size: int = PAGE) -> list[dict]:
        out: list[dict] = []
        number = 1
        while True:
            body = _call(method, make(page_number=number, page_size=size))
            page = _items(body, outer, inner)
            out.extend(page)
            total = int(body.get("TotalCount") or 0)
            if not page or len(out) >= total:
                return out
            number += 1

    def vpcs(self, region: str) -> list[VpcSpec]:
        from alibabacloud_vpc20160428 import models as vpc

        found = self._pages(
            self.client("vpc", region).describe_vpcs_with_options,
            lambda **kw: vpc.DescribeVpcsRequest(region_id=region, **kw),
            "Vpcs",
            "Vpc",
        )
        return [
            VpcSpec(
                name=v.get("VpcName") or "",
                region=region,
                cidr=v.get("CidrBlock") or "",
                vpc_id=v["VpcId"],
            )
            for v in found
        ]

    def vswitch_count(self, region: str) -> int:
        from alibabacloud_vpc20160428 import models as vpc

        body = _call(
            self.client("vpc", region).describe_vswitches_with_options,
            vpc.DescribeVSwitchesRequest(region_id=region, page_size=1),
        )
        return int(body.get("TotalCount") or 0)

    def groups(self, region: str, account: str) -> list[GroupSpec]:
        from alibabacloud_ecs20140526 import models as ecs

        ecs_client = self.client("ecs", region)
        found = self._pages(
            ecs_client.describe_security_groups_with_options,
            lambda **kw: ecs.DescribeSecurityGroupsRequest(region_id=region, **kw),
            "SecurityGroups",
            "SecurityGroup",
        )
        out = []
        for g in found:
            attr = _call(
                ecs_client.describe_security_group_attribute_with_options,
                ecs.DescribeSecurityGroupAttributeRequest(
                    region_id=region, security_group_id=g["SecurityGroupId"]
                ),
            )
            rules = tuple(_rule(p, account) for p in _items(attr, "Permissions", "Permission"))
            out.append(
                GroupSpec(
                    name=g.get("SecurityGroupName") or "",
                    region=region,
                    vpc=g.get("VpcId") or None,
                    type=g.get("SecurityGroupType") or "normal",
                    description=g.get("Description") or "",
                    inner_access_policy=attr.get("InnerAccessPolicy") or None,
                    rules=rules,
                    group_id=g["SecurityGroupId"],
                )
            )
        return out

    def key_pairs(self, region: str) -> tuple[list[KeyPairSpec], list[str]]:
        from alibabacloud_ecs20140526 import models as ecs

        found = self._pages(
            self.client("ecs", region).describe_key_pairs_with_options,
            lambda **kw: ecs.DescribeKeyPairsRequest(region_id=region, **kw),
            "KeyPairs",
            "KeyPair",
        )
        pairs = [
            KeyPairSpec(k["KeyPairName"], region, k["PublicKey"])
            for k in found
            if k.get("PublicKey")
        ]
        return pairs, [k["KeyPairName"] for k in found if not k.get("PublicKey")]

    def instances(self, region: str) -> list[InstanceSpec]:
        from alibabacloud_ecs20140526 import models as ecs

        ecs_client = self.client("ecs", region)
        found = self._pages(
            ecs_client.describe_instances_with_options,
            lambda **kw: ecs.DescribeInstancesRequest(region_id=region, **kw),
            "Instances",
            "Instance",
            INSTANCE_PAGE,
        )
        roles: dict[str, str] = {}
        ids = [i["InstanceId"] for i in found]
        for start in range(0, len(ids), PAGE):
            body = _call(
                ecs_client.describe_instance_ram_role_with_options,
                ecs.DescribeInstanceRamRoleRequest(
                    region_id=region,
                    instance_ids=json.dumps(ids[start : start + PAGE]),
                    page_size=PAGE,
                ),
            )
            for r in _items(body, "InstanceRamRoleSets", "InstanceRamRoleSet"):
                if r.get("RamRoleName"):
                    roles[r["InstanceId"]] = r["RamRoleName"]
        return [_instance(i, region, roles.get(i["InstanceId"])) for i in found]

    # -- RAM ------------------------------------------------------------------------------

    def _marker_pages(self, method, make, outer: str, inner: str) -> list[dict]:
        out: list[dict] = []
        marker = None
        while True:
            body = _call(method, make(marker=marker, max_items=100))
            out.extend(_items(body, outer, inner))
            if not body.get("IsTruncated") or not body.get("Marker"):
                return out
            marker = body["Marker"]

    def ram(self) -> RamSpec:
        from alibabacloud_ram20150501 import models as ram

        c = self.client("ram")
        users = self._marker_pages(c.list_users_with_options, ram.ListUsersRequest, "Users", "User")
        groups = self._marker_pages(
            c.list_groups_with_options, ram.ListGroupsRequest, "Groups", "Group"
        )
        policies = self._marker_pages(
            c.list_policies_with_options,
            lambda **kw: ram.ListPoliciesRequest(policy_type="Custom", **kw),
            "Policies",
            "Policy",
        )
        roles = self._marker_pages(c.list_roles_with_options, ram.ListRolesRequest, "Roles", "Role")
        members: set[tuple[str, str]] = set()
        attachments: set[tuple[str, str, str, str]] = set()
        for u in users:
            name = u["UserName"]
            body = _call(
                c.list_groups_for_user_with_options, ram.ListGroupsForUserRequest(user_name=name)
            )
            members.update((g["GroupName"], name) for g in _items(body, "Groups", "Group"))
            body = _call(
                c.list_policies_for_user_with_options,
                ram.ListPoliciesForUserRequest(user_name=name),
            )
            attachments.update(_attached("User", name, body))
        for g in groups:
            body = _call(
                c.list_policies_for_group_with_options,
                ram.ListPoliciesForGroupRequest(group_name=g["GroupName"]),
            )
            attachments.update(_attached("Group", g["GroupName"], body))
        role_specs = {}
        for r in roles:
            name = r["RoleName"]
            role = _call(c.get_role_with_options, ram.GetRoleRequest(role_name=name))["Role"]
            role_specs[name] = RamRoleSpec(
                name,
                role.get("AssumeRolePolicyDocument") or "",
                role.get("Description") or "",
                int(role.get("MaxSessionDuration") or 3600),
            )
            body = _call(
                c.list_policies_for_role_with_options,
                ram.ListPoliciesForRoleRequest(role_name=name),
            )
            attachments.update(_attached("Role", name, body))
        policy_specs = {}
        for p in policies:
            body = _call(
                c.get_policy_with_options,
                ram.GetPolicyRequest(policy_name=p["PolicyName"], policy_type="Custom"),
            )
            document = (body.get("DefaultPolicyVersion") or {}).get("PolicyDocument") or ""
            policy_specs[p["PolicyName"]] = RamPolicySpec(
                p["PolicyName"], document, p.get("Description") or ""
            )
        return RamSpec(
            users={
                u["UserName"]: (u.get("DisplayName") or "", u.get("Comments") or "") for u in users
            },
            groups={g["GroupName"]: g.get("Comments") or "" for g in groups},
            members=frozenset(members),
            policies=policy_specs,
            roles=role_specs,
            attachments=frozenset(attachments),
        )


def _attached(kind: str, principal: str, body: dict) -> list[tuple[str, str, str, str]]:
    return [
        (kind, principal, p["PolicyType"], p["PolicyName"])
        for p in _items(body, "Policies", "Policy")
    ]


def _rule(p: dict, account: str) -> RuleSpec:
    side = "Source" if (p.get("Direction") or "ingress") == "ingress" else "Dest"
    owner = p.get(f"{side}GroupOwnerAccount") or None
    return RuleSpec(
        protocol=p.get("IpProtocol") or "all",
        ports=p.get("PortRange") or "-1/-1",
        direction=p.get("Direction") or "ingress",
        cidr=p.get(f"{side}CidrIp") or None,
        group=p.get(f"{side}GroupId") or None,
        owner_account=None if owner == account else owner,
        policy=(p.get("Policy") or "accept").lower(),
        priority=str(p.get("Priority") or "1"),
        nic_type=p.get("NicType") or None,
        description=p.get("Description") or "",
    )


RUNNING = {"Running", "Starting", "Pending"}


def _instance(i: dict, region: str, role: str | None) -> InstanceSpec:
    vpc = i.get("VpcAttributes") or {}
    private = _first(vpc.get("PrivateIpAddress")) or _first(i.get("InnerIpAddress")) or ""
    public = _first(i.get("PublicIpAddress")) or (i.get("EipAddress") or {}).get("IpAddress")
    groups = (i.get("SecurityGroupIds") or {}).get("SecurityGroupId") or []
    return InstanceSpec(
        name=i.get("InstanceName") or "",
        region=region,
        private_ip=private,
        vpc=vpc.get("VpcId") or None,
        public_ip=public or None,
        security_groups=tuple(groups),
        os=(i.get("OSType") or "linux").lower(),
        instance_type=i.get("InstanceType") or InstanceSpec.instance_type,
        key_pair=i.get("KeyPairName") or None,
        ram_role=role,
        status="Running" if i.get("Status") in RUNNING else "Stopped",
        instance_id=i["InstanceId"],
        created_at=i.get("CreationTime") or None,
    )
