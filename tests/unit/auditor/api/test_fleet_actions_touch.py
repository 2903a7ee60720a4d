"""Every ECS, VPC and Anti-DDoS action that writes (and the system changes of the fleet room:
key activation after a restart, the settings file's limits) stores the units it changed: every
write compares the whole state in memory with the rows before it commits
(PALISADE_VERIFY_CHANGES, which the tests set), so a change not touched fails the call. The
RAM role an instance takes is made straight in the state (the RAM actions are another
room's)."""

from __future__ import annotations

import json

import pytest

from palisade.auditor.api.actions.ecs.keypairs import activate_booted
from palisade.auditor.model.cloud_state import DEFAULT_REGION
from palisade.auditor.server import quota_settings
from palisade.auditor.store.live_state import verifying
from tests.helpers.ram_policies import ECS_TRUST

R = {"RegionId": DEFAULT_REGION}
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHOIZLYJaeHEvSR6e1AKt4BOBDQjOUg3M/1wLOW6BJwP c"


@pytest.fixture(autouse=True)
def _verifying():
    assert verifying(), "tests/conftest.py sets PALISADE_VERIFY_CHANGES=1"


def _rule_ids(h, group_id: str) -> list[str]:
    attribute = h.ok("DescribeSecurityGroupAttribute", **R, SecurityGroupId=group_id)
    return [p["SecurityGroupRuleId"] for p in attribute["Permissions"]["Permission"]]


def test_every_fleet_action_touches_what_it_changes(h) -> None:
    h.save(lambda state: state.ram.create_role("EcsRole", ECS_TRUST, h.now))
    h.ok("AddRegion", RegionId="cn-beijing")
    h.ok("AddAccount", AccountId="3001", AccountName="partner")
    vpc = h.ok("CreateVpc", **R, CidrBlock="172.16.0.0/12", **{"Tag.1.Key": "env"})["VpcId"]
    vsw = h.ok(
        "CreateVSwitch", **R, VpcId=vpc, ZoneId=f"{DEFAULT_REGION}-h", CidrBlock="172.16.1.0/24"
    )["VSwitchId"]
    web = h.ok("CreateSecurityGroup", **R, VpcId=vpc, **{"Tag.1.Key": "tier"})["SecurityGroupId"]
    db = h.ok("CreateSecurityGroup", **R, VpcId=vpc)["SecurityGroupId"]

    # rules
    h.ok(
        "AuthorizeSecurityGroup",
        **R,
        SecurityGroupId=web,
        IpProtocol="tcp",
        PortRange="22/22",
        SourceCidrIp="10.0.0.0/8",
    )
    h.ok(
        "AuthorizeSecurityGroupEgress",
        **R,
        SecurityGroupId=web,
        IpProtocol="tcp",
        PortRange="443/443",
        DestCidrIp="0.0.0.0/0",
    )
    ssh = _rule_ids(h, web)[0]
    h.ok(
        "ModifySecurityGroupRule",
        **R,
        SecurityGroupId=web,
        SecurityGroupRuleId=ssh,
        IpProtocol="tcp",
        PortRange="22/22",
        SourceCidrIp="10.1.0.0/16",
    )
    h.ok("ModifySecurityGroupAttribute", **R, SecurityGroupId=web, SecurityGroupName="web-tier")
    h.ok("ModifySecurityGroupPolicy", **R, SecurityGroupId=db, InnerAccessPolicy="Drop")
    h.error(
        "AuthorizeSecurityGroup",
        **R,
        SecurityGroupId=web,
        IpProtocol="tcp",
        PortRange="99999/99999",
        SourceCidrIp="10.0.0.0/8",
    )
    clone = h.ok("CloneSecurityGroup", **R, SecurityGroupId=web)["SecurityGroupId"]
    h.ok("RestoreSecurityGroup", **R, SecurityGroupId=db, TargetSecurityGroupId=web, Mode="full")
    document = h.ok("ExportSecurityGroupRules", **R, SecurityGroupId=web)["Document"]
    cloned_ssh = _rule_ids(h, clone)[0]
    h.ok("RevokeSecurityGroup", **R, SecurityGroupId=clone, **{"SecurityGroupRuleId.1": cloned_ssh})
    h.ok("ImportSecurityGroupRules", **R, SecurityGroupId=clone, Document=json.dumps(document))

    # key pairs and instances
    h.ok("CreateKeyPair", **R, KeyPairName="kp-1", **{"Tag.1.Key": "team"})
    h.ok("ImportKeyPair", **R, KeyPairName="kp-2", PublicKeyBody=ED25519)
    run = h.ok(
        "RunInstances",
        **R,
        VSwitchId=vsw,
        SecurityGroupId=web,
        KeyPairName="kp-1",
        RamRoleName="EcsRole",
        Amount="2",
    )
    first, second = run["InstanceIdSets"]["InstanceIdSet"]
    h.error("RunInstances", **R, VSwitchId=vsw, PrivateIpAddress="172.16.1.200")  # no group
    stopped = h.ok("CreateInstance", **R, VSwitchId=vsw, SecurityGroupId=db)["InstanceId"]
    h.ok("JoinSecurityGroup", InstanceId=first, SecurityGroupId=clone)
    h.ok("LeaveSecurityGroup", InstanceId=first, SecurityGroupId=web)
    h.ok("StartInstance", InstanceId=stopped)
    h.ok("RebootInstance", InstanceId=stopped)
    h.ok("StopInstance", InstanceId=stopped)
    h.ok("AttachKeyPair", **R, KeyPairName="kp-2", InstanceIds=json.dumps([first, stopped]))
    boot = int(h.now.timestamp()) + 60
    h.advance(120)
    assert h.api.apply_system_change("KeyPairActivated", activate_booted({first: boot}))
    h.ok("DetachKeyPair", **R, KeyPairName="kp-2", InstanceIds=json.dumps([stopped]))
    h.ok("ModifyInstanceAttribute", InstanceId=first, Password="Abcdefg1!")
    h.ok("ApplyTcp25Unblock", InstanceId=first, Reason="the newsletter")
    h.ok("ModifyDdosThreshold", DdosRegionId=DEFAULT_REGION, InstanceId=first, Bps="50", Pps="1000")
    h.ok("AttachInstanceRamRole", **R, InstanceIds=json.dumps([stopped]), RamRoleName="EcsRole")
    h.ok("DetachInstanceRamRole", **R, InstanceIds=json.dumps([second]))

    # tags on every kind of resource
    for kind, ident in (
        ("instance", first),
        ("securitygroup", web),
        ("keypair", "kp-1"),
        ("VPC", vpc),
        ("VSWITCH", vsw),
    ):
        tags = {"ResourceId.1": ident, "Tag.1.Key": "owner", "Tag.1.Value": "ops"}
        h.ok("TagResources", **R, ResourceType=kind, **tags)
        h.ok("UntagResources", **R, ResourceType=kind, **{"ResourceId.1": ident, "All": "true"})

    # deleting: an instance with a key pair, a role and a lowered DDoS threshold
    h.ok("DeleteInstance", InstanceId=first, Force="true")
    assert first not in h.state.keypairs.bindings
    assert first not in h.state.ddos.instances
    assert h.state.instance_roles.role_of(first) is None
    h.ok("DeleteKeyPairs", **R, KeyPairNames=json.dumps(["kp-1", "kp-2"]))
    for instance_id in (second, stopped):
        h.ok("DeleteInstance", InstanceId=instance_id, Force="true")
    for group_id in (web, db, clone):
        h.ok("DeleteSecurityGroup", **R, SecurityGroupId=group_id)
    h.ok("DeleteVSwitch", **R, VSwitchId=vsw)
    h.ok("DeleteVpc", **R, VpcId=vpc)

    # the settings file's [limits]
    assert quota_settings.apply(h.api, rules_per_group=300)
