"""The fleet-wide work behind exposure reports: `ExposureIndex` (group members, their tags
and private networks, each group's rules resolved once) and `RuleSetExposure`, the entries one
rule set (the groups of a NIC, on one private network) lets in, shared by every instance with
that rule set."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from palisade.auditor.model.fleet.resources import Instance, Nic
from palisade.auditor.model.network import ipv4
from palisade.auditor.model.network.engine import source_port_matches
from palisade.auditor.model.network.rule_sweep import (
    AddressPieces,
    MemberClasses,
    Segment,
    SweepRule,
    bits,
    deciding_rules,
)
from palisade.auditor.model.network.security_group import (
    FLOW_PROTOCOLS,
    PORTED_PROTOCOLS,
    Direction,
    GroupType,
    InnerAccessPolicy,
    IpProtocol,
    NetworkType,
    NicType,
    RulePolicy,
    SecurityGroupRule,
)


@dataclass(frozen=True)
class ExposureEntry:
    """Ports of one protocol that some source of the category reaches, and the rules (or the
    default) that let it through. For port-less protocols the range is -1/-1."""

    protocol: IpProtocol
    port_lo: int
    port_hi: int
    rules: tuple[SecurityGroupRule, ...]
    reasons: tuple[str, ...] = ()

    def __str__(self) -> str:
        ports = f"{self.port_lo}/{self.port_hi}"
        why = ", ".join([r.rule_id for r in self.rules] + list(self.reasons))
        return f"{self.protocol.value} {ports} via {why}"


_INTERNET_STARTS = [lo for lo, _ in ipv4.INTERNET_SPACE]


def _is_internet(n: int) -> bool:
    i = bisect_right(_INTERNET_STARTS, n) - 1
    return i >= 0 and n <= ipv4.INTERNET_SPACE[i][1]


class _RuleSpec(NamedTuple):
    """What exposure needs of one rule of a group, resolved for an instance's network type."""

    rule: SecurityGroupRule
    ingress: bool
    protocols: tuple[IpProtocol, ...]
    nic_type: NicType | None  # None: any (VPC groups do not distinguish)
    port_lo: int
    port_hi: int
    cidr: ipv4.Interval | None
    peer_group_id: str | None
    strength: int
    accept: bool
    internet_blocks: tuple[ipv4.Interval, ...]  # the peers that are internet addresses


@dataclass(frozen=True)
class _GroupRules:
    """One group's part of any rule set it is in (resolved once per group)."""

    rules: tuple[SecurityGroupRule, ...]
    specs: tuple[_RuleSpec, ...]
    report_order: tuple[tuple[int, str], ...]  # (strength, rule id): how entries list rules
    ingress: tuple[tuple[int, int], ...]  # (strength, position in the group) of ingress rules
    authorised: int  # bits of the groups its ingress rules authorise
    # bounds (lo, hi + 1) of its ingress CIDRs that hold group members: the only CIDRs that
    # tell members apart (the private tables leave the others out)
    cuts: frozenset[int]


class _Nic(NamedTuple):
    """What the index keeps of one NIC: its groups, their bits, its private IPs (ints)."""

    groups: tuple[str, ...]
    mask: int
    ips: tuple[int, ...]


class _Placed(NamedTuple):
    """What the index keeps of one instance (all an update needs of what it was)."""

    network: tuple
    nics: tuple[_Nic, ...]


class ExposureIndex:
    """Fleet-wide indexes shared by every instance's exposure, and the per-rule-set work
    already done. Built once for a model; `update` keeps it current after the model changed,
    recomputing only what depends on the groups and instances that changed (every query then
    answers as a fresh `ExposureIndex(model)` would).

    Group bits are stable: a new group takes a free bit, a deleted group frees its own, so
    the masks of the instances and groups that did not change stay valid."""

    def __init__(self, model) -> None:
        self.model = model
        self.group_ids: list[str | None] = sorted(model.groups)  # bit -> group (None: free)
        self.bit = {g: n for n, g in enumerate(self.group_ids) if g is not None}
        self._free_bits: list[int] = []
        self._masks: dict[tuple[str, ...], int] = {}  # a NIC's groups -> their bits
        self._placed: dict[str, _Placed] = {}
        self._holders: dict[int, set[str]] = {}  # private IP -> instances with a NIC holding it
        self._members: dict[str, dict[str, tuple[int, ...]]] = {g: {} for g in model.groups}
        self._co_count: dict[str, dict[str, int]] = {g: {} for g in model.groups}
        # private IP -> bits of the groups it is a member IP of (in any network): what group
        # authorisation matches, as `resolve_rule` resolves it
        self.tags: dict[int, int] = {}
        by_network: dict[tuple, dict[int, int]] = {}
        combinations: dict[tuple[str, ...], int] = {}
        for iid, inst in model.instances.items():
            placed = self._placed[iid] = self._place(inst)
            self._add(iid, placed, co=False)
            for nic in placed.nics:
                combinations[nic.groups] = combinations.get(nic.groups, 0) + 1
            labels = by_network.setdefault(placed.network, {})
            for nic in placed.nics:
                for n in nic.ips:
                    if nic.mask:
                        self.tags[n] = self.tags.get(n, 0) | nic.mask
                    labels[n] = labels.get(n, 0) | nic.mask
        # group -> private IPs (ints) of its members, each NIC's once
        self.member_ips: dict[str, list[int]] = {
            g: [ip for ips in by.values() for ip in ips] for g, by in self._members.items()
        }
        self.member_sorted = sorted(self.tags)
        # private network -> batches of its member IPs: (sorted IPs, tags, labels: bits of the
        # groups they are members of in this network, the groups to report them under)
        self.networks: dict[tuple, list[tuple[list[int], int, int]]] = {}
        self._batches: dict[tuple, dict[tuple[int, int], list[int]]] = {}
        self._slots: dict[tuple, dict[int, tuple[int, int]]] = {}  # network -> IP -> its batch
        for key, labels in by_network.items():
            batches: dict[tuple[int, int], list[int]] = {}
            slots = self._slots[key] = {}
            for ip, mask in labels.items():
                slot = slots[ip] = (self.tags.get(ip, 0), mask)
                batches.setdefault(slot, []).append(ip)
            for ips in batches.values():
                ips.sort()
            self._batches[key] = batches
            self._publish(key)
        for groups, n in combinations.items():
            self._count_co(groups, n)
        # group -> groups its members are also in (for same-group access through multi-membership)
        self.co_groups: dict[str, set[str]] = {
            g: {h for h, n in counts.items() if n} for g, counts in self._co_count.items()
        }
        self._rule_sets: dict[tuple, RuleSetExposure] = {}
        self._group_rules: dict[tuple[str, NetworkType], _GroupRules] = {}
        self._internet_peers: dict[str, tuple[ipv4.Interval, ...]] = {}
        self._cidrs: dict[str, ipv4.Interval] = {}
        self._group_batches: dict[str, list[tuple[list[int], int]]] = {}
        self._has_members: dict[ipv4.Interval, bool] = {}
        # what compiled group rules read of other groups and of the members (for `update`)
        self._peer_users: dict[str, set[str]] = {}  # group -> groups with rules naming it
        self._cidr_users: dict[ipv4.Interval, set[str]] = {}  # block -> groups whose cuts ask

    # -- keeping current -------------------------------------------------------------------------

    def _place(self, inst: Instance) -> _Placed:
        nics = []
        for nic in inst.nics:
            groups = tuple(nic.security_group_ids)
            mask = self._masks.get(groups)
            if mask is None:
                mask = self._masks[groups] = self.mask_of(groups)
            nics.append(_Nic(groups, mask, tuple(map(ipv4.ip_value, nic.private_ips))))
        return _Placed(self.network_key(inst), tuple(nics))

    def _add(self, iid: str, placed: _Placed, co: bool = True) -> None:
        """Records the instance's members and holders (and co-groups, unless `co` is False:
        the whole build counts those per group combination)."""
        for nic in placed.nics:
            for n in nic.ips:
                holders = self._holders.get(n)
                if holders is None:
                    self._holders[n] = {iid}
                else:
                    holders.add(iid)
            for g in nic.groups:
                members = self._members[g]
                had = members.get(iid)
                members[iid] = nic.ips if had is None else had + nic.ips
            if co:
                self._count_co(nic.groups, 1)

    def _count_co(self, groups: tuple[str, ...], n: int) -> None:
        for g in groups:
            counts = self._co_count.get(g)
            if counts is None:  # deleted meanwhile
                continue
            for h in groups:
                left = counts.get(h, 0) + n
                if left > 0:
                    counts[h] = left
                else:
                    counts.pop(h, None)

    def _remove(self, iid: str, placed: _Placed) -> None:
        for nic in placed.nics:
            for n in nic.ips:
                holders = self._holders.get(n)
                if holders is not None:
                    holders.discard(iid)
                    if not holders:
                        del self._holders[n]
            for g in nic.groups:
                members = self._members.get(g)
                if members is not None:
                    members.pop(iid, None)
            self._count_co(nic.groups, -1)

    def _publish(self, key: tuple) -> None:
        batches = self._batches.get(key)
        if batches:
            self.networks[key] = [(ips, t, m) for (t, m), ips in batches.items()]
        else:
            self.networks.pop(key, None)

    def _slot_in(self, key: tuple, n: int) -> tuple[int, int] | None:
        """(tags, labels) of the IP in the network now; None when no NIC there holds it."""
        label, held = 0, False
        for iid in self._holders.get(n, ()):
            placed = self._placed[iid]
            if placed.network != key:
                continue
            for nic in placed.nics:
                if n in nic.ips:
                    label |= nic.mask
                    held = True
        return (self.tags.get(n, 0), label) if held else None

    def _move(self, key: tuple, n: int, slot: tuple[int, int] | None) -> bool:
        """Puts the IP in the network's batch `slot` (None: out of the network)."""
        slots = self._slots.setdefault(key, {})
        old = slots.get(n)
        if old == slot:
            return False
        batches = self._batches.setdefault(key, {})
        if old is not None:
            ips = batches[old]
            del ips[bisect_left(ips, n)]
            if not ips:
                del batches[old]
            del slots[n]
        if slot is not None:
            insort(batches.setdefault(slot, []), n)
            slots[n] = slot
        if not batches:
            del self._batches[key]
            del self._slots[key]
        return True

    def update(
        self, groups: Iterable[str] = (), instances: Iterable[str] = (), meta: bool = False
    ) -> dict[str, int]:
        """Brings the index to the model after the `groups` (their attributes, their rules, or
        the group created or deleted) and `instances` (an instance, its NICs, their groups;
        created or deleted) changed; `meta`: the fleet's other settings (limits) changed.
        Returns counts of what was recomputed (for figures and tests)."""
        model = self.model
        recompile: set[str] = set()  # groups whose compiled rules are out of date
        existence: set[str] = set()
        for g in set(groups):
            recompile.add(g)
            if (g in model.groups) != (g in self.bit):
                self._masks.clear()  # bits move
            if g in model.groups and g not in self.bit:
                b = self._free_bits.pop() if self._free_bits else len(self.group_ids)
                if b == len(self.group_ids):
                    self.group_ids.append(g)
                else:
                    self.group_ids[b] = g
                self.bit[g] = b
                self._members[g], self._co_count[g] = {}, {}
                self.member_ips[g], self.co_groups[g] = [], set()
                existence.add(g)
            elif g not in model.groups and g in self.bit:
                b = self.bit.pop(g)
                self.group_ids[b] = None
                self._free_bits.append(b)
                for table in (self._members, self._co_count, self.member_ips, self.co_groups):
                    table.pop(g, None)
                existence.add(g)
        # instances: what they were against what they are
        touched: dict[int, set[tuple]] = {}  # IP -> networks it was or is held in
        member_changed: set[str] = set()
        moved = 0
        for iid in set(instances):
            old = self._placed.pop(iid, None)
            inst = model.instances.get(iid)
            new = self._place(inst) if inst is not None else None
            if old == new:
                if old is not None:
                    self._placed[iid] = old
                continue
            moved += 1
            for placed in (old, new):
                if placed is None:
                    continue
                for nic in placed.nics:
                    member_changed.update(nic.groups)
                    for n in nic.ips:
                        touched.setdefault(n, set()).add(placed.network)
            if old is not None:
                self._remove(iid, old)
            if new is not None:
                self._placed[iid] = new
                self._add(iid, new)
        member_changed &= self.bit.keys()
        for g in member_changed:
            self.member_ips[g] = [ip for ips in self._members[g].values() for ip in ips]
        # tags, the member IPs and the networks' batches
        retagged: set[str] = set()  # groups with a member IP whose tags changed
        flipped: list[int] = []  # IPs that became, or stopped being, member IPs
        changed_networks: set[tuple] = set()
        for n, networks in touched.items():
            old_t = self.tags.get(n, 0)
            new_t = 0
            for iid in self._holders.get(n, ()):
                placed = self._placed[iid]
                networks.add(placed.network)
                for nic in placed.nics:
                    if n in nic.ips:
                        new_t |= nic.mask
            if new_t != old_t:
                retagged.update(self.groups_of(old_t | new_t))
                if new_t:
                    self.tags[n] = new_t
                else:
                    del self.tags[n]
                if not old_t:
                    insort(self.member_sorted, n)
                    flipped.append(n)
                elif not new_t:
                    del self.member_sorted[bisect_left(self.member_sorted, n)]
                    flipped.append(n)
            for key in networks:
                if self._move(key, n, self._slot_in(key, n)):
                    changed_networks.add(key)
        for key in changed_networks:
            self._publish(key)
        # CIDRs that now hold members, or no longer do: the groups whose cuts ask about them
        for n in flipped:
            for block in [b for b in self._has_members if b[0] <= n <= b[1]]:
                before = self._has_members.pop(block)
                if self.has_members(block) != before:
                    recompile |= self._cidr_users.get(block, set())
        # the members' internet addresses, as peers of other groups' rules
        # (only internet addresses count: none among those that moved, nothing to do)
        peers_moved = member_changed if any(_is_internet(n) for n in touched) else set()
        for g in peers_moved | existence:
            before_peers = self._internet_peers.pop(g, None)
            if before_peers is not None and self.internet_peers(g) != before_peers:
                recompile |= self._peer_users.get(g, set())
        for g in existence:
            recompile |= self._peer_users.get(g, set())
        # each group's members anywhere
        isolated = member_changed | retagged | existence
        for g in isolated:
            self._group_batches.pop(g, None)
        co_changed: set[str] = set()
        for g in member_changed:
            now = {h for h, c in self._co_count[g].items() if c}
            if now != self.co_groups[g]:
                self.co_groups[g] = now
                co_changed.add(g)
        for g in recompile:
            for network in NetworkType:
                self._group_rules.pop((g, network), None)
        # the rule sets: dropped when one of their groups changed, else the parts that read
        # the members
        dropped = cleared = 0
        for key, rule_set in list(self._rule_sets.items()):
            own = key[0]
            if (recompile or existence) and any(g in recompile or g not in self.bit for g in own):
                del self._rule_sets[key]
                dropped += 1
                continue
            if rule_set.forget(
                members=rule_set.network in changed_networks,
                groups=isolated,
                co_groups=co_changed,
                reports=meta,
            ):
                cleared += 1
        return {
            "instances": moved,
            "groups recompiled": len(recompile),
            "networks": len(changed_networks),
            "rule sets dropped": dropped,
            "rule sets cleared": cleared,
        }

    # -- queries ---------------------------------------------------------------------------------

    @property
    def rule_sets(self) -> dict[tuple, RuleSetExposure]:
        """The rule sets worked out so far (a copy)."""
        return dict(self._rule_sets)

    @property
    def compiled_groups(self) -> dict[tuple[str, NetworkType], _GroupRules]:
        """The groups' rules resolved so far, by (group, network type) (a copy)."""
        return dict(self._group_rules)

    @staticmethod
    def network_key(inst: Instance) -> tuple:
        if inst.network_type is NetworkType.VPC:
            return ("vpc", inst.vpc_id)
        return ("classic", inst.region_id)

    def knows(self, group_ids) -> bool:
        """Are all these groups in the index (it may lag the model until its next update)?"""
        return all(g in self.bit for g in group_ids)

    def mask_of(self, group_ids) -> int:
        mask = 0
        for g in group_ids:
            mask |= 1 << self.bit[g]
        return mask

    def groups_of(self, mask: int) -> list[str]:
        return [g for g in (self.group_ids[b] for b in bits(mask)) if g is not None]

    def group_rules(self, group_id: str, network: NetworkType) -> _GroupRules:
        key = (group_id, network)
        found = self._group_rules.get(key)
        if found is None:
            specs = tuple(self._spec(r, network) for r in self.model.groups[group_id].rules)
            ingress = [s for s in specs if s.ingress]
            for s in specs:  # what `update` must recompile this group for
                if s.peer_group_id is not None:
                    self._peer_users.setdefault(s.peer_group_id, set()).add(group_id)
                elif s.ingress and s.cidr is not None:
                    self._cidr_users.setdefault(s.cidr, set()).add(group_id)
            found = self._group_rules[key] = _GroupRules(
                tuple(s.rule for s in specs),
                specs,
                tuple((s.strength, s.rule.rule_id) for s in specs),
                tuple((s.strength, n) for n, s in enumerate(specs) if s.ingress),
                self.mask_of({s.peer_group_id for s in ingress if s.peer_group_id in self.bit}),
                frozenset(
                    b
                    for s in ingress
                    if s.cidr and self.has_members(s.cidr)
                    for b in (s.cidr[0], s.cidr[1] + 1)
                ),
            )
        return found

    def _spec(self, rule: SecurityGroupRule, network: NetworkType) -> _RuleSpec:
        cidr = None
        if rule.peer_cidr is not None:
            cidr = self._cidrs.get(rule.peer_cidr)
            if cidr is None:
                cidr = self._cidrs[rule.peer_cidr] = ipv4.cidr_text_interval(rule.peer_cidr)
        lo, hi = rule.port_range.interval()
        return _RuleSpec(
            rule,
            rule.direction is Direction.INGRESS,
            FLOW_PROTOCOLS if rule.ip_protocol is IpProtocol.ALL else (rule.ip_protocol,),
            rule.nic_type if network is NetworkType.CLASSIC else None,
            lo,
            hi,
            cidr,
            None if rule.peer_cidr is not None else (rule.peer_group_id or ""),
            rule.strength,
            rule.policy is RulePolicy.ACCEPT,
            (cidr,) if cidr is not None else self.internet_peers(rule.peer_group_id or ""),
        )

    def has_members(self, block: ipv4.Interval) -> bool:
        """Does the block hold any group member's private IP?"""
        found = self._has_members.get(block)
        if found is None:
            i = bisect_left(self.member_sorted, block[0])
            found = i < len(self.member_sorted) and self.member_sorted[i] <= block[1]
            self._has_members[block] = found
        return found

    def group_batches(self, group_id: str) -> list[tuple[list[int], int]]:
        """The group's member IPs (anywhere, each once) as (sorted IPs, tags) batches."""
        found = self._group_batches.get(group_id)
        if found is None:
            batches: dict[int, list[int]] = {}
            for ip in sorted(set(self.member_ips[group_id])):
                batches.setdefault(self.tags[ip], []).append(ip)
            found = self._group_batches[group_id] = [(ips, t) for t, ips in batches.items()]
        return found

    def internet_peers(self, group_id: str) -> tuple[ipv4.Interval, ...]:
        """The members' private IPs that are internet addresses (normally none)."""
        peers = self._internet_peers.get(group_id)
        if peers is None:
            internet = [(n, n) for n in self.member_ips.get(group_id, []) if _is_internet(n)]
            peers = (
                tuple(ipv4.intersect(ipv4.merge(internet), ipv4.INTERNET_SPACE)) if internet else ()
            )
            self._internet_peers[group_id] = peers
        return peers

    def rule_set(self, inst: Instance, nic: Nic) -> RuleSetExposure:
        """The shared work for the rule set of `nic` (of `inst`)."""
        key = (tuple(nic.security_group_ids), inst.network_type, self.network_key(inst))
        found = self._rule_sets.get(key)
        if found is None:
            found = self._rule_sets[key] = RuleSetExposure(self, inst, key[0])
        return found


def _rule_keys(segments: list[Segment]) -> list[tuple[int, int, frozenset[int]]]:
    """Sweep segments -> (lo, hi, the deciding accept rules' indices)."""
    return [(lo, hi, frozenset(k for k, _ in found)) for lo, hi, found in segments]


class RuleSetExposure:
    """Exposure of one rule set (the groups of a NIC, on one private network), shared by every
    instance with the same groups: internet entries, each other group's entries, and the
    entries for the other members of an isolated own group."""

    def __init__(self, index: ExposureIndex, inst: Instance, own: tuple[str, ...]) -> None:
        self.index = index
        self.classic = inst.network_type is NetworkType.CLASSIC
        self.network = ExposureIndex.network_key(inst)
        self.own = own
        model = index.model
        # Indices follow `resolve_nic_policy`: position in the NIC's rule set, egress included
        # (equal strengths go to the earlier rule).
        self.rules: list[SecurityGroupRule] = []
        self.specs: list[_RuleSpec] = []
        self.report_order: list[tuple[int, str]] = []
        order: list[int] = []
        authorised = 0
        cuts: set[int] = set()
        for g in self.own:
            part = index.group_rules(g, inst.network_type)
            offset = len(self.rules)
            # decision order: smaller strength first, then the earlier rule
            order += [strength << 32 | offset + n for strength, n in part.ingress]
            self.rules += part.rules
            self.specs += part.specs
            self.report_order += part.report_order
            authorised |= part.authorised
            cuts |= part.cuts
        order.sort()
        # Indices of the ingress rules in decision order. (Plain ints, not (index, rule)
        # pairs: a fleet keeps hundreds of rule sets, and tuples would cost the garbage
        # collector dearly.)
        self.ingress = [key & 0xFFFFFFFF for key in order]
        # tags that some group rule authorises: the only memberships that tell sources apart
        self.authorised = authorised
        self.cuts = sorted(cuts)
        self.own_accept = index.mask_of(g for g in self.own if _inner_accept(model.groups[g]))
        self.same_group = set().union(
            *(index.co_groups[g] for g in index.groups_of(self.own_accept))
        )
        self._internet: tuple[ExposureEntry, ...] | None = None
        self._by_group: dict[str, tuple[ExposureEntry, ...]] | None = None
        self._isolated: dict[str, tuple[MemberClasses, list]] = {}
        self._isolated_entries: dict[tuple[str, int], tuple[ExposureEntry, ...]] = {}
        self.reports: dict[tuple, tuple] = {}
        self._tables_by_nic_type: dict[tuple[NicType | None, bool], list] = {}
        self._entry_memo: dict[tuple, ExposureEntry] = {}

    def forget(
        self, members: bool, groups: set[str], co_groups: set[str], reports: bool = False
    ) -> bool:
        """Drops the work that read the members: `members`, those of this private network
        (the other groups' entries); `groups`, the own groups whose members anywhere changed
        (an isolated group's entries); `co_groups`, the groups whose members' other groups
        changed (same-group access through an own Accept group); `reports`, the report
        bodies alone (the fleet's limits). Returns whether anything was dropped."""
        stale = reports
        index = self.index
        accept = index.groups_of(self.own_accept) if co_groups else ()
        if any(g in co_groups for g in accept):
            self.same_group = set().union(*(index.co_groups[g] for g in accept))
            self._by_group = None
            stale = True
        if members and self._by_group is not None:
            self._by_group = None
            stale = True
        for g in groups & self._isolated.keys():
            del self._isolated[g]
            for k in [k for k in self._isolated_entries if k[0] == g]:
                del self._isolated_entries[k]
            stale = True
        if stale:  # a report's key holds source classes, its body the parts above
            self.reports.clear()
        return stale

    def _tables(self, private: bool) -> list[tuple[IpProtocol, list[int]]]:
        """Indices of the ingress rules per protocol towards the private IP (or the public
        one), in decision order, for the protocols that have any (as `CompiledPolicy.table`).
        Private sources are group members: the private tables leave out rules whose peer
        holds none (they never decide)."""
        nt = (NicType.INTRANET if private else NicType.INTERNET) if self.classic else None
        found = self._tables_by_nic_type.get((nt, private))
        if found is not None:
            return found
        index, specs = self.index, self.specs
        tables: dict[IpProtocol, list[int]] = {p: [] for p in FLOW_PROTOCOLS}
        for i in self.ingress:
            s = specs[i]
            if s.nic_type is not None and s.nic_type is not nt:
                continue
            if private and (
                index.bit.get(s.peer_group_id or "") is None
                if s.cidr is None
                else not index.has_members(s.cidr)
            ):
                continue
            for p in s.protocols:
                tables[p].append(i)
        out = self._tables_by_nic_type[(nt, private)] = [(p, r) for p, r in tables.items() if r]
        return out

    def _sweep_rules(
        self, private: bool, masks: Callable[[_RuleSpec], int]
    ) -> list[tuple[IpProtocol, list[SweepRule]]]:
        """(protocol, rules for the sweep) for each protocol with rules; `masks` gives a
        rule's source classes. Rules that match no source never decide: left out."""
        specs = self.specs
        out = []
        for p, rules in self._tables(private):
            swept = []
            for i in rules:
                s = specs[i]
                m = masks(s)
                # a sender picks its source port: a drop rule limited to some never protects
                if m and source_port_matches(s.rule, 0):
                    swept.append((s.port_lo, s.port_hi, m, s.accept, i))
            out.append((p, swept))
        return out

    @staticmethod
    def _sweep(
        per_protocol: list[tuple[IpProtocol, list[SweepRule]]], everyone: int
    ) -> list[tuple[IpProtocol, list[Segment]]]:
        """`deciding_rules` for each protocol; protocols with the same rules (GRE and ICMPv6
        usually have only the all-protocol ones) share the sweep."""
        done: dict[tuple[int, ...], list[Segment]] = {}
        out = []
        for protocol, rules in per_protocol:
            key = tuple(r[4] for r in rules)
            segs = done.get(key)
            if segs is None:
                segs = done[key] = deciding_rules(rules, everyone)
            out.append((protocol, segs))
        return out

    @property
    def internet(self) -> tuple[ExposureEntry, ...]:
        if self._internet is None:
            pieces = AddressPieces(
                ipv4.INTERNET_SPACE,
                (b for i in self.ingress for b in self.specs[i].internet_blocks),
            )
            by_blocks: dict[tuple[ipv4.Interval, ...], int] = {}

            def masks(spec: _RuleSpec) -> int:
                m = by_blocks.get(spec.internet_blocks)
                if m is None:
                    m = by_blocks[spec.internet_blocks] = pieces.mask(spec.internet_blocks)
                return m

            rules = self._sweep_rules(False, masks)
            out: list[ExposureEntry] = []
            for protocol, segments in self._sweep(rules, pieces.everyone):
                out += self._entries(_rule_keys(segments), protocol)
            self._internet = tuple(out)
        return self._internet

    def _rule_masks(self, classes: MemberClasses) -> Callable[[_RuleSpec], int]:
        """A rule -> the classes its peer matches (remembered by peer)."""
        bit = self.index.bit
        by_peer: dict[object, int] = {}

        def masks(spec: _RuleSpec) -> int:
            peer = spec.cidr or spec.peer_group_id
            m = by_peer.get(peer)
            if m is None:
                if spec.cidr is not None:
                    m = classes.cidr_mask(*spec.cidr)
                else:
                    b = bit.get(spec.peer_group_id or "")
                    m = 0 if b is None else classes.tag_mask(b)
                by_peer[peer] = m
            return m

        return masks

    @property
    def by_group(self) -> dict[str, tuple[ExposureEntry, ...]]:
        """Entries for the members of each group that is neither the NIC's own nor open to it
        through same-group access (those are reported whole, see `_report_body`)."""
        if self._by_group is not None:
            return self._by_group
        index = self.index
        wanted = (
            ((1 << len(index.group_ids)) - 1)
            & ~index.mask_of(self.own)
            & ~index.mask_of(self.same_group)
        )
        self._by_group = {}
        if not wanted:
            return self._by_group
        # Members of the own Accept groups are let in before any rule (inner accept).
        classes = MemberClasses(
            self.cuts,
            (
                (ips, tags & self.authorised, labels & wanted)
                for ips, tags, labels in index.networks.get(self.network, [])
                if labels & wanted and not tags & self.own_accept
            ),
        )
        if not len(classes):
            return self._by_group
        # group -> the classes with members of it
        group_classes: dict[str, int] = {}
        for c, labels in enumerate(classes.labels):
            for b in bits(labels):
                g = index.group_ids[b]
                assert g is not None  # a bit in use
                group_classes[g] = group_classes.get(g, 0) | 1 << c
        reaching = list(group_classes.items())
        memo: dict[tuple, list[tuple[str, frozenset[int]]]] = {}
        shared: dict[tuple[int, ...], frozenset[int]] = {}
        rules = self._sweep_rules(True, self._rule_masks(classes))
        per_group: dict[str, list[ExposureEntry]] = {}
        for protocol, segments in self._sweep(rules, classes.everyone):
            segs_by_group: dict[str, list] = {}
            for lo, hi, found in segments:
                if not found:
                    continue
                reached = memo.get(found)
                if reached is None:
                    reached = memo[found] = []
                    for g, members in reaching:
                        keys = tuple(k for k, hit in found if hit & members)
                        if keys:
                            ks = shared.get(keys)
                            if ks is None:
                                ks = shared[keys] = frozenset(keys)
                            reached.append((g, ks))
                for g, ks in reached:
                    segs_by_group.setdefault(g, []).append((lo, hi, ks))
            for g, segs in segs_by_group.items():
                per_group.setdefault(g, []).extend(self._entries(segs, protocol))
        self._by_group = {g: tuple(entries) for g, entries in per_group.items()}
        return self._by_group

    def _isolated_classes(self, group_id: str) -> tuple[MemberClasses, list]:
        found = self._isolated.get(group_id)
        if found is None:
            classes = MemberClasses(
                self.cuts,
                (
                    (ips, tags & self.authorised, 0)
                    for ips, tags in self.index.group_batches(group_id)
                ),
            )
            rules = self._sweep_rules(True, self._rule_masks(classes))
            found = self._isolated[group_id] = (classes, rules)
        return found

    def other_members(self, group_id: str, my_ips: set[int]) -> int:
        """The source classes of the group's members other than `my_ips` (its member IPs
        anywhere, as the isolated own group's "members"); 0 when there are none."""
        index = self.index
        classes, _ = self._isolated_classes(group_id)
        present = classes.everyone
        member = 1 << index.bit[group_id]
        gone: dict[int, int] = {}
        for ip in my_ips:
            tags = index.tags.get(ip, 0)
            if tags & member:
                c = classes.class_of(ip, tags & self.authorised)
                assert c is not None
                gone[c] = gone.get(c, 0) + 1
                if gone[c] == classes.sizes[c]:  # the class had no one else
                    present &= ~(1 << c)
        return present

    def isolated_entries(self, group_id: str, present: int) -> tuple[ExposureEntry, ...]:
        """Ports the `present` classes of an own group's members reach (see `other_members`)."""
        key = (group_id, present)
        entries = self._isolated_entries.get(key)
        if entries is None:
            _, rules = self._isolated_classes(group_id)
            out: list[ExposureEntry] = []
            for protocol, segments in self._sweep(rules, present):
                out += self._entries(_rule_keys(segments), protocol)
            entries = self._isolated_entries[key] = tuple(out)
        return entries

    def _entries(
        self, per_segment: list[tuple[int, int, frozenset[int]]], protocol: IpProtocol
    ) -> list[ExposureEntry]:
        """Adjacent port segments with the same deciding rules (indices) -> entries, each
        listing its rules by (strength, rule id). Equal entries are one object."""
        runs: list[tuple[int, int, frozenset[int]]] = []
        for lo, hi, rules in per_segment:
            if not rules:
                continue
            if runs and runs[-1][2] == rules and runs[-1][1] + 1 == lo:
                runs[-1] = (runs[-1][0], hi, rules)
            else:
                runs.append((lo, hi, rules))
        ported = protocol in PORTED_PROTOCOLS
        out = []
        for lo, hi, rules in runs:
            plo, phi = (max(lo, 1), hi) if ported else (-1, -1)
            key = (protocol, plo, phi, rules)
            entry = self._entry_memo.get(key)
            if entry is None:
                order = self.report_order.__getitem__
                listed = tuple(self.rules[i] for i in sorted(rules, key=order))
                entry = self._entry_memo[key] = ExposureEntry(protocol, plo, phi, listed)
            out.append(entry)
        return out


def _inner_accept(group) -> bool:
    return (
        group.group_type is GroupType.NORMAL
        and group.inner_access_policy is InnerAccessPolicy.ACCEPT
    )
