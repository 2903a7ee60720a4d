"""The system policies and custom-policy examples of the ECS security guide, parsed and
evaluated."""

import json

import pytest

from palisade.auditor.model.ram import (
    SYSTEM_POLICIES,
    Caller,
    PolicyError,
    RequestContext,
    evaluate,
    parse_policy,
    parse_trust_policy,
    trusts_service,
)

SG = "acs:ecs:cn-hangzhou:1234567890123456:securitygroup/sg-bp1"
CTX = RequestContext(source_ip="42.120.74.10")

GUIDE_SYSTEM_POLICIES = [
    "AliyunECSReadOnlyAccess",
    "AliyunECSFullAccess",
    "AliyunECSImageImportDefaultRole",
    "AliyunECSImageExportDefaultRole",
    "AliyunECSNetworkInterfaceManagementAccess",
]


def decide(policy_name: str, action: str, resource: str = "*") -> bool:
    named = SYSTEM_POLICIES[policy_name].as_named()
    return evaluate([named], action, resource, CTX).allowed


@pytest.mark.parametrize(
    "name", GUIDE_SYSTEM_POLICIES + ["AdministratorAccess", "AliyunRAMFullAccess"]
)
def test_every_named_system_policy_exists_and_reparses(name):
    system = SYSTEM_POLICIES[name]
    assert parse_policy(system.document_text) == system.document
    assert system.description


@pytest.mark.parametrize(
    "name, action, expected",
    [
        ("AliyunECSReadOnlyAccess", "ecs:DescribeSecurityGroupAttribute", True),
        ("AliyunECSReadOnlyAccess", "ecs:ListTagResources", True),
        ("AliyunECSReadOnlyAccess", "vpc:DescribeVpcs", True),
        ("AliyunECSReadOnlyAccess", "ecs:AuthorizeSecurityGroup", False),
        ("AliyunECSReadOnlyAccess", "ecs:DeleteInstance", False),
        ("AliyunECSFullAccess", "ecs:AuthorizeSecurityGroup", True),
        ("AliyunECSFullAccess", "ecs:DeleteKeyPairs", True),
        ("AliyunECSFullAccess", "vpc:CreateVSwitch", True),
        ("AliyunECSFullAccess", "ram:CreateUser", False),
        ("AliyunECSFullAccess", "ram:PassRole", False),
        ("AliyunECSImageImportDefaultRole", "oss:GetObject", True),
        ("AliyunECSImageImportDefaultRole", "oss:PutObject", False),
        ("AliyunECSImageExportDefaultRole", "oss:PutObject", True),
        ("AliyunECSImageExportDefaultRole", "oss:DeleteBucket", False),
        ("AliyunECSNetworkInterfaceManagementAccess", "ecs:AttachNetworkInterface", True),
        ("AliyunECSNetworkInterfaceManagementAccess", "ecs:StopInstance", False),
        ("AdministratorAccess", "anything:AtAll", True),
        ("AliyunRAMFullAccess", "ram:CreateUser", True),
        ("AliyunRAMFullAccess", "ecs:DescribeInstances", False),
        ("AliyunRAMReadOnlyAccess", "ram:ListUsers", True),
        ("AliyunRAMReadOnlyAccess", "ram:DeleteUser", False),
    ],
)
def test_system_policy_behaviour(name, action, expected):
    assert decide(name, action, SG) is expected


def test_full_access_may_create_only_the_ecs_service_linked_role():
    named = SYSTEM_POLICIES["AliyunECSFullAccess"].as_named()
    ecs = RequestContext(extra={"ram:ServiceName": "ecs.aliyuncs.com"})
    other = RequestContext(extra={"ram:ServiceName": "rds.aliyuncs.com"})
    assert evaluate([named], "ram:CreateServiceLinkedRole", "*", ecs).allowed
    assert not evaluate([named], "ram:CreateServiceLinkedRole", "*", other).allowed


# --- the ECS security guide's custom-policy examples (section 3, "脚本配置策略示例") -------

GUIDE_EXAMPLE_PAY_AS_YOU_GO = """{
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ecs:DescribeImages",
                "vpc:DescribeVpcs",
                "vpc:DescribeVSwitches",
                "ecs:DescribeSecurityGroups",
                "ecs:DescribeKeyPairs",
                "ecs:DescribeTags",
                "ecs:RunInstances"
            ],
            "Resource": "*"
        }
    ],
    "Version": "1"
}"""

GUIDE_EXAMPLE_SUBSCRIPTION = """{
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ecs:DescribeImages", "vpc:DescribeVpcs", "vpc:DescribeVSwitches",
                "ecs:DescribeSecurityGroups", "ecs:DescribeKeyPairs", "ecs:DescribeTags",
                "ecs:RunInstances", "bss:DescribeOrderList", "bss:DescribeOrderDetail",
                "bss:PayOrder", "bss:CancelOrder"
            ],
            "Resource": "*"
        }
    ],
    "Version": "1"
}"""

GUIDE_EXAMPLE_DESCRIBE = """{
    "Statement": [
        {"Effect": "Allow", "Action": ["ecs:DescribeInstances", "ecs:DescribeDisks"],
         "Resource": "*"}
    ],
    "Version": "1"
}"""


def custom(text: str, name: str = "Custom"):
    from palisade.auditor.model.ram import NamedPolicy, PolicyType

    return NamedPolicy(name, PolicyType.CUSTOM, parse_policy(text))


@pytest.mark.parametrize(
    "text, action, expected",
    [
        (GUIDE_EXAMPLE_PAY_AS_YOU_GO, "ecs:RunInstances", True),
        (GUIDE_EXAMPLE_PAY_AS_YOU_GO, "vpc:DescribeVSwitches", True),
        (GUIDE_EXAMPLE_PAY_AS_YOU_GO, "bss:PayOrder", False),
        (GUIDE_EXAMPLE_PAY_AS_YOU_GO, "ecs:DeleteInstance", False),
        (GUIDE_EXAMPLE_SUBSCRIPTION, "bss:PayOrder", True),
        (GUIDE_EXAMPLE_SUBSCRIPTION, "ecs:RunInstances", True),
        (GUIDE_EXAMPLE_SUBSCRIPTION, "bss:Refund", False),
        (GUIDE_EXAMPLE_DESCRIBE, "ecs:DescribeDisks", True),
        (GUIDE_EXAMPLE_DESCRIBE, "ecs:StopInstance", False),
    ],
)
def test_guide_script_examples(text, action, expected):
    assert evaluate([custom(text)], action, "*", CTX).allowed is expected


COMPANY_NETWORK_ONLY = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": "ecs:*",
                "Resource": "*",
                "Condition": {
                    "NotIpAddress": {"acs:SourceIp": ["42.120.66.0/24", "2001:db8::/32"]}
                },
            }
        ],
    }
)
SYSADMINS = json.dumps(
    {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]}
)
DEVELOPERS = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "ecs:DescribeInstances",
                    "ecs:StartInstance",
                    "ecs:StopInstance",
                    "ecs:RunInstances",
                    "ecs:DeleteInstance",
                ],
                "Resource": "*",
            }
        ],
    }
)


@pytest.fixture
def company(account, now):
    """The ECS security guide's scenario: SysAdmins and Developers groups, the company-network
    rule."""
    account.create_policy("SysAdminsPolicy", SYSADMINS, now)
    account.create_policy("DevelopersPolicy", DEVELOPERS, now)
    account.create_policy("CompanyNetworkOnly", COMPANY_NETWORK_ONLY, now)
    for group, policy in (("SysAdmins", "SysAdminsPolicy"), ("Developers", "DevelopersPolicy")):
        account.create_group(group, now)
        account.attach_policy_to_group("Custom", policy, group)
        account.attach_policy_to_group("Custom", "CompanyNetworkOnly", group)
    account.create_user("dev", now)
    account.add_user_to_group("dev", "Developers")
    return account


OFFICE = RequestContext(source_ip="42.120.66.17")
HOME = RequestContext(source_ip="203.0.113.9")


def test_developers_may_use_instances_but_not_security_groups(company):
    dev = Caller.user("dev")
    assert company.authorize(dev, "ecs:StopInstance", "*", OFFICE).allowed
    assert company.authorize(dev, "ecs:DeleteInstance", "*", OFFICE).allowed
    decision = company.authorize(dev, "ecs:AuthorizeSecurityGroup", SG, OFFICE)
    assert not decision.allowed
    assert decision.message().endswith("denied: no policy allows it")


def test_moving_a_developer_to_sysadmins_takes_effect_at_once(company):
    dev = Caller.user("dev")
    assert not company.authorize(dev, "ecs:AuthorizeSecurityGroup", SG, OFFICE).allowed
    company.move_user_between_groups("dev", "Developers", "SysAdmins")
    assert company.authorize(dev, "ecs:AuthorizeSecurityGroup", SG, OFFICE).allowed
    company.move_user_between_groups("dev", "SysAdmins", "Developers")
    assert not company.authorize(dev, "ecs:AuthorizeSecurityGroup", SG, OFFICE).allowed


def test_requests_from_outside_the_company_network_are_denied(company):
    company.move_user_between_groups("dev", "Developers", "SysAdmins")
    dev = Caller.user("dev")
    decision = company.authorize(dev, "ecs:StopInstance", "*", HOME)
    assert not decision.allowed
    assert "explicit Deny in Custom policy CompanyNetworkOnly" in decision.message()
    assert company.authorize(dev, "ecs:StopInstance", "*", OFFICE).allowed
    v6_office = RequestContext(source_ip="2001:db8:42::1")
    assert company.authorize(dev, "ecs:StopInstance", "*", v6_office).allowed


def test_read_only_user_can_describe_but_not_modify_a_security_group(account, now):
    account.create_user("auditor", now)
    account.attach_policy_to_user("System", "AliyunECSReadOnlyAccess", "auditor")
    caller = Caller.user("auditor")
    assert account.authorize(caller, "ecs:DescribeSecurityGroupAttribute", SG, CTX).allowed
    assert not account.authorize(caller, "ecs:AuthorizeSecurityGroup", SG, CTX).allowed


# --- the ECS security guide's role examples (section 4), as printed and as corrected -------

GUIDE_TRUST_POLICY_AS_PRINTED = """{
  "Statement": [
{
    "Action": "sts:AssumeRole",
    "Effect": "Allow",
    "Principal": {
        "Service": [
            "ecs.aliyuncs.com"
        ]
    }
},
"Version": "1"
}"""

GUIDE_ROLE_POLICY_AS_PRINTED = """{
    "Statement": [
        {
            "Action": [
                "oss:Get*",
                "oss>List*"
            ],
            "Effect": "Allow",
            "Resource": "*"
        }
    ],
    "Version": "1"
}"""


def test_guide_trust_policy_as_printed_is_refused_with_its_position():
    # The guide's listing lost the `]` closing Statement; RAM would refuse it too.
    with pytest.raises(PolicyError) as err:
        parse_trust_policy(GUIDE_TRUST_POLICY_AS_PRINTED)
    assert err.value.line == 12


def test_guide_trust_policy_corrected_trusts_ecs():
    fixed = GUIDE_TRUST_POLICY_AS_PRINTED.replace('},\n"Version"', '}],\n"Version"')
    trust = parse_trust_policy(fixed)
    assert trusts_service(trust, "ecs.aliyuncs.com")
    assert not trusts_service(trust, "fc.aliyuncs.com")


def test_guide_role_policy_typo_is_located():
    with pytest.raises(PolicyError) as err:
        parse_policy(GUIDE_ROLE_POLICY_AS_PRINTED)
    assert err.value.position == "Statement[0].Action[1]"
    fixed = parse_policy(GUIDE_ROLE_POLICY_AS_PRINTED.replace("oss>List*", "oss:List*"))
    named = custom(json.dumps(json.loads(GUIDE_ROLE_POLICY_AS_PRINTED.replace(">", ":"))))
    assert fixed == named.document
    assert evaluate([named], "oss:ListObjects", "*", CTX).allowed
    assert not evaluate([named], "oss:PutObject", "*", CTX).allowed


def test_guide_pass_role_policy_needs_version_1_and_no_spaces():
    printed = json.dumps(
        {
            "Version": "2016-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["ecs: AttachInstanceRamRole", "ecs: DetachInstanceRAMRole"],
                    "Resource": "*",
                },
                {"Effect": "Allow", "Action": "ram:PassRole", "Resource": "*"},
            ],
        }
    )
    with pytest.raises(PolicyError) as err:
        parse_policy(printed)
    assert err.value.position == "Version"
    with pytest.raises(PolicyError) as err:
        parse_policy(printed.replace("2016-10-17", "1"))
    assert err.value.position == "Statement[0].Action[0]"
    fixed = custom(printed.replace("2016-10-17", "1").replace("ecs: ", "ecs:"))
    assert evaluate([fixed], "ecs:DetachInstanceRamRole", "*", CTX).allowed  # case-insensitive
    assert evaluate([fixed], "ram:PassRole", "acs:ram::1:role/EcsRole", CTX).allowed
