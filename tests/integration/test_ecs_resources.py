"""Tags, vSwitches, RunInstances as the SDKs write it, and the answer fields the SDK models
read, through a real `palisade serve` and its signed HTTP API (`palisade api`).

One auditor serves the module; each test makes its own VPC so that the tests do not see each
other's resources. Persistence across a restart and the dashboard pages use their own.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse

import pytest

from tests.helpers.auditor_process import start_auditor
from tests.helpers.palisade_cli import ok
from tests.helpers.ram_cli import api as ram_api
from tests.helpers.ram_cli import new_user
from tests.helpers.security_group_cli import R, refused

pytestmark = pytest.mark.integration

UBUNTU = "ubuntu_22_04_x64_20G_alibase_20230907.vhd"
_blocks = iter(range(1, 250))


@pytest.fixture(scope="module")
def auditor(tmp_path_factory):
    proc = start_auditor(tmp_path_factory.mktemp("ecsfields") / "auditor")
    yield proc
    proc.stop()


def tags(*pairs: tuple[str, str]) -> list[str]:
    out = []
    for n, (k, v) in enumerate(pairs, 1):
        out += [f"Tag.{n}.Key={k}", f"Tag.{n}.Value={v}"]
    return out


def network(auditor, *vpc_tags: str) -> tuple[str, str, str, str]:
    """A VPC of its own (10.N.0.0/16), a vSwitch 10.N.1.0/24 in zone h, and a group."""
    n = next(_blocks)
    vpc = ok(auditor, "CreateVpc", R, f"CidrBlock=10.{n}.0.0/16", *vpc_tags)["VpcId"]
    vsw = ok(
        auditor,
        "CreateVSwitch",
        R,
        f"VpcId={vpc}",
        "ZoneId=cn-hangzhou-h",
        f"CidrBlock=10.{n}.1.0/24",
        "VSwitchName=web",
    )["VSwitchId"]
    group = ok(auditor, "CreateSecurityGroup", R, f"VpcId={vpc}")["SecurityGroupId"]
    return vpc, vsw, group, f"10.{n}"


def run(auditor, *params: str) -> list[str]:
    return ok(auditor, "RunInstances", R, *params)["InstanceIdSets"]["InstanceIdSet"]


def describe(auditor, *params: str) -> list[dict]:
    return ok(auditor, "DescribeInstances", R, "PageSize=100", *params)["Instances"]["Instance"]


def test_run_instances_as_the_sdks_write_it(auditor):
    vpc, vsw, group, net = network(auditor)
    ids = run(
        auditor,
        f"ImageId={UBUNTU}",
        "InstanceType=ecs.g7.xlarge",
        f"SecurityGroupIds.1={group}",
        f"VSwitchId={vsw}",
        "ZoneId=cn-hangzhou-h",
        "SystemDisk.Category=cloud_essd",
        "SystemDisk.Size=40",
        "Amount=3",
        "InstanceName=web",
        "HostName=web-01",
        *tags(("app", "web"), ("env", "prod")),
    )
    assert len(ids) == 3 and len(set(ids)) == 3
    found = describe(auditor, f"VSwitchId={vsw}")
    assert [i["InstanceId"] for i in found] == ids
    first = found[0]
    assert first["ZoneId"] == "cn-hangzhou-h"
    assert first["ImageId"] == UBUNTU
    assert (first["Cpu"], first["Memory"]) == (4, 16384)
    assert first["HostName"] == "web-01"
    assert first["OSType"] == "linux" and first["OSName"] == "Ubuntu 22.04 64 bit"
    assert first["VpcAttributes"]["VpcId"] == vpc
    assert first["VpcAttributes"]["VSwitchId"] == vsw
    # Addresses come from the vSwitch's block: the first one is the platform's.
    addresses = [i["VpcAttributes"]["PrivateIpAddress"]["IpAddress"] for i in found]
    assert addresses == [[f"{net}.1.1"], [f"{net}.1.2"], [f"{net}.1.3"]]
    assert first["Tags"]["Tag"] == [
        {"TagKey": "app", "TagValue": "web"},
        {"TagKey": "env", "TagValue": "prod"},
    ]
    assert first["SecurityGroupIds"]["SecurityGroupId"] == [group]
    # A named address must lie in the vSwitch; SecurityGroupId (singular) works as well.
    (one,) = run(
        auditor, f"SecurityGroupId={group}", f"VSwitchId={vsw}", f"PrivateIpAddress={net}.1.77"
    )
    (view,) = describe(auditor, f"InstanceIds={json.dumps([one])}")
    assert view["VpcAttributes"]["PrivateIpAddress"]["IpAddress"] == [f"{net}.1.77"]
    assert view["HostName"] == f"iZ{one.removeprefix('i-')}Z"  # ECS's default host name
    vswitch = ok(auditor, "DescribeVSwitches", R, f"VSwitchId={vsw}")["VSwitches"]["VSwitch"][0]
    assert vswitch["AvailableIpAddressCount"] == 256 - 4 - 4
    # filters: zone, image, tags
    assert len(describe(auditor, "ZoneId=cn-hangzhou-h", f"ImageId={UBUNTU}")) >= 3
    tagged = describe(auditor, "Tag.1.Key=app", "Tag.1.Value=web", f"VpcId={vpc}")
    assert [i["InstanceId"] for i in tagged] == ids


def test_each_bad_run_instances_value_gets_its_ecs_error(auditor):
    vpc, vsw, group, net = network(auditor)
    base = (f"SecurityGroupId={group}", f"VSwitchId={vsw}")
    cases = {
        "InvalidVSwitchId.NotFound": ("VSwitchId=vsw-missing", f"SecurityGroupId={group}"),
        "InvalidParameter.Mismatch": (*base, "ZoneId=cn-hangzhou-i"),
        "InvalidZoneId.NotFound": (
            f"SecurityGroupId={group}",
            f"VpcId={vpc}",
            f"PrivateIpAddress={net}.1.9",
            "ZoneId=cn-beijing-a",
        ),
        "InvalidPrivateIpAddress.Mismatch": (*base, f"PrivateIpAddress={net}.2.9"),
        "InvalidInstanceType.ValueNotSupported": (*base, "InstanceType=g7.large"),
        "InvalidImageId.Malformed": (*base, "ImageId=../etc/passwd"),
        "InvalidSystemDiskCategory.ValueNotSupported": (*base, "SystemDisk.Category=floppy"),
        "InvalidSystemDiskSize.ValueNotSupported": (*base, "SystemDisk.Size=5000"),
        "InvalidSystemDiskSize.LessThanImageSize": (
            *base,
            "ImageId=win2022_21H2_x64_dtc_en-us_40G_alibase_20230915.vhd",
            "SystemDisk.Size=30",
        ),
        "InvalidSystemDiskPerformanceLevel.ValueNotSupported": (
            *base,
            "SystemDisk.Category=cloud_efficiency",
            "SystemDisk.PerformanceLevel=PL2",
        ),
        "InvalidParameter.SystemDisk.Colour": (*base, "SystemDisk.Colour=red"),
        "InvalidHostName.Malformed": (*base, "HostName=-bad-"),
        "InvalidParameter.Amount": (*base, f"PrivateIpAddress={net}.1.9", "Amount=2"),
        "InvalidTagKey.Malformed": (*base, "Tag.1.Key=acs:owner"),
        "InvalidParameter.Tag.21.Key": (*base, *tags(*((f"k{i}", "v") for i in range(21)))),
        "InvalidSecurityGroupId.VpcMismatch": (
            f"VSwitchId={vsw}",
            f"SecurityGroupId={network(auditor)[2]}",  # a group of another VPC
        ),
    }
    before = len(describe(auditor, f"VpcId={vpc}"))
    for code, params in cases.items():
        assert refused(auditor, "RunInstances", R, *params) == code, params
    more = [
        ("InvalidParameter.Amount", (*base, "PublicIpAddress=47.1.1.1", "Amount=2")),
        ("InvalidParameter.Mismatch", (*base, "ImageId=win2019_x64_40G.vhd", "OsType=linux")),
    ]
    for code, params in more:
        assert refused(auditor, "RunInstances", R, *params) == code, params
    assert len(describe(auditor, f"VpcId={vpc}")) == before  # nothing was made
    # a /29 holds 8 - 4 reserved = 4 instances; the 5th is refused and none is left half made
    small = ok(
        auditor,
        "CreateVSwitch",
        R,
        f"VpcId={vpc}",
        "ZoneId=cn-hangzhou-i",
        f"CidrBlock={net}.9.0/29",
    )["VSwitchId"]
    assert (
        refused(
            auditor, "RunInstances", R, f"SecurityGroupId={group}", f"VSwitchId={small}", "Amount=5"
        )
        == "InvalidVSwitchId.IpNotEnough"
    )
    assert describe(auditor, f"VSwitchId={small}") == []
    assert len(run(auditor, f"SecurityGroupId={group}", f"VSwitchId={small}", "Amount=4")) == 4


def test_vswitches_belong_to_their_vpc(auditor):
    vpc, vsw, group, net = network(auditor, *tags(("env", "test")))
    assert (
        refused(
            auditor,
            "CreateVSwitch",
            R,
            f"VpcId={vpc}",
            "ZoneId=cn-hangzhou-h",
            f"CidrBlock={net}.1.128/25",
        )
        == "InvalidCidrBlock.Overlapped"
    )
    outside = ("ZoneId=cn-hangzhou-h", "CidrBlock=192.168.0.0/24")
    assert refused(auditor, "CreateVSwitch", R, f"VpcId={vpc}", *outside) == (
        "InvalidCidrBlock.Malformed"
    )
    wide = ("ZoneId=cn-hangzhou-h", f"CidrBlock={net}.0.0/30")
    assert refused(auditor, "CreateVSwitch", R, f"VpcId={vpc}", *wide) == (
        "InvalidCidrBlock.Malformed"
    )
    other_region = ("ZoneId=cn-shanghai-b", f"CidrBlock={net}.3.0/24")
    assert refused(auditor, "CreateVSwitch", R, f"VpcId={vpc}", *other_region) == (
        "InvalidZoneId.NotFound"
    )
    (v,) = ok(auditor, "DescribeVpcs", R, f"VpcId={vpc}")["Vpcs"]["Vpc"]
    assert v["VSwitchIds"]["VSwitchId"] == [vsw]
    assert v["Tags"]["Tag"] == [{"Key": "env", "Value": "test"}]  # the VPC product's shape
    (s,) = ok(auditor, "DescribeVSwitches", R, f"VpcId={vpc}")["VSwitches"]["VSwitch"]
    assert (s["ZoneId"], s["CidrBlock"], s["VSwitchName"]) == (
        "cn-hangzhou-h",
        f"{net}.1.0/24",
        "web",
    )
    (i,) = run(auditor, f"SecurityGroupId={group}", f"VSwitchId={vsw}")
    assert refused(auditor, "DeleteVSwitch", R, f"VSwitchId={vsw}") == "DependencyViolation"
    assert refused(auditor, "DeleteVpc", R, f"VpcId={vpc}") == "DependencyViolation"
    ok(auditor, "DeleteInstance", R, f"InstanceId={i}", "Force=true")
    ok(auditor, "DeleteVSwitch", R, f"VSwitchId={vsw}")
    assert ok(auditor, "DescribeVSwitches", R, f"VpcId={vpc}")["TotalCount"] == 0
    ok(auditor, "DeleteSecurityGroup", R, f"SecurityGroupId={group}")
    ok(auditor, "DeleteVpc", R, f"VpcId={vpc}")


def test_tags_on_every_kind_of_resource(auditor):
    vpc, vsw, group, _ = network(auditor, *tags(("team", "blue")))
    (inst,) = run(auditor, f"SecurityGroupId={group}", f"VSwitchId={vsw}")
    ok(auditor, "CreateKeyPair", R, "KeyPairName=tagged-kp", *tags(("team", "blue")))
    sg = ok(auditor, "CreateSecurityGroup", R, f"VpcId={vpc}", *tags(("team", "blue")))[
        "SecurityGroupId"
    ]
    for kind, ident in (
        ("instance", inst),
        ("securitygroup", group),
        ("keypair", "tagged-kp"),
        ("VPC", vpc),
        ("VSWITCH", vsw),
    ):
        ok(
            auditor,
            "TagResources",
            R,
            f"ResourceType={kind}",
            f"ResourceId.1={ident}",
            *tags(("owner", "ops"), ("team", "red")),
        )
        rows = ok(auditor, "ListTagResources", R, f"ResourceType={kind}", f"ResourceId.1={ident}")[
            "TagResources"
        ]["TagResource"]
        assert {(r["ResourceId"], r["TagKey"], r["TagValue"]) for r in rows} >= {
            (ident, "owner", "ops"),
            (ident, "team", "red"),
        }, kind
    # shown on the describe calls, filterable there
    (g,) = ok(auditor, "DescribeSecurityGroups", R, "Tag.1.Key=owner", f"VpcId={vpc}")[
        "SecurityGroups"
    ]["SecurityGroup"]
    assert g["SecurityGroupId"] == group
    assert {"TagKey": "owner", "TagValue": "ops"} in g["Tags"]["Tag"]
    blue = ok(auditor, "DescribeSecurityGroups", R, "Tag.1.Key=team", "Tag.1.Value=blue")
    assert [x["SecurityGroupId"] for x in blue["SecurityGroups"]["SecurityGroup"]] == [sg]
    (kp,) = ok(auditor, "DescribeKeyPairs", R, "KeyPairName=tagged-kp", "Tag.1.Key=owner")[
        "KeyPairs"
    ]["KeyPair"]
    assert {"TagKey": "team", "TagValue": "red"} in kp["Tags"]["Tag"]
    (v,) = ok(auditor, "DescribeVpcs", R, "Tag.1.Key=team", "Tag.1.Value=red")["Vpcs"]["Vpc"]
    assert v["VpcId"] == vpc
    (s,) = ok(auditor, "DescribeVSwitches", R, "Tag.1.Key=owner")["VSwitches"]["VSwitch"]
    assert {"Key": "owner", "Value": "ops"} in s["Tags"]["Tag"]
    # untag one key, then all
    ok(
        auditor,
        "UntagResources",
        R,
        "ResourceType=instance",
        f"ResourceId.1={inst}",
        "TagKey.1=team",
    )
    (i,) = describe(auditor, f"InstanceIds={json.dumps([inst])}")
    assert i["Tags"]["Tag"] == [{"TagKey": "owner", "TagValue": "ops"}]
    ok(auditor, "UntagResources", R, "ResourceType=instance", f"ResourceId.1={inst}", "All=true")
    (i,) = describe(auditor, f"InstanceIds={json.dumps([inst])}")
    assert i["Tags"]["Tag"] == []


def test_tag_limits_and_errors(auditor):
    _, _, group, _ = network(auditor)
    target = ("ResourceType=securitygroup", f"ResourceId.1={group}")
    ok(auditor, "TagResources", R, *target, *tags(*((f"k{i}", "v") for i in range(20))))
    # a 21st key is refused, and nothing of the call is applied; an existing key is replaced
    assert (
        refused(auditor, "TagResources", R, *target, *tags(("k0", "new"), ("k20", "v")))
        == "OperationDenied.QuotaExceed"
    )
    ok(auditor, "TagResources", R, *target, *tags(("k0", "new")))
    rows = ok(auditor, "ListTagResources", R, *target)["TagResources"]["TagResource"]
    assert (
        len(rows) == 20
        and {"k0": "new"}.items() <= {r["TagKey"]: r["TagValue"] for r in rows}.items()
    )
    for bad, code in (
        (("Tag.1.Key=aliyun-owner",), "InvalidTagKey.Malformed"),
        (("Tag.1.Key=acs:x",), "InvalidTagKey.Malformed"),
        (("Tag.1.Key=" + "k" * 129,), "InvalidTagKey.Malformed"),
        (("Tag.1.Key=k", "Tag.1.Value=" + "v" * 129), "InvalidTagValue.Malformed"),
        (("Tag.1.Key=k", "Tag.1.Value=http://x"), "InvalidTagValue.Malformed"),
        (("Tag.1.Key=k", "Tag.2.Key=k"), "Duplicate.TagKey"),
        (("Tag.21.Key=k",), "InvalidParameter.Tag.21.Key"),
        (("Tag.1.Value=v",), "InvalidTagKey.Malformed"),
    ):
        assert refused(auditor, "TagResources", R, *target, *bad) == code, bad
    assert (
        refused(
            auditor, "TagResources", R, "ResourceType=disk", f"ResourceId.1={group}", "Tag.1.Key=k"
        )
        == "InvalidResourceType.NotFound"
    )
    assert (
        refused(
            auditor,
            "TagResources",
            R,
            "ResourceType=instance",
            "ResourceId.1=i-none",
            "Tag.1.Key=k",
        )
        == "InvalidResourceId.NotFound"
    )


def test_list_tag_resources_pages_with_next_token(auditor):
    vpc, vsw, group, _ = network(auditor)
    ids = run(auditor, f"SecurityGroupId={group}", f"VSwitchId={vsw}", "Amount=6")
    assignments = [f"ResourceId.{n}={i}" for n, i in enumerate(ids, 1)]
    pairs = tuple((f"page-{k}", str(k)) for k in range(10))
    ok(auditor, "TagResources", R, "ResourceType=instance", *assignments, *tags(*pairs))
    seen, token = [], None
    while True:
        extra = [f"NextToken={token}"] if token else []
        body = ok(auditor, "ListTagResources", R, "ResourceType=instance", *assignments, *extra)
        seen += body["TagResources"]["TagResource"]
        token = body["NextToken"]
        if not token:
            break
    assert len(seen) == 60 and len({(r["ResourceId"], r["TagKey"]) for r in seen}) == 60
    assert (
        refused(auditor, "ListTagResources", R, "ResourceType=instance", "NextToken=x")
        == "InvalidNextToken.Malformed"
    )


def test_key_pair_id_and_access_denied_detail(auditor):
    made = ok(auditor, "CreateKeyPair", R, "KeyPairName=id-kp")
    assert made["KeyPairId"].startswith("kp-")
    (kp,) = ok(auditor, "DescribeKeyPairs", R, "KeyPairName=id-kp")["KeyPairs"]["KeyPair"]
    assert kp["KeyPairId"] == made["KeyPairId"]
    creds = new_user(auditor, "reader20", "System:AliyunECSReadOnlyAccess")
    rc, body = ram_api(
        auditor,
        "TagResources",
        R,
        "ResourceType=keypair",
        "ResourceId.1=id-kp",
        "Tag.1.Key=k",
        creds=creds,
    )
    assert rc == 1 and body["Code"] == "Forbidden.RAM", body
    detail = body["AccessDeniedDetail"]
    assert detail["AuthAction"] == "ecs:TagResources"
    assert detail["AuthPrincipalType"] == "SubUser"
    assert detail["AuthPrincipalDisplayName"] == "reader20"
    assert detail["NoPermissionType"] == "ImplicitDeny"
    assert detail["PolicyType"] == "AccountLevelIdentityBasedPolicy"
    vpc = ok(auditor, "CreateVpc", R, "CidrBlock=192.168.0.0/16")["VpcId"]
    (owner,) = {v["OwnerId"] for v in ok(auditor, "DescribeVpcs", R, f"VpcId={vpc}")["Vpcs"]["Vpc"]}
    assert detail["AuthPrincipalOwnerId"] == owner


def _dashboard(auditor, *paths: str) -> list[tuple[int, str]]:
    """GETs of dashboard pages after logging in as the first administrator. The session
    cookie is Secure, which a client library keeps only over TLS: carried by hand here."""
    password = json.loads((auditor.data_dir / "credentials.json").read_text())["ConsolePassword"]
    host, port = auditor.http.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    form = urllib.parse.urlencode({"user": "admin", "password": password})
    conn.request("POST", "/ui/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
    login = conn.getresponse()
    login.read()
    assert login.status in (302, 303), login.status
    cookie = login.getheader("Set-Cookie", "").split(";", 1)[0]
    out = []
    for path in paths:
        conn.request("GET", f"/ui{path}", headers={"Cookie": cookie})
        response = conn.getresponse()
        out.append((response.status, response.read().decode("utf-8", "replace")))
    conn.close()
    return out


def test_state_survives_a_restart_and_the_dashboard_shows_it(tmp_path):
    proc = start_auditor(tmp_path / "auditor")
    try:
        vpc, vsw, group, _ = network(proc, *tags(("keep", "me")))
        (inst,) = run(
            proc,
            f"SecurityGroupId={group}",
            f"VSwitchId={vsw}",
            f"ImageId={UBUNTU}",
            *tags(("keep", "me")),
        )
        kp = ok(proc, "CreateKeyPair", R, "KeyPairName=keep-kp")["KeyPairId"]
        before = describe(proc, f"InstanceIds={json.dumps([inst])}")
        database, proc.database = proc.database, None  # kept for the second run
        proc.stop()
        (tmp_path / "auditor" / "auditor.json").unlink()
        proc = start_auditor(tmp_path / "auditor", *(("--db", database) if database else ()))
        proc.database = database  # dropped when this run stops
        assert describe(proc, f"InstanceIds={json.dumps([inst])}") == before
        (s,) = ok(proc, "DescribeVSwitches", R, f"VpcId={vpc}")["VSwitches"]["VSwitch"]
        assert s["VSwitchId"] == vsw
        (v,) = ok(proc, "DescribeVpcs", R, f"VpcId={vpc}")["Vpcs"]["Vpc"]
        assert v["Tags"]["Tag"] == [{"Key": "keep", "Value": "me"}]
        (k,) = ok(proc, "DescribeKeyPairs", R, "KeyPairName=keep-kp")["KeyPairs"]["KeyPair"]
        assert k["KeyPairId"] == kp
        # a new key pair after the restart gets a new id
        assert ok(proc, "CreateKeyPair", R, "KeyPairName=next-kp")["KeyPairId"] != kp
        pages = _dashboard(
            proc, "/instances", f"/instances/{inst}", f"/security-groups/{group}", "/key-pairs", "/"
        )
        assert [status for status, _ in pages] == [200] * 5, [t[:300] for _, t in pages]
        assert inst in pages[0][1] and inst in pages[1][1]
    finally:
        proc.stop()
