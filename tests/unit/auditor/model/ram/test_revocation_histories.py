"""Revocation over any history of role changes (hypothesis): credentials are accepted exactly
while the binding they were issued for is still the instance's, through a JSON round trip of
the bindings (what every replica reloads) after each step."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.auditor.model.ram import (
    Caller,
    InstanceRamRoles,
    InstanceRef,
    RamAccount,
    RamError,
    RequestContext,
    verify_security_token,
)
from tests.helpers.ram_policies import ECS_TRUST

KEY = b"revocation-histories"
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
INSTANCES = ("i-a", "i-b")
ROLES = ("RoleA", "RoleB")
CTX = RequestContext()

step = st.one_of(
    st.tuples(st.just("attach"), st.sampled_from(INSTANCES), st.sampled_from(ROLES)),
    st.tuples(st.just("detach"), st.sampled_from(INSTANCES), st.none()),
    st.tuples(st.just("release"), st.sampled_from(INSTANCES), st.none()),  # instance deleted
    st.tuples(st.just("recreate_role"), st.none(), st.sampled_from(ROLES)),
    st.tuples(st.just("issue"), st.sampled_from(INSTANCES), st.none()),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=25))
def test_credentials_hold_exactly_while_their_binding_does(steps):
    account = RamAccount("1234567890123456")
    for role in ROLES:
        account.create_role(role, ECS_TRUST, NOW)
    roles = InstanceRamRoles()
    # the reference: a change counter per instance, bumped whenever its binding changes
    changes = dict.fromkeys(INSTANCES, 0)
    issued = []  # (claims, instance, counter at issue)
    for kind, instance, role in steps:
        current = roles.role_of(instance) if instance else None
        if kind == "attach":
            roles.attach(account, Caller.root(), InstanceRef(instance, "cn-hangzhou"), role, CTX)
            changes[instance] += current != role
        elif kind in ("detach", "release") and current is not None:
            if kind == "detach":
                roles.detach(account, Caller.root(), InstanceRef(instance, "cn-hangzhou"), CTX)
            else:
                roles.release(instance)
            changes[instance] += 1
        elif kind == "recreate_role":  # DeleteRole (which drops it from instances), CreateRole
            account.delete_role(role)
            for gone in roles.forget_role(role):
                changes[gone] += 1
            account.create_role(role, ECS_TRUST, NOW)
        elif kind == "issue" and current is not None:
            creds = roles.issue_credentials(account, instance, current, NOW, 3600, signing_key=KEY)
            claims = verify_security_token(creds.security_token, KEY, NOW)
            issued.append((claims, instance, changes[instance]))
        roles = InstanceRamRoles.from_document(json.loads(json.dumps(roles.to_document())))
        for claims, holder, at in issued:
            try:
                roles.check_session(account, claims)
                accepted = True
            except RamError as err:
                assert err.code == "InvalidSecurityToken.Revoked"
                accepted = False
            assert accepted == (changes[holder] == at), (kind, instance, role)


def test_an_assumed_role_session_lives_with_its_role_not_with_an_instance_binding():
    """AssumeRole's credentials name no instance: no binding can revoke them (an instance
    that happens to carry the session's name changes nothing); deleting the role does, and
    a role made again under the same name is another role."""
    from palisade.auditor.model.ram import issue_role_credentials
    from palisade.auditor.model.ram.sts import ASSUMED_SESSION

    account = RamAccount("1234567890123456")
    role = account.create_role("Deployer", ECS_TRUST, NOW)
    roles = InstanceRamRoles()
    creds = issue_role_credentials(
        role, NOW, 3600, signing_key=KEY, session_name="i-a", kind=ASSUMED_SESSION
    )
    claims = verify_security_token(creds.security_token, KEY, NOW)
    assert claims.kind == ASSUMED_SESSION
    roles.check_session(account, claims)  # no binding of "i-a": still accepted
    roles.attach(account, Caller.root(), InstanceRef("i-a", "cn-hangzhou"), "Deployer", CTX)
    roles.detach(account, Caller.root(), InstanceRef("i-a", "cn-hangzhou"), CTX)
    roles.check_session(account, claims)
    account.delete_role("Deployer")
    account.create_role("Deployer", ECS_TRUST, NOW)
    try:
        roles.check_session(account, claims)
    except RamError as err:
        assert err.code == "InvalidSecurityToken.Revoked"
    else:
        raise AssertionError("a session of a deleted role was accepted")
