"""The fleet room's operations say which units they touched (model.changes): the cloud model
(accounts, regions, VPCs, vSwitches, instances, groups and rules, tags, limits and id
counters), key pairs and their bindings, DDoS records and instance RAM roles.

Every mutating method runs through the oracle (tests/helpers/change_oracle.py: a unit changed
but not touched would be lost by the row store), the touched set is compared with the units
the change is about (touching too much costs a write), read-only methods touch nothing, and a
refused operation changes and touches nothing. A hypothesis test runs random sequences of
operations through the oracle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.auditor.model import changes as K
from palisade.auditor.model.changes import compound
from palisade.auditor.model.cloud_state import CloudState
from palisade.auditor.model.ddos.protection import DdosStatus, InstanceDdos
from palisade.auditor.model.ddos.thresholds import DdosThreshold
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.keypairs.service import GeneratedKey, InstanceView
from palisade.auditor.model.network.rules_json import group_document
from palisade.auditor.model.network.security_group import Direction, RuleRequest
from palisade.auditor.model.ram import Caller, InstanceRef, RequestContext
from tests.helpers.change_oracle import assert_touched
from tests.helpers.ram_policies import ECS_TRUST

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
R = "cn-hangzhou"
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHOIZLYJaeHEvSR6e1AKt4BOBDQjOUg3M/1wLOW6BJwP c"
FLEET = (K.FLEET, "")
SSH = RuleRequest(ip_protocol="tcp", port_range="22/22", peer_cidr="10.0.0.0/8")
WEB = RuleRequest(ip_protocol="tcp", port_range="443/443", peer_cidr="0.0.0.0/0")


def touched_by(state: CloudState, change: Callable[[], Any]) -> set[tuple[str, str]]:
    """Runs `change` through the oracle (every changed unit touched) and returns the units it
    touched."""
    out: set[tuple[str, str]] = set()

    def run() -> None:
        change()
        out.update(state.changes.touched())

    assert_touched(state, run)
    return out


def refused(state: CloudState, change: Callable[[], Any]) -> str:
    """`change` raises ModelError having changed and touched nothing; its code."""
    before = state.to_document()
    state.changes.take()
    with pytest.raises(ModelError) as err:
        change()
    assert state.changes.take() == []
    assert state.to_document() == before
    return err.value.code


def _keys() -> GeneratedKey:
    return GeneratedKey(ED25519, "-----BEGIN PRIVATE KEY-----\n(not stored)")


@pytest.fixture
def state() -> CloudState:
    """An account with a VPC, a vSwitch, a group with a rule and two instances in it."""
    st_, _admin = CloudState.create(NOW)
    st_.ram.create_role("EcsRole", ECS_TRUST, NOW)
    st_.ram.create_role("EcsOther", ECS_TRUST, NOW)
    cloud = st_.cloud
    account = st_.account_id
    vpc = cloud.create_vpc(account, R, "172.16.0.0/12", vpc_id="vpc-main")
    cloud.create_vswitch(vpc.vpc_id, f"{R}-h", "172.16.1.0/24", created_at=NOW, vswitch_id="vsw-1")
    group = cloud.create_security_group(account, R, now=NOW, vpc_id=vpc.vpc_id, group_id="sg-web")
    cloud.authorize(group.group_id, SSH, NOW)
    for n in (1, 2):
        cloud.create_instance(
            account,
            R,
            created_at=NOW,
            vpc_id=vpc.vpc_id,
            private_ips=[f"172.16.0.{n}"],
            security_group_ids=[group.group_id],
            instance_id=f"i-{n}",
        )
    st_.changes.take()
    return st_


def _group(state: CloudState, group_id: str = "sg-other", **kw: Any) -> str:
    return state.cloud.create_security_group(
        state.account_id, R, now=NOW, vpc_id="vpc-main", group_id=group_id, **kw
    ).group_id


# -- placement ----------------------------------------------------------------------------------


def test_accounts_and_regions(state: CloudState) -> None:
    cloud = state.cloud
    assert touched_by(state, lambda: cloud.add_account("2222", "other")) == {(K.ACCOUNT, "2222")}
    assert touched_by(state, lambda: cloud.add_region("cn-beijing")) == {(K.REGION, "cn-beijing")}
    assert touched_by(state, lambda: cloud.add_region(R)) == set()  # already there
    assert refused(state, lambda: cloud.add_account("2222")) == "InvalidAccountId.Duplicate"
    assert refused(state, lambda: cloud.add_region("bad region")) == "InvalidRegionId.Malformed"


def test_vpcs_and_vswitches(state: CloudState) -> None:
    cloud, account = state.cloud, state.account_id
    made: list[str] = []
    touched = touched_by(
        state, lambda: made.append(cloud.create_vpc(account, R, "10.0.0.0/8").vpc_id)
    )
    assert touched == {(K.VPC, made[0]), FLEET}  # a generated id counts on
    assert touched_by(state, lambda: cloud.create_vpc(account, R, vpc_id="vpc-given")) == {
        (K.VPC, "vpc-given")
    }
    touched = touched_by(
        state,
        lambda: made.append(
            cloud.create_vswitch(made[0], f"{R}-i", "10.1.0.0/16", created_at=NOW).vswitch_id
        ),
    )
    assert touched == {(K.VSWITCH, made[1]), FLEET}
    assert refused(state, lambda: cloud.delete_vpc(made[0])) == "DependencyViolation"
    assert touched_by(state, lambda: cloud.delete_vswitch(made[1])) == {(K.VSWITCH, made[1])}
    assert touched_by(state, lambda: cloud.delete_vpc(made[0])) == {(K.VPC, made[0])}
    assert refused(state, lambda: cloud.create_vpc(account, R, "8.8.8.0/24")) == (
        "InvalidCidrBlock.Malformed"
    )
    assert refused(
        state, lambda: cloud.create_vswitch("vpc-main", f"{R}-h", "172.16.1.0/25", created_at=NOW)
    ) == ("InvalidCidrBlock.Overlapped")
    assert refused(state, lambda: cloud.delete_vswitch("vsw-none")) == "InvalidVSwitchId.NotFound"


# -- instances ----------------------------------------------------------------------------------


def test_run_instances_touches_the_instance_and_the_counters(state: CloudState) -> None:
    cloud, account = state.cloud, state.account_id
    made: list[str] = []
    touched = touched_by(
        state,
        lambda: made.append(
            cloud.create_instance(
                account, R, created_at=NOW, vswitch_id="vsw-1", security_group_ids=["sg-web"]
            ).instance_id
        ),
    )
    assert touched == {(K.INSTANCE, made[0]), FLEET}  # the group's members are not stored
    touched = touched_by(
        state,
        lambda: cloud.set_host_name(made[0], "web-1"),
    )
    assert touched == {(K.INSTANCE, made[0])}
    assert touched_by(state, lambda: cloud.set_host_name(made[0], "web-1")) == set()


def test_the_first_instance_of_a_region_makes_the_default_group(state: CloudState) -> None:
    cloud = state.cloud
    cloud.add_account("2222")
    state.changes.take()
    made: list[Any] = []
    touched = touched_by(
        state,
        lambda: made.append(
            cloud.create_instance(
                "2222", R, created_at=NOW, network_type="classic", private_ips=["10.9.0.1"]
            )
        ),
    )
    (group_id,) = made[0].primary_nic.security_group_ids
    assert cloud.groups[group_id].is_default
    assert touched == {(K.INSTANCE, made[0].instance_id), (K.GROUP, group_id), FLEET}


def test_a_refused_run_gives_out_no_id(state: CloudState) -> None:
    """The checks run with the ids the instance would get; none is counted when one fails."""
    cloud, account = state.cloud, state.account_id
    counters = cloud.id_counters()
    enterprise = _group(state, "sg-ent", group_type="enterprise")
    state.changes.take()
    for change, code in (
        (
            lambda: cloud.create_instance(
                account,
                R,
                created_at=NOW,
                vpc_id="vpc-main",
                private_ips=["172.16.0.9"],
                security_group_ids=["sg-web", enterprise],
            ),
            "InvalidSecurityGroupType.Mismatch",
        ),
        (
            lambda: cloud.create_instance(
                account,
                R,
                created_at=NOW,
                vpc_id="vpc-main",
                private_ips=["172.16.0.1"],  # i-1's
                security_group_ids=["sg-web"],
            ),
            "InvalidPrivateIpAddress.Duplicated",
        ),
        (
            lambda: cloud.create_instance(
                account, R, created_at=NOW, vpc_id="vpc-main", private_ips=["172.16.0.9"]
            ),
            "MissingParameter.SecurityGroupId",
        ),
    ):
        assert refused(state, change) == code
    assert cloud.id_counters() == counters  # sg-ent was given, not generated


def test_a_refused_default_group_gives_out_no_id(state: CloudState) -> None:
    """A new account's first instance whose default group it cannot join (enterprise rules
    of an old instance): neither the group nor the ids are kept."""
    cloud = state.cloud
    cloud.add_account("3333")
    cloud.set_limits(replace(cloud.limits, rules_per_nic=3))  # the default group has 4 rules
    state.changes.take()
    counters = cloud.id_counters()
    assert (
        refused(
            state,
            lambda: cloud.create_instance(
                "3333", R, created_at=NOW, network_type="classic", private_ips=["10.9.0.1"]
            ),
        )
        == "RuleCountExceeded"
    )
    assert cloud.id_counters() == counters


def test_instance_state_and_deletion(state: CloudState) -> None:
    cloud = state.cloud
    assert refused(state, lambda: cloud.start_instance("i-1")) == "IncorrectInstanceStatus"
    assert touched_by(state, lambda: cloud.stop_instance("i-1")) == {(K.INSTANCE, "i-1")}
    assert touched_by(state, lambda: cloud.start_instance("i-1")) == {(K.INSTANCE, "i-1")}
    assert touched_by(state, lambda: cloud.reboot_instance("i-1")) == set()  # stays Running
    assert touched_by(state, lambda: cloud.set_smtp_unblocked("i-1")) == {(K.INSTANCE, "i-1")}
    assert touched_by(state, lambda: cloud.set_smtp_unblocked("i-1")) == set()
    assert refused(state, lambda: cloud.delete_instance("i-1")) == "IncorrectInstanceStatus"
    assert touched_by(state, lambda: cloud.delete_instance("i-1", force=True)) == {
        (K.INSTANCE, "i-1")
    }
    assert refused(state, lambda: cloud.stop_instance("i-1")) == "InvalidInstanceId.NotFound"


def test_join_and_leave_touch_the_instance_only(state: CloudState) -> None:
    cloud = state.cloud
    other = _group(state)
    state.changes.take()
    assert touched_by(state, lambda: cloud.join("i-1", other)) == {(K.INSTANCE, "i-1")}
    assert refused(state, lambda: cloud.join("i-1", other)) == "InvalidInstanceId.AlreadyExists"
    assert touched_by(state, lambda: cloud.leave("i-1", "sg-web")) == {(K.INSTANCE, "i-1")}
    assert refused(state, lambda: cloud.leave("i-1", other)) == "InvalidOperation.LastSecurityGroup"
    assert refused(state, lambda: cloud.join("i-1", "sg-none")) == (
        "InvalidSecurityGroupId.NotFound"
    )


# -- security groups and rules --------------------------------------------------------------------


def test_groups(state: CloudState) -> None:
    cloud = state.cloud
    made: list[str] = []
    touched = touched_by(
        state,
        lambda: made.append(
            cloud.create_security_group(
                state.account_id,
                R,
                now=NOW,
                vpc_id="vpc-main",
                template="web-server-linux",
                tags={"team": "web"},
            ).group_id
        ),
    )
    assert touched == {(K.GROUP, made[0]), FLEET}
    assert cloud.groups[made[0]].tags == {"team": "web"}
    unit = {(K.GROUP, made[0])}
    rename = partial(cloud.modify_security_group_attribute, made[0], "web-2")
    assert touched_by(state, rename) == unit
    assert touched_by(state, rename) == set()
    describe = partial(cloud.modify_security_group_attribute, made[0], None, "the web tier")
    assert touched_by(state, describe) == unit
    assert touched_by(state, lambda: cloud.modify_security_group_policy(made[0], "Drop")) == unit
    assert touched_by(state, lambda: cloud.modify_security_group_policy(made[0], "Drop")) == set()
    assert refused(state, lambda: cloud.modify_security_group_attribute(made[0], "x" * 200)) == (
        "InvalidSecurityGroupName.Malformed"
    )
    assert refused(state, lambda: cloud.delete_security_group("sg-web")) == "DependencyViolation"
    assert touched_by(state, lambda: cloud.delete_security_group(made[0])) == unit


def test_rules(state: CloudState) -> None:
    cloud = state.cloud
    unit = {(K.GROUP, "sg-web")}
    assert touched_by(state, lambda: cloud.authorize("sg-web", WEB, NOW)) == unit | {FLEET}
    assert touched_by(state, lambda: cloud.authorize("sg-web", WEB, NOW)) == set()  # present
    egress = replace(WEB, direction=Direction.EGRESS)
    assert touched_by(state, lambda: cloud.authorize_egress("sg-web", egress, NOW)) == unit | {
        FLEET
    }
    rule_id = cloud.groups["sg-web"].rules[-1].rule_id
    modified = replace(egress, port_range="8443/8443")
    assert touched_by(state, lambda: cloud.modify_rule("sg-web", rule_id, modified)) == unit
    assert touched_by(state, lambda: cloud.modify_rule("sg-web", rule_id, modified)) == set()
    assert touched_by(state, lambda: cloud.revoke("sg-web", rule_id=rule_id)) == unit
    assert touched_by(state, lambda: cloud.revoke("sg-web", request=WEB)) == unit
    assert touched_by(state, lambda: cloud.revoke_all("sg-web", [SSH])) == unit
    assert refused(state, lambda: cloud.revoke_all("sg-web", [SSH])) == (
        "InvalidPermission.NotFound"
    )
    assert refused(state, lambda: cloud.revoke("sg-web", rule_id="sgr-none")) == (
        "InvalidSecurityGroupRuleId.NotFound"
    )
    bad = replace(WEB, port_range="99999/99999")
    assert refused(state, lambda: cloud.authorize_all("sg-web", [SSH, bad], NOW)) == (
        "InvalidPortRange.Malformed"
    )


def test_clone_restore_and_import(state: CloudState) -> None:
    cloud = state.cloud
    cloud.authorize("sg-web", WEB, NOW)
    other = _group(state)
    state.changes.take()
    made: list[str] = []
    touched = touched_by(
        state, lambda: made.append(cloud.clone_security_group("sg-web", now=NOW).group.group_id)
    )
    assert touched == {(K.GROUP, made[0]), FLEET}
    assert touched_by(state, lambda: cloud.restore(other, "sg-web", "partial", NOW)) == {
        (K.GROUP, other),
        FLEET,
    }
    assert touched_by(state, lambda: cloud.restore(other, "sg-web", "full", NOW)) == set()
    cloud.revoke_all(other, [WEB])
    state.changes.take()
    assert touched_by(state, lambda: cloud.restore(other, "sg-web", "full", NOW)) == {
        (K.GROUP, other),
        FLEET,
    }
    document = group_document(cloud.groups["sg-web"])
    third = _group(state, "sg-third")
    state.changes.take()
    assert touched_by(state, lambda: cloud.import_rules(third, document, NOW)) == {
        (K.GROUP, third),
        FLEET,
    }
    assert touched_by(state, lambda: cloud.import_rules(third, document, NOW)) == set()
    assert refused(state, lambda: cloud.restore(other, "sg-web", "sideways", NOW)) == (
        "InvalidParameter.RestoreMode"
    )


def test_tags_and_limits(state: CloudState) -> None:
    cloud = state.cloud
    for resource_type, resource_id, kind in (
        ("instance", "i-1", K.INSTANCE),
        ("securitygroup", "sg-web", K.GROUP),
        ("vpc", "vpc-main", K.VPC),
        ("vswitch", "vsw-1", K.VSWITCH),
    ):
        tag = partial(cloud.set_tags, resource_type, resource_id, {"env": "prod"})
        assert touched_by(state, tag) == {(kind, resource_id)}
        assert touched_by(state, tag) == set()
    assert refused(state, lambda: cloud.set_tags("instance", "i-none", {})) == (
        "InvalidResourceId.NotFound"
    )
    assert refused(state, lambda: cloud.set_tags("disk", "d-1", {})) == (
        "InvalidResourceType.NotFound"
    )
    bigger = replace(cloud.limits, rules_per_group=400)
    assert touched_by(state, lambda: cloud.set_limits(bigger)) == {FLEET}
    assert touched_by(state, lambda: cloud.set_limits(bigger)) == set()


def test_reading_touches_nothing(state: CloudState) -> None:
    cloud = state.cloud
    other = _group(state)
    state.changes.take()

    def read() -> None:
        cloud.get_account(state.account_id)
        cloud.get_region(R)
        cloud.get_vpc("vpc-main")
        cloud.get_vswitch("vsw-1")
        cloud.get_instance("i-1")
        cloud.get_group("sg-web")
        cloud.members("sg-web")
        cloud.member_private_ips("sg-web")
        cloud.describe_security_groups(state.account_id, R)
        cloud.restore_preview(other, "sg-web", "full")
        cloud.import_preview(other, group_document(cloud.groups["sg-web"]))
        cloud.export_rules("sg-web")
        cloud.id_counters()
        state.keypairs.describe(state.account_id, R)
        state.keypairs.binding("i-1")
        state.keypairs.pending_instance_ids()
        state.ddos.get("i-1")
        state.ddos.black_holed(NOW)
        state.instance_roles.describe()
        state.instance_roles.role_of("i-1")

    assert touched_by(state, read) == set()


# -- key pairs ----------------------------------------------------------------------------------


def _view(state: CloudState, running: bool) -> Callable[[str], InstanceView | None]:
    return lambda i: InstanceView(i, state.account_id, R, True, running, not running)


def test_key_pairs(state: CloudState) -> None:
    keys, account = state.keypairs, state.account_id
    pair = lambda name: (K.KEYPAIR, compound(account, R, name))  # noqa: E731
    assert touched_by(state, lambda: keys.create(account, R, "kp-a", NOW, _keys)) == {
        pair("kp-a"),
        (K.KEYPAIRS, ""),  # the last id
    }
    assert touched_by(
        state, lambda: keys.import_key(account, R, "kp-b", ED25519, NOW, tags={"a": "b"})
    ) == {pair("kp-b"), (K.KEYPAIRS, "")}
    assert refused(state, lambda: keys.import_key(account, R, "kp-c", "ssh-rsa AAAA", NOW)) == (
        "InvalidPublicKeyBody.Malformed"
    )
    assert refused(state, lambda: keys.create(account, R, "kp-a", NOW, _keys)) == (
        "KeyPair.AlreadyExist"
    )
    assert touched_by(state, lambda: keys.set_tags(account, R, "kp-a", {"x": "y"})) == {
        pair("kp-a")
    }
    assert touched_by(state, lambda: keys.set_tags(account, R, "kp-a", {"x": "y"})) == set()
    # stopped: at once; running: pending until a restart
    binding = lambda i: (K.KEYPAIR_BINDING, i)  # noqa: E731
    assert touched_by(
        state, lambda: keys.attach(account, R, "kp-a", ["i-1"], _view(state, False), NOW)
    ) == {binding("i-1")}
    assert touched_by(
        state, lambda: keys.attach(account, R, "kp-b", ["i-2"], _view(state, True), NOW)
    ) == {binding("i-2")}
    assert (
        touched_by(state, lambda: keys.attach(account, R, "kp-b", ["i-3"], lambda _: None, NOW))
        == set()  # refused per instance: nothing changes
    )
    assert touched_by(state, lambda: keys.restart_observed("i-2", NOW - timedelta(1))) == set()
    assert touched_by(state, lambda: keys.restart_observed("i-2", NOW + timedelta(1))) == {
        binding("i-2")
    }
    assert touched_by(state, lambda: keys.password_reset("i-2")) == {binding("i-2")}
    assert touched_by(state, lambda: keys.password_reset("i-2")) == set()  # already on
    assert touched_by(state, lambda: keys.password_reset("i-9")) == {binding("i-9")}
    assert touched_by(
        state, lambda: keys.detach(account, R, "kp-a", ["i-1"], _view(state, True), NOW)
    ) == {binding("i-1")}
    assert (
        touched_by(state, lambda: keys.detach(account, R, "kp-x", ["i-1"], _view(state, True), NOW))
        == set()  # not attached: refused for that instance
    )
    # kp-b is still bound to i-2: deleting it retires the name
    assert touched_by(state, lambda: keys.delete(account, R, ["kp-a", "kp-b"])) == {
        pair("kp-a"),
        pair("kp-b"),
        (K.KEYPAIRS, ""),
    }
    assert refused(state, lambda: keys.delete(account, R, ["kp-a"])) == (
        "InvalidKeyPairName.NotFound"
    )
    assert touched_by(state, lambda: keys.forget_instance("i-2")) == {binding("i-2")}
    assert touched_by(state, lambda: keys.forget_instance("i-2")) == set()


# -- DDoS ---------------------------------------------------------------------------------------


def test_ddos_records(state: CloudState) -> None:
    ddos = state.ddos
    scrubbing = InstanceDdos(DdosStatus.SCRUBBING, since=NOW)
    assert touched_by(state, lambda: ddos.put("i-1", scrubbing)) == {(K.DDOS, "i-1")}
    assert touched_by(state, lambda: ddos.put("i-1", scrubbing)) == set()
    assert touched_by(state, lambda: ddos.put("i-1", InstanceDdos())) == {(K.DDOS, "i-1")}
    assert touched_by(state, lambda: ddos.put("i-1", InstanceDdos())) == set()
    default = DdosThreshold(1e9, 3e5)
    lower = DdosThreshold(5e8, 3e5)
    assert touched_by(state, lambda: ddos.set_threshold("i-2", default, lower, "t")) == {
        (K.DDOS, "i-2")
    }
    assert touched_by(state, lambda: ddos.set_threshold("i-2", default, lower, "t")) == set()
    assert refused(
        state, lambda: ddos.set_threshold("i-2", default, DdosThreshold(2e9, 1), "t")
    ) == ("InvalidParameter.Bps")
    assert touched_by(state, lambda: ddos.set_threshold("i-2", default, None, "t")) == {
        (K.DDOS, "i-2")
    }
    ddos.put("i-1", scrubbing)
    state.changes.take()
    assert touched_by(state, lambda: ddos.forget({"i-1", "i-2"})) == {(K.DDOS, "i-1")}


# -- instance RAM roles -------------------------------------------------------------------------


def test_instance_roles(state: CloudState) -> None:
    roles, ram = state.instance_roles, state.ram
    vm = InstanceRef("i-1", R, "vpc")
    root, ctx = Caller.root(), RequestContext()
    both = {(K.INSTANCE_ROLE, "i-1"), (K.INSTANCE_ROLES, "")}
    assert touched_by(state, lambda: roles.attach(ram, root, vm, "EcsRole", ctx)) == both
    assert touched_by(state, lambda: roles.attach(ram, root, vm, "EcsRole", ctx)) == set()
    assert touched_by(state, lambda: roles.attach(ram, root, vm, "EcsOther", ctx)) == both
    assert refused(state, lambda: roles.attach(ram, root, vm, "NoSuchRole", ctx)) != ""
    assert refused(state, lambda: roles.detach(ram, root, vm, ctx, role_name="EcsRole")) == (
        "InvalidRamRole.NotAttached"
    )
    assert touched_by(state, lambda: roles.detach(ram, root, vm, ctx)) == {(K.INSTANCE_ROLE, "i-1")}
    assert touched_by(state, lambda: roles.release("i-1")) == set()
    roles.attach(ram, root, InstanceRef("i-2", R), "EcsRole", ctx)
    state.changes.take()
    assert touched_by(state, lambda: roles.forget_role("EcsRole")) == {(K.INSTANCE_ROLE, "i-2")}


# -- random sequences ---------------------------------------------------------------------------

OPS = (
    "vpc",
    "vswitch",
    "group",
    "run",
    "stop",
    "start",
    "delete_instance",
    "join",
    "leave",
    "authorize",
    "revoke",
    "modify_group",
    "delete_group",
    "clone",
    "restore",
    "tag",
    "keypair",
    "attach_key",
    "detach_key",
    "delete_keys",
    "restart",
    "ddos",
    "role",
    "unrole",
)


def _pick(pool: list[str], n: int) -> str:
    return pool[n % len(pool)] if pool else "none"


def _op(state: CloudState, name: str, a: int, b: int) -> None:
    """One operation with arguments picked from what exists (it may well be refused)."""
    cloud, account = state.cloud, state.account_id
    instances, groups = sorted(cloud.instances), sorted(cloud.groups)
    vpcs, pairs = sorted(cloud.vpcs), sorted(n for _, _, n in state.keypairs.pairs)
    port = f"{1 + a % 1000}/{1 + a % 1000}"
    if name == "vpc":
        cloud.create_vpc(account, R, f"10.{a % 256}.0.0/16")
    elif name == "vswitch":
        cloud.create_vswitch(_pick(vpcs, a), f"{R}-k", f"10.{b % 256}.0.0/24", created_at=NOW)
    elif name == "group":
        cloud.create_security_group(account, R, now=NOW, vpc_id=_pick(vpcs, a))
    elif name == "run":
        cloud.create_instance(
            account,
            R,
            created_at=NOW,
            vpc_id="vpc-main",
            private_ips=[f"172.16.{a % 256}.{b % 256}"],
            security_group_ids=[_pick(groups, a)] if b % 5 else [],
        )
    elif name == "stop":
        cloud.stop_instance(_pick(instances, a))
    elif name == "start":
        cloud.start_instance(_pick(instances, a))
    elif name == "delete_instance":
        cloud.delete_instance(_pick(instances, a), force=bool(b % 2))
    elif name == "join":
        cloud.join(_pick(instances, a), _pick(groups, b))
    elif name == "leave":
        cloud.leave(_pick(instances, a), _pick(groups, b))
    elif name == "authorize":
        cloud.authorize(_pick(groups, a), replace(SSH, port_range=port), NOW)
    elif name == "revoke":
        cloud.revoke(_pick(groups, a), request=replace(SSH, port_range=port))
    elif name == "modify_group":
        cloud.modify_security_group_attribute(_pick(groups, a), f"name-{b % 3}")
    elif name == "delete_group":
        cloud.delete_security_group(_pick(groups, a))
    elif name == "clone":
        cloud.clone_security_group(_pick(groups, a), now=NOW)
    elif name == "restore":
        cloud.restore(_pick(groups, a), _pick(groups, b), ("full", "partial")[b % 2], NOW)
    elif name == "tag":
        kind, pool = (
            ("instance", instances),
            ("securitygroup", groups),
            ("vpc", vpcs),
            ("vswitch", sorted(cloud.vswitches)),
        )[b % 4]
        cloud.set_tags(kind, _pick(pool, a), {} if a % 3 == 0 else {"k": str(b % 2)})
    elif name == "keypair":
        state.keypairs.create(account, R, f"kp-{a % 4}", NOW, _keys)
    elif name == "attach_key":
        state.keypairs.attach(
            account, R, _pick(pairs, a), [_pick(instances, b)], _view(state, bool(b % 2)), NOW
        )
    elif name == "detach_key":
        state.keypairs.detach(
            account, R, _pick(pairs, a), [_pick(instances, b)], _view(state, bool(b % 2)), NOW
        )
    elif name == "delete_keys":
        state.keypairs.delete(account, R, [_pick(pairs, a)])
    elif name == "restart":
        state.keypairs.restart_observed(_pick(instances, a), NOW + timedelta(seconds=b))
    elif name == "ddos":
        record = InstanceDdos((DdosStatus.NORMAL, DdosStatus.SCRUBBING)[b % 2], since=NOW)
        state.ddos.put(_pick(instances, a), record)
    elif name == "role":
        role = ("EcsRole", "EcsOther")[b % 2]
        ref = InstanceRef(_pick(instances, a), R)
        state.instance_roles.attach(state.ram, Caller.root(), ref, role, RequestContext())
    elif name == "unrole":
        state.instance_roles.release(_pick(instances, a))


def _seeded() -> dict:
    """The fixture's state plus a second group and a key pair, so that joins, leaves and key
    bindings are likely to succeed."""
    seeded, _admin = CloudState.create(NOW)
    seeded.ram.create_role("EcsRole", ECS_TRUST, NOW)
    seeded.ram.create_role("EcsOther", ECS_TRUST, NOW)
    cloud, account = seeded.cloud, seeded.account_id
    cloud.create_vpc(account, R, "172.16.0.0/12", vpc_id="vpc-main")
    for group_id in ("sg-web", "sg-db"):
        cloud.create_security_group(account, R, now=NOW, vpc_id="vpc-main", group_id=group_id)
    for n in (1, 2, 3):
        cloud.create_instance(
            account,
            R,
            created_at=NOW,
            vpc_id="vpc-main",
            private_ips=[f"172.16.0.{n}"],
            security_group_ids=["sg-web"],
            instance_id=f"i-{n}",
        )
    seeded.keypairs.create(account, R, "kp-0", NOW, _keys)
    return seeded.to_document()


SEEDED = _seeded()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(st.sampled_from(OPS), st.integers(0, 10_000), st.integers(0, 10_000)),
        min_size=1,
        max_size=25,
    )
)
def test_random_operations_touch_what_they_change(ops) -> None:
    state = CloudState.from_document(SEEDED)  # a fresh copy per example
    for name, a, b in ops:

        def run(name=name, a=a, b=b) -> None:
            before = state.to_document()
            try:
                _op(state, name, a, b)
            except ModelError:  # refused: nothing changed, nothing touched
                assert state.changes.touched() == []
                assert state.to_document() == before

        assert_touched(state, run)
