"""Property tests: the parser and evaluator never crash; Deny always wins."""

import json
import re
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.auditor.model.ram import (
    Effect,
    InMemoryNonceRegistry,
    NamedPolicy,
    PolicyDocument,
    PolicyError,
    PolicyType,
    RamError,
    RequestContext,
    evaluate,
    parse_policy,
    parse_trust_policy,
    sign_request,
    verify,
)
from palisade.auditor.model.ram.evaluation import statement_applies
from palisade.auditor.model.ram.wildcard import wildcard_match

NOW = datetime(2019, 9, 18, 8, 0, 0, tzinfo=UTC)

FIELDS = [
    "Version",
    "Statement",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    "Principal",
    "Service",
    "IpAddress",
    "NotIpAddress",
    "StringLike",
    "DateLessThan",
    "NumericEquals",
    "Bool",
    "acs:SourceIp",
    "acs:CurrentTime",
    "acs:SecureTransport",
    "acs:MFAPresent",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        [
            "1",
            "Allow",
            "Deny",
            "*",
            "ecs:*",
            "ecs:Describe*",
            "acs:ecs:*:*:*",
            "10.0.0.0/8",
            "2001:db8::/32",
            "2019-09-18T08:00:00Z",
            "true",
            "ecs.aliyuncs.com",
            "sts:AssumeRole",
        ]
    ),
)
JSONISH = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), children, max_size=5
        ),
    ),
    max_leaves=30,
)


def check_parse(text: str) -> None:
    for parse in (parse_policy, parse_trust_policy):
        try:
            result = parse(text)
        except PolicyError as err:
            assert err.code and isinstance(err.position, str)
        else:
            assert isinstance(result, PolicyDocument)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_arbitrary_text_parses_or_raises_policy_error(text):
    check_parse(text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet='{}[]",:0123456789.eE+-tfnrul Allow"ecs:*', max_size=200))
def test_json_like_character_soup(text):
    check_parse(text)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(JSONISH)
def test_arbitrary_json_structures(value):
    check_parse(json.dumps(value))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries(
        {
            "Version": st.sampled_from(["1", 1, "2"]),
            "Statement": st.lists(
                st.dictionaries(st.sampled_from(FIELDS), JSONISH, max_size=6), max_size=3
            ),
        }
    )
)
def test_policy_shaped_structures(value):
    check_parse(json.dumps(value))


# ---- valid policies, for evaluation properties ------------------------------------------

ACTIONS = st.sampled_from(
    [
        "*",
        "ecs:*",
        "ecs:Describe*",
        "ecs:StopInstance",
        "ECS:stop?nstance",
        "vpc:*",
        "ram:PassRole",
        "*:Describe*",
    ]
)
RESOURCES = st.sampled_from(
    [
        "*",
        "acs:ecs:*:*:*",
        "acs:ecs:cn-hangzhou:123:securitygroup/*",
        "acs:ecs:*:123:instance/i-?",
        "acs:ram:*:123:role/*",
    ]
)
CONDITIONS = st.sampled_from(
    [
        None,
        {"IpAddress": {"acs:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}},
        {"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}},
        {"Bool": {"acs:SecureTransport": "true"}},
        {"DateLessThan": {"acs:CurrentTime": "2019-09-18T09:00:00Z"}},
        {"StringLike": {"ecs:tag/env": "prod*"}},
        {"NumericGreaterThan": {"ecs:count": 2}},
    ]
)


@st.composite
def statements(draw, effect=None):
    out = {
        "Effect": effect or draw(st.sampled_from(["Allow", "Deny"])),
        draw(st.sampled_from(["Action", "NotAction"])): draw(
            st.lists(ACTIONS, min_size=1, max_size=3)
        ),
        draw(st.sampled_from(["Resource", "NotResource"])): draw(RESOURCES),
    }
    condition = draw(CONDITIONS)
    if condition is not None:
        out["Condition"] = condition
    return out


@st.composite
def policies(draw):
    out = []
    for i in range(draw(st.integers(0, 3))):
        text = json.dumps(
            {"Version": "1", "Statement": draw(st.lists(statements(), min_size=1, max_size=3))}
        )
        out.append(NamedPolicy(f"P{i}", PolicyType.CUSTOM, parse_policy(text)))
    return out


REQUEST_ACTIONS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["ecs:StopInstance", "ecs:DescribeInstances", "vpc:CreateVpc", "ram:PassRole"]),
)
REQUEST_RESOURCES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "acs:ecs:cn-hangzhou:123:securitygroup/sg-1",
            "acs:ecs:cn-hangzhou:123:instance/i-1",
            "acs:ram::123:role/EcsRole",
            "*",
        ]
    ),
)
CONTEXTS = st.builds(
    RequestContext,
    current_time=st.one_of(st.none(), st.datetimes(timezones=st.just(UTC))),
    source_ip=st.one_of(st.none(), st.text(max_size=20), st.ip_addresses().map(str)),
    secure_transport=st.one_of(st.none(), st.booleans()),
    mfa_present=st.one_of(st.none(), st.booleans()),
    extra=st.dictionaries(
        st.sampled_from(["ecs:tag/env", "ECS:COUNT", "x"]),
        st.one_of(
            st.text(max_size=10), st.integers(), st.booleans(), st.lists(st.text(max_size=5))
        ),
        max_size=2,
    ),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), REQUEST_ACTIONS, REQUEST_RESOURCES, CONTEXTS)
def test_evaluation_never_raises_and_follows_deny_overrides(pols, action, resource, ctx):
    decision = evaluate(pols, action, resource, ctx)
    applicable = [
        s
        for p in pols
        for s in p.document.statements
        if statement_applies(s, action, resource, ctx)
    ]
    any_deny = any(s.effect is Effect.DENY for s in applicable)
    any_allow = any(s.effect is Effect.ALLOW for s in applicable)
    assert decision.allowed == (any_allow and not any_deny)
    assert decision.message()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), statements(effect="Deny"), REQUEST_ACTIONS, REQUEST_RESOURCES, CONTEXTS)
def test_an_applicable_deny_always_wins(pols, deny, action, resource, ctx):
    deny_policy = NamedPolicy(
        "Guard", PolicyType.CUSTOM, parse_policy(json.dumps({"Version": "1", "Statement": [deny]}))
    )
    applies = statement_applies(deny_policy.document.statements[0], action, resource, ctx)
    everything_allowed = NamedPolicy(
        "Admin",
        PolicyType.SYSTEM,
        parse_policy(
            '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
        ),
    )
    for order in (
        [everything_allowed, *pols, deny_policy],
        [deny_policy, *pols, everything_allowed],
    ):
        decision = evaluate(order, action, resource, ctx)
        if applies:
            assert not decision.allowed
            assert decision.matched is not None and decision.matched.policy_name in {
                p.name for p in order
            }


def _regex_oracle(pattern: str, text: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


@settings(max_examples=500)
@given(st.text(alphabet="ab*?", max_size=8), st.text(alphabet="ab", max_size=10))
def test_wildcard_matches_like_a_regex(pattern, text):
    assert wildcard_match(pattern, text) == _regex_oracle(pattern, text)


@settings(max_examples=200)
@given(
    st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=20), max_size=6),
    st.text(min_size=1, max_size=30),
    st.text(min_size=1, max_size=16),
)
def test_any_signed_request_verifies_and_any_change_is_refused(params, secret, nonce):
    signed = sign_request(params, "LTAI5tK", secret, NOW, nonce)
    verify(secret, signed, NOW + timedelta(minutes=1), InMemoryNonceRegistry())
    for name in signed:
        if name == "Signature":
            continue
        tampered = dict(signed)
        tampered[name] = signed[name] + "x"
        try:
            verify(secret, tampered, NOW, InMemoryNonceRegistry())
        except RamError as err:
            assert err.code in {
                "SignatureDoesNotMatch",
                "InvalidSignatureMethod",
                "InvalidSignatureVersion",
                "InvalidTimeStamp.Format",
                "InvalidAccessKeyId.NotFound",
            }
        else:
            raise AssertionError(f"changing {name} was not noticed")
