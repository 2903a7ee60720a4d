"""`Permission`: one security group rule in ECS's own words, the one reader of rule fields.

The same schema reads the rule parameters of the API (AuthorizeSecurityGroup[Egress],
RevokeSecurityGroup[Egress], ModifySecurityGroup[Egress]Rule), a `Permissions.Permission`
item of the JSON the real ECS API answers (`palisade import-ecs`) and of an exported rule set
(ImportSecurityGroupRules). Its keys are those of ECS's DescribeSecurityGroupAttribute
`Permission` (as the official SDK's model lists them); any other key is an error.

What ECS documents, and how Palisade reads it (one decision for every reader):

- `Ipv6SourceCidrIp` / `Ipv6DestCidrIp`: an IPv6 peer, "you cannot specify both this parameter
  and SourceCidrIp" (an error). The rule's one peer (VPC groups only), stored, answered and
  decided by the engine for IPv6 flows.
- `SourcePortRange`: the rule matches flows from these source ports only (TCP/UDP).
- `SourcePrefixListId` / `DestPrefixListId`: "if you specify SourceCidrIp, Ipv6SourceCidrIp or
  SourceGroupId, this parameter is ignored" (so it is); a rule whose only peer is a prefix
  list is `InvalidSourcePrefixListId.NotSupported` (Palisade has no prefix lists).
- `Priority`: "valid values: 1 to 100" for a rule one creates. A described rule above 100 is
  one the system made (ECS shows its default rules at 110): `import-ecs` leaves it out with a
  warning, the API refuses it (`InvalidPriority.Malformed`), like any other bad priority.
- Empty strings are absent values (ECS answers `"Ipv6SourceCidrIp": ""` for IPv4 rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, cast

from pydantic import StringConstraints
from typing_extensions import TypedDict  # pydantic reads typing.TypedDict only on 3.12+

from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.limits import Limits
from palisade.auditor.model.network.security_group import (
    PORTED_PROTOCOLS,
    RuleRequest,
    check_description,
    parse_direction,
    parse_nic_type,
    parse_policy,
    parse_port_range,
    parse_priority,
    parse_protocol,
    parse_source_port_range,
)
from palisade.auditor.model.network.security_group import Direction as RuleDirection
from palisade.auditor.model.schema import DOCUMENT, SchemaError, validate

# as long as an API parameter may be; each field's own limit is the model's (Description: 512)
MAX_FIELD = 64 * 1024
# Text (or a number, as ECS's JSON gives Priority); "" is an absent value, as ECS answers it.
Field = Annotated[str, StringConstraints(max_length=MAX_FIELD)] | None


class PermissionFields(TypedDict, total=False):
    """The keys of a security group rule as ECS spells them; every value is optional text.
    (A TypedDict: an import of thousands of rules validates them three times faster than as
    models.)"""

    __pydantic_config__ = DOCUMENT  # type: ignore[misc]
    Direction: Field
    IpProtocol: Field
    PortRange: Field
    SourceCidrIp: Field
    SourceGroupId: Field
    SourceGroupOwnerAccount: Field
    DestCidrIp: Field
    DestGroupId: Field
    DestGroupOwnerAccount: Field
    Ipv6SourceCidrIp: Field
    Ipv6DestCidrIp: Field
    SourcePrefixListId: Field
    DestPrefixListId: Field
    Policy: Field
    Priority: Field
    NicType: Field
    Description: Field
    SourcePortRange: Field
    # what DescribeSecurityGroupAttribute also answers; read, not modelled
    SecurityGroupRuleId: Field
    CreateTime: Field
    SourceGroupName: Field
    DestGroupName: Field
    SourcePrefixListName: Field
    DestPrefixListName: Field
    PortRangeListId: Field
    PortRangeListName: Field


_PEER_KEYS = {
    RuleDirection.INGRESS: ("SourceCidrIp", "SourceGroupId", "SourceGroupOwnerAccount"),
    RuleDirection.EGRESS: ("DestCidrIp", "DestGroupId", "DestGroupOwnerAccount"),
}


class Permission:
    """A validated `PermissionFields`; `perm.Priority` is the field's value, None when the
    document leaves it out."""

    __slots__ = ("fields",)

    def __init__(self, fields: PermissionFields) -> None:
        self.fields: Mapping[str, str | None] = cast(Mapping[str, "str | None"], fields)

    def __getattr__(self, name: str) -> str | None:
        if name not in PermissionFields.__annotations__:
            raise AttributeError(name)
        return self.fields.get(name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Permission) and other.fields == self.fields

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------ reading

    @classmethod
    def read(cls, document: object, where: str = "$") -> Permission:
        """A Permission from parsed JSON; a SchemaError names the path of the problem."""
        return cls(validate(PermissionFields, document, where))

    @classmethod
    def from_params(cls, params: Mapping[str, str], names: tuple[str, ...]) -> Permission:
        """The rule fields among an API request's parameters (`names`: those the action
        takes)."""
        return cls.read({n: params[n] for n in names if n in params})

    # ------------------------------------------------------------ meaning

    def direction(self) -> RuleDirection:
        return parse_direction(self.fields.get("Direction") or "ingress")

    def peer(self, direction: RuleDirection) -> tuple[str | None, str | None, str | None]:
        """(CIDR, group id, group owner) on the side `direction` reads; "" is None."""
        f = self.fields
        cidr, group, owner = _PEER_KEYS[direction]
        return f.get(cidr) or None, f.get(group) or None, f.get(owner) or None

    def ipv6_peer(self, direction: RuleDirection) -> str | None:
        """The IPv6 peer on the side `direction` reads ("" is None)."""
        side = "Source" if direction is RuleDirection.INGRESS else "Dest"
        return self.fields.get(f"Ipv6{side}CidrIp") or None

    def unsupported(self, direction: RuleDirection) -> ModelError | None:
        """Why Palisade cannot model this rule (a prefix-list peer), or None. Raises for what
        ECS itself refuses (an IPv4 and an IPv6 peer together)."""
        f = self.fields
        side = "Source" if direction is RuleDirection.INGRESS else "Dest"
        ipv6 = f.get(f"Ipv6{side}CidrIp") or None
        prefix_list = f.get(f"{side}PrefixListId") or None
        if ipv6 is None and prefix_list is None:
            return None
        cidr, group, _ = self.peer(direction)
        if ipv6 is not None and cidr is not None:
            raise ModelError(
                "InvalidParameter.Conflict",
                f"Give {side}CidrIp or Ipv6{side}CidrIp, not both (ECS takes one per rule).",
            )
        if prefix_list is not None and cidr is None and group is None and ipv6 is None:
            return ModelError(
                f"Invalid{side}PrefixListId.NotSupported",
                f"{side}PrefixListId {prefix_list[:64]!r}: Palisade has no prefix lists; "
                f"authorise the list's blocks with {side}CidrIp or Ipv6{side}CidrIp.",
            )
        return None

    def system_rule(self, limits: Limits) -> bool:
        """A described rule of a priority above the range one may create (ECS's own)."""
        p = self.fields.get("Priority")
        if not p:
            return False
        return p.isascii() and p.isdigit() and int(p) > limits.priority_max

    def field_error(
        self, direction: RuleDirection, limits: Limits
    ) -> tuple[str, ModelError] | None:
        """The first field the model would refuse whatever the group (name, error): the
        same parsers the model runs, so a file says where before anything is applied."""
        try:
            protocol = parse_protocol(self.IpProtocol or "")
        except ModelError as err:
            return "IpProtocol", err
        ports = self.PortRange or ("" if protocol in PORTED_PROTOCOLS else "-1/-1")
        checks = (
            ("PortRange", lambda: parse_port_range(ports, protocol)),
            ("SourcePortRange", lambda: parse_source_port_range(self.SourcePortRange, protocol)),
            ("Policy", lambda: parse_policy(self.Policy or "accept")),
            ("Priority", lambda: parse_priority(self.Priority or "1", limits)),
            ("NicType", lambda: parse_nic_type(self.NicType or "intranet")),
            ("Description", lambda: check_description(self.Description or "", limits)),
        )
        for name, check in checks:
            try:
                check()
            except ModelError as err:
                return name, err
        return None

    def request(self, direction: RuleDirection, nic_type: str = "intranet") -> RuleRequest:
        """The rule this permission asks for (validated by the model against the group).
        `nic_type`: the default when NicType is not given."""
        reason = self.unsupported(direction)
        if reason is not None:
            raise reason
        cidr, group, owner = self.peer(direction)
        return RuleRequest(
            direction=direction,
            ip_protocol=self.IpProtocol or "",
            port_range=self.PortRange or "",
            peer_cidr=cidr,
            peer_group_id=group,
            peer_group_owner_account=owner,
            policy=self.Policy or "accept",
            priority=self.Priority or "1",
            nic_type=self.NicType or nic_type,
            description=self.Description or "",
            source_port_range=self.SourcePortRange or "",
            peer_ipv6_cidr=self.ipv6_peer(direction),
        )


def read_permission(document: object, where: str = "$") -> Permission:
    """`Permission.read` with the model's error: `InvalidParameter.Malformed` naming the path."""
    try:
        return Permission.read(document, where)
    except SchemaError as err:
        raise ModelError("InvalidParameter.Malformed", f"{err.where}: {err.message}") from None
