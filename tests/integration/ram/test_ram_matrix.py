"""Who may do what, as a matrix of RAM users x actions x resources run against the real API.

Each cell is one signed HTTP request to a real auditor process with a user's own AccessKey;
the expectation is success or `Forbidden.RAM`. The users' policies cover Allow, explicit Deny,
NotAction, `*`/`?` wildcards and case-insensitive action names, resource-scoped ARNs and
every condition operator family on keys the request carries: String* (`acs:AccessId`,
`acs:SourceIp`), Numeric* (`ecs:PageSize`, `ram:MaxItems`), Date* (`acs:CurrentTime`), Bool
(`acs:SecureTransport`, `acs:MFAPresent`) and IpAddress/NotIpAddress (`acs:SourceIp`; the
tests connect from 127.0.0.1 over plain HTTP without MFA). A failure prints the whole matrix.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from palisade.auditor.api.client import Credentials, call
from palisade.auditor.model.cloud_state import DEFAULT_REGION
from tests.helpers.auditor_process import start_auditor

pytestmark = pytest.mark.integration

ALLOW, DENY = "allow", "Forbidden.RAM"


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def allow(action, resource="*", condition=None, effect="Allow", key="Action") -> dict:
    statement = {"Effect": effect, key: action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def deny(action, resource="*", condition=None) -> dict:
    return allow(action, resource, condition, effect="Deny")


# Policies by user; a value is a list of statements, or a callable taking the user's own
# AccessKey id (for conditions on acs:AccessId).
SG = "acs:ecs:*:*:securitygroup/"
USERS: dict[str, list | Callable[[str], list] | str] = {
    "nobody": [],
    "reader": "System:AliyunECSReadOnlyAccess",
    # resource-scoped, with a `*` inside the action name
    "web-admin": lambda _k: [
        allow("ecs:*SecurityGroup*", SG + "{web}"),
        allow("ecs:DescribeRegions"),
    ],
    # full access, but an explicit Deny on changing the database group
    "no-db-writes": lambda _k: [
        allow("ecs:*"),
        deny(["ecs:Modify*", "ecs:Authorize*"], SG + "{db}"),
    ],
    # everything except changes and RAM
    "not-action": [allow(["ecs:Modify*", "ecs:Authorize*", "ram:*"], key="NotAction")],
    # `?` wildcard and action names in another case
    "wildcard-q": [allow(["ecs:Describe?ecurityGroup*", "ECS:describeregions"])],
    "ip-inside": [allow("ecs:*", condition={"IpAddress": {"acs:SourceIp": "127.0.0.0/8"}})],
    "ip-outside": [allow("ecs:*", condition={"IpAddress": {"acs:SourceIp": ["10.0.0.0/8"]}})],
    "not-ip-deny": [
        allow("ecs:*"),
        deny("*", condition={"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}}),
    ],
    "not-ip-ok": [
        allow("ecs:*"),
        deny("*", condition={"NotIpAddress": {"acs:SourceIp": ["127.0.0.1/32", "::1/128"]}}),
    ],
    "ip-like": [
        allow("ecs:Describe*", condition={"StringLike": {"acs:SourceIp": "127.0.0.*"}}),
        allow("ecs:Modify*", condition={"StringNotLike": {"acs:SourceIp": "127.*"}}),
    ],
    "time-window": [
        allow(
            "ecs:Describe*",
            condition={
                "DateGreaterThan": {"acs:CurrentTime": "2020-01-01T00:00:00Z"},
                "DateLessThan": {"acs:CurrentTime": "2999-01-01T00:00:00+08:00"},
            },
        ),
        allow("ecs:Modify*", condition={"DateLessThanEquals": {"acs:CurrentTime": "2001-01-01"}}),
    ],
    "https-only": [
        allow("ecs:Describe*", condition={"Bool": {"acs:SecureTransport": "true"}}),
        allow("ecs:DescribeRegions", condition={"Bool": {"acs:SecureTransport": False}}),
    ],
    "mfa-for-changes": [
        allow("ecs:*"),
        deny(["ecs:Modify*", "ecs:Authorize*"], condition={"Bool": {"acs:MFAPresent": "false"}}),
    ],
    "mfa-always": [allow("ecs:*", condition={"Bool": {"acs:MFAPresent": True}})],
    # String* on the AccessKey that signs: only this key, named exactly or in another case
    "key-pinned": lambda key_id: [
        allow("ecs:Describe*", condition={"StringEquals": {"acs:AccessId": key_id}}),
        allow(
            "ecs:Modify*",
            condition={"StringEqualsIgnoreCase": {"acs:AccessId": key_id.lower()}},
        ),
        allow("ecs:Authorize*", condition={"StringEquals": {"acs:AccessId": key_id.lower()}}),
    ],
    # long-lived keys refused outright: only STS sessions may act
    "sts-only": [
        allow("*"),
        deny("*", condition={"StringNotLike": {"acs:AccessId": "STS.*"}}),
    ],
    "not-equals": lambda key_id: [
        allow("ecs:Describe*", condition={"StringNotEquals": {"acs:AccessId": "LTAIsomeoneelse0"}}),
        allow(
            "ecs:Modify*",
            condition={"StringNotEqualsIgnoreCase": {"acs:AccessId": key_id.lower()}},
        ),
    ],
    # Numeric* on the page size a list request asks for
    "small-pages": [
        allow(
            "ecs:DescribeSecurityGroups",
            condition={"NumericLessThanEquals": {"ecs:PageSize": 20}},
        ),
        allow(
            "ram:ListUsers",
            condition={"NumericLessThan": {"ram:MaxItems": "10"}},
        ),
        deny("ram:ListUsers", condition={"NumericEquals": {"ram:MaxItems": [3, 4]}}),
        allow(
            "ram:ListPolicies",
            condition={
                "NumericGreaterThan": {"ram:MaxItems": 1},
                "NumericNotEquals": {"ram:MaxItems": 7},
            },
        ),
        deny("ram:ListPolicies", condition={"NumericGreaterThanEquals": {"ram:MaxItems": 100}}),
    ],
}


@dataclass(frozen=True)
class Request:
    label: str
    action: str
    params: tuple[tuple[str, str], ...] = ()


def describe(group: str) -> Request:
    return Request(
        f"DescribeSGAttribute {group}",
        "DescribeSecurityGroupAttribute",
        (("SecurityGroupId", group),),
    )


def modify(group: str) -> Request:
    return Request(
        f"ModifySGAttribute {group}",
        "ModifySecurityGroupAttribute",
        (("SecurityGroupId", group), ("Description", "changed by the matrix")),
    )


_ports = itertools.count(20000)


def authorize(group: str) -> Request:
    # a new port for every cell: an allowed request adds a rule that is never a duplicate
    port = next(_ports)
    return Request(
        f"AuthorizeSG {group}",
        "AuthorizeSecurityGroup",
        (
            ("SecurityGroupId", group),
            ("IpProtocol", "tcp"),
            ("PortRange", f"{port}/{port}"),
            ("SourceCidrIp", "192.0.2.0/24"),
        ),
    )


def regions() -> Request:
    return Request("DescribeRegions", "DescribeRegions")


def list_groups(page_size: int | None) -> Request:
    params = (("PageSize", str(page_size)),) if page_size is not None else ()
    return Request(f"DescribeSGs PageSize={page_size}", "DescribeSecurityGroups", params)


def list_ram(action: str, max_items: int | None) -> Request:
    params = (("MaxItems", str(max_items)),) if max_items is not None else ()
    return Request(f"{action} MaxItems={max_items}", action, params)


def cells(web: str, db: str) -> list[tuple[str, Request, str]]:
    """(user, request, expected) for every cell of the matrix."""
    A, D = ALLOW, DENY
    out: list[tuple[str, Request, str]] = []

    def row(user: str, *pairs: tuple[Request, str]) -> None:
        out.extend((user, request, expected) for request, expected in pairs)

    row("nobody", (describe(web), D), (regions(), D), (modify(web), D))
    row(
        "reader",
        (describe(web), A),
        (describe(db), A),
        (regions(), A),
        (list_groups(None), A),
        (modify(web), D),
        (authorize(db), D),
        (list_ram("ListUsers", 5), D),
    )
    row(
        "web-admin",
        (describe(web), A),
        (modify(web), A),
        (authorize(web), A),
        (describe(db), D),
        (modify(db), D),
        (regions(), A),
        (list_groups(None), D),
    )
    row(
        "no-db-writes",
        (modify(web), A),
        (authorize(web), A),
        (describe(db), A),
        (modify(db), D),
        (authorize(db), D),
    )
    row(
        "not-action",
        (describe(db), A),
        (regions(), A),
        (modify(web), D),
        (authorize(web), D),
        (list_ram("ListUsers", 5), D),
    )
    row("wildcard-q", (describe(web), A), (list_groups(None), A), (regions(), A), (modify(web), D))
    row("ip-inside", (describe(web), A), (modify(db), A))
    row("ip-outside", (describe(web), D), (regions(), D))
    row("not-ip-deny", (describe(web), D), (regions(), D))
    row("not-ip-ok", (describe(web), A), (modify(web), A))
    row("ip-like", (describe(web), A), (modify(web), D))
    row("time-window", (describe(db), A), (regions(), A), (modify(db), D))
    row("https-only", (describe(web), D), (regions(), A))
    row("mfa-for-changes", (describe(web), A), (modify(web), D), (authorize(web), D))
    row("mfa-always", (describe(web), D), (regions(), D))
    row("key-pinned", (describe(web), A), (modify(web), A), (authorize(web), D))
    row("sts-only", (describe(web), D), (regions(), D), (list_ram("ListUsers", 5), D))
    row("not-equals", (describe(web), A), (modify(web), D))
    row(
        "small-pages",
        (list_groups(10), A),
        (list_groups(20), A),
        (list_groups(30), D),
        (list_groups(None), D),
        (list_ram("ListUsers", 5), A),
        (list_ram("ListUsers", 10), D),
        (list_ram("ListUsers", 3), D),
        (list_ram("ListPolicies", 2), A),
        (list_ram("ListPolicies", 7), D),
        (list_ram("ListPolicies", 1), D),
        (list_ram("ListPolicies", 100), D),
        (describe(web), D),
    )
    return out


@pytest.fixture(scope="module")
def auditor(tmp_path_factory):
    proc = start_auditor(tmp_path_factory.mktemp("ram-matrix") / "auditor")
    yield proc
    proc.stop()


def admin_call(auditor, action: str, **params: str) -> dict:
    status, body = call(auditor.http, Credentials.resolve(auditor.data_dir), action, params)
    assert status == 200, body
    return body


def make_user(auditor, name: str, spec) -> Credentials:
    admin_call(auditor, "CreateUser", UserName=name)
    key = admin_call(auditor, "CreateAccessKey", UserName=name)["AccessKey"]
    if isinstance(spec, str):
        kind, _, policy_name = spec.partition(":")
    else:
        statements = spec(key["AccessKeyId"]) if callable(spec) else spec
        if not statements:
            return Credentials(key["AccessKeyId"], key["AccessKeySecret"])
        kind, policy_name = "Custom", f"matrix-{name}"
        admin_call(
            auditor, "CreatePolicy", PolicyName=policy_name, PolicyDocument=policy(*statements)
        )
    admin_call(
        auditor, "AttachPolicyToUser", PolicyType=kind, PolicyName=policy_name, UserName=name
    )
    return Credentials(key["AccessKeyId"], key["AccessKeySecret"])


def fill_in(spec, groups: dict[str, str]):
    """The user's statements with {web}/{db} replaced by the real group ids."""
    if isinstance(spec, str) or not callable(spec):
        return spec

    def filled(key_id: str) -> list:
        text = json.dumps(spec(key_id))
        for name, group_id in groups.items():
            text = text.replace("{" + name + "}", group_id)
        return json.loads(text)

    return filled


def table(results: list[tuple[str, Request, str, str, str]]) -> str:
    width_user = max(len(r[0]) for r in results)
    width_request = max(len(r[1].label) for r in results)
    lines = [
        f"{'user':<{width_user}}  {'request':<{width_request}}  {'expected':<13}  got",
        "-" * (width_user + width_request + 40),
    ]
    for user, request, expected, got, detail in results:
        mark = "  " if got == expected else "X "
        lines.append(
            f"{user:<{width_user}}  {request.label:<{width_request}}  {expected:<13}  "
            f"{mark}{got}{'  ' + detail if got != expected else ''}"
        )
    return "\n".join(lines)


def test_users_by_actions_by_resources(auditor):
    vpc = admin_call(auditor, "CreateVpc", RegionId=DEFAULT_REGION, CidrBlock="10.8.0.0/16")
    groups = {
        name: admin_call(
            auditor,
            "CreateSecurityGroup",
            RegionId=DEFAULT_REGION,
            VpcId=vpc["VpcId"],
            SecurityGroupName=name,
        )["SecurityGroupId"]
        for name in ("web", "db")
    }
    credentials = {
        name: make_user(auditor, name, fill_in(spec, groups)) for name, spec in USERS.items()
    }
    matrix = cells(groups["web"], groups["db"])
    assert len(matrix) >= 40
    assert {user for user, _, _ in matrix} == set(USERS)

    results = []
    for user, request, expected in matrix:
        params = dict(request.params)
        if request.action != "DescribeRegions" and not request.action.startswith("List"):
            params["RegionId"] = DEFAULT_REGION
        status, body = call(auditor.http, credentials[user], request.action, params)
        got = ALLOW if status == 200 else body.get("Code", str(status))
        detail = "" if status == 200 else f"({status} {body.get('Message', '')[:120]})"
        results.append((user, request, expected, got, detail))
    wrong = [r for r in results if r[2] != r[3]]
    if wrong:
        pytest.fail(f"{len(wrong)} of {len(results)} cells wrong:\n{table(results)}", False)


# ---- groups: read-only readers, SysAdmins, and moving a user between them ---------------------


def as_user(auditor, creds: Credentials, action: str, **params: str) -> tuple[int, dict]:
    return call(auditor.http, creds, action, {"RegionId": DEFAULT_REGION, **params})


def ingress_ports(auditor, group_id: str) -> list[str]:
    body = admin_call(
        auditor, "DescribeSecurityGroupAttribute", RegionId=DEFAULT_REGION, SecurityGroupId=group_id
    )
    return sorted(p["PortRange"] for p in body["Permissions"]["Permission"])


def test_a_user_moved_from_readers_to_sysadmins_may_change_security_groups_at_once(auditor):
    vpc = admin_call(auditor, "CreateVpc", RegionId=DEFAULT_REGION, CidrBlock="10.9.0.0/16")
    group_id = admin_call(
        auditor,
        "CreateSecurityGroup",
        RegionId=DEFAULT_REGION,
        VpcId=vpc["VpcId"],
        SecurityGroupName="app",
    )["SecurityGroupId"]
    admin_call(auditor, "CreateGroup", GroupName="EcsReaders")
    admin_call(
        auditor,
        "AttachPolicyToGroup",
        PolicyType="System",
        PolicyName="AliyunECSReadOnlyAccess",
        GroupName="EcsReaders",
    )
    admin_call(auditor, "CreateGroup", GroupName="SysAdmins")
    admin_call(
        auditor, "CreatePolicy", PolicyName="sysadmins-ecs", PolicyDocument=policy(allow("ecs:*"))
    )
    admin_call(
        auditor,
        "AttachPolicyToGroup",
        PolicyType="Custom",
        PolicyName="sysadmins-ecs",
        GroupName="SysAdmins",
    )
    operator = make_user(auditor, "operator", [])
    admin_call(auditor, "AddUserToGroup", UserName="operator", GroupName="EcsReaders")

    def authorize_port(port: int) -> tuple[int, dict]:
        return as_user(
            auditor,
            operator,
            "AuthorizeSecurityGroup",
            SecurityGroupId=group_id,
            IpProtocol="tcp",
            PortRange=f"{port}/{port}",
            SourceCidrIp="198.51.100.0/24",
        )

    def move(from_group: str, to_group: str) -> None:
        admin_call(auditor, "RemoveUserFromGroup", UserName="operator", GroupName=from_group)
        admin_call(auditor, "AddUserToGroup", UserName="operator", GroupName=to_group)

    # a reader describes the group, and changes nothing
    status, body = as_user(
        auditor, operator, "DescribeSecurityGroupAttribute", SecurityGroupId=group_id
    )
    assert status == 200 and body["SecurityGroupId"] == group_id
    assert as_user(auditor, operator, "DescribeSecurityGroups")[0] == 200
    status, body = authorize_port(22)
    assert (status, body["Code"]) == (403, "Forbidden.RAM")
    assert "ecs:AuthorizeSecurityGroup" in body["Message"] and group_id in body["Message"]
    for action, extra in (
        ("ModifySecurityGroupAttribute", {"Description": "mine now"}),
        ("ModifySecurityGroupPolicy", {"InnerAccessPolicy": "Drop"}),
        ("DeleteSecurityGroup", {}),
    ):
        status, body = as_user(auditor, operator, action, SecurityGroupId=group_id, **extra)
        assert (status, body["Code"]) == (403, "Forbidden.RAM"), action
        assert f"ecs:{action}" in body["Message"]
    assert ingress_ports(auditor, group_id) == []

    # in SysAdmins, the very next request may change it
    move("EcsReaders", "SysAdmins")
    status, body = authorize_port(22)
    assert status == 200, body
    assert ingress_ports(auditor, group_id) == ["22/22"]
    status, body = as_user(
        auditor,
        operator,
        "ModifySecurityGroupAttribute",
        SecurityGroupId=group_id,
        Description="opened ssh",
    )
    assert status == 200, body

    # and back among the readers it may not any more
    move("SysAdmins", "EcsReaders")
    status, body = authorize_port(443)
    assert (status, body["Code"]) == (403, "Forbidden.RAM")
    assert ingress_ports(auditor, group_id) == ["22/22"]
    assert (
        as_user(auditor, operator, "DescribeSecurityGroupAttribute", SecurityGroupId=group_id)[0]
        == 200
    )

    # in no group at all it may not even look
    admin_call(auditor, "RemoveUserFromGroup", UserName="operator", GroupName="EcsReaders")
    status, body = as_user(
        auditor, operator, "DescribeSecurityGroupAttribute", SecurityGroupId=group_id
    )
    assert (status, body["Code"]) == (403, "Forbidden.RAM")
