"""The RPC OpenAPI's rules in-process: authenticate first, products by Version, the SDK
envelope, ClientToken idempotency, MaxResults/NextToken paging, XML answers, error fields."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params, decode_next_token, encode_next_token
from palisade.auditor.api.protocol import read_request, render
from palisade.auditor.model.ram import sign_request

REGION = "cn-hangzhou"


def _raw_signed(h, params: dict[str, str], version: str) -> dict[str, str]:
    key_id, secret = h.admin
    return sign_request(
        {"Version": version, "Format": "JSON", **params},
        key_id,
        secret,
        h.now,
        secrets.token_hex(16),
        method="POST",
        path="/",
    )


@pytest.mark.parametrize(
    "params",
    [
        {"Action": "DescribeSecurityGroups"},
        {"Action": "NoSuchAction"},
        {"Action": "DescribeSecurityGroups", "NoSuchParameter": "1"},
        {},
        {"Action": "CreateUser", "Version": "1999-01-01"},
    ],
)
def test_an_unsigned_request_learns_only_that_it_is_unsigned(h, params):
    response = h.api.handle("POST", "/", params, "127.0.0.1")
    assert (response.status, response.body["Code"]) == (400, "MissingAccessKeyId")


def test_a_badly_signed_request_for_an_unknown_action_gets_the_signature_error(h):
    signed = _raw_signed(h, {"Action": "NoSuchAction", "Foo": "1"}, "2014-05-26")
    signed["Signature"] = "AAAA" + signed["Signature"][4:]
    response = h.api.handle("POST", "/", signed, "127.0.0.1")
    assert response.body["Code"] == "SignatureDoesNotMatch"


def test_products_are_routed_by_version(h):
    ok = h.api.handle("POST", "/", _raw_signed(h, {"Action": "ListUsers"}, "2015-05-01"), "x")
    assert ok.status == 200, ok.body
    wrong = h.api.handle("POST", "/", _raw_signed(h, {"Action": "ListUsers"}, "2014-05-26"), "x")
    assert (wrong.status, wrong.body["Code"]) == (404, "InvalidAction.NotFound")
    bad = h.api.handle("POST", "/", _raw_signed(h, {"Action": "ListUsers"}, "2030-01-01"), "x")
    assert (bad.status, bad.body["Code"]) == (400, "InvalidVersion")
    vpc = _raw_signed(h, {"Action": "CreateVpc", "RegionId": REGION}, "2016-04-28")
    assert h.api.handle("POST", "/", vpc, "x").status == 200


def test_the_sdk_envelope_is_accepted(h):
    body = h.ok(
        "CreateVpc",
        RegionId=REGION,
        OwnerId="1234",
        ResourceOwnerId="1234",
        OwnerAccount="owner",
        ResourceGroupId="rg-1",
        SignatureType="",
    )
    assert body["VpcId"].startswith("vpc-")


def test_a_retried_client_token_gets_the_first_answer_and_creates_nothing_twice(h):
    vpc = h.ok("CreateVpc", RegionId=REGION)["VpcId"]
    first = h.ok("CreateSecurityGroup", RegionId=REGION, VpcId=vpc, ClientToken="tok-1")
    again = h.ok("CreateSecurityGroup", RegionId=REGION, VpcId=vpc, ClientToken="tok-1")
    assert again["SecurityGroupId"] == first["SecurityGroupId"]
    assert again["RequestId"] != first["RequestId"]
    listed = h.ok("DescribeSecurityGroups", RegionId=REGION)
    assert listed["TotalCount"] == 1
    status, code, _ = h.error(
        "CreateSecurityGroup", RegionId=REGION, VpcId=vpc, ClientToken="tok-1", Description="x"
    )
    assert (status, code) == (400, "IdempotentParameterMismatch")
    other = h.ok("CreateSecurityGroup", RegionId=REGION, VpcId=vpc, ClientToken="tok-2")
    assert other["SecurityGroupId"] != first["SecurityGroupId"]
    h.advance(24 * 3600 + 1)  # a day later the token is free again
    later = h.ok("CreateSecurityGroup", RegionId=REGION, VpcId=vpc, ClientToken="tok-1")
    assert later["SecurityGroupId"] not in (first["SecurityGroupId"], other["SecurityGroupId"])


def test_max_results_and_next_token_page_beside_page_number(h):
    vpc = h.ok("CreateVpc", RegionId=REGION)["VpcId"]
    for _ in range(5):
        h.ok("CreateSecurityGroup", RegionId=REGION, VpcId=vpc)
    seen, token = [], None
    while True:
        extra = {"NextToken": token} if token else {}
        page = h.ok("DescribeSecurityGroups", RegionId=REGION, MaxResults="2", **extra)
        seen += [g["SecurityGroupId"] for g in page["SecurityGroups"]["SecurityGroup"]]
        token = page["NextToken"]
        assert page["MaxResults"] == 2
        if not token:
            break
    assert len(seen) == len(set(seen)) == 5
    status, code, _ = h.error("DescribeSecurityGroups", RegionId=REGION, NextToken="bogus")
    assert code == "InvalidParameter.NextToken"


@given(st.text(max_size=12))
def test_next_tokens_decode_or_fail_cleanly(text):
    try:
        number = decode_next_token(text)
    except ApiError as exc:
        assert exc.code == "InvalidParameter.NextToken"
    else:
        assert encode_next_token(number) == text


def test_page_number_and_next_token_together_are_refused():
    with pytest.raises(ApiError):
        Params({"PageNumber": "1", "NextToken": "pg2"}).page()


def test_xml_answers_and_error_fields():
    body, ctype = render(
        200,
        {"RequestId": "R", "SecurityGroups": {"SecurityGroup": [{"Id": "a"}, {"Id": "b"}]}},
        {"Action": "DescribeSecurityGroups", "Format": "XML"},
        "host",
    )
    root = ET.fromstring(body)
    assert root.tag == "DescribeSecurityGroupsResponse" and ctype.startswith("text/xml")
    assert [e.text for e in root.findall("SecurityGroups/SecurityGroup/Id")] == ["a", "b"]
    body, ctype = render(400, {"Code": "C", "Message": "M", "RequestId": "R"}, {}, "h.example")
    import json

    assert json.loads(body) == {
        "RequestId": "R",
        "HostId": "h.example",
        "Code": "C",
        "Message": "M",
        "Recommend": json.loads(body)["Recommend"],
    }
    body, _ = render(403, {"Code": "C", "Message": "<&>", "RequestId": "R"}, {"Format": "xml"}, "h")
    error = ET.fromstring(body)
    assert error.tag == "Error" and error.findtext("Message") == "<&>"


def test_a_v3_request_names_its_action_in_headers():
    call = read_request(
        "POST",
        "RegionId=cn-hangzhou",
        {
            "authorization": "ACS3-HMAC-SHA256 ...",
            "x-acs-action": "DescribeVpcs",
            "x-acs-version": "2016-04-28",
        },
        b"",
    )
    assert call.params == {
        "RegionId": "cn-hangzhou",
        "Action": "DescribeVpcs",
        "Version": "2016-04-28",
    }
    assert call.http.query == {"RegionId": "cn-hangzhou"}
    with pytest.raises(ValueError):
        read_request("POST", "Action=Other", {"authorization": "x", "x-acs-action": "A"}, b"")


_wire_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)


@given(query=_wire_text, body=st.binary(max_size=60), action=_wire_text)
def test_reading_any_request_fails_only_with_value_errors(query, body, action):
    headers = {"authorization": "ACS3-HMAC-SHA256 x", "x-acs-action": action}
    try:
        call = read_request("POST", query, headers, body)
    except (ValueError, UnicodeDecodeError):
        return
    assert call.params.get("Action") == (action or call.params.get("Action"))


@given(
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), _wire_text),
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(
                st.from_regex(r"[A-Z][A-Za-z0-9]{0,8}", fullmatch=True), children, max_size=3
            ),
        ),
        max_leaves=10,
    )
)
def test_any_answer_renders_as_well_formed_xml(value):
    body, _ = render(200, {"Value": value}, {"Action": "Describe", "Format": "XML"}, "h")
    assert ET.fromstring(body).tag == "DescribeResponse"  # control characters become U+FFFD


def test_a_client_token_retried_on_another_replica_gets_the_first_answer(h):
    from palisade.auditor.api.pipeline import ApiService

    vpc = h.ok("CreateVpc", RegionId=REGION)["VpcId"]
    first = h.ok("CreateSecurityGroup", RegionId=REGION, VpcId=vpc, ClientToken="t-r")
    other = ApiService(h.store, clock=lambda: h.now)  # a second auditor on the same database
    other.initialise()
    retried = other.handle(
        "POST",
        "/",
        _raw_signed(
            h,
            {
                "Action": "CreateSecurityGroup",
                "RegionId": REGION,
                "VpcId": vpc,
                "ClientToken": "t-r",
            },
            "2014-05-26",
        ),
        "127.0.0.1",
    )
    assert retried.status == 200 and retried.body["SecurityGroupId"] == first["SecurityGroupId"]
    assert h.ok("DescribeSecurityGroups", RegionId=REGION)["TotalCount"] == 1


def test_two_replicas_racing_with_one_client_token_create_once(h, monkeypatch):
    from palisade.auditor.api.pipeline import ApiService

    vpc = h.ok("CreateVpc", RegionId=REGION)["VpcId"]
    first = h.ok("CreateSecurityGroup", RegionId=REGION, VpcId=vpc, ClientToken="t-race")
    other = ApiService(h.store, clock=lambda: h.now)
    other.initialise()
    real_lookup = other.states.client_token
    misses = iter([None])  # the race: B looked before A's answer was committed

    def racing_lookup(key, now):
        return next(misses, None) or real_lookup(key, now)

    monkeypatch.setattr(other.states, "client_token", racing_lookup)
    raw = {"Action": "CreateSecurityGroup", "RegionId": REGION, "VpcId": vpc}
    retried = other.handle(
        "POST", "/", _raw_signed(h, {**raw, "ClientToken": "t-race"}, "2014-05-26"), "x"
    )
    # B's save, token included, rolled back whole; its retry found A's answer
    assert retried.status == 200 and retried.body["SecurityGroupId"] == first["SecurityGroupId"]
    h.api.state = None  # A rereads what is stored
    assert h.ok("DescribeSecurityGroups", RegionId=REGION)["TotalCount"] == 1
