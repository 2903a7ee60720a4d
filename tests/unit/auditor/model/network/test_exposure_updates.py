"""`ExposureIndex.update`: after any sequence of model changes followed by an update naming the
groups and instances that changed, the index answers every query as a fresh
`ExposureIndex(model)` does (and as the naive scan does), while recompiling only what the
changes reach."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.unit.auditor.model.network.test_exposure_fast as fast
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.cloud_model import CloudModel
from palisade.auditor.model.network.exposure import exposure
from palisade.auditor.model.network.exposure_index import ExposureIndex
from palisade.auditor.model.network.security_group import NetworkType, RuleRequest

NOW = fast.NOW
REGION = fast.REGION

# ------------------------------------------------------------------ what the index answers


def _names(index: ExposureIndex, mask: int) -> tuple[str, ...]:
    return tuple(sorted(index.groups_of(mask)))


def view(index: ExposureIndex) -> dict:
    """The index's fleet-wide structures in group names (bits are the index's own)."""
    model = index.model
    return {
        "groups": sorted(g for g in index.group_ids if g is not None),
        "member_ips": {g: sorted(index.member_ips[g]) for g in model.groups},
        "tags": {ip: _names(index, t) for ip, t in index.tags.items()},
        "member_sorted": list(index.member_sorted),
        "networks": {
            key: sorted(
                (ip, _names(index, t), _names(index, m)) for ips, t, m in batches for ip in ips
            )
            for key, batches in index.networks.items()
            if batches
        },
        "co_groups": {g: index.co_groups[g] for g in model.groups},
    }


def reports(model, index: ExposureIndex | None, black_holed: frozenset[str] = frozenset()):
    return {iid: exposure(model, iid, index, iid in black_holed) for iid in model.instances}


def assert_current(model, index: ExposureIndex, context: str) -> None:
    fresh = ExposureIndex(model)
    assert view(index) == view(fresh), context
    some = frozenset(list(model.instances)[::2])
    assert reports(model, index) == reports(model, fresh), context
    assert reports(model, index, some) == reports(model, fresh, some), context


# ------------------------------------------------------------------ random changes


def _prefix(model, vpc: str | None) -> str:
    if vpc is None:
        return "10.100.0."
    return "172.16.0." if model.vpcs[vpc].cidr.startswith("172") else "192.168.0."


def _rule(rng: random.Random, model, vpc: str | None) -> RuleRequest:
    proto = rng.choice(["tcp", "tcp", "udp", "icmp", "gre", "all"])
    if proto in ("tcp", "udp"):
        a, b = sorted(rng.sample(fast.PORT_EDGES, 2))
        ports = f"{a}/{a if rng.random() < 0.3 else b}"
    else:
        ports = "-1/-1"
    ids = sorted(model.groups)
    peer: dict = (
        {"peer_group_id": rng.choice(ids)}
        if ids and rng.random() < 0.35
        else {"peer_cidr": rng.choice(fast.CIDRS)}
    )
    return RuleRequest(
        "ingress" if rng.random() < 0.85 else "egress",
        proto,
        ports,
        policy="accept" if rng.random() < 0.7 else "drop",
        priority=rng.randint(1, 3),
        nic_type="internet" if vpc is None and rng.random() < 0.4 else "intranet",
        **peer,
    )


def _networks(model) -> list[str | None]:
    return sorted(model.vpcs) + [None]


CHANGES = (
    "authorize",
    "revoke",
    "policy",
    "join",
    "leave",
    "create instance",
    "delete instance",
    "create group",
    "delete group",
    "address",
    "public ip",
)


def random_change(rng: random.Random, model: CloudModel) -> tuple[set[str], set[str], str]:
    """One change through the model (or, for an address, as a replica's stored instance would
    put it); returns (groups changed, instances changed, what was done)."""
    groups = sorted(model.groups)
    instances = sorted(model.instances)
    kind = rng.choice(["authorize", "join", *CHANGES])  # rules and joins twice as often
    try:
        if kind == "authorize" and groups:
            g = rng.choice(groups)
            model.authorize(g, _rule(rng, model, model.groups[g].vpc_id), NOW)
            return {g}, set(), f"{kind} {g}"
        if kind == "revoke" and groups:
            g = rng.choice(groups)
            rules = model.groups[g].rules
            if rules:
                model.revoke(g, rng.choice(rules).rule_id)
                return {g}, set(), f"{kind} {g}"
        if kind == "policy" and groups:
            g = rng.choice(groups)
            model.modify_security_group_policy(g, rng.choice(["Accept", "Drop"]))
            return {g}, set(), f"{kind} {g}"
        if kind in ("join", "leave") and groups and instances:
            i, g = rng.choice(instances), rng.choice(groups)
            (model.join if kind == "join" else model.leave)(i, g)
            return set(), {i}, f"{kind} {i} {g}"
        if kind == "create instance":
            vpc = rng.choice(_networks(model))
            mine = [g for g in groups if model.groups[g].vpc_id == vpc]
            if mine:
                inst = model.create_instance(
                    "1001",
                    REGION,
                    created_at=NOW,
                    vpc_id=vpc,
                    network_type="vpc" if vpc else "classic",
                    private_ips=[_prefix(model, vpc) + str(rng.randint(1, 6))],
                    public_ip=f"47.0.1.{rng.randint(1, 250)}" if rng.random() < 0.6 else None,
                    security_group_ids=rng.sample(mine, rng.randint(1, min(3, len(mine)))),
                )
                return set(), {inst.instance_id}, f"{kind} {inst.instance_id}"
        if kind == "delete instance" and instances:
            i = rng.choice(instances)
            model.delete_instance(i, force=True)
            return set(), {i}, f"{kind} {i}"
        if kind == "create group":
            vpc = rng.choice(_networks(model))
            enterprise = rng.random() < 0.2
            g = model.create_security_group(
                "1001",
                REGION,
                now=NOW,
                vpc_id=vpc,
                network_type="vpc" if vpc else "classic",
                group_type="enterprise" if enterprise else "normal",
                inner_access_policy="Drop" if enterprise or rng.random() < 0.4 else "Accept",
            ).group_id
            return {g}, set(), f"{kind} {g}"
        if kind == "delete group" and groups:
            g = rng.choice(groups)
            model.delete_security_group(g)
            return {g}, set(), f"{kind} {g}"
        if kind == "address" and instances:
            i = rng.choice(instances)
            inst = model.instances[i]
            nic = inst.primary_nic
            # sometimes an internet address (a peer group's members then reach as internet
            # sources), as a replica may hold what the model would refuse
            prefix = "8.8.8." if rng.random() < 0.15 else _prefix(model, inst.vpc_id)
            nic.private_ips = [prefix + str(rng.randint(1, 7))]
            return set(), {i}, f"{kind} {i} {nic.private_ips}"
        if kind == "public ip" and instances:
            i = rng.choice(instances)
            nic = model.instances[i].primary_nic
            nic.public_ip = None if nic.public_ip else f"47.0.2.{rng.randint(1, 250)}"
            return set(), {i}, f"{kind} {i}"
    except ModelError:
        pass
    return set(), set(), f"{kind}: nothing"


# ------------------------------------------------------------------ the oracle


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(min_value=0, max_value=2**32 - 1),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.integers(min_value=1, max_value=6),
)
def test_an_updated_index_answers_as_a_fresh_one(fleet_seed, change_seed, steps):
    model = fast.random_fleet(fleet_seed)
    rng = random.Random(change_seed)
    index = ExposureIndex(model)
    done: list[str] = []
    for _ in range(steps):
        # warm some of the caches first: an update must drop what is out of date
        for iid in list(model.instances):
            if rng.random() < 0.7:
                exposure(model, iid, index, rng.random() < 0.2)
        groups: set[str] = set()
        instances: set[str] = set()
        for _ in range(rng.randint(1, 4)):  # several changes, one update (a replica's batch)
            g, i, what = random_change(rng, model)
            groups |= g
            instances |= i
            done.append(what)
        index.update(groups, instances)
        assert_current(model, index, f"seeds {fleet_seed} {change_seed}: {done}")
    for iid in model.instances:
        assert exposure(model, iid, index) == fast.naive_exposure(model, iid), done


def test_random_changes_exercise_every_kind():
    """The generator really changes the model in every way it names (not only refusals)."""
    seen: set[str] = set()
    for seed in range(300):
        model = fast.random_fleet(seed)
        rng = random.Random(seed)
        for _ in range(6):
            _, _, what = random_change(rng, model)
            if "nothing" not in what:
                seen.add(what.split(" i-")[0].split(" sg-")[0])
    assert set(CHANGES) <= seen, seen


# ------------------------------------------------------------------ recompiling only what changed


def _fleet() -> tuple[CloudModel, list[str], list[str]]:
    rng = random.Random(5)
    model = CloudModel()
    model.add_account("1001")
    model.add_region(REGION)
    vpc = model.create_vpc("1001", REGION, "172.16.0.0/12").vpc_id
    groups = [
        model.create_security_group("1001", REGION, now=NOW, vpc_id=vpc).group_id for _ in range(6)
    ]
    for g in groups:
        for _ in range(5):
            try:
                model.authorize(g, _rule(rng, model, vpc), NOW)
            except ModelError:
                pass
    ids = [
        model.create_instance(
            "1001",
            REGION,
            created_at=NOW,
            vpc_id=vpc,
            private_ips=[f"172.16.0.{n + 1}"],
            public_ip=f"47.0.0.{n + 1}",
            security_group_ids=[groups[n % 3], groups[3 + n % 3]],
        ).instance_id
        for n in range(12)
    ]
    return model, groups, ids


def test_a_rule_change_recompiles_only_the_rule_sets_of_its_group():
    model, groups, ids = _fleet()
    index = ExposureIndex(model)
    reports(model, index)
    assert len(index.rule_sets) == 3
    kept = {k: v for k, v in index.rule_sets.items() if groups[0] not in k[0]}
    model.authorize(groups[0], RuleRequest("ingress", "tcp", "22/22", peer_cidr="0.0.0.0/0"), NOW)
    done = index.update(groups=[groups[0]])
    assert done["rule sets dropped"] == 1
    assert done["networks"] == 0
    assert {(groups[0], NetworkType.VPC)} & index.compiled_groups.keys() == set()
    assert all(index.rule_sets[k] is v for k, v in kept.items())
    assert_current(model, index, "rule added")


def test_an_instance_joining_a_group_keeps_every_compiled_group():
    model, groups, ids = _fleet()
    index = ExposureIndex(model)
    reports(model, index)
    compiled = dict(index.compiled_groups)
    model.join(ids[0], groups[1])
    done = index.update(instances=[ids[0]])
    assert done["instances"] == 1 and done["networks"] == 1
    # the members changed, not the rules: every compiled group is kept (no CIDR rule's
    # emptiness changed: the IP was a member already)
    assert index.compiled_groups == compiled
    assert_current(model, index, "joined")


def test_an_update_naming_nothing_that_changed_keeps_everything():
    model, groups, ids = _fleet()
    index = ExposureIndex(model)
    before = reports(model, index)
    rule_sets = dict(index.rule_sets)
    done = index.update(groups=[], instances=[ids[0]])
    assert done["instances"] == 0 and done["rule sets cleared"] == 0
    assert index.rule_sets == rule_sets
    assert reports(model, index) == before


def test_the_fleet_limits_changing_refreshes_the_reports_notes():
    model, groups, ids = _fleet()
    model.authorize(groups[0], RuleRequest("ingress", "tcp", "1/65535", peer_cidr="0.0.0.0/0"), NOW)
    index = ExposureIndex(model)
    before = reports(model, index)
    model.limits = replace(model.limits, carrier_blocked_ports=frozenset({4444}))
    index.update(meta=True)
    after = reports(model, index)
    assert after == reports(model, ExposureIndex(model)) and after != before
    assert any("tcp 4444" in note for r in after.values() for note in r.notes)


def test_a_report_for_a_group_the_index_has_not_heard_of_yet_is_still_right():
    """An instance joined a new group and the update has not run yet (the runner applies
    changes before its next round; a check may read the model in between)."""
    model, groups, ids = _fleet()
    index = ExposureIndex(model)
    reports(model, index)
    vpc = model.groups[groups[0]].vpc_id
    new = model.create_security_group("1001", REGION, now=NOW, vpc_id=vpc).group_id
    model.leave(ids[0], groups[0])
    model.join(ids[0], new)
    assert exposure(model, ids[0], index) == exposure(model, ids[0])
