"""Untrusted input into the tag parameters, the tagging actions, CreateVSwitch and the
RunInstances machine parameters (through the signed pipeline, in-process): always a success
or a clear ECS-style error, and on an error nothing is stored; never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from tests.helpers.in_process_api import ApiHarness

R = {"RegionId": "cn-hangzhou"}
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=140)
VALUE = st.one_of(
    TEXT,
    st.sampled_from(
        ["", "k", "aliyun", "acs:x", "http://x", "40", "20", "5000", "cloud_essd", "PL1",
         "cn-hangzhou-h", "cn-beijing-a", "10.0.1.0/24", "10.0.0.0/29", "ecs.g6.large",
         "ubuntu_22_04_x64_20G_alibase_20230907.vhd", "true", "3", "101", "-1"]
    ),
)  # fmt: skip
TAG_NAMES = st.one_of(
    st.builds(
        lambda n, f: f"Tag.{n}.{f}",
        st.integers(-1, 25),
        st.sampled_from(["Key", "Value", "key", "Other"]),
    ),
    st.sampled_from(["Tag", "Tag.", "Tag.1", "Tag..Key", "Tag.01.Key", "Tag.１.Key"]),
)
_harness: dict = {}


def harness(tmp_path_factory) -> tuple[ApiHarness, dict[str, str]]:
    if "h" not in _harness:
        h = ApiHarness(tmp_path_factory.mktemp("fuzz20"))
        vpc = h.ok("CreateVpc", **R, CidrBlock="10.0.0.0/16")["VpcId"]
        vsw = h.ok(
            "CreateVSwitch", **R, VpcId=vpc, ZoneId="cn-hangzhou-h", CidrBlock="10.0.0.0/20"
        )["VSwitchId"]
        g = h.ok("CreateSecurityGroup", **R, VpcId=vpc)["SecurityGroupId"]
        (i,) = h.ok("RunInstances", **R, VSwitchId=vsw, SecurityGroupId=g)["InstanceIdSets"][
            "InstanceIdSet"
        ]
        _harness["h"] = (h, {"vpc": vpc, "vsw": vsw, "sg": g, "i": i})
    return _harness["h"]


def _check(h: ApiHarness, action: str, params: dict[str, str]) -> None:
    states = CloudStateRepository(h.store)
    version = states.version()
    response = h.call(action, **params)
    if response.status == 200:
        return
    assert response.status in (400, 403, 404), response.body
    assert set(response.body) == {"Code", "Message", "RequestId"}, response.body
    assert response.body["Code"] and response.body["Message"]
    assert states.version() == version  # nothing stored


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    action=st.sampled_from(
        ["CreateSecurityGroup", "CreateVpc", "CreateKeyPair", "TagResources", "ListTagResources",
         "DescribeInstances", "DescribeVpcs", "DescribeVSwitches", "DescribeSecurityGroups"]
    ),
    tags=st.dictionaries(TAG_NAMES, VALUE, max_size=6),
    kind=st.sampled_from(["instance", "securitygroup", "VPC", "vswitch", "keypair", "disk", ""]),
)  # fmt: skip
def test_arbitrary_tag_parameters(tmp_path_factory, action, tags, kind):
    h, ids = harness(tmp_path_factory)
    params = {**R, **tags}
    if action == "TagResources" or action == "ListTagResources":
        target = {"instance": ids["i"], "securitygroup": ids["sg"], "VPC": ids["vpc"]}
        params.update(ResourceType=kind, **{"ResourceId.1": target.get(kind, ids["vsw"])})
    if action == "CreateSecurityGroup":
        params["VpcId"] = ids["vpc"]
    if action == "CreateKeyPair":
        params["KeyPairName"] = f"fuzz-{len(h.state.keypairs.pairs)}"
    _check(h, action, params)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    fields=st.dictionaries(
        st.sampled_from(
            ["ImageId", "InstanceType", "ZoneId", "HostName", "Amount", "PrivateIpAddress",
             "SystemDisk.Category", "SystemDisk.Size", "SystemDisk.PerformanceLevel",
             "SystemDisk.DiskName", "SystemDisk.Other", "Description", "OsType"]
        ),
        VALUE,
        max_size=6,
    ),
    action=st.sampled_from(["RunInstances", "CreateInstance", "CreateVSwitch", "UntagResources"]),
)  # fmt: skip
def test_arbitrary_machine_parameters(tmp_path_factory, fields, action):
    h, ids = harness(tmp_path_factory)
    if action == "CreateVSwitch":
        params = {**R, "VpcId": ids["vpc"], "ZoneId": fields.get("ZoneId", "cn-hangzhou-i"),
                  "CidrBlock": fields.get("PrivateIpAddress", "10.0.16.0/24"),
                  "VSwitchName": fields.get("Description", "")}  # fmt: skip
    elif action == "UntagResources":
        params = {**R, "ResourceType": "instance", "ResourceId.1": ids["i"],
                  "TagKey.1": fields.get("ImageId", "k"),
                  "All": fields.get("Amount", "false")}  # fmt: skip
    else:
        params = {**R, "VSwitchId": ids["vsw"], "SecurityGroupId": ids["sg"], **fields}
        if action == "CreateInstance":
            params.pop("Amount", None)
    _check(h, action, params)
