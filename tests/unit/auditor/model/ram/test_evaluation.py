"""Evaluation: Deny beats Allow, NotAction, wildcards, every condition operator."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from palisade.auditor.model.ram import (
    DecisionReason,
    NamedPolicy,
    PolicyType,
    RequestContext,
    evaluate,
    parse_policy,
)

NOW = datetime(2019, 9, 18, 8, 0, 0, tzinfo=UTC)
SG = "acs:ecs:cn-hangzhou:123:securitygroup/sg-1"
INSTANCE = "acs:ecs:cn-hangzhou:123:instance/i-1"
CTX = RequestContext(current_time=NOW, source_ip="42.120.74.10", secure_transport=True)


def policy(*statements, name="P") -> NamedPolicy:
    text = json.dumps({"Version": "1", "Statement": list(statements)})
    return NamedPolicy(name, PolicyType.CUSTOM, parse_policy(text))


def st(effect="Allow", action="ecs:*", resource="*", condition=None, **extra) -> dict:
    out = {"Effect": effect, "Resource": resource, **extra}
    if "NotAction" not in extra:
        out["Action"] = action
    if condition is not None:
        out["Condition"] = condition
    return out


def allowed(policies, action="ecs:AuthorizeSecurityGroup", resource=SG, ctx=CTX) -> bool:
    return evaluate(policies, action, resource, ctx).allowed


def test_nothing_attached_is_an_implicit_deny():
    decision = evaluate([], "ecs:DescribeInstances", INSTANCE, CTX)
    assert not decision.allowed and decision.reason is DecisionReason.IMPLICIT_DENY
    assert decision.message() == (
        f"ecs:DescribeInstances on {INSTANCE} denied: no policy allows it"
    )


def test_explicit_deny_beats_allow_and_names_the_statement():
    policies = [policy(st()), policy(st(), st("Deny", "ecs:Authorize*"), name="NoSG")]
    decision = evaluate(policies, "ecs:AuthorizeSecurityGroup", SG, CTX)
    assert not decision.allowed and decision.reason is DecisionReason.EXPLICIT_DENY
    assert (decision.matched.policy_name, decision.matched.statement_index) == ("NoSG", 1)
    assert decision.message() == (
        "ecs:AuthorizeSecurityGroup on acs:ecs:cn-hangzhou:123:securitygroup/sg-1 "
        "denied by explicit Deny in Custom policy NoSG statement 1"
    )


def test_deny_in_an_earlier_policy_still_beats_a_later_allow():
    assert not allowed([policy(st("Deny")), policy(st())])


def test_allow_names_the_first_allowing_statement():
    decision = evaluate([policy(st("Allow", "vpc:*"), st())], "ecs:StopInstance", INSTANCE, CTX)
    assert decision.allowed and decision.matched.statement_index == 1


@pytest.mark.parametrize(
    "pattern, action, expected",
    [
        ("ecs:DescribeInstances", "ecs:DescribeInstances", True),
        ("ecs:describeinstances", "ECS:DescribeInstances", True),
        ("ecs:Describe*", "ecs:DescribeSecurityGroupAttribute", True),
        ("ecs:Describe*", "ecs:AuthorizeSecurityGroup", False),
        ("ecs:*", "vpc:DescribeVpcs", False),
        ("*", "vpc:DescribeVpcs", True),
        ("ecs:St?pInstance", "ecs:StopInstance", True),
        ("ecs:St?pInstance", "ecs:StoopInstance", False),
        ("ecs:*Instance", "ecs:StartInstance", True),
        ("ecs:*Instance", "ecs:StartInstances", False),
        ("*:Describe*", "rds:DescribeDBInstances", True),
    ],
)
def test_action_wildcards_and_case(pattern, action, expected):
    assert allowed([policy(st(action=pattern))], action=action) is expected


@pytest.mark.parametrize(
    "pattern, resource, expected",
    [
        ("*", SG, True),
        (SG, SG, True),
        ("acs:ecs:*:123:securitygroup/*", SG, True),
        ("acs:ecs:*:123:securitygroup/*", INSTANCE, False),
        ("acs:ecs:cn-beijing:123:securitygroup/*", SG, False),
        ("acs:ecs:cn-hangzhou:123:securitygroup/sg-?", SG, True),
        ("acs:ecs:cn-hangzhou:123:securitygroup/SG-1", SG, False),  # resources are exact-case
        ("acs:ecs:*:*:keypair/deploy-*", "acs:ecs:cn-hangzhou:123:keypair/deploy-key", True),
    ],
)
def test_resource_wildcards(pattern, resource, expected):
    assert allowed([policy(st(resource=pattern))], resource=resource) is expected


def test_not_action_allows_everything_else():
    policies = [policy(st(NotAction=["ecs:Delete*", "ram:*"]))]
    assert allowed(policies, action="ecs:StopInstance")
    assert allowed(policies, action="vpc:CreateVpc")
    assert not allowed(policies, action="ecs:DeleteInstance")
    assert not allowed(policies, action="RAM:CreateUser")


def test_deny_with_not_action_denies_all_but_the_listed():
    policies = [policy(st()), policy(st("Deny", NotAction="ecs:Describe*"))]
    assert allowed(policies, action="ecs:DescribeInstances")
    assert not allowed(policies, action="ecs:StopInstance")


def test_not_resource():
    policies = [
        policy({"Effect": "Allow", "Action": "ecs:*", "NotResource": "acs:ecs:*:*:securitygroup/*"})
    ]
    assert allowed(policies, resource=INSTANCE)
    assert not allowed(policies, resource=SG)


LATER = "2019-09-18T09:00:00Z"
EARLIER = "2019-09-18T15:00:00+08:00"  # 07:00 UTC
EXACT = "2019-09-18T16:00:00+08:00"  # == NOW


# operator, key, policy value, context -> whether the condition holds
OPERATOR_CASES = [
    ("StringEquals", "ecs:tag/env", "prod", {"ecs:tag/env": "prod"}, True),
    ("StringEquals", "ecs:tag/env", "prod", {"ecs:tag/env": "Prod"}, False),
    ("StringNotEquals", "ecs:tag/env", "prod", {"ecs:tag/env": "dev"}, True),
    ("StringNotEquals", "ecs:tag/env", ["dev", "prod"], {"ecs:tag/env": "dev"}, False),
    ("StringEqualsIgnoreCase", "ecs:tag/env", "PROD", {"ecs:tag/env": "prod"}, True),
    ("StringEqualsIgnoreCase", "ecs:tag/env", "PROD", {"ecs:tag/env": "dev"}, False),
    ("StringNotEqualsIgnoreCase", "ecs:tag/env", "PROD", {"ecs:tag/env": "prod"}, False),
    ("StringNotEqualsIgnoreCase", "ecs:tag/env", "PROD", {"ecs:tag/env": "dev"}, True),
    ("StringLike", "ecs:tag/env", "pr?d-*", {"ecs:tag/env": "prod-eu"}, True),
    ("StringLike", "ecs:tag/env", "pr?d-*", {"ecs:tag/env": "production"}, False),
    ("StringNotLike", "ecs:tag/env", "pr*", {"ecs:tag/env": "dev"}, True),
    ("StringNotLike", "ecs:tag/env", "pr*", {"ecs:tag/env": "prod"}, False),
    ("NumericEquals", "ecs:count", "3", {"ecs:count": "3.0"}, True),
    ("NumericEquals", "ecs:count", 3, {"ecs:count": 4}, False),
    ("NumericNotEquals", "ecs:count", 3, {"ecs:count": 4}, True),
    ("NumericNotEquals", "ecs:count", 3, {"ecs:count": "3"}, False),
    ("NumericLessThan", "ecs:count", 3, {"ecs:count": 2}, True),
    ("NumericLessThan", "ecs:count", 3, {"ecs:count": 3}, False),
    ("NumericLessThanEquals", "ecs:count", 3, {"ecs:count": 3}, True),
    ("NumericLessThanEquals", "ecs:count", 3, {"ecs:count": 4}, False),
    ("NumericGreaterThan", "ecs:count", "2.5", {"ecs:count": 3}, True),
    ("NumericGreaterThan", "ecs:count", 3, {"ecs:count": 3}, False),
    ("NumericGreaterThanEquals", "ecs:count", 3, {"ecs:count": 3}, True),
    ("NumericGreaterThanEquals", "ecs:count", 3, {"ecs:count": -1}, False),
    ("DateEquals", "acs:CurrentTime", EXACT, {}, True),
    ("DateEquals", "acs:CurrentTime", LATER, {}, False),
    ("DateNotEquals", "acs:CurrentTime", LATER, {}, True),
    ("DateNotEquals", "acs:CurrentTime", EXACT, {}, False),
    ("DateLessThan", "acs:CurrentTime", LATER, {}, True),
    ("DateLessThan", "acs:CurrentTime", EXACT, {}, False),
    ("DateLessThanEquals", "acs:CurrentTime", EXACT, {}, True),
    ("DateLessThanEquals", "acs:CurrentTime", EARLIER, {}, False),
    ("DateGreaterThan", "acs:CurrentTime", EARLIER, {}, True),
    ("DateGreaterThan", "acs:CurrentTime", EXACT, {}, False),
    ("DateGreaterThanEquals", "acs:CurrentTime", "2019-09-18", {}, True),
    ("DateGreaterThanEquals", "acs:CurrentTime", "2019-09-19", {}, False),
    ("Bool", "acs:SecureTransport", "true", {}, True),
    ("Bool", "acs:SecureTransport", False, {}, False),
    ("Bool", "acs:MFAPresent", "TRUE", {"mfa": True}, True),
    ("Bool", "acs:MFAPresent", "true", {"mfa": False}, False),
    ("IpAddress", "acs:SourceIp", "42.120.0.0/16", {}, True),
    ("IpAddress", "acs:SourceIp", ["10.0.0.0/8", "42.120.74.10"], {}, True),
    ("IpAddress", "acs:SourceIp", "10.0.0.0/8", {}, False),
    ("NotIpAddress", "acs:SourceIp", "10.0.0.0/8", {}, True),
    ("NotIpAddress", "acs:SourceIp", ["10.0.0.0/8", "42.120.74.0/24"], {}, False),
    ("IpAddress", "acs:SourceIp", "2001:db8::/32", {"ip": "2001:db8:1::5"}, True),
    ("IpAddress", "acs:SourceIp", "2001:db8::/32", {"ip": "2001:db9::5"}, False),
    ("NotIpAddress", "acs:SourceIp", "2001:db8::/32", {"ip": "2001:db9::5"}, True),
    ("IpAddress", "acs:SourceIp", "2001:db8::/32", {"ip": "42.120.74.10"}, False),
    ("IpAddress", "acs:SourceIp", "42.120.0.0/16", {"ip": "::ffff:42.120.74.10"}, True),
]


@pytest.mark.parametrize("operator, key, value, extra, expected", OPERATOR_CASES)
def test_each_condition_operator(operator, key, value, extra, expected):
    ctx = RequestContext(
        current_time=NOW,
        source_ip=extra.get("ip", "42.120.74.10"),
        secure_transport=True,
        mfa_present=extra.get("mfa"),
        extra={k: v for k, v in extra.items() if ":" in k},
    )
    policies = [policy(st(condition={operator: {key: value}}))]
    assert allowed(policies, ctx=ctx) is expected


@pytest.mark.parametrize(
    "operator, key, value",
    [
        ("StringEquals", "ecs:tag/env", "prod"),
        ("StringNotEquals", "ecs:tag/env", "prod"),
        ("StringNotLike", "ecs:tag/env", "prod"),
        ("NumericNotEquals", "ecs:count", 1),
        ("DateNotEquals", "acs:CurrentTime", LATER),
        ("Bool", "acs:MFAPresent", "false"),
        ("NotIpAddress", "acs:SourceIp", "10.0.0.0/8"),
    ],
)
def test_a_condition_on_an_absent_key_does_not_match(operator, key, value):
    policies = [policy(st(condition={operator: {key: value}}))]
    assert not allowed(policies, ctx=RequestContext())


def test_an_unusable_context_value_counts_as_absent():
    policies = [policy(st(condition={"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}}))]
    assert not allowed(policies, ctx=RequestContext(source_ip="not-an-ip"))


def test_condition_keys_are_matched_case_insensitively():
    policies = [policy(st(condition={"IpAddress": {"ACS:sourceip": "42.120.0.0/16"}}))]
    assert allowed(policies)
    ctx = RequestContext(extra={"ECS:Tag/Env": "prod"})
    assert allowed([policy(st(condition={"StringEquals": {"ecs:tag/env": "prod"}}))], ctx=ctx)


def test_keys_and_operators_are_anded_values_ored():
    cond = {
        "IpAddress": {"acs:SourceIp": ["10.0.0.0/8", "42.120.0.0/16"]},
        "Bool": {"acs:SecureTransport": "true"},
        "DateLessThan": {"acs:CurrentTime": LATER},
    }
    policies = [policy(st(condition=cond))]
    assert allowed(policies)
    assert not allowed(policies, ctx=RequestContext(current_time=NOW, source_ip="42.120.1.1"))
    late = RequestContext(
        current_time=NOW + timedelta(hours=2), source_ip="42.120.1.1", secure_transport=True
    )
    assert not allowed(policies, ctx=late)


def test_multi_valued_context_key():
    ctx = RequestContext(extra={"ecs:tag/team": ["web", "db"]})
    assert allowed([policy(st(condition={"StringEquals": {"ecs:tag/team": "db"}}))], ctx=ctx)
    assert not allowed([policy(st(condition={"StringNotEquals": {"ecs:tag/team": "db"}}))], ctx=ctx)


def test_naive_current_time_is_taken_as_utc():
    ctx = RequestContext(current_time=datetime(2019, 9, 18, 8, 0, 0))
    assert allowed([policy(st(condition={"DateEquals": {"acs:CurrentTime": EXACT}}))], ctx=ctx)


def test_arn_helpers_build_what_policies_match():
    from palisade.auditor.model.ram import (
        instance_arn,
        key_pair_arn,
        role_arn,
        security_group_arn,
    )

    assert security_group_arn("cn-hangzhou", "123", "sg-1") == SG
    assert instance_arn("cn-hangzhou", "123", "i-1") == INSTANCE
    assert key_pair_arn("cn-hangzhou", "123", "k") == "acs:ecs:cn-hangzhou:123:keypair/k"
    assert role_arn("123", "EcsRole") == "acs:ram::123:role/EcsRole"
    pass_role = [policy(st(action="ram:PassRole", resource="acs:ram:*:123:role/Ecs*"))]
    assert allowed(pass_role, action="ram:PassRole", resource=role_arn("123", "EcsRole"))
