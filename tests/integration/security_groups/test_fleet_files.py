"""`palisade apply` (idempotent) and `palisade import-ecs` (nothing stored on error) against a
real auditor.

The CLI runs in-process (`cli.main`); one auditor serves the module, and each test works in its
own VPC or region so that the tests do not see each other's resources.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers.palisade_cli import ok, run
from tests.helpers.security_group_cli import (
    R,
    explain,
    permissions,
    version,
)

pytestmark = pytest.mark.integration


FLEET = """
region: cn-hangzhou
regions: [cn-chengdu]
vpcs:
  - {name: apply-prod, cidr: 192.168.0.0/16}
security_groups:
  - name: apply-bastion
    vpc: apply-prod
    rules:
      - {protocol: tcp, ports: 22, cidr: "203.0.113.0/24,198.51.100.7"}
  - name: apply-web
    vpc: apply-prod
    description: Web servers
    rules:
      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0}
      - {protocol: tcp, ports: 22/22, group: apply-bastion}
      - {direction: egress, protocol: all, cidr: 10.0.0.0/8, policy: drop, priority: 5}
instances:
  - {name: apply-bastion-1, vpc: apply-prod, private_ip: 192.168.0.5, public_ip: 47.5.0.5,
     security_groups: [apply-bastion]}
  - {name: apply-web-1, vpc: apply-prod, private_ip: 192.168.0.10,
     security_groups: [apply-web], status: Stopped}
"""


def test_apply_creates_the_fleet_and_applying_again_changes_nothing(auditor, tmp_path):
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET)
    rc, text = run(auditor, "apply", str(path), "--dry-run", "--json")
    assert rc == 0, text
    plan = json.loads(text)
    assert (
        plan["DryRun"] and ok(auditor, "DescribeVpcs", R, "VpcName=apply-prod")["TotalCount"] == 0
    )
    rc, text = run(auditor, "apply", str(path), "--json")
    assert rc == 0, text
    done = json.loads(text)
    assert [c["Action"] for c in done["Changes"]] == [c["Action"] for c in plan["Changes"]]
    actions = [c["Action"] for c in done["Changes"]]
    assert actions.count("CreateSecurityGroup") == 2 and actions.count("Authorize") == 5
    assert "RunInstances" in actions and "CreateInstance" in actions and "AddRegion" in actions
    v = version(auditor)
    rc, text = run(auditor, "apply", str(path))
    assert rc == 0 and text.strip() == "no changes", text
    assert version(auditor) == v  # the second apply wrote nothing
    web = ok(auditor, "DescribeInstances", R, "InstanceName=apply-web-1")["Instances"]["Instance"][
        0
    ]
    bastion = ok(auditor, "DescribeInstances", R, "InstanceName=apply-bastion-1")["Instances"][
        "Instance"
    ][0]
    assert web["Status"] == "Stopped"
    assert explain(auditor, web["InstanceId"], bastion["InstanceId"], "tcp", 22)["Reachable"]
    assert not explain(auditor, web["InstanceId"], bastion["InstanceId"], "tcp", 80)["Reachable"]
    # a change in the file: only the difference is applied
    path.write_text(
        FLEET.replace("ports: 443", "ports: 8443").replace("status: Stopped", "status: Running")
    )
    rc, text = run(auditor, "apply", str(path), "--json")
    assert rc == 0, text
    changes = sorted((c["Action"], c["Detail"][:30]) for c in json.loads(text)["Changes"])
    assert [a for a, _ in changes] == ["Authorize", "Revoke", "StartInstance"]


def test_apply_refuses_a_bad_file_and_changes_nothing(auditor, tmp_path):
    v = version(auditor)
    for text, code in (
        ("vpcs: [{name: x, colour: red}]", "InvalidFleet.Malformed"),
        ("security_groups: {}", "InvalidFleet.Malformed"),
        ("[unclosed", "InvalidFleet.Malformed"),
        (
            FLEET.replace("apply-", "bad-").replace("ports: 22/22", "ports: 22/0"),
            "InvalidPortRange.Malformed",
        ),
        (
            FLEET.replace("apply-", "bad2-").replace("192.168.0.10", "10.0.0.1"),
            "InvalidPrivateIpAddress.Mismatch",
        ),
    ):
        path = tmp_path / "bad.yaml"
        path.write_text(text)
        rc, out = run(auditor, "apply", str(path))
        assert rc == 1 and json.loads(out)["Code"] == code, out
    assert version(auditor) == v
    assert ok(auditor, "DescribeVpcs", R, "VpcName=bad-prod")["TotalCount"] == 0


def test_import_ecs_loads_real_responses_keeping_ids(auditor, tmp_path):
    """The JSON the real ECS API answers, with its ids, PascalCase fields and extra fields."""
    groups = {
        "RegionId": "cn-hangzhou",
        "TotalCount": 2,
        "SecurityGroups": {
            "SecurityGroup": [
                {
                    "SecurityGroupId": "sg-bp1real0web",
                    "SecurityGroupName": "real-web",
                    "VpcId": "vpc-bp1real0001",
                    "SecurityGroupType": "normal",
                    "Description": "imported",
                    "CreationTime": "2019-01-01T00:00Z",
                    "Tags": {"Tag": []},
                },
                {
                    "SecurityGroupId": "sg-bp1real0ops",
                    "SecurityGroupName": "real-ops",
                    "VpcId": "vpc-bp1real0001",
                    "SecurityGroupType": "normal",
                },
            ]
        },
        "RequestId": "X",
    }
    attribute = {
        "RegionId": "cn-hangzhou",
        "SecurityGroupId": "sg-bp1real0web",
        "VpcId": "vpc-bp1real0001",
        "InnerAccessPolicy": "Accept",
        "Permissions": {
            "Permission": [
                {
                    "Direction": "ingress",
                    "IpProtocol": "TCP",
                    "PortRange": "443/443",
                    "SourceCidrIp": "0.0.0.0/0",
                    "Policy": "Accept",
                    "Priority": 1,
                    "NicType": "intranet",
                    "SourcePortRange": "",
                    "Ipv6SourceCidrIp": "",
                    "CreateTime": "2019-01-01T00:00:00Z",
                    "Description": "",
                },
                {
                    "Direction": "ingress",
                    "IpProtocol": "TCP",
                    "PortRange": "22/22",
                    "SourceGroupId": "sg-bp1real0ops",
                    "Policy": "Accept",
                    "Priority": 1,
                    "NicType": "intranet",
                },
                {
                    "Direction": "ingress",
                    "IpProtocol": "TCP",
                    "PortRange": "22/22",
                    "Ipv6SourceCidrIp": "::/0",
                    "Policy": "Accept",
                    "Priority": 1,
                    "NicType": "intranet",
                },
                {
                    "Direction": "ingress",
                    "IpProtocol": "ICMP",
                    "PortRange": "-1/-1",
                    "SourceCidrIp": "0.0.0.0/0",
                    "Policy": "Accept",
                    "Priority": 110,
                    "NicType": "intranet",
                },
            ]
        },
    }
    instances = {
        "Instances": {
            "Instance": [
                {
                    "InstanceId": "i-bp1real0web1",
                    "InstanceName": "real-web-1",
                    "RegionId": "cn-hangzhou",
                    "InstanceType": "ecs.g6.large",
                    "OSType": "linux",
                    "InstanceNetworkType": "vpc",
                    "Status": "Running",
                    "CreationTime": "2019-01-01T00:00Z",
                    "VpcAttributes": {
                        "VpcId": "vpc-bp1real0001",
                        "PrivateIpAddress": {"IpAddress": ["172.31.0.10"]},
                    },
                    "PublicIpAddress": {"IpAddress": ["47.4.0.10"]},
                    "SecurityGroupIds": {"SecurityGroupId": ["sg-bp1real0web"]},
                    "KeyPairName": "ops-key",
                },
            ]
        },
        "TotalCount": 1,
    }
    files = []
    for name, doc in (("g", groups), ("a", attribute), ("i", instances)):
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps(doc))
    rc, text = run(auditor, "import-ecs", *map(str, files), "--json")
    assert rc == 0, text
    out = json.loads(text)
    # the IPv6 rule is imported as given (issue 19), the priority-110 rule is noted
    assert not any("IPv6" in n for n in out["Notes"])
    assert any("priority-110" in n for n in out["Notes"])
    assert any("ops-key" in n for n in out["Notes"])
    (web,) = ok(auditor, "DescribeInstances", R, 'InstanceIds=["i-bp1real0web1"]')["Instances"][
        "Instance"
    ]
    assert web["VpcAttributes"]["VpcId"] == "vpc-bp1real0001"
    assert web["CreationTime"] == "2019-01-01T00:00Z"
    perms = permissions(auditor, "sg-bp1real0web")
    peers = {
        (p["PortRange"], p["SourceCidrIp"] or p["SourceGroupId"] or p["Ipv6SourceCidrIp"])
        for p in perms
    }
    assert peers == {("443/443", "0.0.0.0/0"), ("22/22", "sg-bp1real0ops"), ("22/22", "::/0")}
    assert explain(auditor, "i-bp1real0web1", "internet", "tcp", 443)["Complete"]
    v = version(auditor)
    rc, text = run(auditor, "import-ecs", *map(str, files))
    assert rc == 0 and "no changes" in text
    assert version(auditor) == v
    # a broken response changes nothing and says where the problem is
    instances["Instances"]["Instance"][0]["InstanceId"] = "i-bp1real0web2"
    instances["Instances"]["Instance"][0]["VpcAttributes"]["PrivateIpAddress"] = {"IpAddress": 7}
    files[2].write_text(json.dumps(instances))
    rc, text = run(auditor, "import-ecs", *map(str, files))
    assert rc == 1 and "PrivateIpAddress" in json.loads(text)["Message"]
    instances["Instances"]["Instance"][0]["VpcAttributes"]["PrivateIpAddress"] = {
        "IpAddress": ["172.31.0.10"]  # taken by i-bp1real0web1
    }
    files[2].write_text(json.dumps(instances))
    rc, text = run(auditor, "import-ecs", *map(str, files))
    assert rc == 1 and json.loads(text)["Code"] == "InvalidPrivateIpAddress.Duplicated"
    assert version(auditor) == v
