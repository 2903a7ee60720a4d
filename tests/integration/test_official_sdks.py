"""The official Alibaba Cloud SDKs from PyPI drive a real `palisade serve` process, unchanged
but for the endpoint and the protocol (plain HTTP on loopback): tea-openapi's product SDKs
with V3 signatures (their default) and V2 (`signature_algorithm="v2"`: HMAC-SHA1 RPC), and
the older aliyun-python-sdk-core with aliyun-python-sdk-ecs. Each one creates a VPC and a
group, authorizes, describes and revokes rules, creates and imports key pairs, creates a
RAM user with a policy, and reads typed models back; a bad rule raises the SDK's own
exception with Palisade's code; a tampered request and a replay of what the SDK sent are
refused."""

from __future__ import annotations

import copy
import json
import secrets
import uuid
import xml.etree.ElementTree as ET

import pytest
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi.exceptions import ClientException as TeaClientException
from alibabacloud_vpc20160428 import models as vpc_models
from alibabacloud_vpc20160428.client import Client as VpcClient
from aliyunsdkcore.acs_exception.exceptions import ServerException as CoreServerException
from aliyunsdkecs.request.v20140526 import (
    AuthorizeSecurityGroupRequest,
    CreateKeyPairRequest,
    CreateSecurityGroupRequest,
    DescribeSecurityGroupAttributeRequest,
    ImportKeyPairRequest,
    RevokeSecurityGroupRequest,
)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from darabonba.core import DaraCore

from palisade.auditor.api.client import Credentials, call
from tests.helpers.auditor_process import start_auditor
from tests.helpers.official_sdks import (
    REGION,
    CoreSdk,
    common_request,
    tea_config,
    unsigned_post,
)

pytestmark = pytest.mark.integration

TRUST_ACCOUNT = '{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole",\
"Principal":{{"RAM":["acs:ram::{account}:root"]}}}}]}}'
ECS_READ = (
    '{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}'
)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    proc = start_auditor(tmp_path_factory.mktemp("sdk") / "auditor")
    yield proc
    proc.stop()


def _public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    raw = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return raw.decode() + " sdk-test"


def _palisade_code(cloud, action: str, **params: str) -> str:
    status, body = call(cloud.http, Credentials.resolve(cloud.data_dir), action, params)
    assert status >= 400, body
    return body["Code"]


@pytest.mark.parametrize("signature", ["v3", "v2"])
def test_tea_openapi_sdks(cloud, signature):
    config = tea_config(cloud, signature)
    vpc, ecs, ram = VpcClient(config), EcsClient(config), RamClient(config)
    suffix = f"{signature}{secrets.token_hex(3)}"

    vpc_id = vpc.create_vpc(
        vpc_models.CreateVpcRequest(region_id=REGION, cidr_block="10.1.0.0/16", vpc_name=suffix)
    ).body.vpc_id
    found = vpc.describe_vpcs(vpc_models.DescribeVpcsRequest(region_id=REGION, vpc_id=vpc_id))
    assert [v.vpc_id for v in found.body.vpcs.vpc] == [vpc_id]
    assert found.body.vpcs.vpc[0].cidr_block == "10.1.0.0/16"

    token = str(uuid.uuid4())
    create = ecs_models.CreateSecurityGroupRequest(
        region_id=REGION, vpc_id=vpc_id, security_group_name=suffix, client_token=token
    )
    group_id = ecs.create_security_group(create).body.security_group_id
    assert group_id.startswith("sg-")
    # a retry with the same ClientToken (what the SDK's retry would send) creates nothing
    assert ecs.create_security_group(create).body.security_group_id == group_id
    groups = ecs.describe_security_groups(
        ecs_models.DescribeSecurityGroupsRequest(region_id=REGION, vpc_id=vpc_id)
    ).body
    assert [g.security_group_id for g in groups.security_groups.security_group] == [group_id]
    by_ids = ecs.describe_security_groups(  # a list as the SDK sends it: a JSON string
        ecs_models.DescribeSecurityGroupsRequest(
            region_id=REGION, security_group_ids=json.dumps([group_id, "sg-none"])
        )
    ).body
    assert [g.security_group_id for g in by_ids.security_groups.security_group] == [group_id]
    instances = ecs.describe_instances(
        ecs_models.DescribeInstancesRequest(region_id=REGION, instance_ids='["i-none"]')
    ).body
    assert instances.total_count == 0

    rule = dict(
        region_id=REGION,
        security_group_id=group_id,
        ip_protocol="tcp",
        port_range="22/22",
        source_cidr_ip="10.0.0.0/8",
        description="ssh from the office",
    )
    ecs.authorize_security_group(ecs_models.AuthorizeSecurityGroupRequest(**rule))
    attribute = ecs.describe_security_group_attribute(
        ecs_models.DescribeSecurityGroupAttributeRequest(
            region_id=REGION, security_group_id=group_id
        )
    ).body
    (permission,) = attribute.permissions.permission
    assert (permission.ip_protocol.lower(), permission.port_range) == ("tcp", "22/22")
    assert permission.source_cidr_ip == "10.0.0.0/8" and permission.policy.lower() == "accept"
    assert attribute.vpc_id == vpc_id
    ecs.revoke_security_group(ecs_models.RevokeSecurityGroupRequest(**rule))
    attribute = ecs.describe_security_group_attribute(
        ecs_models.DescribeSecurityGroupAttributeRequest(
            region_id=REGION, security_group_id=group_id
        )
    ).body
    assert not attribute.permissions.permission

    bad = ecs_models.AuthorizeSecurityGroupRequest(**{**rule, "port_range": "22/1"})
    with pytest.raises(TeaClientException) as err:
        ecs.authorize_security_group(bad)
    expected = _palisade_code(
        cloud,
        "AuthorizeSecurityGroup",
        RegionId=REGION,
        SecurityGroupId=group_id,
        IpProtocol="tcp",
        PortRange="22/1",
        SourceCidrIp="10.0.0.0/8",
    )
    assert err.value.code == expected and err.value.status_code == 400
    assert err.value.data["HostId"] == cloud.http and err.value.data["Recommend"]

    created = ecs.create_key_pair(
        ecs_models.CreateKeyPairRequest(region_id=REGION, key_pair_name=f"c-{suffix}")
    ).body
    assert created.key_pair_name == f"c-{suffix}" and created.key_pair_finger_print
    assert "PRIVATE KEY" in created.private_key_body
    imported = ecs.import_key_pair(
        ecs_models.ImportKeyPairRequest(
            region_id=REGION, key_pair_name=f"i-{suffix}", public_key_body=_public_key()
        )
    ).body
    assert imported.key_pair_finger_print
    pairs = ecs.describe_key_pairs(
        ecs_models.DescribeKeyPairsRequest(region_id=REGION, key_pair_name=f"i-{suffix}")
    ).body
    assert [p.key_pair_finger_print for p in pairs.key_pairs.key_pair] == [
        imported.key_pair_finger_print
    ]

    user = ram.create_user(ram_models.CreateUserRequest(user_name=f"u-{suffix}")).body.user
    assert user.user_name == f"u-{suffix}" and user.user_id
    policy = ram.create_policy(
        ram_models.CreatePolicyRequest(policy_name=f"p-{suffix}", policy_document=ECS_READ)
    ).body.policy
    assert policy.policy_type == "Custom"
    ram.attach_policy_to_user(
        ram_models.AttachPolicyToUserRequest(
            policy_type="Custom", policy_name=policy.policy_name, user_name=user.user_name
        )
    )
    attached = ram.list_policies_for_user(
        ram_models.ListPoliciesForUserRequest(user_name=user.user_name)
    ).body
    assert [p.policy_name for p in attached.policies.policy] == [policy.policy_name]


@pytest.mark.parametrize("signature", ["v3", "v2"])
def test_sts_assume_role_then_call_with_the_session(cloud, signature):
    config = tea_config(cloud, signature)
    ram, sts = RamClient(config), StsClient(config)
    me = sts.get_caller_identity().body
    assert me.identity_type in ("Account", "RAMUser") and me.account_id
    role_name = f"r-{signature}-{secrets.token_hex(3)}"
    role = ram.create_role(
        ram_models.CreateRoleRequest(
            role_name=role_name,
            assume_role_policy_document=TRUST_ACCOUNT.format(account=me.account_id),
        )
    ).body.role
    ram.attach_policy_to_role(
        ram_models.AttachPolicyToRoleRequest(
            policy_type="System", policy_name="AliyunECSReadOnlyAccess", role_name=role_name
        )
    )
    session = sts.assume_role(
        sts_models.AssumeRoleRequest(role_arn=role.arn, role_session_name="sdk-test")
    ).body
    assert session.credentials.access_key_id.startswith("STS.")
    assert session.assumed_role_user.arn == f"{role.arn}/sdk-test"
    as_role = Credentials(
        session.credentials.access_key_id,
        session.credentials.access_key_secret,
        session.credentials.security_token,
    )
    role_config = tea_config(cloud, signature, credentials=as_role)
    identity = StsClient(role_config).get_caller_identity().body
    assert identity.identity_type == "AssumedRoleUser"
    groups = EcsClient(role_config).describe_security_groups(
        ecs_models.DescribeSecurityGroupsRequest(region_id=REGION)
    )
    assert groups.body.request_id
    with pytest.raises(TeaClientException) as err:  # read-only: no creating
        VpcClient(role_config).create_vpc(vpc_models.CreateVpcRequest(region_id=REGION))
    assert (err.value.status_code, err.value.code) == (403, "Forbidden.RAM")
    detail = err.value.access_denied_detail
    assert detail["AuthAction"] == "vpc:CreateVpc" and detail["NoPermissionType"] == "ImplicitDeny"
    assert (detail["AuthPrincipalType"], detail["AuthPrincipalDisplayName"]) == (
        "AssumedRoleUser",
        role_name,
    )


@pytest.mark.parametrize("signature", ["v3", "v2"])
def test_what_the_sdk_sent_cannot_be_replayed_or_tampered_with(cloud, signature, monkeypatch):
    sent = []
    original = DaraCore.do_action

    def recording(request, runtime=None):
        sent.append(copy.deepcopy(request))
        return original(request, runtime)

    monkeypatch.setattr(DaraCore, "do_action", staticmethod(recording))
    ecs = EcsClient(tea_config(cloud, signature))
    ecs.describe_security_groups(ecs_models.DescribeSecurityGroupsRequest(region_id=REGION))
    (request,) = sent

    def status_and_code(req):
        response = original(req, {"readTimeout": 10000, "connectTimeout": 5000})
        body = response.body if isinstance(response.body, bytes) else response.body.read()
        return response.status_code, json.loads(body)["Code"]

    assert status_and_code(copy.deepcopy(request)) == (400, "SignatureNonceUsed")
    tampered = copy.deepcopy(request)
    tampered.query["RegionId"] = "cn-beijing"
    if signature == "v3":
        tampered.headers["x-acs-signature-nonce"] = uuid.uuid4().hex
    else:
        tampered.query["SignatureNonce"] = uuid.uuid4().hex
    assert status_and_code(tampered) == (400, "SignatureDoesNotMatch")


# get_response (the call that leaves Format alone, for XML) is deprecated in the SDK
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_aliyun_python_sdk_core_and_ecs(cloud):
    core = CoreSdk(cloud)
    suffix = secrets.token_hex(3)
    vpc_id = core(
        common_request("CreateVpc", "2016-04-28", RegionId=REGION, CidrBlock="10.2.0.0/16")
    )["VpcId"]

    create = CreateSecurityGroupRequest.CreateSecurityGroupRequest()
    create.set_VpcId(vpc_id)
    create.set_SecurityGroupName(f"core-{suffix}")
    group_id = core(create)["SecurityGroupId"]

    def rule(request):
        request.set_SecurityGroupId(group_id)
        request.set_IpProtocol("tcp")
        request.set_PortRange("443/443")
        request.set_SourceCidrIp("0.0.0.0/0")
        return request

    core(rule(AuthorizeSecurityGroupRequest.AuthorizeSecurityGroupRequest()))
    describe = DescribeSecurityGroupAttributeRequest.DescribeSecurityGroupAttributeRequest()
    describe.set_SecurityGroupId(group_id)
    answer = core(describe, method="GET")
    assert [p["PortRange"] for p in answer["Permissions"]["Permission"]] == ["443/443"]
    describe.set_accept_format("XML")
    describe.set_endpoint(cloud.http)
    describe.set_protocol_type("http")
    status, _, body = core.client.get_response(describe)  # (the JSON-only call forces JSON)
    assert status == 200
    root = ET.fromstring(body)
    assert root.tag == "DescribeSecurityGroupAttributeResponse"
    assert root.findtext("Permissions/Permission/PortRange") == "443/443"
    describe.set_accept_format("JSON")
    core(rule(RevokeSecurityGroupRequest.RevokeSecurityGroupRequest()))
    assert not core(describe, method="GET")["Permissions"]["Permission"]

    bad = rule(AuthorizeSecurityGroupRequest.AuthorizeSecurityGroupRequest())
    bad.set_PortRange("443/1")
    with pytest.raises(CoreServerException) as err:
        core(bad)
    assert err.value.get_http_status() == 400
    assert err.value.get_error_code() == _palisade_code(
        cloud,
        "AuthorizeSecurityGroup",
        RegionId=REGION,
        SecurityGroupId=group_id,
        IpProtocol="tcp",
        PortRange="443/1",
        SourceCidrIp="0.0.0.0/0",
    )

    made = CreateKeyPairRequest.CreateKeyPairRequest()
    made.set_KeyPairName(f"core-c-{suffix}")
    assert "PRIVATE KEY" in core(made)["PrivateKeyBody"]
    imported = ImportKeyPairRequest.ImportKeyPairRequest()
    imported.set_KeyPairName(f"core-i-{suffix}")
    imported.set_PublicKeyBody(_public_key())
    assert core(imported)["KeyPairFingerPrint"]

    user = core(common_request("CreateUser", "2015-05-01", UserName=f"core-{suffix}"))
    assert user["User"]["UserName"] == f"core-{suffix}"
    core(
        common_request(
            "CreatePolicy", "2015-05-01", PolicyName=f"core-{suffix}", PolicyDocument=ECS_READ
        ),
    )
    core(
        common_request(
            "AttachPolicyToUser",
            "2015-05-01",
            PolicyType="Custom",
            PolicyName=f"core-{suffix}",
            UserName=f"core-{suffix}",
        ),
    )


@pytest.mark.parametrize(
    "params",
    [
        {"Action": "DescribeVpcs", "Version": "2016-04-28", "RegionId": REGION},
        {"Action": "NoSuchAction", "Version": "2016-04-28"},
        {"Action": "DescribeVpcs", "Version": "2016-04-28", "NoSuchParameter": "1"},
        {"Action": "DescribeVpcs", "Version": "1999-01-01"},
    ],
)
def test_an_unsigned_request_learns_nothing_but_that(cloud, params):
    status, body = unsigned_post(cloud, params)
    assert (status, body["Code"]) == (400, "MissingAccessKeyId")
    assert "Action" not in body["Message"] and "NoSuch" not in body["Message"]
