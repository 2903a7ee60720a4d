"""Turning a rule request into the rules it stands for (every field validated against the
group), and the rule quotas a group's new rule list must fit (per group, authorised groups,
per NIC over all its groups)."""

from __future__ import annotations

from dataclasses import replace

from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.inventory import FleetInventory
from palisade.auditor.model.network.security_group import (
    Direction,
    GroupType,
    NetworkType,
    NicType,
    RulePolicy,
    RuleRequest,
    SecurityGroup,
    SecurityGroupRule,
    check_account_id_format,
    check_description,
    check_group_id_format,
    parse_cidr_list,
    parse_direction,
    parse_ipv6_cidr,
    parse_nic_type,
    parse_policy,
    parse_port_range,
    parse_priority,
    parse_protocol,
    parse_source_port_range,
)


class RuleBuilding(FleetInventory):
    def _build_rules(
        self, group: SecurityGroup, request: RuleRequest, groups: dict[str, SecurityGroup]
    ) -> list[SecurityGroupRule]:
        """Validate a request against `group` and return the rules it stands for (no ids yet)."""
        limits = self.limits
        if not isinstance(request, RuleRequest):
            raise ModelError("InvalidParameter", "A rule request must be a RuleRequest.")
        direction = parse_direction(request.direction)
        side = "Source" if direction is Direction.INGRESS else "Dest"
        protocol = parse_protocol(request.ip_protocol)
        ports = parse_port_range(request.port_range, protocol)
        source_ports = parse_source_port_range(request.source_port_range, protocol)
        policy = parse_policy(request.policy)
        priority = parse_priority(request.priority, limits)
        nic_type = parse_nic_type(request.nic_type)
        description = check_description(request.description, limits)
        enterprise = group.group_type is GroupType.ENTERPRISE
        if enterprise and policy is RulePolicy.DROP:
            raise ModelError(
                "InvalidPolicy.ValueNotSupported",
                "Enterprise groups take allow rules only; use policy accept (or a normal group "
                "for drop rules).",
            )
        if enterprise and priority != 1:
            raise ModelError(
                "InvalidPriority.ValueNotSupported",
                "Enterprise group rules have no priorities (always 1); leave Priority at 1.",
            )
        if group.network_type is NetworkType.VPC and nic_type is not NicType.INTRANET:
            raise ModelError(
                "InvalidNicType.ValueNotSupported",
                "VPC groups do not distinguish NIC types; use NicType intranet (it covers public "
                "traffic too).",
            )
        has_cidr = request.peer_cidr not in (None, "")
        has_group = request.peer_group_id not in (None, "")
        if request.peer_ipv6_cidr not in (None, ""):
            rule = SecurityGroupRule(
                "",
                direction,
                policy,
                protocol,
                ports,
                priority,
                nic_type,
                description=description,
                source_port_range=source_ports,
            )
            return [self._ipv6_rule(group, request, rule)]
        if has_cidr == has_group:
            raise ModelError(
                f"InvalidParameter.{side}Peer" if has_cidr else f"MissingParameter.{side}CidrIp",
                f"Give exactly one of {side}CidrIp or {side}GroupId.",
            )
        if has_group and request.peer_group_owner_account not in (None, ""):
            check_account_id_format(request.peer_group_owner_account, f"{side}GroupOwnerAccount")
        if has_cidr:
            if request.peer_group_owner_account not in (None, ""):
                raise ModelError(
                    f"InvalidParameter.{side}GroupOwnerAccount",
                    f"{side}GroupOwnerAccount only goes with {side}GroupId; drop it.",
                )
            cidrs = parse_cidr_list(request.peer_cidr, direction, limits)
            if (
                group.network_type is NetworkType.CLASSIC
                and direction is Direction.INGRESS
                and nic_type is NicType.INTRANET
            ):
                for cidr in cidrs:
                    if not cidr.endswith(f"/{limits.classic_intranet_ingress_prefix}"):
                        raise ModelError(
                            "InvalidSourceCidrIp.NotSingleIp",
                            "Classic intranet ingress rules authorise single IPs only; use "
                            f"a.b.c.d/{limits.classic_intranet_ingress_prefix} "
                            f"instead of {cidr}, or authorise a security group.",
                        )
            return [
                SecurityGroupRule(
                    "",
                    direction,
                    policy,
                    protocol,
                    ports,
                    priority,
                    nic_type,
                    peer_cidr=c,
                    description=description,
                    source_port_range=source_ports,
                )
                for c in cidrs
            ]
        peer_id = check_group_id_format(request.peer_group_id, f"{side}GroupId")
        if enterprise:
            raise ModelError(
                f"Invalid{side}GroupId.NotSupported",
                "Enterprise groups cannot authorise security groups; authorise CIDR blocks "
                "instead.",
            )
        peer = groups.get(peer_id)
        owner = request.peer_group_owner_account or None
        if (
            peer is None
            or (owner is None and peer.account_id != group.account_id)
            or (owner is not None and peer.account_id != owner)
        ):
            hint = (
                f" in account {owner}"
                if owner
                else " in this account (for another account's group give its owner account)"
            )
            raise ModelError(
                f"Invalid{side}GroupId.NotFound",
                f"Security group {peer_id!r} does not exist{hint}.",
            )
        if peer.region_id != group.region_id:
            raise ModelError(
                f"Invalid{side}GroupId.NotFound",
                f"Security group {peer_id} is in region {peer.region_id}; authorise a group of "
                f"{group.region_id}.",
            )
        if peer.group_type is GroupType.ENTERPRISE:
            raise ModelError(
                f"Invalid{side}GroupId.NotSupported",
                f"{peer_id} is an enterprise group and cannot be authorised; authorise its CIDR "
                "blocks.",
            )
        if peer.network_type is not group.network_type:
            raise ModelError(
                f"Invalid{side}GroupId.NetworkTypeMismatch",
                f"{peer_id} is a {peer.network_type.value} group; authorise a "
                f"{group.network_type.value} group.",
            )
        if (
            group.network_type is NetworkType.VPC
            and peer.account_id == group.account_id
            and peer.vpc_id != group.vpc_id
        ):
            raise ModelError(
                f"Invalid{side}GroupId.VpcMismatch",
                f"{peer_id} is in VPC {peer.vpc_id}; authorise a group of VPC {group.vpc_id}.",
            )
        if nic_type is not NicType.INTRANET:
            raise ModelError(
                "InvalidNicType.ValueNotSupported",
                "Security group authorisation works on the private network only; use NicType "
                "intranet.",
            )
        if owner == group.account_id:
            owner = None
        return [
            SecurityGroupRule(
                "",
                direction,
                policy,
                protocol,
                ports,
                priority,
                nic_type,
                peer_group_id=peer_id,
                peer_group_owner_account=owner,
                description=description,
                source_port_range=source_ports,
            )
        ]

    @staticmethod
    def _ipv6_rule(
        group: SecurityGroup, request: RuleRequest, rule: SecurityGroupRule
    ) -> SecurityGroupRule:
        """`rule` with the request's IPv6 peer (ECS: VPC groups only; one peer per rule)."""
        direction = rule.direction
        side = "Source" if direction is Direction.INGRESS else "Dest"
        others = (request.peer_cidr, request.peer_group_id, request.peer_group_owner_account)
        if any(v not in (None, "") for v in others):
            raise ModelError(
                "InvalidParameter.Conflict",
                f"Give Ipv6{side}CidrIp alone as the peer, not with {side}CidrIp or "
                f"{side}GroupId (ECS takes one per rule).",
            )
        if group.network_type is not NetworkType.VPC:
            raise ModelError(
                f"InvalidIpv6{side}CidrIp.ValueNotSupported",
                "IPv6 rules are for VPC groups only; this is a classic network group.",
            )
        return replace(rule, peer_ipv6_cidr=parse_ipv6_cidr(request.peer_ipv6_cidr, direction))

    def _check_capacity(self, group: SecurityGroup, rules_after: list[SecurityGroupRule]) -> None:
        limits = self.limits
        if len(rules_after) > limits.rules_per_group:
            raise ModelError(
                "QuotaExceed.RulePerGroup",
                f"Security group {group.group_id} would have {len(rules_after)} rules; at most "
                f"{limits.rules_per_group} "
                "(ingress and egress together). Remove redundant rules or use another group.",
            )
        authorised = {
            r.peer_group_id
            for r in rules_after
            if r.peer_group_id and r.peer_group_id != group.group_id
        }
        if len(authorised) > limits.authorized_groups_per_group:
            raise ModelError(
                "QuotaExceed.AuthorizedSecurityGroup",
                f"Security group {group.group_id} would authorise {len(authorised)} groups; at "
                f"most {limits.authorized_groups_per_group}.",
            )
        delta = len(rules_after) - len(group.rules)
        if delta > 0:
            for instance, nic in self.members(group.group_id):
                total = self.nic_rule_count(nic) + delta
                if total > limits.rules_per_nic:
                    raise ModelError(
                        "RuleCountExceeded",
                        f"NIC {nic.nic_id} of {instance.instance_id} would be governed by {total} "
                        "rules over its groups; "
                        f"at most {limits.rules_per_nic}. Remove redundant rules.",
                    )
