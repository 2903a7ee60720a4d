"""`palisade sync` through the real processes: one `palisade serve` plays the cloud (it speaks
the official SDKs' protocol), another is the auditor being synced; `palisade sync` runs as its
own process with the credentials in the SDKs' environment variables.

The cloud's 500-instance fleet is a fleet file applied on its store by `palisade apply`'s own
plan (tests/helpers/stored_state.py), with three vSwitches most instances are on, its RAM made
through `palisade api`. What both auditors hold is compared through Palisade's own API client,
not through the sync's reader."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import threading

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from palisade.auditor.api.client import Credentials, call
from tests.helpers.auditor_process import free_port, start_auditor
from tests.helpers.fleet_documents import fleet_document
from tests.helpers.official_sdks import CoreSdk, common_request, tea_config
from tests.helpers.palisade_cli import ok
from tests.helpers.polling import wait_for
from tests.helpers.ram_policies import ECS_TRUST, policy
from tests.helpers.stored_state import apply_in_store
from tests.helpers.system import BIN

pytestmark = pytest.mark.integration

REGION = "cn-hangzhou"
INSTANCES = 500
GROUPS = 8


def _ram(cloud) -> None:
    ok(cloud, "CreateUser", "UserName=alice", "DisplayName=Alice", "Comments=ops")
    ok(cloud, "CreateUser", "UserName=bob")
    ok(cloud, "CreateGroup", "GroupName=ops", "Comments=operators")
    ok(cloud, "AddUserToGroup", "UserName=alice", "GroupName=ops")
    read = policy({"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"})
    ok(cloud, "CreatePolicy", "PolicyName=ecs-read", f"PolicyDocument={read}")
    ok(cloud, "AttachPolicyToGroup", "GroupName=ops", "PolicyType=Custom", "PolicyName=ecs-read")
    ok(cloud, "AttachPolicyToUser", "UserName=bob", "PolicyType=System",
       "PolicyName=AliyunECSReadOnlyAccess")  # fmt: skip
    ok(cloud, "CreateRole", "RoleName=web-role", f"AssumeRolePolicyDocument={ECS_TRUST}")
    ok(cloud, "AttachPolicyToRole", "RoleName=web-role", "PolicyType=Custom",
       "PolicyName=ecs-read")  # fmt: skip
    ids = [f"i-{n:012x}" for n in range(1, 6)]
    ok(cloud, "AttachInstanceRamRole", f"RegionId={REGION}", "RamRoleName=web-role",
       f"InstanceIds={json.dumps(ids)}")  # fmt: skip


def _fleet() -> dict:
    """The fleet file's document with vSwitches: instances of 10.0/16 on one, of 10.1/16 on
    another (one in eleven on none), and a third with no instances."""
    doc = fleet_document(INSTANCES, GROUPS, REGION)
    doc["vswitches"] = [
        {"name": "sw-h", "vpc": "prod", "zone": "cn-hangzhou-h", "cidr": "10.0.0.0/16",
         "description": "the first 250"},
        {"name": "sw-i", "vpc": "prod", "zone": "cn-hangzhou-i", "cidr": "10.1.0.0/16"},
        {"name": "sw-spare", "vpc": "prod", "zone": "cn-hangzhou-j", "cidr": "10.2.0.0/24",
         "description": "no instances"},
    ]  # fmt: skip
    for n, instance in enumerate(doc["instances"]):
        if n % 11:
            instance["vswitch"] = "sw-h" if n < 250 else "sw-i"
    return doc


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    root = tmp_path_factory.mktemp("cloud")
    proc = start_auditor(root / "auditor")
    try:
        assert apply_in_store(proc, _fleet()) > INSTANCES
        _ram(proc)
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def target(tmp_path):
    proc = start_auditor(tmp_path / "target")
    yield proc
    proc.stop()


def _env(cloud, secret: str | None = None) -> dict[str, str]:
    creds = Credentials.resolve(cloud.data_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")}
    env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = creds.access_key_id
    env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = secret or creds.access_key_secret
    env["ALIBABA_CLOUD_CLI_PROFILE_DISABLED"] = "true"  # no ~/.aliyun of the machine's
    env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
    return env


def _sync(target, cloud, *args: str, secret: str | None = None, endpoint: str | None = None):
    return subprocess.run(
        [
            str(BIN / "palisade"),
            "--data-dir",
            str(target.data_dir),
            "sync",
            "--endpoint",
            endpoint or f"http://{cloud.http}",
            *args,
        ],  # fmt: skip
        env=_env(cloud, secret),
        capture_output=True,
        text=True,
        timeout=280,
    )


def _api(auditor, action: str, **params: str) -> dict:
    status, body = call(auditor.http, Credentials.resolve(auditor.data_dir), action, params)
    assert status == 200, body
    return body


def _pages(auditor, action: str, outer: str, inner: str, size: int = 50) -> list[dict]:
    out, number = [], 1
    while True:
        body = _api(auditor, action, RegionId=REGION, PageNumber=str(number), PageSize=str(size))
        out.extend(body[outer][inner])
        if len(out) >= int(body["TotalCount"]):
            return out
        number += 1


def _ram_lists(auditor, action: str, outer: str, inner: str, key: str, **params) -> list:
    return sorted(x[key] for x in _api(auditor, action, **params)[outer][inner])


def _world(auditor) -> dict:
    """Everything the sync copies, as Palisade's own API answers it."""
    instances = {
        i["InstanceId"]: (
            i["InstanceName"],
            i["Status"],
            i["InstanceType"],
            i["OSType"],
            i["VpcAttributes"]["VpcId"],
            i["VpcAttributes"]["PrivateIpAddress"]["IpAddress"],
            i["PublicIpAddress"]["IpAddress"],
            sorted(i["SecurityGroupIds"]["SecurityGroupId"]),
            i["KeyPairName"],
            i.get("RamRoleName"),
            i["VpcAttributes"]["VSwitchId"],
            i["ZoneId"],
            [
                (n["NetworkInterfaceId"], n["PrimaryIpAddress"])
                for n in i["NetworkInterfaces"]["NetworkInterface"]
            ],
        )  # fmt: skip
        for i in _pages(auditor, "DescribeInstances", "Instances", "Instance", 100)
    }
    groups = {}
    for g in _pages(auditor, "DescribeSecurityGroups", "SecurityGroups", "SecurityGroup"):
        gid = g["SecurityGroupId"]
        attr = _api(auditor, "DescribeSecurityGroupAttribute", RegionId=REGION,
                    SecurityGroupId=gid)  # fmt: skip
        rules = sorted(
            tuple(
                p[k]
                for k in (
                    "Direction",
                    "IpProtocol",
                    "PortRange",
                    "SourceCidrIp",
                    "DestCidrIp",
                    "SourceGroupId",
                    "DestGroupId",
                    "Policy",
                    "Priority",
                    "NicType",
                    "Description",
                )
            )  # fmt: skip
            for p in attr["Permissions"]["Permission"]
        )
        groups[gid] = (g["SecurityGroupName"], g["Description"], g["VpcId"],
                       g["SecurityGroupType"], attr["InnerAccessPolicy"], rules)  # fmt: skip
    pairs = {
        k["KeyPairName"]: (k["KeyPairFingerPrint"], k["PublicKey"])
        for k in _pages(auditor, "DescribeKeyPairs", "KeyPairs", "KeyPair")
    }
    vpcs = {
        v["VpcId"]: (v["VpcName"], v["CidrBlock"])
        for v in _pages(auditor, "DescribeVpcs", "Vpcs", "Vpc")
    }
    vswitches = {
        s["VSwitchId"]: (
            s["VpcId"],
            s["ZoneId"],
            s["CidrBlock"],
            s["VSwitchName"],
            s["Description"],
        )  # fmt: skip
        for s in _pages(auditor, "DescribeVSwitches", "VSwitches", "VSwitch")
    }
    users = _ram_lists(auditor, "ListUsers", "Users", "User", "UserName")
    ram = {
        "users": {
            u["UserName"]: (u["DisplayName"], u["Comments"])
            for u in _api(auditor, "ListUsers")["Users"]["User"]
        },
        "groups": _ram_lists(auditor, "ListGroups", "Groups", "Group", "GroupName"),
        "members": {
            u: _ram_lists(
                auditor, "ListGroupsForUser", "Groups", "Group", "GroupName", UserName=u
            )  # fmt: skip
            for u in users
        },
        "policies": {
            p["PolicyName"]: _api(
                auditor, "GetPolicy", PolicyName=p["PolicyName"], PolicyType="Custom"
            )["DefaultPolicyVersion"]["PolicyDocument"]
            for p in _api(auditor, "ListPolicies", PolicyType="Custom")["Policies"]["Policy"]
        },  # fmt: skip
        "roles": {
            r["RoleName"]: _api(auditor, "GetRole", RoleName=r["RoleName"])["Role"][
                "AssumeRolePolicyDocument"
            ]
            for r in _api(auditor, "ListRoles")["Roles"]["Role"]
        },
        "attached": {
            (kind, name): _ram_lists(
                auditor,
                f"ListPoliciesFor{kind}",
                "Policies",
                "Policy",
                "PolicyName",
                **{f"{kind}Name": name},
            )
            for kind, names in (
                ("User", users),
                ("Group", _ram_lists(auditor, "ListGroups", "Groups", "Group", "GroupName")),
                ("Role", _ram_lists(auditor, "ListRoles", "Roles", "Role", "RoleName")),
            )
            for name in names
        },  # fmt: skip
    }
    return {"instances": instances, "groups": groups, "key_pairs": pairs, "vpcs": vpcs,
            "vswitches": vswitches, "ram": ram}  # fmt: skip


def _stale(target, instance: bool = False) -> tuple[str, str]:
    """What the target models and the cloud has not: a VPC with a vSwitch and a group (and, if
    asked, an instance on them), and a key pair (ids of their own: a real cloud's ids are
    unique, two auditors' sequential ones are not; an instance would also take a NIC id, which
    no API call sets, so the copy test has none)."""
    vpc = _api(target, "CreateVpc", RegionId=REGION, CidrBlock="192.168.0.0/16",
               VpcId="vpc-stale")["VpcId"]  # fmt: skip
    _api(target, "CreateVSwitch", RegionId=REGION, VpcId=vpc, ZoneId="cn-hangzhou-k",
         CidrBlock="192.168.1.0/24", VSwitchId="vsw-stale")  # fmt: skip
    group = _api(target, "CreateSecurityGroup", RegionId=REGION, VpcId=vpc,
                 SecurityGroupName="stale", SecurityGroupId="sg-stale")  # fmt: skip
    group = group["SecurityGroupId"]
    if instance:
        _api(target, "RunInstances", RegionId=REGION, VSwitchId="vsw-stale",
             SecurityGroupId=group, InstanceId="i-stale")  # fmt: skip
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    text = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    _api(target, "ImportKeyPair", RegionId=REGION, KeyPairName="stale-key",
         PublicKeyBody=text.decode())  # fmt: skip
    return group, "stale-key"


def test_dry_run_shows_the_difference_and_writes_nothing(cloud, target):
    stale_group, stale_key = _stale(target, instance=True)
    before = _world(target)
    done = _sync(target, cloud, "--dry-run", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    plan = json.loads(done.stdout)
    assert plan["DryRun"] is True
    actions = [c["Action"] for c in plan["Changes"]]
    assert actions.count("RunInstances") + actions.count("CreateInstance") == INSTANCES
    assert actions.count("CreateSecurityGroup") == GROUPS
    assert actions.count("Authorize") == GROUPS * 5
    assert actions.count("CreateVSwitch") == 3
    assert {"CreateUser", "CreateGroup", "CreatePolicy", "CreateRole", "AddUserToGroup",
            "AttachPolicyToRole", "ImportKeyPair", "CreateVpc"} <= set(actions)  # fmt: skip
    removed = [(c["Action"], c["Resource"]) for c in plan["Changes"] if "Delete" in c["Action"]]
    assert removed == [  # a vSwitch after its instance, a VPC after what is in it
        ("DeleteInstance", "i-stale"),
        ("DeleteVSwitch", "vsw-stale"),
        ("DeleteSecurityGroup", stale_group),
        ("DeleteVpc", "vpc-stale"),
        ("DeleteKeyPairs", stale_key),
    ]
    assert _world(target) == before


def test_sync_copies_the_fleet_then_picks_up_a_changed_rule(cloud, target):
    _stale(target)  # removed by the sync: the copy is exact
    done = _sync(target, cloud)
    assert done.returncode == 0, done.stdout + done.stderr
    source = _world(cloud)
    assert len(source["instances"]) == INSTANCES
    assert len(source["vswitches"]) == 3
    on_vswitches = [i for i in source["instances"].values() if i[10]]  # VSwitchId
    assert len(on_vswitches) == INSTANCES - len(range(0, INSTANCES, 11))
    assert _world(target) == source
    again = _sync(target, cloud, "--json")
    assert json.loads(again.stdout)["Changes"] == [], again.stdout

    # the cloud changes one rule behind Palisade's back; the watch picks it up as drift
    watcher = subprocess.Popen(
        [
            str(BIN / "palisade"),
            "--data-dir",
            str(target.data_dir),
            "sync",
            "--endpoint",
            f"http://{cloud.http}",
            "--watch",
            "1",
        ],  # fmt: skip
        env=_env(cloud),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(watcher.stdout), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any("no changes" in x for x in lines), 120, what="first round")
        group = sorted(source["groups"])[2]
        rule = next(
            p for p in _api(cloud, "DescribeSecurityGroupAttribute", RegionId=REGION,
                            SecurityGroupId=group)["Permissions"]["Permission"]
            if p["PortRange"] == "443/443"
        )  # fmt: skip
        _api(cloud, "RevokeSecurityGroup", RegionId=REGION, SecurityGroupId=group,
             **{"SecurityGroupRuleId.1": rule["SecurityGroupRuleId"]})  # fmt: skip
        _api(cloud, "AuthorizeSecurityGroup", RegionId=REGION, SecurityGroupId=group,
             IpProtocol="tcp", PortRange="8443/8443", SourceCidrIp="0.0.0.0/0",
             Description="web")  # fmt: skip
        wait_for(lambda: any(x.startswith("drift reported") for x in lines), 120, what="drift")
    finally:
        watcher.terminate()
        watcher.wait(timeout=30)
    drift = [x for x in lines if x.startswith("drift:")]
    assert any(f"Authorize {group}" in x and "8443/8443" in x for x in drift), lines
    assert any(f"Revoke {group}" in x and "443/443" in x for x in drift), lines
    assert _world(target) == _world(cloud)
    # the drift is in the target's audit log: the sync's writes, newest first
    audit = _api(target, "DescribeSecurityGroupAudit", RegionId=REGION, SecurityGroupId=group)
    newest = audit["AuditEntries"]["AuditEntry"][:2]
    assert {e["Action"] for e in newest} == {"RevokeSecurityGroup", "AuthorizeSecurityGroup"}
    assert any("8443/8443" in json.dumps(e["After"]) for e in newest), newest
    # and it is a finding: one cloud.drift alert for the changed group, naming both changes
    alerts = _api(target, "DescribeAlerts", CheckId="cloud.drift")["Alerts"]["Alert"]
    (alert,) = [a for a in alerts if a["Subject"] == group]
    assert "8443/8443" in alert["Message"] and "443/443" in alert["Message"], alert


ACCOUNT_TRUST = policy(
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": ["acs:ram::1000:root"]}}
)


def test_what_the_cloud_detaches_is_detached_in_the_model(cloud, target):
    """The cloud detaches a key pair and an instance's role, a RAM policy and a group member,
    and changes a role's trust policy: the dry run shows the detaches, the next round makes
    them, and the model is the cloud again. (The cloud is put back afterwards.)"""
    done = _sync(target, cloud)
    assert done.returncode == 0, done.stdout + done.stderr
    instances = _pages(cloud, "DescribeInstances", "Instances", "Instance", 100)
    keyed = next(i["InstanceId"] for i in instances
                 if i["KeyPairName"] and i["Status"] == "Stopped")  # fmt: skip
    key = next(i["KeyPairName"] for i in instances if i["InstanceId"] == keyed)
    roled = next(i["InstanceId"] for i in instances if i.get("RamRoleName"))
    bob_policy = {"UserName": "bob", "PolicyType": "System",
                  "PolicyName": "AliyunECSReadOnlyAccess"}  # fmt: skip
    _api(cloud, "DetachKeyPair", RegionId=REGION, KeyPairName=key,
         InstanceIds=json.dumps([keyed]))  # fmt: skip
    _api(cloud, "DetachInstanceRamRole", RegionId=REGION, RamRoleName="web-role",
         InstanceIds=json.dumps([roled]))  # fmt: skip
    _api(cloud, "DetachPolicyFromUser", **bob_policy)
    _api(cloud, "RemoveUserFromGroup", UserName="alice", GroupName="ops")
    _api(cloud, "UpdateRole", RoleName="web-role", NewAssumeRolePolicyDocument=ACCOUNT_TRUST)
    try:
        before = _world(target)
        dry = _sync(target, cloud, "--dry-run", "--json")
        assert dry.returncode == 0, dry.stdout + dry.stderr
        plan = {
            (c["Action"], c["Resource"], c["Detail"]) for c in json.loads(dry.stdout)["Changes"]
        }
        assert plan == {
            ("DetachKeyPair", keyed, key),
            ("DetachInstanceRamRole", roled, "web-role"),
            ("DetachPolicyFromUser", "bob", "System:AliyunECSReadOnlyAccess"),
            ("RemoveUserFromGroup", "alice", "ops"),
            ("UpdateRole", "web-role", "trust policy"),
        }
        assert _world(target) == before  # the dry run wrote nothing
        done = _sync(target, cloud, "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        assert {(c["Action"], c["Resource"], c["Detail"])
                for c in json.loads(done.stdout)["Changes"]} == plan  # fmt: skip
        after = _world(target)
        assert after == _world(cloud)
        assert after["instances"][keyed][8] == "" and not after["instances"][roled][9]
        assert after["ram"]["attached"][("User", "bob")] == []
        assert after["ram"]["roles"]["web-role"] == ACCOUNT_TRUST
    finally:  # the cloud as the other tests know it (ECS may take the role again first)
        _api(cloud, "UpdateRole", RoleName="web-role", NewAssumeRolePolicyDocument=ECS_TRUST)
        _api(cloud, "AttachKeyPair", RegionId=REGION, KeyPairName=key,
             InstanceIds=json.dumps([keyed]))  # fmt: skip
        _api(cloud, "AttachInstanceRamRole", RegionId=REGION, RamRoleName="web-role",
             InstanceIds=json.dumps([roled]))  # fmt: skip
        _api(cloud, "AttachPolicyToUser", **bob_policy)
        _api(cloud, "AddUserToGroup", UserName="alice", GroupName="ops")


def test_bad_credentials_are_a_clear_error_and_write_nothing(cloud, target):
    before = _world(target)
    done = _sync(target, cloud, secret="not-the-secret")
    assert done.returncode == 1
    answer = json.loads(done.stdout)
    assert answer["Code"] in ("SignatureDoesNotMatch", "IncompleteSignature"), answer
    assert "nothing was changed" in answer["Message"]
    assert _world(target) == before


def test_unreachable_endpoint_is_a_clear_error_and_writes_nothing(cloud, target):
    before = _world(target)
    done = _sync(target, cloud, endpoint=f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 1
    answer = json.loads(done.stdout)
    assert answer["Code"] == "EndpointUnreachable", answer
    assert "nothing was changed" in answer["Message"]
    assert _world(target) == before


class _OddCloud(http.server.BaseHTTPRequestHandler):
    """Answers every call 200 with JSON of the right envelope and the wrong contents."""

    def _answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"RequestId": "x", "Regions": {"Region": [{"Name": "?"}]}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


def test_an_unexpected_answer_is_a_clear_error_and_writes_nothing(cloud, target):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OddCloud)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        before = _world(target)
        done = _sync(target, cloud, endpoint=f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
    assert done.returncode == 1, done.stdout + done.stderr
    answer = json.loads(done.stdout)
    assert answer["Code"] == "InvalidCloudAnswer", answer
    assert "nothing was changed" in answer["Message"]
    assert _world(target) == before


def test_update_role_and_modify_vswitch_attribute_through_the_official_sdks(cloud):
    """The two update actions the sync mirrors with, called by the official SDKs unchanged but
    for endpoint and protocol (tea V3 and V2, and core's CommonRequest): typed answers, and
    a bad value raises the SDK's own exception with Palisade's code."""
    from alibabacloud_ram20150501 import models as ram_models
    from alibabacloud_ram20150501.client import Client as RamClient
    from alibabacloud_vpc20160428 import models as vpc_models
    from alibabacloud_vpc20160428.client import Client as VpcClient
    from darabonba.exceptions import ResponseException

    spare = next(s for s in _pages(cloud, "DescribeVSwitches", "VSwitches", "VSwitch")
                 if s["VSwitchName"] == "sw-spare")["VSwitchId"]  # fmt: skip
    try:
        for signature in ("v3", "v2"):
            ram = RamClient(tea_config(cloud, signature))
            role = ram.update_role(
                ram_models.UpdateRoleRequest(role_name="web-role", new_description=signature)
            ).body.role
            assert (role.role_name, role.description) == ("web-role", signature)
            assert role.assume_role_policy_document == ECS_TRUST
            with pytest.raises(ResponseException) as err:
                ram.update_role(
                    ram_models.UpdateRoleRequest(role_name="web-role", new_max_session_duration=60)
                )
            assert err.value.code == "InvalidParameter.MaxSessionDuration"
            vpc = VpcClient(tea_config(cloud, signature))
            vpc.modify_vswitch_attribute(
                vpc_models.ModifyVSwitchAttributeRequest(
                    region_id=REGION, v_switch_id=spare, v_switch_name=f"spare-{signature}"
                )
            )
            (got,) = _api(cloud, "DescribeVSwitches", RegionId=REGION,
                          VSwitchId=spare)["VSwitches"]["VSwitch"]  # fmt: skip
            assert (got["VSwitchName"], got["Description"]) == (
                f"spare-{signature}",
                "no instances",
            )
            with pytest.raises(ResponseException) as err:
                vpc.modify_vswitch_attribute(
                    vpc_models.ModifyVSwitchAttributeRequest(
                        region_id=REGION, v_switch_id="vsw-none", v_switch_name="x"
                    )
                )
            assert err.value.code == "InvalidVSwitchId.NotFound"
        core = CoreSdk(cloud)
        answer = core(common_request("UpdateRole", "2015-05-01", RoleName="web-role",
                                     NewDescription="core"))  # fmt: skip
        assert answer["Role"]["Description"] == "core"
        core(common_request("ModifyVSwitchAttribute", "2016-04-28", RegionId=REGION,
                            VSwitchId=spare, VSwitchName="spare-core"))  # fmt: skip
        (got,) = _api(cloud, "DescribeVSwitches", RegionId=REGION,
                      VSwitchId=spare)["VSwitches"]["VSwitch"]  # fmt: skip
        assert got["VSwitchName"] == "spare-core"
    finally:
        _api(cloud, "UpdateRole", RoleName="web-role", NewDescription="")
        _api(cloud, "ModifyVSwitchAttribute", RegionId=REGION, VSwitchId=spare,
             VSwitchName="sw-spare")  # fmt: skip
