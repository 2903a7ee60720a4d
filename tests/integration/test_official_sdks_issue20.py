"""Issue 20 with the official SDKs, unchanged but for endpoint and protocol, against a real
`palisade serve`: `Permissions.N` rules (authorize, revoke, ingress and egress, all or
nothing), `SourcePortRange`, IPv6 rules, tags (Tag.N on create, TagResources /
UntagResources / ListTagResources), CreateVSwitch then RunInstances as the SDKs write it
(VSwitchId, SecurityGroupIds.N, SystemDisk.*, Amount, ZoneId, Tag.N), KeyPairId in answers,
AccessDeniedDetail on a RAM user's denial, and a ClientToken retry that answers the first
answer and creates nothing twice. tea-openapi with V3 and V2 signatures, and
aliyun-python-sdk-core + -ecs."""

from __future__ import annotations

import json
import secrets
import uuid

import pytest
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi.exceptions import ClientException as TeaClientException
from alibabacloud_vpc20160428 import models as vpc_models
from alibabacloud_vpc20160428.client import Client as VpcClient
from aliyunsdkcore.acs_exception.exceptions import ServerException as CoreServerException
from aliyunsdkecs.request.v20140526 import (
    AuthorizeSecurityGroupEgressRequest,
    AuthorizeSecurityGroupRequest,
    CreateKeyPairRequest,
    CreateSecurityGroupRequest,
    DescribeInstancesRequest,
    DescribeSecurityGroupAttributeRequest,
    ListTagResourcesRequest,
    RevokeSecurityGroupEgressRequest,
    RevokeSecurityGroupRequest,
    RunInstancesRequest,
    TagResourcesRequest,
    UntagResourcesRequest,
)

from tests.helpers.auditor_process import start_auditor
from tests.helpers.official_sdks import (
    REGION,
    CoreSdk,
    common_request,
    tea_config,
    unsigned_post,
)

pytestmark = pytest.mark.integration

ZONE = "cn-hangzhou-h"
UBUNTU = "ubuntu_22_04_x64_20G_alibase_20230907.vhd"
_blocks = iter(range(10, 250))


def _vpc_with_vswitch(vpc: VpcClient) -> tuple[int, str, str]:
    """A new VPC 10.n.0.0/16 with a vSwitch 10.n.1.0/24: (n, VPC id, vSwitch id)."""
    n = next(_blocks)
    vpc_id = vpc.create_vpc(
        vpc_models.CreateVpcRequest(region_id=REGION, cidr_block=f"10.{n}.0.0/16")
    ).body.vpc_id
    vsw_id = vpc.create_vswitch(
        vpc_models.CreateVSwitchRequest(
            region_id=REGION, vpc_id=vpc_id, zone_id=ZONE, cidr_block=f"10.{n}.1.0/24"
        )
    ).body.v_switch_id
    return n, vpc_id, vsw_id


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    proc = start_auditor(tmp_path_factory.mktemp("sdk20") / "auditor")
    yield proc
    proc.stop()


def _rules(ecs: EcsClient, group_id: str) -> list:
    body = ecs.describe_security_group_attribute(
        ecs_models.DescribeSecurityGroupAttributeRequest(
            region_id=REGION, security_group_id=group_id
        )
    ).body
    return body.permissions.permission or []


@pytest.mark.parametrize("signature", ["v3", "v2"])
def test_tea_permissions_n(cloud, signature):
    config = tea_config(cloud, signature)
    vpc, ecs = VpcClient(config), EcsClient(config)
    vpc_id = vpc.create_vpc(
        vpc_models.CreateVpcRequest(region_id=REGION, cidr_block="10.3.0.0/16")
    ).body.vpc_id
    group_id = ecs.create_security_group(
        ecs_models.CreateSecurityGroupRequest(region_id=REGION, vpc_id=vpc_id)
    ).body.security_group_id

    ingress = [
        dict(ip_protocol="tcp", port_range="22/22", source_cidr_ip="10.0.0.0/8"),
        dict(ip_protocol="tcp", port_range="443/443", source_cidr_ip="0.0.0.0/0", priority="5"),
    ]
    ecs.authorize_security_group(  # (the SDK's answer model holds the RequestId only)
        ecs_models.AuthorizeSecurityGroupRequest(
            region_id=REGION,
            security_group_id=group_id,
            permissions=[ecs_models.AuthorizeSecurityGroupRequestPermissions(**r) for r in ingress],
        )
    )
    seen = {(p.port_range, p.source_cidr_ip, p.priority) for p in _rules(ecs, group_id)}
    assert seen == {("22/22", "10.0.0.0/8", "1"), ("443/443", "0.0.0.0/0", "5")}

    # one bad permission: the SDK's exception names its index, nothing is stored
    bad = [*ingress[:1], dict(ip_protocol="tcp", port_range="80/79", source_cidr_ip="1.2.3.4")]
    with pytest.raises(TeaClientException) as err:
        ecs.authorize_security_group(
            ecs_models.AuthorizeSecurityGroupRequest(
                region_id=REGION,
                security_group_id=group_id,
                permissions=[ecs_models.AuthorizeSecurityGroupRequestPermissions(**r) for r in bad],
            )
        )
    assert err.value.status_code == 400 and "Permissions.2" in err.value.message
    assert len(_rules(ecs, group_id)) == 2

    egress = [dict(ip_protocol="udp", port_range="53/53", dest_cidr_ip="10.9.0.0/16")]
    ecs.authorize_security_group_egress(
        ecs_models.AuthorizeSecurityGroupEgressRequest(
            region_id=REGION,
            security_group_id=group_id,
            permissions=[
                ecs_models.AuthorizeSecurityGroupEgressRequestPermissions(**r) for r in egress
            ],
        )
    )
    assert {p.direction for p in _rules(ecs, group_id)} == {"ingress", "egress"}
    ecs.revoke_security_group_egress(
        ecs_models.RevokeSecurityGroupEgressRequest(
            region_id=REGION,
            security_group_id=group_id,
            permissions=[
                ecs_models.RevokeSecurityGroupEgressRequestPermissions(**r) for r in egress
            ],
        )
    )
    ecs.revoke_security_group(
        ecs_models.RevokeSecurityGroupRequest(
            region_id=REGION,
            security_group_id=group_id,
            permissions=[ecs_models.RevokeSecurityGroupRequestPermissions(**r) for r in ingress],
        )
    )
    assert _rules(ecs, group_id) == []

    # SourcePortRange, flat and in Permissions.N
    flat = ecs_models.AuthorizeSecurityGroupRequest(
        region_id=REGION,
        security_group_id=group_id,
        ip_protocol="udp",
        port_range="123/123",
        source_port_range="123/123",
        source_cidr_ip="10.0.0.0/8",
    )
    ecs.authorize_security_group(flat)
    limited = dict(
        ip_protocol="tcp", port_range="22/22", source_cidr_ip="10.0.0.0/8",
        source_port_range="1024/65535",
    )  # fmt: skip
    ecs.authorize_security_group(
        ecs_models.AuthorizeSecurityGroupRequest(
            region_id=REGION,
            security_group_id=group_id,
            permissions=[ecs_models.AuthorizeSecurityGroupRequestPermissions(**limited)],
        )
    )
    assert sorted(p.source_port_range for p in _rules(ecs, group_id)) == [
        "1024/65535",
        "123/123",
    ]
    ecs.revoke_security_group(
        ecs_models.RevokeSecurityGroupRequest(
            region_id=REGION,
            security_group_id=group_id,
            ip_protocol="udp",
            port_range="123/123",
            source_port_range="123/123",
            source_cidr_ip="10.0.0.0/8",
        )
    )
    assert [p.source_port_range for p in _rules(ecs, group_id)] == ["1024/65535"]

    # IPv6 rules, flat and in Permissions.N, ingress and egress
    ecs.authorize_security_group(
        ecs_models.AuthorizeSecurityGroupRequest(
            region_id=REGION,
            security_group_id=group_id,
            ip_protocol="tcp",
            port_range="443/443",
            ipv_6source_cidr_ip="2001:db8::/32",
        )
    )
    v6_out = dict(ip_protocol="udp", port_range="53/53", ipv_6dest_cidr_ip="2400:3200::1")
    ecs.authorize_security_group_egress(
        ecs_models.AuthorizeSecurityGroupEgressRequest(
            region_id=REGION,
            security_group_id=group_id,
            permissions=[ecs_models.AuthorizeSecurityGroupEgressRequestPermissions(**v6_out)],
        )
    )
    rules = _rules(ecs, group_id)
    seen = {(p.direction, p.ipv_6source_cidr_ip, p.ipv_6dest_cidr_ip) for p in rules}
    assert ("ingress", "2001:db8::/32", "") in seen
    assert ("egress", "", "2400:3200::1/128") in seen
    ecs.revoke_security_group_egress(
        ecs_models.RevokeSecurityGroupEgressRequest(
            region_id=REGION,
            security_group_id=group_id,
            permissions=[ecs_models.RevokeSecurityGroupEgressRequestPermissions(**v6_out)],
        )
    )
    assert all(p.direction == "ingress" for p in _rules(ecs, group_id))


@pytest.mark.parametrize("signature", ["v3", "v2"])
def test_tea_tags_vswitch_run_instances_key_pair_id(cloud, signature):
    config = tea_config(cloud, signature)
    vpc, ecs = VpcClient(config), EcsClient(config)
    n, vpc_id, vsw_id = _vpc_with_vswitch(vpc)
    switches = vpc.describe_vswitches(
        vpc_models.DescribeVSwitchesRequest(region_id=REGION, v_switch_id=vsw_id)
    ).body.v_switches.v_switch
    assert [(s.vpc_id, s.zone_id, s.cidr_block) for s in switches] == [
        (vpc_id, ZONE, f"10.{n}.1.0/24")
    ]

    group_id = ecs.create_security_group(
        ecs_models.CreateSecurityGroupRequest(
            region_id=REGION,
            vpc_id=vpc_id,
            tag=[ecs_models.CreateSecurityGroupRequestTag(key="team", value="web")],
        )
    ).body.security_group_id
    (group,) = ecs.describe_security_groups(
        ecs_models.DescribeSecurityGroupsRequest(
            region_id=REGION,
            vpc_id=vpc_id,
            tag=[ecs_models.DescribeSecurityGroupsRequestTag(key="team", value="web")],
        )
    ).body.security_groups.security_group
    assert group.security_group_id == group_id
    assert [(t.tag_key, t.tag_value) for t in group.tags.tag] == [("team", "web")]

    token = str(uuid.uuid4())
    run = ecs_models.RunInstancesRequest(
        region_id=REGION,
        image_id=UBUNTU,
        instance_type="ecs.g7.xlarge",
        security_group_ids=[group_id],
        v_switch_id=vsw_id,
        zone_id=ZONE,
        system_disk=ecs_models.RunInstancesRequestSystemDisk(category="cloud_essd", size="40"),
        amount=2,
        tag=[ecs_models.RunInstancesRequestTag(key="app", value="api")],
        client_token=token,
    )
    ids = ecs.run_instances(run).body.instance_id_sets.instance_id_set
    assert len(ids) == 2
    # the SDK's retry of the same call: the first answer, nothing created twice
    assert ecs.run_instances(run).body.instance_id_sets.instance_id_set == ids
    found = ecs.describe_instances(
        ecs_models.DescribeInstancesRequest(region_id=REGION, v_switch_id=vsw_id)
    ).body
    assert found.total_count == 2
    first = found.instances.instance[0]
    assert first.instance_id in ids and (first.zone_id, first.image_id) == (ZONE, UBUNTU)
    assert (first.cpu, first.memory) == (4, 16384) and first.osname
    assert first.vpc_attributes.v_switch_id == vsw_id
    assert first.vpc_attributes.private_ip_address.ip_address[0].startswith(f"10.{n}.1.")
    assert first.security_group_ids.security_group_id == [group_id]
    assert [(t.tag_key, t.tag_value) for t in first.tags.tag] == [("app", "api")]

    ecs.tag_resources(
        ecs_models.TagResourcesRequest(
            region_id=REGION,
            resource_type="instance",
            resource_id=ids,
            tag=[ecs_models.TagResourcesRequestTag(key="env", value="prod")],
        )
    )
    listed = ecs.list_tag_resources(
        ecs_models.ListTagResourcesRequest(
            region_id=REGION, resource_type="instance", resource_id=ids
        )
    ).body.tag_resources.tag_resource
    assert {(t.resource_id, t.resource_type, t.tag_key, t.tag_value) for t in listed} == {
        (i, "instance", k, v) for i in ids for k, v in (("app", "api"), ("env", "prod"))
    }
    ecs.untag_resources(
        ecs_models.UntagResourcesRequest(
            region_id=REGION, resource_type="instance", resource_id=ids, tag_key=["app"]
        )
    )
    listed = ecs.list_tag_resources(
        ecs_models.ListTagResourcesRequest(
            region_id=REGION, resource_type="instance", resource_id=ids
        )
    ).body.tag_resources.tag_resource
    assert {t.tag_key for t in listed} == {"env"}

    name = f"kp-{signature}-{secrets.token_hex(3)}"
    made = ecs.create_key_pair(
        ecs_models.CreateKeyPairRequest(region_id=REGION, key_pair_name=name)
    ).body
    assert made.key_pair_id and made.key_pair_id.startswith("kp-")


@pytest.mark.parametrize("signature", ["v3", "v2"])
def test_the_vpc_sdk_tags_vpcs_and_vswitches_through_its_own_product(cloud, signature):
    # the VPC product's own TagResources / UnTagResources / ListTagResources (version
    # 2016-04-28), authorised as vpc:*; it tags VPCs and vSwitches, not ECS resources
    config = tea_config(cloud, signature)
    vpc, ram = VpcClient(config), RamClient(config)
    _n, vpc_id, vsw_id = _vpc_with_vswitch(vpc)
    for kind, ident in (("VPC", vpc_id), ("VSWITCH", vsw_id)):
        vpc.tag_resources(
            vpc_models.TagResourcesRequest(
                region_id=REGION,
                resource_type=kind,
                resource_id=[ident],
                tag=[
                    vpc_models.TagResourcesRequestTag(key="env", value="prod"),
                    vpc_models.TagResourcesRequestTag(key="team", value="net"),
                ],
            )
        )
    listed = vpc.list_tag_resources(
        vpc_models.ListTagResourcesRequest(
            region_id=REGION, resource_type="VPC", resource_id=[vpc_id], max_results=1
        )
    ).body
    assert [(t.resource_id, t.resource_type) for t in listed.tag_resources.tag_resource] == [
        (vpc_id, "VPC")
    ]
    assert listed.next_token  # one a page: the second tag is on the next
    second = vpc.list_tag_resources(
        vpc_models.ListTagResourcesRequest(
            region_id=REGION,
            resource_type="VPC",
            resource_id=[vpc_id],
            max_results=1,
            next_token=listed.next_token,
        )
    ).body
    keys = {
        t.tag_key for t in listed.tag_resources.tag_resource + second.tag_resources.tag_resource
    }
    assert keys == {"env", "team"} and not second.next_token
    vpc.un_tag_resources(
        vpc_models.UnTagResourcesRequest(
            region_id=REGION, resource_type="VSWITCH", resource_id=[vsw_id], tag_key=["env"]
        )
    )
    (switch,) = vpc.describe_vswitches(
        vpc_models.DescribeVSwitchesRequest(region_id=REGION, v_switch_id=vsw_id)
    ).body.v_switches.v_switch
    assert [(t.key, t.value) for t in switch.tags.tag] == [("team", "net")]
    # an ECS resource type is not the VPC product's
    with pytest.raises(TeaClientException) as err:
        vpc.tag_resources(
            vpc_models.TagResourcesRequest(
                region_id=REGION,
                resource_type="securitygroup",
                resource_id=["sg-x"],
                tag=[vpc_models.TagResourcesRequestTag(key="k", value="v")],
            )
        )
    assert err.value.code == "InvalidResourceType.NotFound"

    # RAM authorises the VPC product's action: a user allowed vpc:TagResources may tag,
    # a user allowed only ecs:TagResources may not (through the VPC product)
    def user_allowed(ram_action: str) -> VpcClient:
        name = f"tag-{signature}-{secrets.token_hex(3)}"
        ram.create_user(ram_models.CreateUserRequest(user_name=name))
        statement = {"Effect": "Allow", "Action": ram_action, "Resource": "*"}
        doc = json.dumps({"Version": "1", "Statement": [statement]})
        ram.create_policy(ram_models.CreatePolicyRequest(policy_name=name, policy_document=doc))
        ram.attach_policy_to_user(
            ram_models.AttachPolicyToUserRequest(
                policy_type="Custom", policy_name=name, user_name=name
            )
        )
        key = ram.create_access_key(ram_models.CreateAccessKeyRequest(user_name=name))
        k = key.body.access_key
        return VpcClient(tea_config(cloud, signature, key=(k.access_key_id, k.access_key_secret)))

    tag = vpc_models.TagResourcesRequest(
        region_id=REGION,
        resource_type="VPC",
        resource_id=[vpc_id],
        tag=[vpc_models.TagResourcesRequestTag(key="by", value="user")],
    )
    user_allowed("vpc:TagResources").tag_resources(tag)
    with pytest.raises(TeaClientException) as err:
        user_allowed("ecs:TagResources").tag_resources(tag)
    assert err.value.code == "Forbidden.RAM"
    assert err.value.access_denied_detail["AuthAction"] == "vpc:TagResources"


@pytest.mark.parametrize("signature", ["v3", "v2"])
def test_tea_access_denied_detail_for_a_ram_user(cloud, signature):
    ram = RamClient(tea_config(cloud, signature))
    user = f"deny-{signature}-{secrets.token_hex(3)}"
    ram.create_user(ram_models.CreateUserRequest(user_name=user))
    key = ram.create_access_key(ram_models.CreateAccessKeyRequest(user_name=user)).body.access_key
    ecs = EcsClient(tea_config(cloud, signature, key=(key.access_key_id, key.access_key_secret)))
    with pytest.raises(TeaClientException) as err:
        ecs.create_security_group(ecs_models.CreateSecurityGroupRequest(region_id=REGION))
    assert (err.value.status_code, err.value.code) == (403, "Forbidden.RAM")
    detail = err.value.access_denied_detail
    assert detail["AuthAction"] == "ecs:CreateSecurityGroup"
    assert detail["NoPermissionType"] == "ImplicitDeny"
    assert (detail["AuthPrincipalType"], detail["AuthPrincipalDisplayName"]) == ("SubUser", user)


def test_core_sdk_issue20_items(cloud):
    core = CoreSdk(cloud)
    n = next(_blocks)
    vpc_id = core(
        common_request("CreateVpc", "2016-04-28", RegionId=REGION, CidrBlock=f"10.{n}.0.0/16")
    )["VpcId"]
    vsw_id = core(
        common_request(
            "CreateVSwitch",
            "2016-04-28",
            RegionId=REGION,
            VpcId=vpc_id,
            ZoneId=ZONE,
            CidrBlock=f"10.{n}.1.0/24",
        )
    )["VSwitchId"]

    create = CreateSecurityGroupRequest.CreateSecurityGroupRequest()
    create.set_VpcId(vpc_id)
    create.set_Tags([{"Key": "team", "Value": "core"}])
    group_id = core(create)["SecurityGroupId"]

    # Permissions.N, ingress and egress
    ingress = [
        {"IpProtocol": "tcp", "PortRange": "22/22", "SourceCidrIp": "10.0.0.0/8"},
        {"IpProtocol": "tcp", "PortRange": "443/443", "SourceCidrIp": "0.0.0.0/0"},
        {"IpProtocol": "udp", "PortRange": "123/123", "SourceCidrIp": "0.0.0.0/0",
         "SourcePortRange": "123/123"},
    ]  # fmt: skip
    authorize = AuthorizeSecurityGroupRequest.AuthorizeSecurityGroupRequest()
    authorize.set_SecurityGroupId(group_id)
    authorize.set_Permissions(ingress)
    assert len(core(authorize)["SecurityGroupRuleIds"]["SecurityGroupRuleId"]) == 3
    egress = [{"IpProtocol": "udp", "PortRange": "53/53", "DestCidrIp": "10.9.0.0/16"}]
    authorize_out = AuthorizeSecurityGroupEgressRequest.AuthorizeSecurityGroupEgressRequest()
    authorize_out.set_SecurityGroupId(group_id)
    authorize_out.set_Permissions(egress)
    core(authorize_out)
    describe = DescribeSecurityGroupAttributeRequest.DescribeSecurityGroupAttributeRequest()
    describe.set_SecurityGroupId(group_id)
    answered = core(describe, method="GET")["Permissions"]["Permission"]
    assert sorted(p["SourcePortRange"] for p in answered) == ["", "", "", "123/123"]

    v6 = AuthorizeSecurityGroupRequest.AuthorizeSecurityGroupRequest()
    v6.set_SecurityGroupId(group_id)
    v6.set_Permissions(
        [{"IpProtocol": "tcp", "PortRange": "22/22", "Ipv6SourceCidrIp": "2001:db8::/32"}]
    )
    core(v6)
    answered = core(describe, method="GET")["Permissions"]["Permission"]
    assert [p["Ipv6SourceCidrIp"] for p in answered if p["Ipv6SourceCidrIp"]] == ["2001:db8::/32"]
    v6_revoke = RevokeSecurityGroupRequest.RevokeSecurityGroupRequest()
    v6_revoke.set_SecurityGroupId(group_id)
    v6_revoke.set_Permissions(
        [{"IpProtocol": "tcp", "PortRange": "22/22", "Ipv6SourceCidrIp": "2001:db8::/32"}]
    )
    core(v6_revoke)

    bad = AuthorizeSecurityGroupRequest.AuthorizeSecurityGroupRequest()
    bad.set_SecurityGroupId(group_id)
    bad.set_Permissions([ingress[0], {**ingress[1], "SourceCidrIp": "300.0.0.0/8"}])
    with pytest.raises(CoreServerException) as err:
        core(bad)
    assert err.value.get_http_status() == 400 and "Permissions.2" in err.value.get_error_msg()

    revoke_out = RevokeSecurityGroupEgressRequest.RevokeSecurityGroupEgressRequest()
    revoke_out.set_SecurityGroupId(group_id)
    revoke_out.set_Permissions(egress)
    core(revoke_out)
    revoke = RevokeSecurityGroupRequest.RevokeSecurityGroupRequest()
    revoke.set_SecurityGroupId(group_id)
    revoke.set_Permissions(ingress)
    core(revoke)
    assert not core(describe, method="GET")["Permissions"]["Permission"]

    # RunInstances as aliyun-python-sdk-ecs writes it, retried with its ClientToken
    run = RunInstancesRequest.RunInstancesRequest()
    run.set_ImageId(UBUNTU)
    run.set_InstanceType("ecs.g7.large")
    run.set_SecurityGroupIdss([group_id])
    run.set_VSwitchId(vsw_id)
    run.set_ZoneId(ZONE)
    run.set_SystemDiskCategory("cloud_essd")
    run.set_SystemDiskSize(40)
    run.set_Amount(2)
    run.set_Tags([{"Key": "app", "Value": "core"}])
    run.set_ClientToken(str(uuid.uuid4()))
    ids = core(run)["InstanceIdSets"]["InstanceIdSet"]
    assert len(ids) == 2 and core(run)["InstanceIdSets"]["InstanceIdSet"] == ids
    instances = DescribeInstancesRequest.DescribeInstancesRequest()
    instances.set_VpcId(vpc_id)
    found = core(instances)["Instances"]["Instance"]
    assert sorted(i["InstanceId"] for i in found) == sorted(ids)
    assert found[0]["VpcAttributes"]["VSwitchId"] == vsw_id and found[0]["ZoneId"] == ZONE

    tag = TagResourcesRequest.TagResourcesRequest()
    tag.set_ResourceType("instance")
    tag.set_ResourceIds(ids)
    tag.set_Tags([{"Key": "env", "Value": "prod"}])
    core(tag)
    untag = UntagResourcesRequest.UntagResourcesRequest()
    untag.set_ResourceType("instance")
    untag.set_ResourceIds(ids)
    untag.set_TagKeys(["app"])
    core(untag)
    listed = ListTagResourcesRequest.ListTagResourcesRequest()
    listed.set_ResourceType("instance")
    listed.set_ResourceIds(ids)
    pairs = core(listed)["TagResources"]["TagResource"]
    assert {(t["ResourceId"], t["TagKey"], t["TagValue"]) for t in pairs} == {
        (i, "env", "prod") for i in ids
    }

    made = CreateKeyPairRequest.CreateKeyPairRequest()
    made.set_KeyPairName(f"core-kp-{secrets.token_hex(3)}")
    assert core(made)["KeyPairId"].startswith("kp-")

    # a RAM user without a policy: AccessDeniedDetail in the answer
    user = f"core-deny-{secrets.token_hex(3)}"
    core(common_request("CreateUser", "2015-05-01", UserName=user))
    key = core(common_request("CreateAccessKey", "2015-05-01", UserName=user))["AccessKey"]
    denied = CoreSdk(cloud, (key["AccessKeyId"], key["AccessKeySecret"]))
    with pytest.raises(CoreServerException) as err:
        denied(CreateSecurityGroupRequest.CreateSecurityGroupRequest())
    assert (err.value.get_http_status(), err.value.get_error_code()) == (403, "Forbidden.RAM")


def test_an_unsigned_permissions_n_request_learns_nothing_but_that(cloud):
    params = {
        "Action": "AuthorizeSecurityGroup",
        "Version": "2014-05-26",
        "RegionId": REGION,
        "SecurityGroupId": "sg-none",
        "Permissions.1.IpProtocol": "tcp",
        "Permissions.1.PortRange": "22/22",
        "Permissions.1.Colour": "red",
    }
    status, body = unsigned_post(cloud, params)
    assert (status, body["Code"]) == (400, "MissingAccessKeyId")
    assert "Permissions" not in body["Message"] and "Colour" not in body["Message"]
