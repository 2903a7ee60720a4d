"""Security groups themselves: create (optionally from a template), change name, description
and internal access policy, delete."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from palisade.auditor.model import changes as K
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.rule_building import RuleBuilding
from palisade.auditor.model.network.security_group import (
    GroupType,
    InnerAccessPolicy,
    NetworkType,
    NicType,
    SecurityGroup,
    Template,
    check_description,
    check_group_id_format,
    check_name,
    parse_template,
    template_rules,
)


class SecurityGroupOperations(RuleBuilding):
    def create_security_group(
        self,
        account_id: str,
        region_id: str,
        *,
        now: datetime,
        name: str = "",
        description: str = "",
        template: Template | str = Template.CUSTOM,
        group_type: GroupType | str = GroupType.NORMAL,
        network_type: NetworkType | str = NetworkType.VPC,
        vpc_id: str | None = None,
        inner_access_policy: InnerAccessPolicy | str = InnerAccessPolicy.ACCEPT,
        group_id: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> SecurityGroup:
        self.get_account(account_id)
        self.get_region(region_id)
        check_name(name, self.limits)
        check_description(description, self.limits)
        kind = self._enum(
            GroupType,
            group_type,
            "InvalidSecurityGroupType.ValueNotSupported",
            "normal or enterprise",
        )
        network = self._enum(
            NetworkType, network_type, "InvalidNetworkType.ValueNotSupported", "vpc or classic"
        )
        inner = self._enum(
            InnerAccessPolicy,
            inner_access_policy,
            "InvalidInnerAccessPolicy.ValueNotSupported",
            "Accept or Drop",
        )
        tmpl = parse_template(template)
        if kind is GroupType.ENTERPRISE:
            if network is not NetworkType.VPC:
                raise ModelError(
                    "InvalidSecurityGroupType.ClassicNotSupported",
                    "Enterprise security groups are VPC only; use network type vpc.",
                )
            inner = InnerAccessPolicy.DROP  # members are not connected by default
        if network is NetworkType.VPC:
            if vpc_id is None:
                raise ModelError("MissingParameter.VpcId", "A VPC security group needs a VpcId.")
            vpc = self.get_vpc(vpc_id)
            if vpc.account_id != account_id or vpc.region_id != region_id:
                raise ModelError(
                    "InvalidVpcId.NotFound",
                    f"VPC {vpc_id!r} is not in account {account_id} / region {region_id}.",
                )
        elif vpc_id is not None:
            raise ModelError(
                "InvalidParameter.VpcId",
                "A classic security group has no VPC; drop VpcId or use network type vpc.",
            )
        if group_id is not None:
            check_group_id_format(group_id)
            if group_id in self.groups:
                raise ModelError(
                    "InvalidSecurityGroupId.Duplicate",
                    f"Security group {group_id!r} already exists.",
                )
        group = SecurityGroup(
            group_id or self._ensure_unique_id("sg", self.groups),
            account_id,
            region_id,
            network,
            kind,
            vpc_id,
            name,
            description,
            inner,
            [],
            now,
            tags=dict(tags or {}),
        )
        nic_type = NicType.INTRANET if network is NetworkType.VPC else NicType.INTERNET
        for request in template_rules(tmpl):
            for rule in self._build_rules(group, replace(request, nic_type=nic_type), self.groups):
                group.rules.append(replace(rule, rule_id=self._new_id("sgr"), create_time=now))
        self.groups[group.group_id] = group
        self.changes.touch(K.GROUP, group.group_id)
        return group

    @staticmethod
    def _enum(kind, value, code: str, choices: str):
        try:
            return kind(value)
        except ValueError:
            if isinstance(value, str):
                for member in kind:
                    if member.value.lower() == value.lower():
                        return member
            raise ModelError(code, f"{value!r} is not valid; use {choices}.") from None

    def modify_security_group_attribute(
        self, group_id: str, name: str | None = None, description: str | None = None
    ) -> SecurityGroup:
        group = self.get_group(group_id)
        if name is not None:
            check_name(name, self.limits)
        if description is not None:
            check_description(description, self.limits)
        if name is not None and name != group.name:
            group.name = name
            self.changes.touch(K.GROUP, group_id)
        if description is not None and description != group.description:
            group.description = description
            self.changes.touch(K.GROUP, group_id)
        return group

    def modify_security_group_policy(
        self, group_id: str, inner_access_policy: InnerAccessPolicy | str
    ) -> SecurityGroup:
        group = self.get_group(group_id)
        inner = self._enum(
            InnerAccessPolicy,
            inner_access_policy,
            "InvalidInnerAccessPolicy.ValueNotSupported",
            "Accept or Drop",
        )
        if group.group_type is GroupType.ENTERPRISE and inner is InnerAccessPolicy.ACCEPT:
            raise ModelError(
                "InvalidSecurityGroupType.NotSupported",
                "Enterprise group members are never connected by default; add allow rules instead.",
            )
        if group.inner_access_policy is not inner:
            group.inner_access_policy = inner
            self.changes.touch(K.GROUP, group_id)
        return group

    def delete_security_group(self, group_id: str) -> None:
        group = self.get_group(group_id)
        if self._members.get(group_id):
            n = len(self._members[group_id])
            raise ModelError(
                "DependencyViolation",
                f"Security group {group_id} still has {n} NIC(s); remove its instances first "
                "(LeaveSecurityGroup).",
            )
        referrers = sorted(
            {
                g.group_id
                for g in self.groups.values()
                if g.group_id != group_id
                for r in g.rules
                if r.peer_group_id == group_id
            }
        )
        if referrers:
            raise ModelError(
                "DependencyViolation.ReferencedBySecurityGroup",
                f"Security group {group_id} is authorised in rules of {', '.join(referrers)}; "
                "revoke those rules first.",
            )
        del self.groups[group.group_id]
        self._members.pop(group_id, None)
        self._group_ip_count.pop(group_id, None)
        self.changes.touch(K.GROUP, group_id)
