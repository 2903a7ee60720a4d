"""Instance RAM roles, STS credentials and authenticating requests made with them."""

import json
import random
from datetime import timedelta

import pytest

from palisade.auditor.model.ram import (
    Caller,
    InMemoryNonceRegistry,
    InstanceRamRoles,
    InstanceRef,
    RamError,
    RequestContext,
    authenticate,
    issue_role_credentials,
    sign_request,
    verify_security_token,
)

SIGNING_KEY = b"auditor-sts-signing-key-for-tests"
ECS_TRUST = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": ["ecs.aliyuncs.com"]},
            }
        ],
    }
)
OSS_READ = json.dumps(
    {
        "Version": "1",
        "Statement": [{"Effect": "Allow", "Action": ["oss:Get*", "oss:List*"], "Resource": "*"}],
    }
)
VPC_VM = InstanceRef("i-bp1", "cn-hangzhou", "vpc")
CLASSIC_VM = InstanceRef("i-classic", "cn-hangzhou", "classic")
CTX = RequestContext()


def _auth(account, params, now, nonces=None, roles=None):
    """`authenticate` with this module's STS key; a fresh nonce registry and no instance
    bindings unless given."""
    return authenticate(
        account,
        params,
        now,
        InMemoryNonceRegistry() if nonces is None else nonces,
        sts_signing_key=SIGNING_KEY,
        instance_roles=InstanceRamRoles() if roles is None else roles,
    )


def ecs_operator_policy(pass_role: bool) -> str:
    statements = [
        {
            "Effect": "Allow",
            "Action": ["ecs:AttachInstanceRamRole", "ecs:DetachInstanceRamRole"],
            "Resource": "*",
        }
    ]
    if pass_role:
        statements.append(
            {"Effect": "Allow", "Action": "ram:PassRole", "Resource": "acs:ram:*:*:role/Ecs*"}
        )
    return json.dumps({"Version": "1", "Statement": statements})


@pytest.fixture
def setup(account, now):
    account.create_role("EcsRole", ECS_TRUST, now)
    account.create_role("EcsOther", ECS_TRUST, now)
    account.create_policy("OssRead", OSS_READ, now)
    account.attach_policy_to_role("Custom", "OssRead", "EcsRole")
    account.create_policy("Operator", ecs_operator_policy(pass_role=True), now)
    account.create_policy("OperatorNoPass", ecs_operator_policy(pass_role=False), now)
    account.create_user("ops", now)
    account.attach_policy_to_user("Custom", "Operator", "ops")
    account.create_user("junior", now)
    account.attach_policy_to_user("Custom", "OperatorNoPass", "junior")
    return account, InstanceRamRoles()


def code_of(fn, *args, **kwargs) -> str:
    with pytest.raises(RamError) as err:
        fn(*args, **kwargs)
    return err.value.code


def test_grant_replace_and_revoke(setup):
    account, roles = setup
    ops = Caller.user("ops")
    change = roles.attach(account, ops, VPC_VM, "EcsRole", CTX)
    assert (change.role_name, change.replaced_role) == ("EcsRole", None)
    assert roles.role_of("i-bp1") == "EcsRole"
    change = roles.attach(account, ops, VPC_VM, "EcsOther", CTX)
    assert change.replaced_role == "EcsRole"
    assert roles.describe() == [("i-bp1", "EcsOther")]
    assert code_of(roles.detach, account, ops, VPC_VM, CTX, role_name="EcsRole") == (
        "InvalidRamRole.NotAttached"
    )
    roles.detach(account, ops, VPC_VM, CTX)
    assert roles.role_of("i-bp1") is None
    assert code_of(roles.detach, account, ops, VPC_VM, CTX) == "InvalidRamRole.NotAttached"


def test_only_vpc_instances_get_roles(setup):
    account, roles = setup
    assert code_of(roles.attach, account, Caller.root(), CLASSIC_VM, "EcsRole", CTX) == (
        "InvalidInstance.NotVpc"
    )


def test_role_must_exist_and_trust_ecs(setup, now):
    account, roles = setup
    account.create_role("EcsFc", ECS_TRUST.replace("ecs.aliyuncs.com", "fc.aliyuncs.com"), now)
    root = Caller.root()
    assert code_of(roles.attach, account, root, VPC_VM, "EcsNope", CTX) == "InvalidRamRole.NotFound"
    assert code_of(roles.attach, account, root, VPC_VM, "EcsFc", CTX) == "InvalidRamRole.NotEcsRole"


def test_granting_needs_pass_role_as_well_as_the_ecs_action(setup):
    account, roles = setup
    with pytest.raises(RamError) as err:
        roles.attach(account, Caller.user("junior"), VPC_VM, "EcsRole", CTX)
    assert err.value.code == "Forbidden.RAM"
    assert "ram:PassRole on acs:ram::1234567890123456:role/EcsRole" in err.value.message
    with pytest.raises(RamError) as err:
        roles.attach(account, Caller.user("nobody"), VPC_VM, "EcsRole", CTX)
    assert "ecs:AttachInstanceRamRole on acs:ecs:cn-hangzhou:" in err.value.message
    assert roles.role_of("i-bp1") is None


def test_credentials_look_like_the_metadata_service(setup, now):
    account, roles = setup
    roles.attach(account, Caller.root(), VPC_VM, "EcsRole", CTX)
    creds = roles.issue_credentials(
        account, "i-bp1", "EcsRole", now, timedelta(hours=6), signing_key=SIGNING_KEY
    )
    body = creds.to_metadata()
    assert set(body) == {
        "AccessKeyId",
        "AccessKeySecret",
        "SecurityToken",
        "Expiration",
        "LastUpdated",
        "Code",
    }
    assert body["AccessKeyId"].startswith("STS.")
    assert body["Expiration"] == "2019-09-18T14:00:00Z"
    assert body["LastUpdated"] == "2019-09-18T08:00:00Z"
    assert body["Code"] == "Success"
    claims = verify_security_token(body["SecurityToken"], SIGNING_KEY, now, body["AccessKeyId"])
    assert (claims.role_name, claims.session_name) == ("EcsRole", "i-bp1")
    assert claims.account_id == account.account_id


def test_no_credentials_once_the_role_is_revoked_or_replaced(setup, now):
    account, roles = setup
    assert (
        code_of(
            roles.issue_credentials, account, "i-bp1", "EcsRole", now, 3600, signing_key=SIGNING_KEY
        )
        == "InvalidRamRole.NotAttached"
    )
    roles.attach(account, Caller.root(), VPC_VM, "EcsRole", CTX)
    roles.attach(account, Caller.root(), VPC_VM, "EcsOther", CTX)
    assert (
        code_of(
            roles.issue_credentials, account, "i-bp1", "EcsRole", now, 3600, signing_key=SIGNING_KEY
        )
        == "InvalidRamRole.NotAttached"
    )


def test_security_token_verification_failures(account, now):
    role = account.create_role("EcsRole", ECS_TRUST, now)
    creds = issue_role_credentials(role, now, 3600, signing_key=SIGNING_KEY)
    token = creds.security_token
    assert code_of(verify_security_token, token, SIGNING_KEY, now + timedelta(hours=1)) == (
        "InvalidSecurityToken.Expired"
    )
    assert code_of(verify_security_token, token, b"other key", now) == (
        "InvalidSecurityToken.Malformed"
    )
    head, body, mac = token.split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    assert code_of(verify_security_token, f"{head}.{flipped}.{mac}", SIGNING_KEY, now) == (
        "InvalidSecurityToken.Malformed"
    )
    assert code_of(verify_security_token, "garbage", SIGNING_KEY, now) == (
        "InvalidSecurityToken.Malformed"
    )
    assert code_of(verify_security_token, token, SIGNING_KEY, now, "STS.other") == (
        "InvalidSecurityToken.MismatchWithAccessKey"
    )
    assert code_of(issue_role_credentials, role, now, 60, signing_key=SIGNING_KEY) == (
        "InvalidParameter.DurationSeconds"
    )


def test_sts_credentials_authenticate_as_the_role(setup, now):
    account, roles = setup
    roles.attach(account, Caller.root(), VPC_VM, "EcsRole", CTX)
    creds = roles.issue_credentials(
        account,
        "i-bp1",
        "EcsRole",
        now,
        3600,
        signing_key=SIGNING_KEY,
        random_bytes=random.Random(1).randbytes,
    )
    params = sign_request(
        {"Action": "GetObject"},
        creds.access_key_id,
        creds.access_key_secret,
        now,
        "nonce-1",
        security_token=creds.security_token,
    )
    nonces = InMemoryNonceRegistry()
    who = _auth(account, params, now, nonces=nonces, roles=roles)
    assert who.caller == Caller.role("EcsRole") and who.session.session_name == "i-bp1"
    assert account.authorize(who.caller, "oss:GetObject", "*", CTX).allowed
    assert not account.authorize(who.caller, "ecs:DeleteInstance", "*", CTX).allowed

    late = now + timedelta(hours=1, minutes=1)
    params2 = sign_request(
        {"Action": "GetObject"},
        creds.access_key_id,
        creds.access_key_secret,
        late,
        "nonce-2",
        security_token=creds.security_token,
    )
    assert code_of(_auth, account, params2, late, nonces=nonces, roles=roles) == (
        "InvalidSecurityToken.Expired"
    )
    del params["SecurityToken"]
    assert code_of(_auth, account, params, now, nonces=nonces, roles=roles) == (
        "MissingSecurityToken"
    )


def test_sts_token_of_another_account_is_refused(setup, now):
    from palisade.auditor.model.ram import RamAccount

    account, _ = setup
    other = RamAccount("999")
    role = other.create_role("EcsRole", ECS_TRUST, now)
    creds = issue_role_credentials(role, now, 3600, signing_key=SIGNING_KEY)
    params = sign_request(
        {},
        creds.access_key_id,
        creds.access_key_secret,
        now,
        "n",
        security_token=creds.security_token,
    )
    assert code_of(_auth, account, params, now) == "InvalidSecurityToken.MismatchWithAccount"


def test_user_access_keys_authenticate_as_the_user(account, now):
    account.create_user("alice", now)
    key = account.create_access_key("alice", now)
    params = sign_request({"Action": "X"}, key.access_key_id, key.access_key_secret, now, "n1")
    who = _auth(account, params, now)
    assert who.caller == Caller.user("alice")
    account.update_access_key("alice", key.access_key_id, "Inactive")
    params = sign_request({"Action": "X"}, key.access_key_id, key.access_key_secret, now, "n2")
    assert code_of(_auth, account, params, now) == "InvalidAccessKeyId.Inactive"
    params = sign_request({"Action": "X"}, "LTAI5tUnknown", "x", now, "n3")
    assert code_of(_auth, account, params, now) == "InvalidAccessKeyId.NotFound"


def test_a_session_is_current_only_while_its_binding_is(setup, now):
    account, roles = setup
    roles.attach(account, Caller.root(), VPC_VM, "EcsRole", CTX)
    creds = roles.issue_credentials(account, "i-bp1", "EcsRole", now, 3600, signing_key=SIGNING_KEY)
    claims = verify_security_token(creds.security_token, SIGNING_KEY, now)
    roles.check_session(account, claims)  # current: no error
    roles.attach(account, Caller.root(), VPC_VM, "EcsRole", CTX)  # the same role: no change
    roles.check_session(account, claims)
    roles.attach(account, Caller.root(), VPC_VM, "EcsOther", CTX)
    assert code_of(roles.check_session, account, claims) == "InvalidSecurityToken.Revoked"
    roles.attach(account, Caller.root(), VPC_VM, "EcsRole", CTX)  # back, but a new binding
    assert code_of(roles.check_session, account, claims) == "InvalidSecurityToken.Revoked"


def test_a_token_from_before_generations_holds_for_a_binding_from_before_them(setup, now):
    account, _ = setup
    # a binding stored before generations existed is generation 0, as its tokens are
    roles = InstanceRamRoles.from_document(
        {"format": 1, "Bindings": [{"InstanceId": "i-bp1", "RoleName": "EcsRole"}]}
    )
    role = account.get_role("EcsRole")
    old = issue_role_credentials(role, now, 3600, signing_key=SIGNING_KEY, session_name="i-bp1")
    claims = verify_security_token(old.security_token, SIGNING_KEY, now)
    roles.check_session(account, claims)
    roles.detach(account, Caller.root(), VPC_VM, CTX)
    assert code_of(roles.check_session, account, claims) == "InvalidSecurityToken.Revoked"
