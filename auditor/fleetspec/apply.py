"""Apply a `FleetSpec` through the ECS-style API actions: find each resource (by id, else by
name), create what is missing, change what differs, and report every change. Applying the same
fleet again changes nothing. With `exact=True` (`palisade sync`: the spec is the whole truth
about its instances) an instance's key pair or RAM role the spec does not give is detached;
otherwise a fleet file that leaves them out leaves them alone.

The actions go through `api(action, params) -> response`; `palisade apply` has the auditor run
the whole plan first on a copy of its current state (DescribeFleetPlan,
api/actions/ecs/plans.py: the action handlers through `local_api`, each step authorised for
the caller, nothing stored), and only when every step passes, for real through signed
requests (each one authorised and audited by the auditor)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from palisade.auditor.fleetspec.rule_keys import describe, norm_cidr, params_key, permission_key
from palisade.auditor.fleetspec.spec import (
    FleetSpec,
    GroupSpec,
    InstanceSpec,
    RuleSpec,
    VSwitchSpec,
)
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.network import ipv4


class ApiCallError(Exception):
    """An action refused: which one, its error code and message, and the HTTP status the API
    answers it with."""

    def __init__(self, action: str, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{action}: {code}: {message}")
        self.action, self.code, self.message, self.status = action, code, message, status


Api = Callable[[str, dict[str, str]], dict]


@dataclass(frozen=True)
class Change:
    action: str
    resource: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.action} {self.resource}" + (f": {self.detail}" if self.detail else "")


@dataclass
class ApplyResult:
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# -- the in-process API (the dry run) ----------------------------------------------------------


def local_api(
    state,
    now: datetime,
    caller=None,
    *,
    source_ip: str = "127.0.0.1",
    access_key_id: str = "",
    request_id: str = "dry-run",
) -> Api:
    """The action handlers on `state` (a copy: it is changed); parameter checks as in the
    pipeline, no signatures, nothing stored. Without a `caller`, as the account owner; with
    one, RAM authorises every step for that caller on the state as the plan has changed it, as
    the pipeline would (`source_ip` and `access_key_id` are the request's condition values).
    The handlers get no services: a step that would write outside the state (the alert
    store) fails instead of writing."""
    from palisade.auditor.api.errors import http_status
    from palisade.auditor.api.params import Params
    from palisade.auditor.api.registry import (
        ActionContext,
        authorise,
        check_params,
        condition_values,
        lookup,
    )
    from palisade.auditor.model.ram import Caller

    who = caller if caller is not None else Caller.root()

    def call(action: str, params: dict[str, str]) -> dict:
        try:
            spec = lookup(action)
            p = Params(params)
            check_params(spec, p)
            ctx = ActionContext(
                state,
                who,
                now,
                request_id,
                source_ip,
                condition_values=condition_values(spec, p, access_key_id),
            )
            if caller is not None:
                authorise(spec, ctx, p)
            body = spec.handler(ctx, p)
        except ModelError as err:
            raise ApiCallError(action, err.code, err.message, http_status(err)) from None
        return json.loads(json.dumps(body, default=str))  # what the wire would carry

    return call


# -- helpers -----------------------------------------------------------------------------------


def _params(**values: object) -> dict[str, str]:
    return {k: str(v) for k, v in values.items() if v is not None}


class _Applier:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.result = ApplyResult()
        self.vpcs: dict[tuple, str] = {}  # (account, region, name) -> id
        self.vswitches: dict[tuple, str] = {}  # (account, region, vpc id, name) -> id
        self.groups: dict[tuple, str] = {}
        self.group_network: dict[str, str] = {}  # group id -> vpc | classic
        self.own_account = ""
        self.exact = False

    def change(self, action: str, resource: str, detail: str = "") -> None:
        self.result.changes.append(Change(action, resource, detail))

    def owner(self, account: str | None) -> dict[str, str]:
        return {"ResourceOwnerAccount": account} if account else {}

    # -- regions and accounts ---------------------------------------------------------------

    def regions(self, spec: FleetSpec) -> None:
        """Regions and peer accounts: looked up first, so that applying again writes nothing."""
        known = {r["RegionId"] for r in self.api("DescribeRegions", {})["Regions"]["Region"]}
        for region in spec.all_regions():
            if region not in known and self.api("AddRegion", {"RegionId": region}).get("Created"):
                self.change("AddRegion", region)
        accounts = self.api("DescribeAccounts", {})["Accounts"]["Account"]
        have = {a["AccountId"] for a in accounts}
        for account in spec.accounts:
            if account.account_id in have:
                continue
            body = self.api(
                "AddAccount", _params(AccountId=account.account_id, AccountName=account.name)
            )
            if body.get("Created"):
                self.change("AddAccount", account.account_id)

    # -- VPCs -------------------------------------------------------------------------------

    def vpc(self, v) -> None:
        base = {"RegionId": v.region, **self.owner(v.account)}
        query = {"VpcId": v.vpc_id} if v.vpc_id else {"VpcName": v.name}
        found = self.api("DescribeVpcs", {**base, **query, "PageSize": "50"})["Vpcs"]["Vpc"]
        if len(found) > 1:
            raise ApiCallError("DescribeVpcs", "Ambiguous", f"several VPCs are named {v.name!r}")
        if found:
            vpc_id = found[0]["VpcId"]
            if found[0]["CidrBlock"] != norm_cidr(v.cidr):  # the model stores it canonical
                self.result.notes.append(
                    f"{vpc_id}: CIDR {found[0]['CidrBlock']} differs from {v.cidr} (a VPC's "
                    "block cannot change; delete and recreate it)"
                )
        else:
            vpc_id = self.api(
                "CreateVpc", _params(**base, CidrBlock=v.cidr, VpcName=v.name, VpcId=v.vpc_id)
            )["VpcId"]
            self.change("CreateVpc", vpc_id, v.name)
        key = (v.account, v.region)
        self.vpcs[(*key, vpc_id)] = vpc_id
        if v.name:
            self.vpcs[(*key, v.name)] = vpc_id

    def vpc_ref(self, account, region, ref: str | None) -> str | None:
        if ref is None:
            return None
        return self.vpcs.get((account, region, ref), ref)

    # -- vSwitches --------------------------------------------------------------------------

    def vswitch(self, v: VSwitchSpec) -> None:
        base = {"RegionId": v.region, **self.owner(v.account)}
        vpc_id = self.vpc_ref(v.account, v.region, v.vpc) or ""
        if v.vswitch_id:
            query = {"VSwitchId": v.vswitch_id}
        else:
            query = {"VSwitchName": v.name, "VpcId": vpc_id}
        found = self.api("DescribeVSwitches", {**base, **query, "PageSize": "50"})["VSwitches"][
            "VSwitch"
        ]
        if len(found) > 1:
            raise ApiCallError(
                "DescribeVSwitches", "Ambiguous", f"several vSwitches are named {v.name!r}"
            )
        if not found:
            sw_id = self.api(
                "CreateVSwitch",
                _params(
                    **base,
                    VpcId=vpc_id,
                    ZoneId=v.zone,
                    CidrBlock=v.cidr,
                    VSwitchName=v.name or None,
                    Description=v.description or None,
                    VSwitchId=v.vswitch_id,
                ),
            )["VSwitchId"]
            self.change("CreateVSwitch", sw_id, v.name)
        else:
            have = found[0]
            sw_id = have["VSwitchId"]
            for attr, wanted, value in (
                ("VPC", vpc_id, have["VpcId"]),
                ("zone", v.zone, have["ZoneId"]),
                ("CIDR", norm_cidr(v.cidr), have["CidrBlock"]),
            ):
                if wanted != value:
                    self.result.notes.append(
                        f"{sw_id}: {attr} {value} differs from {wanted} (a vSwitch's VPC, zone "
                        "and block cannot change; delete and recreate it)"
                    )
            updates = {}
            if have["VSwitchName"] != v.name:
                updates["VSwitchName"] = v.name
            if have["Description"] != v.description:
                updates["Description"] = v.description
            if updates:
                self.api("ModifyVSwitchAttribute", {**base, "VSwitchId": sw_id, **updates})
                self.change("ModifyVSwitchAttribute", sw_id, ", ".join(updates))
        key = (v.account, v.region)
        self.vswitches[(*key, sw_id)] = sw_id
        if v.name:
            self.vswitches[(*key, v.name)] = sw_id

    def vswitch_ref(self, account, region, ref: str | None) -> str | None:
        if ref is None:
            return None
        return self.vswitches.get((account, region, ref), ref)

    # -- groups -----------------------------------------------------------------------------

    def group(self, g: GroupSpec) -> None:
        base = {"RegionId": g.region, **self.owner(g.account)}
        vpc_id = self.vpc_ref(g.account, g.region, g.vpc)
        if g.group_id:
            query = {"SecurityGroupIds": json.dumps([g.group_id])}
        else:
            query = {"SecurityGroupName": g.name, **({"VpcId": vpc_id} if vpc_id else {})}
        found = [
            s
            for s in self.api("DescribeSecurityGroups", {**base, **query, "PageSize": "50"})[
                "SecurityGroups"
            ]["SecurityGroup"]
            if g.group_id or (s["VpcId"] or None) == vpc_id
        ]
        if len(found) > 1:
            raise ApiCallError(
                "DescribeSecurityGroups", "Ambiguous", f"several groups are named {g.name!r}"
            )
        if not found:
            gid = self.api(
                "CreateSecurityGroup",
                _params(
                    **base,
                    VpcId=vpc_id,
                    SecurityGroupName=g.name,
                    Description=g.description or None,
                    SecurityGroupType=g.type,
                    InnerAccessPolicy=g.inner_access_policy,
                    SecurityGroupId=g.group_id,
                ),
            )["SecurityGroupId"]
            self.change("CreateSecurityGroup", gid, g.name)
        else:
            gid = found[0]["SecurityGroupId"]
            if found[0]["SecurityGroupType"] != g.type.lower():
                self.result.notes.append(
                    f"{gid}: type {found[0]['SecurityGroupType']} differs from {g.type} (a "
                    "group's type cannot change)"
                )
            updates = {}
            if g.name and found[0]["SecurityGroupName"] != g.name:
                updates["SecurityGroupName"] = g.name
            if found[0]["Description"] != g.description:
                updates["Description"] = g.description
            if updates:
                self.api(
                    "ModifySecurityGroupAttribute",
                    {"RegionId": g.region, "SecurityGroupId": gid, **updates},
                )
                self.change("ModifySecurityGroupAttribute", gid, ", ".join(updates))
            wanted = g.inner_access_policy
            if wanted and found[0]["InnerAccessPolicy"].lower() != wanted.lower():
                self.api(
                    "ModifySecurityGroupPolicy",
                    {"RegionId": g.region, "SecurityGroupId": gid, "InnerAccessPolicy": wanted},
                )
                self.change("ModifySecurityGroupPolicy", gid, wanted)
        self.group_network[gid] = "vpc" if vpc_id else "classic"
        key = (g.account, g.region)
        self.groups[(*key, gid)] = gid
        if g.name:
            self.groups[(*key, g.name)] = gid

    def group_ref(self, account, region, ref: str) -> str:
        return self.groups.get((account, region, ref), ref)

    # -- rules ------------------------------------------------------------------------------

    def rules(self, g: GroupSpec) -> None:
        if g.rules is None:
            return
        gid = self.group_ref(g.account, g.region, g.group_id or g.name)
        current = self.api(
            "DescribeSecurityGroupAttribute", {"RegionId": g.region, "SecurityGroupId": gid}
        )["Permissions"]["Permission"]
        have: dict[tuple, dict] = {}
        for perm in current:
            have.setdefault(permission_key(perm), perm)
        want: dict[tuple, tuple[RuleSpec, dict[str, str]]] = {}
        for rule in g.rules:
            for params in self.rule_params(g, gid, rule):
                key = params_key(params, g.account or self.own_account)
                want.setdefault(key, (rule, params))
        for key, perm in have.items():
            if key not in want:
                self.api(
                    "RevokeSecurityGroup" if key[0] == "ingress" else "RevokeSecurityGroupEgress",
                    {
                        "RegionId": g.region,
                        "SecurityGroupId": gid,
                        "SecurityGroupRuleId.1": perm["SecurityGroupRuleId"],
                    },
                )
                self.change("Revoke", gid, describe(perm))
        for key, (rule, params) in want.items():
            egress = key[0] == "egress"
            if key not in have:
                self.api(
                    "AuthorizeSecurityGroupEgress" if egress else "AuthorizeSecurityGroup", params
                )
                self.change("Authorize", gid, describe(params))
            elif have[key]["Description"] != rule.description:
                self.api(
                    "ModifySecurityGroupEgressRule" if egress else "ModifySecurityGroupRule",
                    {
                        "RegionId": g.region,
                        "SecurityGroupId": gid,
                        "SecurityGroupRuleId": have[key]["SecurityGroupRuleId"],
                        "Description": rule.description,
                    },
                )
                self.change("ModifyRule", gid, f"description of {have[key]['SecurityGroupRuleId']}")

    def rule_params(self, g: GroupSpec, gid: str, rule: RuleSpec) -> list[dict[str, str]]:
        """The Authorize parameters of a rule: one per CIDR of a comma-separated list (the
        model splits them the same way), so that each maps to one rule of the group."""
        side = "Source" if rule.direction.lower() != "egress" else "Dest"
        common = {
            "RegionId": g.region,
            "SecurityGroupId": gid,
            "IpProtocol": rule.protocol,
            "PortRange": rule.ports,
            "Policy": rule.policy,
            "Priority": rule.priority,
            "Description": rule.description,
        }
        if rule.nic_type:
            common["NicType"] = rule.nic_type
        if rule.source_ports is not None:
            common["SourcePortRange"] = rule.source_ports
        network = self.group_network.get(gid, "vpc")
        if rule.group is not None:
            owner = rule.owner_account
            peer_account = owner if owner and owner != self.own_account else g.account
            common[f"{side}GroupId"] = self.group_ref(peer_account, g.region, rule.group)
            if owner:
                common[f"{side}GroupOwnerAccount"] = owner
            common.setdefault("NicType", "intranet")
            if rule.cidr is not None:
                common[f"{side}CidrIp"] = rule.cidr  # the model reports the conflict
            if rule.ipv6_cidr is not None:
                common[f"Ipv6{side}CidrIp"] = rule.ipv6_cidr
            return [common]
        common.setdefault("NicType", "intranet" if network == "vpc" else "internet")
        if rule.owner_account:
            common[f"{side}GroupOwnerAccount"] = rule.owner_account
        if rule.ipv6_cidr is not None:
            common[f"Ipv6{side}CidrIp"] = rule.ipv6_cidr
            if rule.cidr is None:
                return [common]  # the rule's one peer
        parts = (rule.cidr or "").split(",")
        if len(parts) > 1 and all(ipv4.parse_cidr(x.strip()) for x in parts):
            return [{**common, f"{side}CidrIp": x.strip()} for x in parts]
        return [{**common, f"{side}CidrIp": rule.cidr or ""}]

    # -- key pairs --------------------------------------------------------------------------

    def key_pair(self, k) -> None:
        found = self.api("DescribeKeyPairs", {"RegionId": k.region, "KeyPairName": k.name})
        if any(p["KeyPairName"] == k.name for p in found["KeyPairs"]["KeyPair"]):
            return
        self.api(
            "ImportKeyPair",
            {"RegionId": k.region, "KeyPairName": k.name, "PublicKeyBody": k.public_key},
        )
        self.change("ImportKeyPair", k.name)

    # -- instances --------------------------------------------------------------------------

    def instance(self, i: InstanceSpec) -> None:
        base = {"RegionId": i.region, **self.owner(i.account)}
        query = (
            {"InstanceIds": json.dumps([i.instance_id])}
            if i.instance_id
            else {"InstanceName": i.name}
        )
        found = self.api("DescribeInstances", {**base, **query, "PageSize": "100"})["Instances"][
            "Instance"
        ]
        if len(found) > 1:
            raise ApiCallError(
                "DescribeInstances", "Ambiguous", f"several instances are named {i.name!r}"
            )
        vpc_id = self.vpc_ref(i.account, i.region, i.vpc)
        vswitch_id = self.vswitch_ref(i.account, i.region, i.vswitch)
        groups = (
            None
            if i.security_groups is None
            else [self.group_ref(i.account, i.region, g) for g in i.security_groups]
        )
        if not found:
            params = _params(
                **base,
                InstanceName=i.name or None,
                InstanceId=i.instance_id,
                InstanceType=i.instance_type,
                OsType=i.os,
                InstanceNetworkType="vpc" if vpc_id else "classic",
                VpcId=vpc_id,
                VSwitchId=vswitch_id,
                PrivateIpAddress=i.private_ip,
                PublicIpAddress=i.public_ip,
                KeyPairName=i.key_pair,
                RamRoleName=i.ram_role,
                CreationTime=i.created_at,
            )
            if groups:
                params["SecurityGroupIds"] = json.dumps(groups)
            action = "CreateInstance" if i.status == "Stopped" else "RunInstances"
            body = self.api(action, params)
            iid = body.get("InstanceId") or body["InstanceIdSets"]["InstanceIdSet"][0]
            self.change(action, iid, i.name)
            return
        current = found[0]
        iid = current["InstanceId"]
        region = {"RegionId": i.region}
        for attr, wanted, have in (
            (
                "private IP",
                i.private_ip,
                current["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][:1]
                or current["InnerIpAddress"]["IpAddress"][:1],
            ),
            ("public IP", i.public_ip, current["PublicIpAddress"]["IpAddress"][:1]),
            (
                "VPC",
                vpc_id,
                [current["VpcAttributes"]["VpcId"]] if current["VpcAttributes"]["VpcId"] else [],
            ),
            (
                "vSwitch",
                vswitch_id,
                [current["VpcAttributes"]["VSwitchId"]]
                if current["VpcAttributes"]["VSwitchId"]
                else [],
            ),
        ):
            if (wanted or None) != (have[0] if have else None):
                self.result.notes.append(
                    f"{iid}: {attr} {have[0] if have else 'none'} differs from {wanted or 'none'} "
                    "(cannot change in place; delete and recreate the instance)"
                )
        if groups is not None:
            have_groups = current["SecurityGroupIds"]["SecurityGroupId"]
            for gid in groups:
                if gid not in have_groups:
                    self.api(
                        "JoinSecurityGroup", {**region, "InstanceId": iid, "SecurityGroupId": gid}
                    )
                    self.change("JoinSecurityGroup", iid, gid)
            for gid in have_groups:
                if gid not in groups:
                    self.api(
                        "LeaveSecurityGroup", {**region, "InstanceId": iid, "SecurityGroupId": gid}
                    )
                    self.change("LeaveSecurityGroup", iid, gid)
        if i.key_pair and current["KeyPairName"] != i.key_pair:
            self.api(
                "AttachKeyPair",
                {**region, "KeyPairName": i.key_pair, "InstanceIds": json.dumps([iid])},
            )
            self.change("AttachKeyPair", iid, i.key_pair)
        elif self.exact and not i.key_pair and current["KeyPairName"]:
            self.detach_key_pair(iid, i.region, current["KeyPairName"])
        if i.ram_role and current.get("RamRoleName") != i.ram_role:
            self.api(
                "AttachInstanceRamRole",
                {**region, "RamRoleName": i.ram_role, "InstanceIds": json.dumps([iid])},
            )
            self.change("AttachInstanceRamRole", iid, i.ram_role)
        elif self.exact and not i.ram_role and current.get("RamRoleName"):
            self.api(
                "DetachInstanceRamRole",
                {
                    **region,
                    "RamRoleName": current["RamRoleName"],
                    "InstanceIds": json.dumps([iid]),
                },
            )
            self.change("DetachInstanceRamRole", iid, current["RamRoleName"])
        if current["Status"] != i.status:
            action = "StartInstance" if i.status == "Running" else "StopInstance"
            self.api(action, {**region, "InstanceId": iid})
            self.change(action, iid)

    def detach_key_pair(self, iid: str, region: str, name: str) -> None:
        """DetachKeyPair of `name` from the instance. A running instance's detach waits for
        its restart (DescribeInstances names the key pair until then): asked again, the model
        answers NotAttached, which is no change."""
        body = self.api(
            "DetachKeyPair",
            {"RegionId": region, "KeyPairName": name, "InstanceIds": json.dumps([iid])},
        )
        for r in body.get("Results", {}).get("Result", []):
            if r.get("Success") in (True, "true"):
                self.change("DetachKeyPair", iid, name)
            elif r.get("Code") != "InvalidKeyPairName.NotAttached":
                raise ApiCallError("DetachKeyPair", r.get("Code", ""), r.get("Message", ""))


def apply_fleet(
    spec: FleetSpec, api: Api, own_account: str = "", *, exact: bool = False
) -> ApplyResult:
    """Make the auditor's model hold `spec`. Raises ApiCallError at the first refused action.
    `exact`: an instance's key pair and RAM role the spec does not give are detached."""
    applier = _Applier(api)
    applier.own_account = own_account
    applier.exact = exact
    applier.result.notes.extend(spec.warnings)
    applier.regions(spec)
    for v in spec.vpcs:
        applier.vpc(v)
    for sw in spec.vswitches:
        applier.vswitch(sw)
    for g in spec.groups:
        applier.group(g)
    for g in spec.groups:  # after every group exists: rules may authorise each other
        applier.rules(g)
    for k in spec.key_pairs:
        applier.key_pair(k)
    for i in spec.instances:
        applier.instance(i)
    return applier.result
