"""The policy parser: what it accepts, and where it says a refused document is wrong."""

import json

import pytest

from palisade.auditor.model.ram import (
    MAX_POLICY_DOCUMENT_LENGTH,
    Effect,
    PolicyError,
    parse_policy,
    parse_trust_policy,
)


def doc(*statements, version="1") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


def allow(**extra) -> dict:
    return {"Effect": "Allow", "Action": "ecs:DescribeInstances", "Resource": "*", **extra}


def test_parses_statements_into_typed_fields():
    policy = parse_policy(
        doc(
            allow(),
            {
                "Effect": "Deny",
                "NotAction": ["ecs:Describe*", "vpc:Describe?pcs"],
                "Resource": ["acs:ecs:cn-hangzhou:123:securitygroup/sg-1", "acs:ram:*:123:role/r"],
                "Condition": {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}},
            },
        )
    )
    first, second = policy.statements
    assert (first.effect, first.actions, first.resources) == (
        Effect.ALLOW,
        ("ecs:DescribeInstances",),
        ("*",),
    )
    assert second.effect is Effect.DENY and second.not_action
    assert second.actions == ("ecs:Describe*", "vpc:Describe?pcs")
    assert second.conditions[0].operator.name == "IpAddress"
    assert second.index == 1


def test_a_single_statement_object_is_accepted():
    policy = parse_policy(json.dumps({"Version": "1", "Statement": allow()}))
    assert len(policy.statements) == 1


def test_operator_names_and_keys_are_case_insensitive():
    policy = parse_policy(doc(allow(Condition={"stringequals": {"ACS:SECURETRANSPORT": "true"}})))
    assert policy.statements[0].conditions[0].operator.name == "StringEquals"


def test_not_resource_and_action_star_are_accepted():
    policy = parse_policy(doc({"Effect": "Allow", "Action": "*", "NotResource": "acs:ram:*:*:*"}))
    assert policy.statements[0].not_resource


def test_ipv6_and_single_address_values_are_accepted():
    parse_policy(
        doc(allow(Condition={"IpAddress": {"acs:SourceIp": ["2001:db8::/32", "192.0.2.7"]}}))
    )


@pytest.mark.parametrize(
    "text, code, position",
    [
        ('{"Version": "1", "Statement": [', "MalformedPolicyDocument", "line 1 column 32"),
        (
            '{\n  "Version": "1",\n  "Statement": [}\n}',
            "MalformedPolicyDocument",
            "line 3 column 17",
        ),
        ("", "MalformedPolicyDocument", ""),
        ('{"Version": NaN}', "MalformedPolicyDocument", ""),
        ("[1, 2]", "MalformedPolicyDocument", ""),
        ("[" * 5000 + "]" * 5000, "InvalidParameter.PolicyDocument.Length", ""),
        ("[" * 3000 + "]" * 3000, "MalformedPolicyDocument", ""),
    ],
)
def test_syntax_errors_give_line_and_column(text, code, position):
    with pytest.raises(PolicyError) as err:
        parse_policy(text)
    assert (err.value.code, err.value.position) == (code, position)


def test_syntax_error_exposes_line_and_column_numbers():
    with pytest.raises(PolicyError) as err:
        parse_policy('{\n  "Version": "1",\n  "Statement": [}\n}')
    assert (err.value.line, err.value.column) == (3, 17)
    assert "line 3 column 17" in err.value.message


def test_too_long_document_is_refused_with_rams_limit():
    padding = " " * MAX_POLICY_DOCUMENT_LENGTH
    with pytest.raises(PolicyError) as err:
        parse_policy(doc(allow()) + padding)
    assert err.value.code == "InvalidParameter.PolicyDocument.Length"
    assert "6144" in err.value.message


def test_exactly_the_limit_is_accepted():
    text = doc(allow())
    parse_policy(text + " " * (MAX_POLICY_DOCUMENT_LENGTH - len(text)))


SEMANTIC_CASES = [
    # (document, position of the error)
    (json.dumps({"Statement": [allow()]}), "Version"),
    (doc(allow(), version="2016-10-17"), "Version"),
    (json.dumps({"Version": 1, "Statement": [allow()]}), "Version"),
    (json.dumps({"Version": "1"}), "Statement"),
    (json.dumps({"Version": "1", "Statement": []}), "Statement"),
    (json.dumps({"Version": "1", "Statement": "Allow"}), "Statement"),
    (json.dumps({"Version": "1", "Statement": [allow()], "Id": "x"}), "Id"),
    (json.dumps({"Version": "1", "Statement": [allow(), 7]}), "Statement[1]"),
    ('{"Version": "1", "Version": "1", "Statement": []}', "Version"),
    (doc(allow(Effect="allow")), "Statement[0].Effect"),
    (doc(allow(Effect="Permit")), "Statement[0].Effect"),
    (doc(allow(Effect=True)), "Statement[0].Effect"),
    (doc({"Action": "ecs:*", "Resource": "*"}), "Statement[0].Effect"),
    (doc(allow(Sid="one")), "Statement[0].Sid"),
    (doc(allow(Principal={"Service": "ecs.aliyuncs.com"})), "Statement[0].Principal"),
    (doc({"Effect": "Allow", "Resource": "*"}), "Statement[0].Action"),
    (doc(allow(NotAction="ecs:*")), "Statement[0].NotAction"),
    (doc(allow(Action="")), "Statement[0].Action"),
    (doc(allow(Action=[])), "Statement[0].Action"),
    (doc(allow(Action=["ecs:DescribeInstances", ""])), "Statement[0].Action[1]"),
    (doc(allow(Action="DescribeInstances")), "Statement[0].Action"),
    (doc(allow(Action=["ecs:A", "oss>List*"])), "Statement[0].Action[1]"),
    (doc(allow(Action="ecs: AttachInstanceRamRole")), "Statement[0].Action"),
    (doc(allow(Action=["ecs:A", 5])), "Statement[0].Action[1]"),
    (doc(allow(Action={"ecs": "A"})), "Statement[0].Action"),
    (doc({"Effect": "Allow", "Action": "ecs:A"}), "Statement[0].Resource"),
    (doc(allow(Resource="sg-1")), "Statement[0].Resource"),
    (doc(allow(Resource=["*", "arn:aws:iam::1:role/x"])), "Statement[0].Resource[1]"),
    (doc(allow(NotResource="*")), "Statement[0].NotResource"),
    (doc(allow(Condition=[])), "Statement[0].Condition"),
    (
        doc(allow(Condition={"IpAddr": {"acs:SourceIp": "1.2.3.4"}})),
        "Statement[0].Condition.IpAddr",
    ),
    (doc(allow(Condition={"IpAddress": {}})), "Statement[0].Condition.IpAddress"),
    (doc(allow(Condition={"IpAddress": "1.2.3.4"})), "Statement[0].Condition.IpAddress"),
    (
        doc(allow(Condition={"IpAddress": {"SourceIp": "1.2.3.4"}})),
        "Statement[0].Condition.IpAddress.SourceIp",
    ),
    (
        doc(allow(Condition={"IpAddress": {"acs:SourceIp": ["10.0.0.0/8", "10.0.0.0/33"]}})),
        "Statement[0].Condition.IpAddress.acs:SourceIp[1]",
    ),
    (
        doc(allow(Condition={"NotIpAddress": {"acs:SourceIp": "2001:db8::/129"}})),
        "Statement[0].Condition.NotIpAddress.acs:SourceIp",
    ),
    (
        doc(allow(Condition={"IpAddress": {"acs:SourceIp": "company-network"}})),
        "Statement[0].Condition.IpAddress.acs:SourceIp",
    ),
    (
        doc(allow(Condition={"IpAddress": {"acs:SourceIp": []}})),
        "Statement[0].Condition.IpAddress.acs:SourceIp",
    ),
    (
        doc(allow(Condition={"IpAddress": {"acs:SourceIp": [["10.0.0.0/8"]]}})),
        "Statement[0].Condition.IpAddress.acs:SourceIp[0]",
    ),
    (
        doc(allow(Condition={"DateLessThan": {"acs:CurrentTime": "2019-13-01T00:00:00Z"}})),
        "Statement[0].Condition.DateLessThan.acs:CurrentTime",
    ),
    (
        doc(allow(Condition={"DateLessThan": {"acs:CurrentTime": "tomorrow"}})),
        "Statement[0].Condition.DateLessThan.acs:CurrentTime",
    ),
    (
        doc(allow(Condition={"DateGreaterThan": {"acs:CurrentTime": 1568793600}})),
        "Statement[0].Condition.DateGreaterThan.acs:CurrentTime",
    ),
    (
        doc(allow(Condition={"NumericLessThan": {"ecs:count": "ten"}})),
        "Statement[0].Condition.NumericLessThan.ecs:count",
    ),
    (
        doc(allow(Condition={"NumericLessThan": {"ecs:count": True}})),
        "Statement[0].Condition.NumericLessThan.ecs:count",
    ),
    (
        doc(allow(Condition={"Bool": {"acs:MFAPresent": "yes"}})),
        "Statement[0].Condition.Bool.acs:MFAPresent",
    ),
    (
        doc(allow(Condition={"StringEquals": {"acs:AccessId": None}})),
        "Statement[0].Condition.StringEquals.acs:AccessId",
    ),
    (
        doc(allow(Condition={"StringEquals": {"acs:AccessId": {"a": "b"}}})),
        "Statement[0].Condition.StringEquals.acs:AccessId",
    ),
]


@pytest.mark.parametrize("text, position", SEMANTIC_CASES)
def test_semantic_errors_name_the_json_path(text, position):
    with pytest.raises(PolicyError) as err:
        parse_policy(text)
    assert err.value.code == "MalformedPolicyDocument"
    assert err.value.position == position
    assert position in str(err.value)


def test_second_statement_position_is_indexed():
    with pytest.raises(PolicyError) as err:
        parse_policy(
            doc(
                allow(),
                allow(Condition={"IpAddress": {"acs:SourceIp": ["1.2.3.4", "999.1.1.1"]}}),
            )
        )
    assert err.value.position == "Statement[1].Condition.IpAddress.acs:SourceIp[1]"


def test_trust_policy_needs_a_principal_and_no_resource():
    good = doc(
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"Service": ["ecs.aliyuncs.com"]},
        }
    )
    assert parse_trust_policy(good).statements[0].principal.services == ("ecs.aliyuncs.com",)
    with pytest.raises(PolicyError) as err:
        parse_trust_policy(doc({"Effect": "Allow", "Action": "sts:AssumeRole"}))
    assert err.value.position == "Statement[0].Principal"
    with pytest.raises(PolicyError) as err:
        parse_trust_policy(
            doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"User": "x"}})
        )
    assert err.value.position == "Statement[0].Principal.User"
    with pytest.raises(PolicyError) as err:
        parse_trust_policy(doc(allow(Principal={"Service": "ecs.aliyuncs.com"})))
    assert err.value.position == "Statement[0].Resource"
