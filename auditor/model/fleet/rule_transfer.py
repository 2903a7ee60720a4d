"""Moving rules between groups: clone a group, restore a group's rules from another group,
export a group's rules to a document and import them from one."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from palisade.auditor.model import changes as K
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.security_groups import SecurityGroupOperations
from palisade.auditor.model.network.rules_json import (
    ExportedRules,
    ImportPreview,
    ImportResult,
    export_filename,
    group_document,
    permission_to_request,
    permissions_of,
)
from palisade.auditor.model.network.security_group import (
    NetworkType,
    NicType,
    RuleRequest,
    SecurityGroup,
    SecurityGroupRule,
)


@dataclass(frozen=True)
class RestorePreview:
    """What a restore does: `added` (green), `removed` (red, full restore only) and target rules
    that cannot be created (`skipped`, e.g. priority-110 system rules) with the reason."""

    mode: str
    added: list[SecurityGroupRule]
    removed: list[SecurityGroupRule]
    skipped: list[tuple[SecurityGroupRule, str]] = field(default_factory=list)


@dataclass(frozen=True)
class CloneResult:
    group: SecurityGroup
    skipped: list[tuple[SecurityGroupRule, str]]


def _unchanged_rule_fields(rule: SecurityGroupRule) -> RuleRequest:
    return RuleRequest(
        direction=rule.direction,
        ip_protocol=rule.ip_protocol,
        port_range=str(rule.port_range),
        peer_cidr=rule.peer_cidr,
        peer_group_id=rule.peer_group_id,
        peer_group_owner_account=rule.peer_group_owner_account,
        policy=rule.policy,
        priority=rule.priority,
        nic_type=rule.nic_type,
        description=rule.description,
        source_port_range=str(rule.source_port_range or ""),
        peer_ipv6_cidr=rule.peer_ipv6_cidr,
    )


class RuleTransferOperations(SecurityGroupOperations):
    # ------------------------------------------------------------ clone and restore

    def clone_security_group(
        self,
        group_id: str,
        *,
        now: datetime,
        region_id: str | None = None,
        name: str | None = None,
        network_type: NetworkType | str | None = None,
        vpc_id: str | None = None,
        description: str | None = None,
    ) -> CloneResult:
        """Clone a group, possibly into another region and/or network type. Rules that cannot
        exist there (group authorisation across regions, internet NIC rules in a VPC) are
        reported as skipped."""
        source = self.get_group(group_id)
        region = region_id or source.region_id
        network = self._enum(
            NetworkType,
            network_type or source.network_type,
            "InvalidNetworkType.ValueNotSupported",
            "vpc or classic",
        )
        if network is NetworkType.VPC and vpc_id is None:
            if network is source.network_type and region == source.region_id:
                vpc_id = source.vpc_id
        draft_name = source.name if name is None else name
        # Validate the target group before creating anything.
        probe = type(self)(self.limits)
        probe.accounts, probe.regions, probe.vpcs = self.accounts, self.regions, self.vpcs
        shell = probe.create_security_group(
            source.account_id,
            region,
            now=now,
            name=draft_name,
            description=source.description if description is None else description,
            group_type=source.group_type,
            network_type=network,
            vpc_id=vpc_id,
            inner_access_policy=source.inner_access_policy,
        )
        shell.group_id = self._ensure_unique_id("sg", self.groups)
        kept: list[SecurityGroupRule] = []
        skipped: list[tuple[SecurityGroupRule, str]] = []
        for rule in source.rules:
            if rule.priority > self.limits.priority_max:
                skipped.append(
                    (
                        rule,
                        f"priority {rule.priority} system rules cannot be created; add a similar "
                        f"rule with priority {self.limits.priority_max}",
                    )
                )
                continue
            request = _unchanged_rule_fields(rule)
            if network is NetworkType.VPC and rule.nic_type is NicType.INTERNET:
                request = replace(request, nic_type=NicType.INTRANET)
            if (
                network is NetworkType.CLASSIC
                and source.network_type is NetworkType.VPC
                and rule.peer_cidr is not None
            ):
                request = replace(request, nic_type=NicType.INTERNET)
            try:
                built = self._build_rules(shell, request, self.groups)
            except ModelError as err:
                skipped.append((rule, err.message))
                continue
            for b in built:
                if b.key() not in {k.key() for k in kept}:
                    kept.append(b)
        shell.rules = [replace(r, rule_id=self._new_id("sgr"), create_time=now) for r in kept]
        self.groups[shell.group_id] = shell
        self.changes.touch(K.GROUP, shell.group_id)
        return CloneResult(shell, skipped)

    def restore_preview(
        self, group_id: str, target_group_id: str, mode: str = "full"
    ) -> RestorePreview:
        """What `restore` would do: the target's extra rules are added (green); with `full` the
        rules the target lacks are removed (red)."""
        group = self.get_group(group_id)
        target = self.get_group(target_group_id)
        if mode not in ("full", "partial"):
            raise ModelError(
                "InvalidParameter.RestoreMode",
                f"Restore mode {mode!r} is not valid; use full or partial.",
            )
        if target.region_id != group.region_id:
            raise ModelError(
                "InvalidSecurityGroupId.RegionMismatch",
                f"{target_group_id} is in {target.region_id}; restore from a group of "
                f"{group.region_id}.",
            )
        if target.network_type is not group.network_type:
            raise ModelError(
                "InvalidSecurityGroupId.NetworkTypeMismatch",
                f"{target_group_id} is a {target.network_type.value} group; restore from a "
                f"{group.network_type.value} group.",
            )
        match = (lambda r: r.content()) if mode == "full" else (lambda r: r.key())
        target_keys = {match(r) for r in target.rules}
        removed = [r for r in group.rules if match(r) not in target_keys] if mode == "full" else []
        remaining = {
            match(r) for r in group.rules if not (mode == "full" and match(r) not in target_keys)
        }
        added, skipped = [], []
        for rule in target.rules:
            if match(rule) in remaining:
                continue
            if rule.priority > self.limits.priority_max:
                skipped.append(
                    (
                        rule,
                        f"priority {rule.priority} system rules cannot be created by a restore; "
                        f"add a similar rule with priority {self.limits.priority_max}",
                    )
                )
                continue
            try:
                self._build_rules(group, _unchanged_rule_fields(rule), self.groups)
            except ModelError as err:
                skipped.append((rule, err.message))
                continue
            remaining.add(match(rule))
            added.append(rule)
        removed_ids = {r.rule_id for r in removed}
        self._check_capacity(
            group, [r for r in group.rules if r.rule_id not in removed_ids] + added
        )
        return RestorePreview(mode, added, removed, skipped)

    def restore(
        self, group_id: str, target_group_id: str, mode: str, now: datetime
    ) -> RestorePreview:
        preview = self.restore_preview(group_id, target_group_id, mode)
        group = self.groups[group_id]
        removed_ids = {r.rule_id for r in preview.removed}
        if removed_ids or preview.added:
            group.rules = [r for r in group.rules if r.rule_id not in removed_ids] + [
                replace(r, rule_id=self._new_id("sgr"), create_time=now) for r in preview.added
            ]
            self.changes.touch(K.GROUP, group_id)
        return preview

    # ------------------------------------------------------------ export and import

    def export_rules(self, group_id: str) -> ExportedRules:
        group = self.get_group(group_id)
        return ExportedRules(
            export_filename(group.region_id, group.group_id), group_document(group)
        )

    def import_preview(self, group_id: str, document: object) -> ImportPreview:
        """Per-permission result of importing `document` into the group: what `import_rules`
        will then do, with the reason of every failure."""
        group = self.get_group(group_id)
        permissions = permissions_of(document)
        results: list[ImportResult] = []
        present = {r.key() for r in group.rules}
        accepted: list[SecurityGroupRule] = []
        for index, permission in enumerate(permissions):
            if index >= self.limits.import_max_rules:
                results.append(
                    ImportResult(
                        index,
                        "failed",
                        f"an import takes at most {self.limits.import_max_rules} rules; import "
                        "the rest separately",
                        "QuotaExceed.ImportRules",
                    )
                )
                continue
            try:
                request = permission_to_request(permission, f"$.Permission[{index}]")
                built = self._build_rules(group, request, self.groups)
                fresh = [b for b in built if b.key() not in present]
                if not fresh:
                    results.append(
                        ImportResult(
                            index,
                            "exists",
                            "an identical rule is already in the group (import never overwrites)",
                        )
                    )
                    continue
                self._check_capacity(group, group.rules + accepted + fresh)
            except ModelError as err:
                results.append(ImportResult(index, "failed", err.message, err.code))
                continue
            for rule in fresh:
                present.add(rule.key())
                accepted.append(rule)
                results.append(ImportResult(index, "added", "", "", rule))
        return ImportPreview(group_id, len(permissions), results)

    def import_rules(self, group_id: str, document: object, now: datetime) -> ImportPreview:
        preview = self.import_preview(group_id, document)
        group = self.groups[group_id]
        if preview.added:
            group.rules.extend(
                replace(r, rule_id=self._new_id("sgr"), create_time=now) for r in preview.added
            )
            self.changes.touch(K.GROUP, group_id)
        return preview
