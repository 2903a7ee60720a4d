"""Addresses with digits of another script through the signed API (in-process): refused with
the code a malformed address gets, nothing stored; what is stored is canonical (issue 18,
defect 3: `1٧2.16.0.10` was a second NIC on 172.16.0.10)."""

from __future__ import annotations

from palisade.auditor.store.cloud_state_repository import CloudStateRepository

R = {"RegionId": "cn-hangzhou"}
TWIN = "1٧2.16.0.10"  # an Arabic-Indic seven


def _vpc_and_group(h) -> tuple[str, str]:
    vpc = h.ok("CreateVpc", **R, CidrBlock="172.16.0.0/12")["VpcId"]
    return vpc, h.ok("CreateSecurityGroup", **R, VpcId=vpc)["SecurityGroupId"]


def test_run_instances_refuses_a_unicode_twin_of_a_used_address(h):
    vpc, g = _vpc_and_group(h)
    h.ok("RunInstances", **R, VpcId=vpc, PrivateIpAddress="172.16.0.10", SecurityGroupId=g)
    version = CloudStateRepository(h.store).version()
    for twin in (TWIN, "172.16.0.10\n"):  # the old reader's `$` took a trailing newline
        status, code, message = h.error(
            "RunInstances", **R, VpcId=vpc, PrivateIpAddress=twin, SecurityGroupId=g
        )
        assert (status, code) == (400, "InvalidIpAddress.Malformed")
        assert repr(twin) in message
    status, code, _ = h.error(
        "RunInstances",
        **R,
        VpcId=vpc,
        PrivateIpAddress="172.16.0.11",
        PublicIpAddress="4٧.0.0.1",
        SecurityGroupId=g,
    )
    assert (status, code) == (400, "InvalidIpAddress.Malformed")
    assert CloudStateRepository(h.store).version() == version
    body = h.ok("DescribeInstances", **R, VpcId=vpc)
    addresses = [
        ip
        for i in body["Instances"]["Instance"]
        for ip in i["VpcAttributes"]["PrivateIpAddress"]["IpAddress"]
    ]
    assert addresses == ["172.16.0.10"]


def test_a_used_address_is_still_a_duplicate(h):
    vpc, g = _vpc_and_group(h)
    h.ok("RunInstances", **R, VpcId=vpc, PrivateIpAddress="172.16.0.10", SecurityGroupId=g)
    _, code, _ = h.error(
        "RunInstances", **R, VpcId=vpc, PrivateIpAddress="172.16.0.10", SecurityGroupId=g
    )
    assert code == "InvalidPrivateIpAddress.Duplicated"


def test_authorize_refuses_a_unicode_cidr(h):
    _, g = _vpc_and_group(h)
    before = h.ok("DescribeSecurityGroupAttribute", **R, SecurityGroupId=g)["Permissions"]
    for action, side in (
        ("AuthorizeSecurityGroup", "Source"),
        ("AuthorizeSecurityGroupEgress", "Dest"),
    ):
        status, code, _ = h.error(
            action,
            **R,
            SecurityGroupId=g,
            IpProtocol="tcp",
            PortRange="22/22",
            **{f"{side}CidrIp": "1٧2.16.0.0/12"},
        )
        assert (status, code) == (400, f"Invalid{side}CidrIp.Malformed")
    after = h.ok("DescribeSecurityGroupAttribute", **R, SecurityGroupId=g)["Permissions"]
    assert after == before


def test_create_vpc_refuses_a_unicode_block_and_stores_canonical_ones(h):
    status, code, _ = h.error("CreateVpc", **R, CidrBlock="1٩2.168.0.0/16")
    assert (status, code) == (400, "InvalidCidrBlock.Malformed")
    assert h.ok("DescribeVpcs", **R)["TotalCount"] == 0
    vpc = h.ok("CreateVpc", **R, CidrBlock="10.1.2.3")["VpcId"]
    (view,) = h.ok("DescribeVpcs", **R, VpcId=vpc)["Vpcs"]["Vpc"]
    assert view["CidrBlock"] == "10.1.2.3/32"
