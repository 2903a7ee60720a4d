"""Untrusted input into the security-group actions and the fleet readers: arbitrary strings in
every rule parameter (through the signed pipeline, in-process), and arbitrary JSON as ECS
responses or fleet files. Always a clear ECS-style error or a success; on an error nothing is
stored (the state version and the group's rules are unchanged); never a crash."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.auditor.fleetspec.apply import ApiCallError, apply_fleet, local_api
from palisade.auditor.fleetspec.ecs_import import parse_ecs
from palisade.auditor.fleetspec.fleet_file import parse_fleet
from palisade.auditor.fleetspec.spec import SpecError
from palisade.auditor.model.cloud_state import CloudState
from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from tests.helpers.in_process_api import ApiHarness

R = {"RegionId": "cn-hangzhou"}
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
# Mostly plausible values, so that many requests get deep into the model before failing.
VALUE = st.one_of(
    TEXT,
    st.sampled_from(
        ["tcp", "TCP", "all", "icmp", "22/22", "-1/-1", "1/65535", "0.0.0.0/0", "1.2.3.4",
         "10.0.0.0/8,1.1.1.1", "accept", "drop", "1", "100", "110", "intranet", "internet",
         "sg-000000000001", "sg-000000000002", "2001", "ingress", "egress", "", " "]
    ),
)  # fmt: skip
RULE_PARAMS = ("IpProtocol", "PortRange", "Policy", "Priority", "NicType", "Description")


def _setup(tmp_path_factory) -> tuple[ApiHarness, str, str]:
    h = ApiHarness(tmp_path_factory.mktemp("fuzz"))
    vpc = h.ok("CreateVpc", **R, CidrBlock="172.16.0.0/12")["VpcId"]
    g = h.ok("CreateSecurityGroup", **R, VpcId=vpc)["SecurityGroupId"]
    other = h.ok("CreateSecurityGroup", **R, VpcId=vpc)["SecurityGroupId"]
    h.ok("AuthorizeSecurityGroup", **R, SecurityGroupId=g, IpProtocol="tcp", PortRange="22/22",
         SourceCidrIp="1.2.3.4")  # fmt: skip
    h.ok("RunInstances", **R, VpcId=vpc, PrivateIpAddress="172.16.0.9", SecurityGroupId=g)
    return h, g, other


_harness: dict = {}


def harness(tmp_path_factory):
    if "h" not in _harness:
        _harness["h"] = _setup(tmp_path_factory)
    return _harness["h"]


def _rule_ids(h: ApiHarness, g: str) -> list[str]:
    body = h.ok("DescribeSecurityGroupAttribute", **R, SecurityGroupId=g)
    return [p["SecurityGroupRuleId"] for p in body["Permissions"]["Permission"]]


def _check(h: ApiHarness, action: str, params: dict[str, str], g: str) -> None:
    states = CloudStateRepository(h.store)
    version = states.version()
    rules = h.ok("DescribeSecurityGroupAttribute", **R, SecurityGroupId=g)["Permissions"]
    response = h.call(action, **params)
    if response.status == 200:
        return
    assert response.status in (400, 403, 404), response.body
    assert set(response.body) == {"Code", "Message", "RequestId"}
    assert response.body["Code"] and response.body["Message"]
    assert states.version() == version  # nothing stored
    assert h.ok("DescribeSecurityGroupAttribute", **R, SecurityGroupId=g)["Permissions"] == rules


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    action=st.sampled_from(
        ["AuthorizeSecurityGroup", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroup",
         "RevokeSecurityGroupEgress", "ModifySecurityGroupRule"]
    ),
    fields=st.dictionaries(
        st.sampled_from(
            RULE_PARAMS + ("SourceCidrIp", "SourceGroupId", "SourceGroupOwnerAccount",
                           "DestCidrIp", "DestGroupId", "DestGroupOwnerAccount",
                           "SecurityGroupRuleId")
        ),
        VALUE,
        max_size=9,
    ),
    use_real_rule=st.booleans(),
)  # fmt: skip
def test_arbitrary_strings_in_rule_parameters(tmp_path_factory, action, fields, use_real_rule):
    h, g, _ = harness(tmp_path_factory)
    params = {**R, "SecurityGroupId": g, **fields}
    if use_real_rule and "SecurityGroupRuleId" in fields:
        ids = _rule_ids(h, g)  # earlier examples may have revoked every rule
        if ids:
            params["SecurityGroupRuleId"] = ids[0]
    _check(h, action, params, g)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    action=st.sampled_from(
        ["CreateSecurityGroup", "ModifySecurityGroupAttribute", "ModifySecurityGroupPolicy",
         "JoinSecurityGroup", "LeaveSecurityGroup", "CloneSecurityGroup", "RestoreSecurityGroup",
         "ImportSecurityGroupRules", "RunInstances", "CreateVpc"]
    ),
    fields=st.dictionaries(
        st.sampled_from(
            ["SecurityGroupName", "Description", "SecurityGroupType", "Template", "VpcId",
             "InnerAccessPolicy", "InstanceId", "TargetSecurityGroupId", "Mode", "DryRun",
             "Document", "PrivateIpAddress", "CidrBlock", "DestinationRegionId", "NetworkType"]
        ),
        VALUE,
        max_size=6,
    ),
)  # fmt: skip
def test_arbitrary_strings_in_group_and_instance_actions(tmp_path_factory, action, fields):
    _, _, other = harness(tmp_path_factory)
    h = harness(tmp_path_factory)[0]
    params = {**R, **fields}
    if action not in ("CreateSecurityGroup", "RunInstances", "CreateVpc"):
        params.setdefault("SecurityGroupId", other)
    _check(h, action, params, other)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | VALUE,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(
            ["SecurityGroups", "SecurityGroup", "SecurityGroupId", "Permissions", "Permission",
             "Instances", "Instance", "InstanceId", "VpcAttributes", "PrivateIpAddress",
             "IpAddress", "VpcId", "RegionId", "Direction", "IpProtocol", "PortRange",
             "SourceCidrIp", "Priority", "SecurityGroupIds", "Status", "name", "vpcs",
             "security_groups", "instances", "rules", "protocol", "ports", "cidr",
             "private_ip", "region"]
        ),
        children,
        max_size=5,
    ),
    max_leaves=25,
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(document=JSON)
def test_arbitrary_json_as_ecs_responses_or_fleet_files(document):
    """A clear SpecError, or a fleet whose dry run fails only with an action's error code."""
    now = datetime(2024, 1, 1, tzinfo=UTC)
    for reader in (lambda d: parse_ecs([d]), parse_fleet):
        try:
            spec = reader(document)
        except SpecError as err:
            assert err.where.startswith("$") and err.message
            continue
        state, _ = CloudState.create(now)
        before = json.dumps(state.to_document(), sort_keys=True)
        copy = CloudState.from_document(json.loads(before))
        try:
            apply_fleet(spec, local_api(copy, now), copy.account_id)
        except ApiCallError as err:
            assert err.code and err.message
        assert json.dumps(state.to_document(), sort_keys=True) == before
