"""Every limit and validation rule hit with its error code; arbitrary strings into every rule
field give a ModelError and leave the model unchanged."""

from __future__ import annotations

import copy
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.cloud_model import CloudModel
from palisade.auditor.model.limits import Limits
from palisade.auditor.model.network.security_group import RuleRequest

from .conftest import NOW, REGION, Fleet


def code_of(fn, *args, **kw) -> str:
    with pytest.raises(ModelError) as err:
        fn(*args, **kw)
    assert err.value.message  # says what to change
    return err.value.code


def snapshot(model: CloudModel):
    members = {group_id: model.members(group_id) for group_id in model.groups}
    return copy.deepcopy((model.groups, model.instances, members, model.id_counters()))


@pytest.fixture
def vpc_group(fleet):
    vpc = fleet.vpc()
    return fleet, vpc, fleet.group(vpc_id=vpc)


def auth(model, gid, **kw):
    base = dict(direction="ingress", ip_protocol="tcp", port_range="22/22", peer_cidr="1.2.3.4/32")
    base.update(kw)
    return model.authorize(gid, RuleRequest(**base), NOW)


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"ip_protocol": "tcpx"}, "InvalidIpProtocol.Malformed"),
        ({"port_range": "22"}, "InvalidPortRange.Malformed"),
        ({"port_range": "0/22"}, "InvalidPortRange.Malformed"),
        ({"port_range": "22/21"}, "InvalidPortRange.Malformed"),
        ({"port_range": "1/65536"}, "InvalidPortRange.Malformed"),
        ({"port_range": "-1/-1"}, "InvalidPortRange.Malformed"),
        ({"ip_protocol": "icmp", "port_range": "1/1"}, "InvalidPortRange.Malformed"),
        ({"ip_protocol": "all", "port_range": "22/22"}, "InvalidPortRange.Malformed"),
        ({"ip_protocol": "gre", "port_range": "-1/22"}, "InvalidPortRange.Malformed"),
        ({"priority": 0}, "InvalidPriority.Malformed"),
        ({"priority": 101}, "InvalidPriority.Malformed"),
        ({"priority": "110"}, "InvalidPriority.Malformed"),  # system priority cannot be created
        ({"priority": True}, "InvalidPriority.Malformed"),
        ({"policy": "allow"}, "InvalidPolicy.Malformed"),
        ({"direction": "inbound"}, "InvalidDirection.Malformed"),
        ({"nic_type": "public"}, "InvalidNicType.ValueNotSupported"),
        ({"nic_type": "internet"}, "InvalidNicType.ValueNotSupported"),  # VPC groups: intranet only
        ({"peer_cidr": "1.2.3.4/33"}, "InvalidSourceCidrIp.Malformed"),
        ({"peer_cidr": "1.2.3.4/24"}, "InvalidSourceCidrIp.Malformed"),  # host bits
        ({"peer_cidr": "01.2.3.4"}, "InvalidSourceCidrIp.Malformed"),
        ({"direction": "egress", "peer_cidr": "x"}, "InvalidDestCidrIp.Malformed"),
        (
            {"peer_cidr": ",".join(f"1.2.3.{n}" for n in range(11))},
            "InvalidParameter.AuthorizationObjectCountExceeded",
        ),
        ({"peer_cidr": None}, "MissingParameter.SourceCidrIp"),
        ({"peer_group_id": "sg-nothere"}, "InvalidParameter.SourcePeer"),
        ({"peer_cidr": None, "peer_group_id": "bad id"}, "InvalidSourceGroupId.Malformed"),
        ({"peer_cidr": None, "peer_group_id": "sg-nothere"}, "InvalidSourceGroupId.NotFound"),
        ({"description": "x"}, "InvalidDescription.Malformed"),
        ({"description": "http://x.example"}, "InvalidDescription.Malformed"),
        ({"description": "d" * 257}, "InvalidDescription.Malformed"),
    ],
)
def test_rule_field_validation(vpc_group, fields, code):
    fleet, _, gid = vpc_group
    before = snapshot(fleet.model)
    assert code_of(auth, fleet.model, gid, **fields) == code
    assert snapshot(fleet.model) == before


def test_unknown_group(fleet):
    assert code_of(auth, fleet.model, "sg-missing") == "InvalidSecurityGroupId.NotFound"


@pytest.mark.parametrize(
    "name, ok",
    [
        ("ab", True),
        ("a", False),
        ("a" * 128, True),
        ("a" * 129, False),
        ("1web", False),
        ("_web", False),
        ("web.tier_1-a:b", True),
        ("web tier", False),
        ("web/tier", False),
        ("网站组", True),
        ("", True),
    ],
)
def test_group_name_rules(fleet, name, ok):
    fleet.account()
    vpc = fleet.vpc()
    if ok:
        fleet.group(vpc_id=vpc, name=name)
    else:
        assert code_of(fleet.group, vpc_id=vpc, name=name) == "InvalidSecurityGroupName.Malformed"


@pytest.mark.parametrize(
    "desc, ok",
    [
        ("ok", True),
        ("o", False),
        ("d" * 256, True),
        ("d" * 257, False),
        ("https://x", False),
        ("HTTP://x", False),
        ("see http://x", True),
    ],
)
def test_group_description_rules(fleet, desc, ok):
    vpc = fleet.vpc()
    if ok:
        gid = fleet.group(vpc_id=vpc, description=desc)
        assert fleet.model.groups[gid].description == desc
    else:
        assert code_of(fleet.group, vpc_id=vpc, description=desc) == "InvalidDescription.Malformed"
        gid = fleet.group(vpc_id=vpc)
        assert (
            code_of(fleet.model.modify_security_group_attribute, gid, description=desc)
            == "InvalidDescription.Malformed"
        )


def test_identical_rule_is_not_added_twice(vpc_group):
    fleet, _, gid = vpc_group
    assert len(auth(fleet.model, gid)) == 1
    assert auth(fleet.model, gid) == []
    assert len(fleet.model.groups[gid].rules) == 1


def test_rules_per_group_limit(vpc_group):
    fleet, _, gid = vpc_group
    for port in range(1, 101):
        auth(fleet.model, gid, port_range=f"{port}/{port}")
    before = snapshot(fleet.model)
    assert code_of(auth, fleet.model, gid, port_range="200/200") == "QuotaExceed.RulePerGroup"
    assert (
        code_of(
            fleet.model.authorize_egress,
            gid,
            RuleRequest(ip_protocol="tcp", port_range="1/1", peer_cidr="1.1.1.1"),
            NOW,
        )
        == "QuotaExceed.RulePerGroup"
    )
    assert snapshot(fleet.model) == before


def test_limits_are_settings():
    model = CloudModel(Limits(rules_per_group=2))
    fleet = Fleet()
    fleet.model = model
    model.add_region(REGION)
    vpc = fleet.vpc()
    gid = fleet.group(vpc_id=vpc)
    auth(model, gid, port_range="1/1")
    auth(model, gid, port_range="2/2")
    assert code_of(auth, model, gid, port_range="3/3") == "QuotaExceed.RulePerGroup"


def test_authorized_groups_limit(vpc_group):
    fleet, vpc, gid = vpc_group
    others = [fleet.group(vpc_id=vpc) for _ in range(21)]
    for other in others[:20]:
        auth(fleet.model, gid, peer_cidr=None, peer_group_id=other)
    assert (
        code_of(auth, fleet.model, gid, peer_cidr=None, peer_group_id=others[20])
        == "QuotaExceed.AuthorizedSecurityGroup"
    )


def test_group_authorisation_must_be_same_vpc_for_same_account(fleet):
    v1, v2 = fleet.vpc(cidr="172.16.0.0/16"), fleet.vpc(cidr="192.168.0.0/16")
    g1, g2 = fleet.group(vpc_id=v1), fleet.group(vpc_id=v2)
    assert (
        code_of(auth, fleet.model, g1, peer_cidr=None, peer_group_id=g2)
        == "InvalidSourceGroupId.VpcMismatch"
    )


def test_cross_account_group_needs_owner_account(fleet):
    mine, theirs = fleet.group("2001"), fleet.group("3001")
    assert (
        code_of(auth, fleet.model, mine, peer_cidr=None, peer_group_id=theirs)
        == "InvalidSourceGroupId.NotFound"
    )
    assert (
        code_of(
            auth,
            fleet.model,
            mine,
            peer_cidr=None,
            peer_group_id=theirs,
            peer_group_owner_account="4001",
        )
        == "InvalidSourceGroupId.NotFound"
    )
    auth(fleet.model, mine, peer_cidr=None, peer_group_id=theirs, peer_group_owner_account="3001")


def test_classic_intranet_ingress_cidr_must_be_32(fleet):
    gid = fleet.group()
    assert (
        code_of(auth, fleet.model, gid, peer_cidr="10.0.0.0/24")
        == "InvalidSourceCidrIp.NotSingleIp"
    )
    auth(fleet.model, gid, peer_cidr="10.0.0.1/32")
    auth(fleet.model, gid, peer_cidr="10.0.0.0/24", nic_type="internet")  # internet NIC: any CIDR
    auth(fleet.model, gid, direction="egress", peer_cidr="10.0.0.0/24")  # egress: any CIDR


def test_enterprise_group_constraints(fleet):
    vpc = fleet.vpc()
    assert (
        code_of(fleet.group, network_type="classic", group_type="enterprise")
        == "InvalidSecurityGroupType.ClassicNotSupported"
    )
    ent = fleet.group(vpc_id=vpc, group_type="enterprise")
    other = fleet.group(vpc_id=vpc)
    assert code_of(auth, fleet.model, ent, policy="drop") == "InvalidPolicy.ValueNotSupported"
    assert code_of(auth, fleet.model, ent, priority=5) == "InvalidPriority.ValueNotSupported"
    assert (
        code_of(auth, fleet.model, ent, peer_cidr=None, peer_group_id=other)
        == "InvalidSourceGroupId.NotSupported"
    )
    assert (
        code_of(auth, fleet.model, other, peer_cidr=None, peer_group_id=ent)
        == "InvalidSourceGroupId.NotSupported"
    )
    old = datetime(2019, 5, 29)
    assert (
        code_of(fleet.instance, [ent], vpc_id=vpc, created_at=old)
        == "InvalidInstanceId.CreatedTooEarly"
    )
    assert (
        code_of(fleet.instance, [ent], vpc_id=vpc, instance_type="ecs.sn1.medium")
        == "InvalidInstanceType.NotSupportEnterpriseGroup"
    )
    i = fleet.instance([ent], vpc_id=vpc, created_at=datetime(2019, 5, 30))
    assert code_of(fleet.model.join, i, other) == "InvalidSecurityGroupType.Mismatch"
    j = fleet.instance([other], vpc_id=vpc)
    assert code_of(fleet.model.join, j, ent) == "InvalidSecurityGroupType.Mismatch"
    assert (
        code_of(fleet.model.modify_security_group_policy, ent, "Accept")
        == "InvalidSecurityGroupType.NotSupported"
    )


def test_join_rules(fleet):
    m = fleet.model
    v1, v2 = fleet.vpc(cidr="172.16.0.0/16"), fleet.vpc(cidr="192.168.0.0/16")
    groups = [fleet.group(vpc_id=v1) for _ in range(6)]
    i = fleet.instance(groups[:1], vpc_id=v1)
    assert code_of(m.join, i, groups[0]) == "InvalidInstanceId.AlreadyExists"
    for g in groups[1:5]:
        m.join(i, g)
    before = snapshot(m)
    assert code_of(m.join, i, groups[5]) == "InstanceSecurityGroupLimitExceeded"
    assert code_of(m.join, i, fleet.group(vpc_id=v2)) == "InvalidSecurityGroupId.VpcMismatch"
    assert code_of(m.join, i, fleet.group()) == "InvalidSecurityGroupId.NetworkTypeMismatch"
    assert (
        code_of(m.join, i, fleet.group("9001", vpc_id=fleet.vpc("9001")))
        == "InvalidSecurityGroupId.NotFound"
    )
    assert code_of(m.join, i, "sg-missing") == "InvalidSecurityGroupId.NotFound"
    assert code_of(m.join, "i-missing", groups[0]) == "InvalidInstanceId.NotFound"
    for g in groups[1:5]:
        m.leave(i, g)
    assert code_of(m.leave, i, groups[0]) == "InvalidOperation.LastSecurityGroup"
    assert code_of(m.leave, i, groups[5]) == "InvalidInstanceId.NotInSecurityGroup"
    assert m.instances[i].primary_nic.security_group_ids == groups[:1]
    del before


def test_join_refused_when_nic_rule_total_exceeds_limit(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    groups = [fleet.group(vpc_id=vpc) for _ in range(5)]
    for g in groups:
        for port in range(1, 101):
            auth(m, g, port_range=f"{port}/{port}")
    small = fleet.group(vpc_id=vpc)
    auth(m, small, port_range="1/1")
    i = fleet.instance(groups[:4], vpc_id=vpc)
    m.limits = Limits(rules_per_nic=450)
    before = snapshot(m)
    assert code_of(m.join, i, groups[4]) == "RuleCountExceeded"  # 400 + 100 > 450
    assert snapshot(m) == before
    m.join(i, small)  # 401 rules: fine
    assert m.nic_rule_count(m.instances[i].primary_nic) == 401


def test_authorize_refused_when_a_member_nic_would_exceed_its_total(fleet):
    m = fleet.model
    m.limits = Limits(rules_per_nic=3)
    vpc = fleet.vpc()
    a, b = fleet.group(vpc_id=vpc), fleet.group(vpc_id=vpc)
    fleet.instance([a, b], vpc_id=vpc)
    auth(m, a, port_range="1/1")
    auth(m, b, port_range="2/2")
    auth(m, b, port_range="3/3")
    assert code_of(auth, m, a, port_range="4/4") == "RuleCountExceeded"


def test_private_ips_per_normal_group(fleet):
    m = fleet.model
    m.limits = Limits(private_ips_per_normal_group=2)
    vpc = fleet.vpc()
    g = fleet.group(vpc_id=vpc)
    fleet.instance([g], vpc_id=vpc)
    fleet.instance([g], vpc_id=vpc)
    assert code_of(fleet.instance, [g], vpc_id=vpc) == "QuotaExceed.PrivateIpPerGroup"


def test_delete_group_refused_while_in_use_or_referenced(fleet):
    m = fleet.model
    vpc = fleet.vpc()
    used, referenced, referrer, spare = (fleet.group(vpc_id=vpc) for _ in range(4))
    i = fleet.instance([used, spare], vpc_id=vpc)
    assert code_of(m.delete_security_group, used) == "DependencyViolation"
    auth(m, referrer, peer_cidr=None, peer_group_id=referenced)
    assert (
        code_of(m.delete_security_group, referenced)
        == "DependencyViolation.ReferencedBySecurityGroup"
    )
    m.leave(i, used)
    m.delete_security_group(used)
    assert used not in m.groups
    assert code_of(m.delete_security_group, used) == "InvalidSecurityGroupId.NotFound"


def test_revoke_and_modify_rule(vpc_group):
    fleet, _, gid = vpc_group
    m = fleet.model
    (rule,) = auth(m, gid)
    (other,) = auth(m, gid, port_range="23/23")
    assert (
        code_of(
            m.modify_rule,
            gid,
            rule.rule_id,
            RuleRequest("ingress", "tcp", "23/23", peer_cidr="1.2.3.4/32"),
        )
        == "InvalidPermission.Duplicate"
    )
    assert (
        code_of(
            m.modify_rule,
            gid,
            rule.rule_id,
            RuleRequest("ingress", "tcp", "0/1", peer_cidr="1.2.3.4/32"),
        )
        == "InvalidPortRange.Malformed"
    )
    changed = m.modify_rule(
        gid,
        rule.rule_id,
        RuleRequest("ingress", "tcp", "2222/2222", peer_cidr="1.2.3.4/32", priority=5),
    )
    assert (
        changed.rule_id == rule.rule_id
        and changed.priority == 5
        and changed.create_time == rule.create_time
    )
    assert code_of(m.revoke, gid, "sgr-missing") == "InvalidSecurityGroupRuleId.NotFound"
    m.revoke(gid, other.rule_id)
    m.revoke(
        gid, request=RuleRequest("ingress", "tcp", "2222/2222", peer_cidr="1.2.3.4/32", priority=5)
    )
    assert m.groups[gid].rules == []
    assert (
        code_of(
            m.revoke,
            gid,
            request=RuleRequest("ingress", "tcp", "2222/2222", peer_cidr="1.2.3.4/32"),
        )
        == "InvalidPermission.NotFound"
    )


# ---------------------------------------------------------------- arbitrary strings

TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "-1/-1", "1/1", "0.0.0.0/0", "sg-", "tcp", "1/65536"]),
)
FIELDS = [
    "direction",
    "ip_protocol",
    "port_range",
    "peer_cidr",
    "peer_group_id",
    "peer_group_owner_account",
    "policy",
    "priority",
    "nic_type",
    "description",
]
VALID = dict(
    direction="ingress",
    ip_protocol="tcp",
    port_range="22/22",
    peer_cidr="1.2.3.4/32",
    peer_group_id=None,
    peer_group_owner_account=None,
    policy="accept",
    priority="1",
    nic_type="intranet",
    description="",
)


def _prepared():
    fleet = Fleet()
    vpc = fleet.vpc()
    gid = fleet.group(vpc_id=vpc)
    fleet.instance([gid], vpc_id=vpc)
    auth(fleet.model, gid, port_range="80/80")
    return fleet.model, gid


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(field=st.sampled_from(FIELDS), value=TEXT)
def test_arbitrary_strings_in_every_rule_field(field, value):
    model, gid = _prepared()
    fields = dict(VALID)
    fields[field] = value
    if field == "peer_group_id" and value:
        fields["peer_cidr"] = None
    before = snapshot(model)
    try:
        added = model.authorize(gid, RuleRequest(**fields), NOW)
    except ModelError as err:
        assert err.code and err.message
        assert snapshot(model) == before
        return
    # Accepted only if it really is a valid value; the stored rule is normalised.
    assert all(r.rule_id for r in added)
    assert len(model.groups[gid].rules) == 1 + len(added)


@settings(max_examples=200, deadline=None)
@given(name=st.text(max_size=140), desc=st.text(max_size=300))
def test_arbitrary_names_and_descriptions(name, desc):
    model, gid = _prepared()
    before = snapshot(model)
    try:
        model.modify_security_group_attribute(gid, name=name, description=desc)
    except ModelError as err:
        assert err.code in ("InvalidSecurityGroupName.Malformed", "InvalidDescription.Malformed")
        assert snapshot(model) == before
        return
    assert model.groups[gid].name == name


JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(
    document=st.one_of(
        JSON_VALUE,
        st.lists(
            st.fixed_dictionaries(
                {
                    k: st.one_of(
                        JSON_VALUE,
                        st.sampled_from(["ingress", "egress", "TCP", "22/22", "1.2.3.4/32"]),
                    )
                    for k in (
                        "Direction",
                        "IpProtocol",
                        "PortRange",
                        "SourceCidrIp",
                        "Priority",
                        "Policy",
                    )
                }
            ),
            max_size=5,
        ),
    )
)
def test_import_parser_never_crashes_and_stores_only_previewed_rules(document):
    model, gid = _prepared()
    before_rules = list(model.groups[gid].rules)
    try:
        preview = model.import_preview(gid, document)
    except ModelError as err:
        assert err.code == "InvalidParameter.Malformed"
        return
    result = model.import_rules(gid, document, NOW)
    assert [r.status for r in result.results] == [r.status for r in preview.results]
    after = model.groups[gid].rules
    assert after[: len(before_rules)] == before_rules
    assert [r.content() for r in after[len(before_rules) :]] == [r.content() for r in preview.added]
    for failed in preview.failed:
        assert failed.code and failed.reason
    assert REGION
