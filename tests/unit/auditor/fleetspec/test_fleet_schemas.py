"""The fleet file and ECS response schemas (issue 18): a document either loads or gives a
SpecError naming a path; none crash. Mutations of valid documents (a key dropped or
misspelt, a value of another kind) and arbitrary YAML/JSON-like values."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from palisade.auditor.fleetspec.ecs_import import parse_ecs
from palisade.auditor.fleetspec.fleet_file import parse_fleet
from palisade.auditor.fleetspec.spec import SpecError
from tests.helpers.documents import json_values, mutations

FLEET = yaml.safe_load(
    """
region: cn-hangzhou
regions: [cn-chengdu]
accounts: [{id: "2001", name: partner}]
vpcs: [{name: prod, cidr: 192.168.0.0/16}]
security_groups:
  - name: web
    vpc: prod
    description: Web servers
    inner_access_policy: Accept
    rules:
      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0}
      - {protocol: tcp, ports: 22/22, group: bastion, owner_account: "2001"}
      - {direction: egress, protocol: all, cidr: 10.0.0.0/8, policy: drop, priority: 5}
key_pairs: [{name: deploy, public_key: "ssh-ed25519 AAAA me@host"}]
instances:
  - {name: web-1, vpc: prod, private_ip: 192.168.0.10, public_ip: 47.0.0.10,
     security_groups: [web], key_pair: deploy, status: running}
"""
)

ECS = [
    {
        "RegionId": "cn-hangzhou",
        "RequestId": "r",
        "SecurityGroups": {
            "SecurityGroup": [
                {"SecurityGroupId": "sg-1", "SecurityGroupName": "web", "VpcId": "vpc-1",
                 "Tags": {"Tag": [{"TagKey": "k", "TagValue": "v"}]}, "RuleCount": 2},
            ]
        },
    },
    {
        "RegionId": "cn-hangzhou",
        "SecurityGroupId": "sg-1",
        "InnerAccessPolicy": "Accept",
        "Permissions": {
            "Permission": [
                {"Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22",
                 "SourceCidrIp": "1.2.3.4/32", "Policy": "Accept", "Priority": "1",
                 "NicType": "intranet", "Ipv6SourceCidrIp": ""},
                {"Direction": "egress", "IpProtocol": "ALL", "PortRange": "-1/-1",
                 "DestCidrIp": "0.0.0.0/0", "Priority": 110},
            ]
        },
    },
    {
        "TotalCount": 1,
        "Instances": {
            "Instance": [
                {"InstanceId": "i-1", "RegionId": "cn-hangzhou", "Status": "Running",
                 "VpcAttributes": {"VpcId": "vpc-1",
                                   "PrivateIpAddress": {"IpAddress": ["192.168.0.9"]}},
                 "SecurityGroupIds": {"SecurityGroupId": ["sg-1"]},
                 "ZoneId": "cn-hangzhou-h", "Memory": 8192},
            ]
        },
    },
]  # fmt: skip


def test_the_valid_documents_load():
    spec = parse_fleet(FLEET)
    assert spec.instances[0].status == "Running" and spec.groups[0].rules[0].ports == "443/443"
    spec = parse_ecs(ECS)
    assert len(spec.groups[0].rules or ()) == 1 and spec.instances[0].private_ip == "192.168.0.9"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["security_groups"][0]["rules"][1].update(prots="22"),
         "$.security_groups[0].rules[1].prots"),
        (lambda d: d["instances"][0].update(status="paused"), "$.instances[0].status"),
        (lambda d: d["key_pairs"][0].pop("public_key"), "$.key_pairs[0].public_key"),
        (lambda d: d.update(regions="cn-chengdu"), "$.regions"),
    ],
)  # fmt: skip
def test_fleet_problems_name_their_path(change, where):
    doc = yaml.safe_load(yaml.safe_dump(FLEET))
    change(doc)
    with pytest.raises(SpecError) as err:
        parse_fleet(doc)
    assert err.value.where == where


def test_unknown_keys_of_ecs_responses_are_errors_with_their_path():
    # before: every key Palisade did not read was ignored, a misspelt one too
    bad = yaml.safe_load(yaml.safe_dump(ECS))
    bad[2]["Instances"]["Instance"][0]["SecurityGroupID"] = ["sg-2"]
    with pytest.raises(SpecError) as err:
        parse_ecs(bad)
    assert err.value.where == "$[2].Instances.Instance[0].SecurityGroupID"
    assert "unknown key 'SecurityGroupID'" in err.value.message


def _loads_or_says_where(reader, document) -> None:
    try:
        reader(document)
    except SpecError as err:
        assert err.where.startswith("$") and err.message


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(mutations(FLEET))
def test_mutated_fleet_files_load_or_name_a_path(document):
    _loads_or_says_where(parse_fleet, document)


@SETTINGS
@given(mutations(ECS))
def test_mutated_ecs_responses_load_or_name_a_path(document):
    _loads_or_says_where(lambda d: parse_ecs(d if isinstance(d, list) else [d]), document)


@SETTINGS
@given(json_values(["vpcs", "instances", "rules", "SecurityGroups", "Permissions", "Instances"]))
def test_any_document_loads_or_names_a_path(document):
    _loads_or_says_where(parse_fleet, document)
    _loads_or_says_where(lambda d: parse_ecs([d]), document)
