"""Security group rules: AuthorizeSecurityGroup(Egress), RevokeSecurityGroup(Egress),
ModifySecurityGroupRule / ModifySecurityGroupEgressRule.

Every change records the group's `DescribeSecurityGroupAttribute` document before and after
in the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from palisade.auditor.api.actions.ecs.common import (
    get_group,
    group_resource,
    group_view,
    record_group_change,
)
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params, missing
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.network.permission import Permission
from palisade.auditor.model.network.security_group import (
    Direction,
    NetworkType,
    RuleRequest,
    SecurityGroup,
)
from palisade.auditor.model.schema import SchemaError

# AuthorizeSecurityGroup[Egress] / RevokeSecurityGroup[Egress] take several rules as
# `Permissions.N.<field>` (ECS: N up to 100) beside the flat form, all or nothing
PERMISSIONS = "Permissions"
MAX_PERMISSIONS = 100
_INDEX = re.compile(r"[0-9]{1,3}")  # ASCII digits only (str.isdigit() takes "²")
_RULE_FIELDS = (
    "IpProtocol",
    "PortRange",
    "SourcePortRange",
    "Policy",
    "Priority",
    "NicType",
    "Description",
)


def _rule_params(side: str) -> tuple[str, ...]:
    """The rule parameters of one side, as the `Permission` schema names them (the prefix-list
    peer is read so that it is refused as not supported, not as a typo)."""
    return _RULE_FIELDS + (
        f"{side}CidrIp",
        f"{side}GroupId",
        f"{side}GroupOwnerAccount",
        f"Ipv6{side}CidrIp",
        f"{side}PrefixListId",
    )


def _permission(p: Params, direction: Direction) -> Permission:
    side = "Source" if direction is Direction.INGRESS else "Dest"
    names = _rule_params(side)
    try:
        return Permission.from_params(p.raw, names)
    except SchemaError as err:  # the parameters are text already: only a length can be wrong
        raise ApiError("InvalidParameter", f"{err.where[2:]}: {err.message}") from None


def _default_nic_type(group: SecurityGroup, peer_group_id: str | None) -> str:
    """ECS's default is internet; VPC groups and group authorisation are intranet only."""
    if group.network_type is NetworkType.VPC or peer_group_id:
        return "intranet"
    return "internet"


def _request(group: SecurityGroup, p: Params, direction: Direction) -> RuleRequest:
    side = "Source" if direction is Direction.INGRESS else "Dest"
    p.req("IpProtocol")
    p.req("PortRange")
    nic_type = _default_nic_type(group, p.str(f"{side}GroupId"))
    return _permission(p, direction).request(direction, nic_type)


def _permission_items(p: Params, direction: Direction) -> dict[int, dict[str, str]]:
    """`Permissions.N.<field>` as the SDKs send them (N = 1..100, ECS's limit), by index;
    a field the flat form would not take is refused, naming it."""
    side = "Source" if direction is Direction.INGRESS else "Dest"
    names = set(_rule_params(side))
    items: dict[int, dict[str, str]] = {}
    for key, value in p.raw.items():
        head, _, rest = key.partition(".")
        if head != PERMISSIONS:
            continue
        index, _, name = rest.partition(".")
        if not _INDEX.fullmatch(index) or not 1 <= int(index) <= MAX_PERMISSIONS:
            raise ApiError(
                "InvalidParameter",
                f"{key[:80]}: the index of Permissions.N must be 1..{MAX_PERMISSIONS}.",
            )
        if name not in names:
            raise ApiError(
                "InvalidParameter",
                f"{key[:80]}: a permission takes {', '.join(sorted(names))}.",
            )
        items.setdefault(int(index), {})[name] = value
    return dict(sorted(items.items()))


def _requests(
    group: SecurityGroup, p: Params, direction: Direction
) -> tuple[list[RuleRequest], Callable[[int], str] | None]:
    """The rules a call asks for, and what names the i-th in an error (`Permissions.N`;
    None for the flat parameters' one rule)."""
    side = "Source" if direction is Direction.INGRESS else "Dest"
    items = _permission_items(p, direction)
    if not items:
        return [_request(group, p, direction)], None
    given = [n for n in _rule_params(side) if p.str(n) is not None]
    if given:
        raise ApiError(
            "InvalidParameter.Conflict",
            f"Give Permissions.N or the flat rule parameters, not both ({given[0]}).",
        )
    requests, labels = [], []
    for index, fields in items.items():
        label = f"{PERMISSIONS}.{index}"
        for required in ("IpProtocol", "PortRange"):
            if not fields.get(required):
                raise missing(f"{label}.{required}")
        try:
            permission = Permission.read(fields)
            nic_type = _default_nic_type(group, fields.get(f"{side}GroupId"))
            requests.append(permission.request(direction, nic_type))
        except SchemaError as err:
            raise ApiError("InvalidParameter", f"{label}.{err.where[2:]}: {err.message}") from None
        except ModelError as err:
            raise ModelError(err.code, f"{label}: {err.message}") from None
        labels.append(label)
    return requests, labels.__getitem__


def _authorize(ctx: ActionContext, p: Params, direction: Direction) -> dict:
    group = get_group(ctx, p)
    before = group_view(group)
    requests, where = _requests(group, p, direction)
    added = ctx.state.cloud.authorize_all(group.group_id, requests, ctx.now, where)
    record_group_change(ctx, group, before)
    return {"SecurityGroupRuleIds": {"SecurityGroupRuleId": [r.rule_id for r in added]}}


@action(
    "AuthorizeSecurityGroup",
    writes=True,
    resources=group_resource,
    params=("SecurityGroupId", PERMISSIONS, *_rule_params("Source")),
)
def authorize_security_group(ctx: ActionContext, p: Params) -> dict:
    return _authorize(ctx, p, Direction.INGRESS)


@action(
    "AuthorizeSecurityGroupEgress",
    writes=True,
    resources=group_resource,
    params=("SecurityGroupId", PERMISSIONS, *_rule_params("Dest")),
)
def authorize_security_group_egress(ctx: ActionContext, p: Params) -> dict:
    return _authorize(ctx, p, Direction.EGRESS)


def _revoke(ctx: ActionContext, p: Params, direction: Direction) -> dict:
    group = get_group(ctx, p)
    cloud = ctx.state.cloud
    before = group_view(group)
    rule_ids = p.list("SecurityGroupRuleId", max_items=100)
    if rule_ids:
        side = "Source" if direction is Direction.INGRESS else "Dest"
        stray = [n for n in _rule_params(side) if n != f"{side}GroupOwnerAccount" and p.str(n)]
        stray += [n for n in p.raw if n.startswith(f"{PERMISSIONS}.")]
        if stray:
            raise ApiError(
                "InvalidParameter.Conflict",
                f"Give SecurityGroupRuleId or the rule's fields, not both ({stray[0]}).",
            )
        for rule_id in rule_ids:  # all must exist, in this direction, before any goes
            rule = group.rule(rule_id)
            if rule is None or rule.direction is not direction:
                raise ModelError(
                    "InvalidSecurityGroupRuleId.NotFound",
                    f"Rule {rule_id[:64]!r} is not a {direction.value} rule of {group.group_id}.",
                )
        for rule_id in dict.fromkeys(rule_ids):
            cloud.revoke(group.group_id, rule_id=rule_id)
    else:
        requests, where = _requests(group, p, direction)
        cloud.revoke_all(group.group_id, requests, where)
    record_group_change(ctx, group, before)
    return {}


@action(
    "RevokeSecurityGroup",
    writes=True,
    resources=group_resource,
    params=("SecurityGroupId", "SecurityGroupRuleId", PERMISSIONS, *_rule_params("Source")),
)
def revoke_security_group(ctx: ActionContext, p: Params) -> dict:
    return _revoke(ctx, p, Direction.INGRESS)


@action(
    "RevokeSecurityGroupEgress",
    writes=True,
    resources=group_resource,
    params=("SecurityGroupId", "SecurityGroupRuleId", PERMISSIONS, *_rule_params("Dest")),
)
def revoke_security_group_egress(ctx: ActionContext, p: Params) -> dict:
    return _revoke(ctx, p, Direction.EGRESS)


def _modify_rule(ctx: ActionContext, p: Params, direction: Direction) -> dict:
    """The fields given replace the rule's; the others stay as they are."""
    group = get_group(ctx, p)
    rule_id = p.req("SecurityGroupRuleId")
    old = group.rule(rule_id)
    if old is None or old.direction is not direction:
        raise ModelError(
            "InvalidSecurityGroupRuleId.NotFound",
            f"Rule {rule_id[:64]!r} is not a {direction.value} rule of {group.group_id}.",
        )
    side = "Source" if direction is Direction.INGRESS else "Dest"
    unsupported = _permission(p, direction).unsupported(direction)
    if unsupported is not None:
        raise unsupported
    cidr, gid = p.str(f"{side}CidrIp"), p.str(f"{side}GroupId")
    v6 = p.str(f"Ipv6{side}CidrIp")
    peer_cidr, peer_group, owner = old.peer_cidr, old.peer_group_id, old.peer_group_owner_account
    peer_v6 = old.peer_ipv6_cidr
    if (v6 is not None) != (old.peer_ipv6_cidr is not None) and (
        v6 is not None or cidr is not None or gid is not None
    ):
        # ECS: "You cannot change the IP address family of an existing authorization object"
        raise ApiError(
            "InvalidParameter.Conflict",
            f"Rule {rule_id[:64]} has an IPv{6 if old.peer_ipv6_cidr else 4} peer; a rule keeps "
            "its address family: authorise a new rule and revoke this one.",
        )
    if cidr is not None or gid is not None or v6 is not None:  # a new peer replaces the old
        peer_cidr, peer_group, owner = cidr, gid, p.str(f"{side}GroupOwnerAccount")
        peer_v6 = v6
    elif p.str(f"{side}GroupOwnerAccount") is not None:
        owner = p.str(f"{side}GroupOwnerAccount")
    request = RuleRequest(
        direction=direction,
        ip_protocol=p.str("IpProtocol") or old.ip_protocol,
        port_range=p.str("PortRange") or str(old.port_range),
        peer_cidr=peer_cidr,
        peer_group_id=peer_group,
        peer_group_owner_account=owner,
        policy=p.str("Policy") or old.policy,
        priority=p.str("Priority") or old.priority,
        nic_type=p.str("NicType") or old.nic_type,
        description=old.description if "Description" not in p.raw else p.raw["Description"],
        peer_ipv6_cidr=peer_v6,
        # ECS: a non-empty value cannot be emptied (an empty one is not given)
        source_port_range=p.str("SourcePortRange") or str(old.source_port_range or ""),
    )
    before = group_view(group)
    ctx.state.cloud.modify_rule(group.group_id, rule_id, request)
    record_group_change(ctx, group, before)
    return {}


@action(
    "ModifySecurityGroupRule",
    writes=True,
    resources=group_resource,
    params=("SecurityGroupId", "SecurityGroupRuleId", *_rule_params("Source")),
)
def modify_security_group_rule(ctx: ActionContext, p: Params) -> dict:
    return _modify_rule(ctx, p, Direction.INGRESS)


@action(
    "ModifySecurityGroupEgressRule",
    writes=True,
    resources=group_resource,
    params=("SecurityGroupId", "SecurityGroupRuleId", *_rule_params("Dest")),
)
def modify_security_group_egress_rule(ctx: ActionContext, p: Params) -> dict:
    return _modify_rule(ctx, p, Direction.EGRESS)
