"""vSwitches in the cloud model: inside their VPC, no overlap, one zone of the region, the
addresses RunInstances gives out from them; and documents saved before vSwitches, tags and
the new instance fields existed still load."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from palisade.auditor.model.cloud_state import CloudState
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet import document as fleet_document
from palisade.auditor.model.fleet.cloud_model import CloudModel
from palisade.auditor.model.fleet.resources import (
    image_os_family,
    image_os_name,
    instance_type_capacity,
)
from palisade.auditor.model.keypairs.service import KeyPairService, parse_public_key_body

NOW = datetime(2026, 12, 1, tzinfo=UTC)
A, R = "1111", "cn-hangzhou"


@pytest.fixture
def cloud() -> CloudModel:
    m = CloudModel()
    m.add_account(A)
    m.add_region(R)
    m.add_region("cn-beijing")
    return m


def _code(fn, *args, **kwargs) -> str:
    with pytest.raises(ModelError) as err:
        fn(*args, **kwargs)
    return err.value.code


def test_vswitch_rules(cloud):
    vpc = cloud.create_vpc(A, R, "192.168.0.0/16").vpc_id
    s = cloud.create_vswitch(vpc, "cn-hangzhou-h", "192.168.1.0/24", created_at=NOW)
    assert (s.vpc_id, s.zone_id, s.cidr, s.region_id) == (vpc, "cn-hangzhou-h", "192.168.1.0/24", R)
    create = cloud.create_vswitch
    assert _code(create, vpc, "cn-hangzhou-h", "192.168.1.64/26", created_at=NOW) == (
        "InvalidCidrBlock.Overlapped"
    )
    assert _code(create, vpc, "cn-hangzhou-h", "10.0.0.0/24", created_at=NOW) == (
        "InvalidCidrBlock.Malformed"
    )
    assert _code(create, vpc, "cn-hangzhou-h", "192.168.2.1/24", created_at=NOW) == (
        "InvalidCidrBlock.Malformed"  # host bits set
    )
    assert _code(create, vpc, "cn-hangzhou-h", "192.168.2.0/30", created_at=NOW) == (
        "InvalidCidrBlock.Malformed"  # smaller than /29
    )
    for zone in ("cn-beijing-a", "cn-hangzhou", "cn-hangzhou-", "cn-hangzhou-h h", "h"):
        assert _code(create, vpc, zone, "192.168.2.0/24", created_at=NOW) == (
            "InvalidZoneId.NotFound"
        ), zone
    assert _code(create, "vpc-nope", "cn-hangzhou-h", "192.168.2.0/24", created_at=NOW) == (
        "InvalidVpcId.NotFound"
    )
    assert _code(cloud.delete_vpc, vpc) == "DependencyViolation"
    cloud.delete_vswitch(s.vswitch_id)
    cloud.delete_vpc(vpc)


def test_addresses_come_from_the_vswitch_and_run_out(cloud):
    vpc = cloud.create_vpc(A, R, "10.0.0.0/8").vpc_id
    s = cloud.create_vswitch(vpc, "cn-hangzhou-h", "10.0.0.0/29", created_at=NOW)
    group = cloud.create_security_group(A, R, now=NOW, vpc_id=vpc).group_id
    made = [
        cloud.create_instance(
            A, R, created_at=NOW, vswitch_id=s.vswitch_id, security_group_ids=[group]
        )
        for _ in range(4)
    ]
    # .0 and the last three (.5 .6 .7) are the platform's
    assert [i.private_ips for i in made] == [["10.0.0.1"], ["10.0.0.2"], ["10.0.0.3"], ["10.0.0.4"]]
    assert {(i.vpc_id, i.zone_id, i.vswitch_id) for i in made} == {
        (vpc, "cn-hangzhou-h", s.vswitch_id)
    }
    assert (
        _code(
            cloud.create_instance,
            A,
            R,
            created_at=NOW,
            vswitch_id=s.vswitch_id,
            security_group_ids=[group],
        )
        == "InvalidVSwitchId.IpNotEnough"
    )
    cloud.delete_instance(made[1].instance_id, force=True)
    again = cloud.create_instance(
        A, R, created_at=NOW, vswitch_id=s.vswitch_id, security_group_ids=[group]
    )
    assert again.private_ips == ["10.0.0.2"]  # a freed address is given out again
    assert _code(cloud.delete_vswitch, s.vswitch_id) == "DependencyViolation"


def test_vswitch_and_request_must_agree(cloud):
    vpc = cloud.create_vpc(A, R, "10.0.0.0/8").vpc_id
    other = cloud.create_vpc(A, R, "172.16.0.0/12").vpc_id
    s = cloud.create_vswitch(vpc, "cn-hangzhou-h", "10.1.0.0/24", created_at=NOW)
    group = cloud.create_security_group(A, R, now=NOW, vpc_id=vpc).group_id
    run = cloud.create_instance
    common = {"created_at": NOW, "vswitch_id": s.vswitch_id, "security_group_ids": [group]}
    assert _code(run, A, R, vpc_id=other, **common) == "InvalidParameter.Mismatch"
    assert _code(run, A, R, zone_id="cn-hangzhou-i", **common) == "InvalidParameter.Mismatch"
    assert _code(run, A, "cn-beijing", **common) == "InvalidVSwitchId.NotFound"
    assert _code(run, A, R, private_ips=["10.2.0.5"], **common) == (
        "InvalidPrivateIpAddress.Mismatch"
    )
    assert run(A, R, private_ips=["10.1.0.200"], **common).private_ips == ["10.1.0.200"]


def test_a_document_saved_before_these_fields_loads(cloud):
    """What an older auditor stored: no vswitches list, no tags, no zone, image, disk or key
    pair ids. It loads with defaults, and saving it again keeps everything."""
    vpc = cloud.create_vpc(A, R, "10.0.0.0/8").vpc_id
    group = cloud.create_security_group(A, R, now=NOW, vpc_id=vpc).group_id
    cloud.create_instance(
        A, R, created_at=NOW, vpc_id=vpc, private_ips=["10.0.0.5"], security_group_ids=[group]
    )
    state, _ = CloudState.create(NOW)
    state.cloud = cloud
    pairs = KeyPairService()
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    parse_public_key_body(key)
    pairs.import_key(A, R, "old", key, NOW)
    pairs.import_key(A, R, "older", key, datetime(2025, 1, 1, tzinfo=UTC))
    state.keypairs = pairs
    doc = state.to_document()
    doc["cloud"].pop("vswitches")
    new_fields = ("tags", "zone_id", "image_id", "vswitch_id", "host_name", "system_disk")
    for section in ("vpcs", "groups", "instances"):
        for item in doc["cloud"][section]:
            for name in (*new_fields, "description"):
                if section != "groups" or name == "tags":
                    item.pop(name, None)
    doc["keypairs"].pop("last_id")
    for item in doc["keypairs"]["key_pairs"]:
        item.pop("key_pair_id")
        item.pop("tags")
    loaded = CloudState.from_document(doc)
    (inst,) = loaded.cloud.instances.values()
    assert (inst.zone_id, inst.image_id, inst.vswitch_id, inst.tags) == ("", "", None, {})
    assert loaded.cloud.vswitches == {} and loaded.cloud.groups[group].tags == {}
    # key pairs get ids on load, oldest first, and new ones continue after them
    ids = {p.name: p.key_pair_id for p in loaded.keypairs.pairs.values()}
    assert ids == {"older": "kp-000000000001", "old": "kp-000000000002"}
    again = CloudState.from_document(loaded.to_document())
    assert {p.name: p.key_pair_id for p in again.keypairs.pairs.values()} == ids
    assert again.keypairs.import_key(A, R, "new", key, NOW).key_pair_id == "kp-000000000003"
    assert fleet_document.to_document(again.cloud) == fleet_document.to_document(loaded.cloud)


def test_instance_type_and_image_names():
    assert instance_type_capacity("ecs.g6.large") == (2, 8192)
    assert instance_type_capacity("ecs.c7.4xlarge") == (16, 32768)
    assert instance_type_capacity("ecs.r7.xlarge") == (4, 32768)
    assert instance_type_capacity("ecs.g6.huge") == (0, 0)
    assert image_os_name("ubuntu_22_04_x64_20G_alibase_20230907.vhd") == "Ubuntu 22.04 64 bit"
    assert image_os_name("centos_7_9_x64_20G_alibase_20230815.vhd") == "CentOS 7.9 64 bit"
    assert image_os_name("m-bp1custom") == "" and image_os_family("m-bp1custom") is None
    assert image_os_family("win2022_21H2_x64_dtc_en-us_40G_alibase_20230915.vhd").value == (
        "windows"
    )


@given(st.text(max_size=80))
def test_names_from_any_text_never_raise(text):
    cpus, memory = instance_type_capacity(text)
    assert cpus >= 0 and memory >= 0
    assert isinstance(image_os_name(text), str)
    image_os_family(text)
