"""The Anti-DDoS Basic actions through the signed API (in-process): DescribeDdosThreshold,
ModifyDdosThreshold (lower only, IsAuto resets) and DescribeInstanceDdosStatus, each with its
errors, their RAM actions (`yundun-ddos:*`), and DdosStatus in DescribeInstances."""

from __future__ import annotations

from datetime import timedelta

import pytest

from palisade.auditor.model.ddos.protection import DdosStatus, InstanceDdos
from tests.helpers.in_process_ram import user_with_key
from tests.helpers.ram_policies import policy

R = {"RegionId": "cn-hangzhou"}
D = {"DdosRegionId": "cn-hangzhou"}


def _instance(h, **kw: str) -> str:
    vpc = h.ok("CreateVpc", **R, CidrBlock="172.16.0.0/12")["VpcId"]
    group = h.ok("CreateSecurityGroup", **R, VpcId=vpc)["SecurityGroupId"]
    kw.setdefault("PrivateIpAddress", "172.16.0.10")
    answer = h.ok("RunInstances", **R, VpcId=vpc, SecurityGroupId=group, **kw)
    return answer["InstanceIdSets"]["InstanceIdSet"][0]


@pytest.fixture
def instance(h) -> str:
    return _instance(h, PublicIpAddress="47.0.0.1")  # the default type: ecs.g5.large


def _threshold(h, instance: str, kind: str = "defense") -> dict:
    (view,) = h.ok("DescribeDdosThreshold", **D, DdosType=kind, **{"InstanceIds.1": instance})[
        "Thresholds"
    ]
    return view


def test_describe_the_default_threshold_and_the_black_hole_level(h, instance):
    view = _threshold(h, instance)
    assert view == {
        "InstanceId": instance,
        "InternetIp": "47.0.0.1",
        "DdosType": "defense",
        "Bps": 1000,
        "Pps": 300000,
        "MaxBps": 1000,
        "MaxPps": 300000,
        "IsAuto": True,
        "InstanceSpec": "ecs.g5.large",
    }
    hole = _threshold(h, instance, "blackhole")
    assert (hole["Bps"], hole["MaxBps"], hole["DdosType"]) == (5000, 5000, "blackhole")
    # no InstanceIds: every instance of the region
    everything = h.ok("DescribeDdosThreshold", **D, DdosType="defense")["Thresholds"]
    assert [t["InstanceId"] for t in everything] == [instance]


def test_lower_then_reset(h, instance):
    view = h.ok("ModifyDdosThreshold", **D, InstanceId=instance, Bps="100", Pps="50000")
    assert (view["Bps"], view["Pps"], view["MaxBps"], view["IsAuto"]) == (100, 50000, 1000, False)
    assert _threshold(h, instance) == {k: v for k, v in view.items() if k != "RequestId"}
    assert h.state.ddos.get(instance).lowered is not None
    entry = h.audit()[0]
    assert entry.action == "ModifyDdosThreshold" and entry.resource.endswith(instance)
    assert entry.after == {"DdosThreshold": {"Bps": 100.0, "Pps": 50000.0}}
    view = h.ok("ModifyDdosThreshold", **D, InstanceId=instance, IsAuto="true")
    assert (view["Bps"], view["Pps"], view["IsAuto"]) == (1000, 300000, True)
    assert h.state.ddos.instances == {}


@pytest.mark.parametrize(
    ("params", "status", "code", "words"),
    [
        ({"Bps": "1001", "Pps": "1000"}, 400, "InvalidParameter.Bps", "can only be lowered"),
        ({"Bps": "10", "Pps": "300001"}, 400, "InvalidParameter.Pps", "can only be lowered"),
        ({"Bps": "10"}, 400, "MissingParameter", "Give both Bps"),
        ({}, 400, "MissingParameter", "IsAuto=true"),
        ({"IsAuto": "true", "Bps": "10"}, 400, "InvalidParameter.IsAuto", "do not also"),
        ({"IsAuto": "yes"}, 400, "InvalidParameter.IsAuto", "true or false"),
        ({"Bps": "0", "Pps": "10"}, 400, "InvalidParameter.Bps", "outside"),
        ({"Bps": "ten", "Pps": "10"}, 400, "InvalidParameter.Bps", "not an integer"),
        ({"Bps": "10", "Pps": "10", "InstanceType": "slb"}, 400, "InvalidParameter.InstanceType",
         "only ecs"),
        ({"Bps": "10", "Pps": "10", "Colour": "red"}, 400, None, "Colour"),
    ],
)  # fmt: skip
def test_modify_errors(h, instance, params, status, code, words):
    got_status, got_code, message = h.error(
        "ModifyDdosThreshold", **D, InstanceId=instance, **params
    )
    assert got_status == status and (code is None or got_code == code), (got_code, message)
    assert words in message
    assert h.state.ddos.instances == {}  # nothing stored


def test_errors_about_the_instance_and_the_region(h, instance):
    h.ok("AddRegion", RegionId="cn-shanghai")
    for action, extra in (
        ("DescribeDdosThreshold", {"DdosType": "defense", "InstanceIds.1": "i-nope"}),
        ("ModifyDdosThreshold", {"InstanceId": "i-nope", "IsAuto": "true"}),
        ("DescribeInstanceDdosStatus", {"InstanceIds.1": "i-nope"}),
    ):
        assert h.error(action, **D, **extra)[:2] == (404, "InvalidInstanceId.NotFound")
        elsewhere = {k: (instance if v == "i-nope" else v) for k, v in extra.items()} | {
            "DdosRegionId": "cn-shanghai"
        }
        status, code, message = h.error(action, **elsewhere)
        assert (status, code) == (404, "InvalidInstanceId.NotFound")
        assert "check the DdosRegionId" in message
        assert h.error(action, **extra)[1] == "MissingParameter"  # no DdosRegionId
        assert h.error(action, DdosRegionId="mars-1", **extra)[1] == "InvalidRegionId.NotFound"
    status, code, message = h.error("DescribeDdosThreshold", **D, DdosType="clean")
    assert (status, code) == (
        400,
        "InvalidParameter.DdosType",
    ) and "defense or blackhole" in message
    assert h.error("DescribeDdosThreshold", **D)[1] == "MissingParameter"  # DdosType
    assert h.error("DescribeInstanceDdosStatus", **D)[1] == "MissingParameter"  # InstanceIds
    bad_list = h.error("DescribeInstanceDdosStatus", **D, InstanceIds='["i-1", 2]')
    assert bad_list[1] == "InvalidParameter.InstanceIds"


def test_a_type_missing_from_the_table_is_a_clear_message(h):
    odd = _instance(h, InstanceType="ecs.x9.huge")
    for action, extra in (
        ("DescribeDdosThreshold", {"DdosType": "defense", "InstanceIds.1": odd}),
        ("ModifyDdosThreshold", {"InstanceId": odd, "Bps": "10", "Pps": "10"}),
    ):
        status, code, message = h.error(action, **D, **extra)
        assert (status, code) == (400, "InvalidInstanceType.NoDdosThreshold")
        assert "'ecs.x9.huge' is not in the DDoS scrubbing threshold table" in message
    # its black-hole level and its state are known all the same
    assert _threshold(h, odd, "blackhole")["Bps"] == 5000
    status = h.ok("DescribeInstanceDdosStatus", **D, **{"InstanceIds.1": odd})
    assert status["InstanceStatusMap"] == {odd: "normal"}


def test_status_follows_the_stored_state_and_the_clock(h, instance):
    ids = {"InstanceIds": f'["{instance}"]'}
    answer = h.ok("DescribeInstanceDdosStatus", **D, **ids)
    assert answer["InstanceStatusMap"] == {instance: "normal"}
    until = h.now + timedelta(minutes=30)
    h.save(lambda s: s.ddos.put(instance, InstanceDdos(DdosStatus.BLACK_HOLE, h.now, until)))
    answer = h.ok("DescribeInstanceDdosStatus", **D, **ids)
    assert answer["InstanceStatusMap"] == {instance: "blackhole"}
    (detail,) = answer["InstanceStatuses"]
    assert detail["BlackHoleEndTime"] == until.strftime("%Y-%m-%dT%H:%MZ")
    (inst,) = h.ok("DescribeInstances", **R)["Instances"]["Instance"]
    assert inst["DdosStatus"] == "blackhole"
    h.advance(30 * 60)  # the black hole's time is up, before any new reading
    answer = h.ok("DescribeInstanceDdosStatus", **D, **ids)
    assert answer["InstanceStatusMap"] == {instance: "normal"}
    (inst,) = h.ok("DescribeInstances", **R)["Instances"]["Instance"]
    assert inst["DdosStatus"] == "normal"


def test_each_action_is_its_own_ram_action(h, instance):
    ecs_reader = user_with_key(h, "ecs-reader", ("System", "AliyunECSReadOnlyAccess"))
    h.ok(
        "CreatePolicy",
        PolicyName="ddos-read",
        PolicyDocument=policy(
            {"Effect": "Allow", "Action": "yundun-ddos:Describe*", "Resource": "*"}
        ),
    )
    ddos_reader = user_with_key(h, "ddos-reader", ("Custom", "ddos-read"))
    describe = {"DdosType": "defense", "InstanceIds.1": instance}
    assert h.call("DescribeDdosThreshold", ecs_reader, **D, **describe).status == 403
    assert h.call("DescribeDdosThreshold", ddos_reader, **D, **describe).status == 200
    status = {"InstanceIds.1": instance}
    assert h.call("DescribeInstanceDdosStatus", ddos_reader, **D, **status).status == 200
    modify = {"InstanceId": instance, "Bps": "10", "Pps": "10"}
    denied = h.call("ModifyDdosThreshold", ddos_reader, **D, **modify)
    assert denied.status == 403 and "yundun-ddos:ModifyDdosThreshold" in str(denied.body)
