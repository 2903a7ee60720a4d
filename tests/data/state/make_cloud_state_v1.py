"""Wrote cloud_state_v1.json: a state document saved by the code of 84a439a (the whole-document
store), through the API, with every section filled. Kept for the record; the migration test
reads the JSON, so the document stays what that code wrote."""

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, ".")
from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from tests.helpers.in_process_api import ApiHarness

h = ApiHarness(Path(tempfile.mkdtemp()))
vpc = h.ok("CreateVpc", RegionId="cn-hangzhou", CidrBlock="192.168.0.0/16")["VpcId"]
vsw = h.ok(
    "CreateVSwitch",
    RegionId="cn-hangzhou",
    VpcId=vpc,
    CidrBlock="192.168.1.0/24",
    ZoneId="cn-hangzhou-h",
)["VSwitchId"]
g1 = h.ok("CreateSecurityGroup", RegionId="cn-hangzhou", VpcId=vpc, SecurityGroupName="web")[
    "SecurityGroupId"
]
g2 = h.ok(
    "CreateSecurityGroup",
    RegionId="cn-hangzhou",
    VpcId=vpc,
    SecurityGroupName="db",
    Description="databases",
)["SecurityGroupId"]
h.ok(
    "AuthorizeSecurityGroup",
    RegionId="cn-hangzhou",
    SecurityGroupId=g1,
    IpProtocol="tcp",
    PortRange="22/22",
    SourceCidrIp="10.0.0.0/8",
    Priority="10",
    Description="ssh",
)
h.ok(
    "AuthorizeSecurityGroup",
    RegionId="cn-hangzhou",
    SecurityGroupId=g1,
    IpProtocol="tcp",
    PortRange="443/443",
    Ipv6SourceCidrIp="::/0",
)
h.ok(
    "AuthorizeSecurityGroup",
    RegionId="cn-hangzhou",
    SecurityGroupId=g2,
    IpProtocol="tcp",
    PortRange="3306/3306",
    SourceGroupId=g1,
    Policy="accept",
)
h.ok(
    "AuthorizeSecurityGroup",
    RegionId="cn-hangzhou",
    SecurityGroupId=g2,
    IpProtocol="all",
    PortRange="-1/-1",
    SourceCidrIp="0.0.0.0/0",
    Policy="drop",
    Priority="100",
)
h.ok(
    "AuthorizeSecurityGroupEgress",
    RegionId="cn-hangzhou",
    SecurityGroupId=g2,
    IpProtocol="tcp",
    PortRange="25/25",
    DestCidrIp="0.0.0.0/0",
    Policy="drop",
)
ins = h.ok(
    "RunInstances",
    RegionId="cn-hangzhou",
    VSwitchId=vsw,
    SecurityGroupId=g1,
    Amount="2",
    InstanceName="web",
)["InstanceIdSets"]["InstanceIdSet"]
h.ok("JoinSecurityGroup", RegionId="cn-hangzhou", SecurityGroupId=g2, InstanceId=ins[0])
kp = h.ok("CreateKeyPair", RegionId="cn-hangzhou", KeyPairName="ops")
h.ok("AttachKeyPair", RegionId="cn-hangzhou", KeyPairName="ops", InstanceIds=json.dumps(ins))
h.ok("CreateUser", UserName="alice", DisplayName="Alice")
h.ok("CreateAccessKey", UserName="alice")
h.ok("CreateGroup", GroupName="ops")
h.ok("AddUserToGroup", GroupName="ops", UserName="alice")
h.ok(
    "CreatePolicy",
    PolicyName="read-ecs",
    PolicyDocument=json.dumps(
        {
            "Version": "1",
            "Statement": [{"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"}],
        }
    ),
)
h.ok(
    "CreatePolicyVersion",
    PolicyName="read-ecs",
    PolicyDocument=json.dumps(
        {
            "Version": "1",
            "Statement": [
                {"Effect": "Allow", "Action": ["ecs:Describe*", "vpc:Describe*"], "Resource": "*"}
            ],
        }
    ),
    SetAsDefault="true",
)
h.ok("AttachPolicyToUser", PolicyType="Custom", PolicyName="read-ecs", UserName="alice")
h.ok(
    "AttachPolicyToGroup",
    PolicyType="System",
    PolicyName="AliyunRAMReadOnlyAccess",
    GroupName="ops",
)
trust = {
    "Version": "1",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"Service": ["ecs.aliyuncs.com"]},
        }
    ],
}
h.ok("CreateRole", RoleName="app", AssumeRolePolicyDocument=json.dumps(trust))
h.ok(
    "AttachPolicyToRole", PolicyType="System", PolicyName="AliyunECSReadOnlyAccess", RoleName="app"
)
h.ok(
    "AttachInstanceRamRole",
    RegionId="cn-hangzhou",
    InstanceIds=json.dumps([ins[1]]),
    RamRoleName="app",
)
try:
    h.ok(
        "ModifyDdosThreshold",
        DdosRegionId="cn-hangzhou",
        InstanceType="ecs",
        InstanceId=ins[0],
        Bps="100",
        Pps="20000",
    )
except AssertionError as e:
    print(e)
version, doc = CloudStateRepository(h.store).load()
Path("tests/data/state/cloud_state_v1.json").write_text(
    json.dumps(doc, indent=1, sort_keys=True) + "\n"
)
print(version, len(json.dumps(doc)))
