"""The account as the official SDKs answer it (read-only calls only), as a `CloudSnapshot`:
the ECS/VPC side as the `FleetSpec` `palisade apply` applies (with the cloud's ids, so the
model holds the same ones), RAM as `RamSpec`.

Read: regions (DescribeRegions), VPCs (DescribeVpcs), vSwitches (DescribeVSwitches, paged),
security groups and their rules
(DescribeSecurityGroups, DescribeSecurityGroupAttribute), key pairs with their public keys
(DescribeKeyPairs), instances with their NICs' addresses, groups and key pairs
(DescribeInstances), instance roles (DescribeInstanceRamRole), and RAM: users, groups and
their members, custom policies with their default version, roles with their trust policy,
and the policies attached to each (ListUsers, ListGroups, ListGroupsForUser, ListPolicies,
GetPolicy, ListRoles, GetRole, ListPoliciesFor{User,Group,Role}); the account id from STS
GetCallerIdentity.

Answers are taken from the SDK models' `to_map()` (the wire's own field names): the groups,
rules, vSwitches and instances (with their vSwitch) are read by `palisade import-ecs`'s
reader (fleetspec/ecs_import.py: the same schemas, and the same notes for what Palisade cannot
model, such as prefix-list and port-list rules or system rules above priority 100); the VPCs'
CIDR blocks come from
DescribeVpcs, the instances' key pairs from DescribeKeyPairs' public keys and their roles
from DescribeInstanceRamRole."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from palisade.auditor.fleetspec.ecs_import import parse_ecs
from palisade.auditor.fleetspec.spec import (
    AccountSpec,
    FleetSpec,
    KeyPairSpec,
    RuleSpec,
    SpecError,
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
        pairs: list[KeyPairSpec] = []
        answers: list[object] = []  # the ECS answers, read as `palisade import-ecs` reads them
        roles: dict[str, str] = {}
        key_names: dict[str, tuple[str, str]] = {}  # instance -> (region, key pair)
        warnings: list[str] = []
        read = self.regions(regions)
        for region in read:
            vpcs.extend(self.vpcs(region))
            answers.extend(self.vswitches(region))
            answers.extend(self.groups(region))
            region_pairs, skipped = self.key_pairs(region)
            pairs.extend(region_pairs)
            warnings.extend(f"key pair {n} ({region}): no public key given" for n in skipped)
            pages, region_roles = self.instances(region)
            answers.extend(pages)
            roles.update(region_roles)
            for page in pages:
                for inst in _items(page, "Instances", "Instance"):
                    if inst.get("KeyPairName"):
                        key_names[inst["InstanceId"]] = (region, inst["KeyPairName"])
        try:
            ecs = parse_ecs(answers) if answers else FleetSpec()
        except SpecError as err:
            raise SyncError("InvalidCloudAnswer", str(err)) from None
        known_pairs = {(k.region, k.name) for k in pairs}
        # the key pairs import-ecs cannot bind (no public key there) are bound here
        bound = {iid: pair[1] for iid, pair in key_names.items() if pair in known_pairs}
        groups = tuple(
            replace(g, rules=tuple(_own(r, account) for r in g.rules or ())) for g in ecs.groups
        )
        peers = dict.fromkeys(r.owner_account for g in groups for r in g.rules or ())
        fleet = FleetSpec(
            regions=tuple(read),
            accounts=tuple(AccountSpec(a) for a in peers if a),  # cross-account rules' owners
            vpcs=tuple(vpcs),
            vswitches=ecs.vswitches,
            groups=groups,
            key_pairs=tuple(pairs),
            instances=tuple(
                replace(
                    i,
                    key_pair=bound.get(i.instance_id or ""),
                    ram_role=roles.get(i.instance_id or ""),
                )
                for i in ecs.instances
            ),
            warnings=(
                *(w for w in ecs.warnings if not _bound_note(w, bound)),
                *warnings,
            ),
        )
        return CloudSnapshot(account, fleet, self.ram())

    # -- ECS and VPC ----------------------------------------------------------------------

    def _answers(self, method, make, outer: str, inner: str, size: int = PAGE) -> list[dict]:
        """Every page of a Describe call, as answered."""
        pages: list[dict] = []
        seen = 0
        number = 1
        while True:
            body = _call(method, make(page_number=number, page_size=size))
            pages.append(body)
            count = len(_items(body, outer, inner))
            seen += count
            if not count or seen >= int(body.get("TotalCount") or 0):
                return pages
            number += 1

    def _pages(self, method, make, outer: str, inner: str, size: int = PAGE) -> list[dict]:
        """Every item of a Describe call's pages."""
        pages = self._answers(method, make, outer, inner, size)
        return [item for page in pages for item in _items(page, outer, inner)]

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

    def vswitches(self, region: str) -> list[dict]:
        """DescribeVSwitches' pages (50 a page), each with the region asked for."""
        from alibabacloud_vpc20160428 import models as vpc

        pages = self._answers(
            self.client("vpc", region).describe_vswitches_with_options,
            lambda **kw: vpc.DescribeVSwitchesRequest(region_id=region, **kw),
            "VSwitches",
            "VSwitch",
        )
        return [{**page, "RegionId": region} for page in pages]

    def groups(self, region: str) -> list[dict]:
        """DescribeSecurityGroups' pages and each group's DescribeSecurityGroupAttribute."""
        from alibabacloud_ecs20140526 import models as ecs

        ecs_client = self.client("ecs", region)
        pages = self._answers(
            ecs_client.describe_security_groups_with_options,
            lambda **kw: ecs.DescribeSecurityGroupsRequest(region_id=region, **kw),
            "SecurityGroups",
            "SecurityGroup",
        )
        out = []
        for page in pages:
            out.append({**page, "RegionId": region})
            for g in _items(page, "SecurityGroups", "SecurityGroup"):
                attr = _call(
                    ecs_client.describe_security_group_attribute_with_options,
                    ecs.DescribeSecurityGroupAttributeRequest(
                        region_id=region, security_group_id=g["SecurityGroupId"]
                    ),
                )
                out.append({**attr, "RegionId": region})
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

    def instances(self, region: str) -> tuple[list[dict], dict[str, str]]:
        """DescribeInstances' pages, and each instance's RAM role (DescribeInstanceRamRole)."""
        from alibabacloud_ecs20140526 import models as ecs

        ecs_client = self.client("ecs", region)
        pages = self._answers(
            ecs_client.describe_instances_with_options,
            lambda **kw: ecs.DescribeInstancesRequest(region_id=region, **kw),
            "Instances",
            "Instance",
            INSTANCE_PAGE,
        )
        for page in pages:
            for inst in _items(page, "Instances", "Instance"):
                inst.setdefault("RegionId", region)
        roles: dict[str, str] = {}
        ids = [i["InstanceId"] for page in pages for i in _items(page, "Instances", "Instance")]
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
        return pages, roles

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


def _own(rule: RuleSpec, account: str) -> RuleSpec:
    """A rule naming a group of the cloud's own account names it without an owner: the
    synced model's account is another one."""
    return replace(rule, owner_account=None) if rule.owner_account == account else rule


def _bound_note(warning: str, bound: dict[str, str]) -> bool:
    """import-ecs's note that an instance's key pair is not bound, when the sync binds it."""
    instance, _, rest = warning.partition(": ")
    return instance in bound and rest.startswith("key pair ")
