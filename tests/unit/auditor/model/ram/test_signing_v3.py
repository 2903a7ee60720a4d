"""V3 signatures (ACS3-HMAC-SHA256 in the Authorization header) and the SDKs' HMAC-SHA1 RPC
signature: good ones verify; tampering, stale dates, replays and unsigned headers do not."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from palisade.auditor.model.ram import InMemoryNonceRegistry, RamError, sign_request, verify
from palisade.auditor.model.ram.signing import (
    HttpRequest,
    parse_authorization,
    sign_v3,
    verify_v3,
)

KEY_ID, SECRET = "LTAI5tExampleKey000000", "testsecret"


def signed(now, nonce="n-1", body=b"", **query):
    base = HttpRequest("POST", "/", query or {"RegionId": "cn-hangzhou"}, {"host": "h"}, body)
    headers = sign_v3(base, KEY_ID, SECRET, now, nonce, action="DescribeVpcs", version="2016-04-28")
    return replace(base, headers=headers)


def code_of(request, now, nonces=None) -> str:
    with pytest.raises(RamError) as err:
        verify_v3(SECRET, request, now, nonces or InMemoryNonceRegistry())
    return err.value.code


def test_a_v3_signed_request_verifies_once(now):
    request = signed(now, body=b"a=1")
    nonces = InMemoryNonceRegistry()
    verified = verify_v3(SECRET, request, now + timedelta(minutes=5), nonces)
    assert (verified.access_key_id, verified.nonce) == (KEY_ID, "n-1")
    assert code_of(request, now, nonces) == "SignatureNonceUsed"


def test_v3_tampering_is_refused(now):
    request = signed(now, body=b"a=1")
    assert code_of(replace(request, query={"RegionId": "cn-beijing"}), now) == (
        "SignatureDoesNotMatch"
    )
    assert code_of(replace(request, body=b"a=2"), now) == "SignatureDoesNotMatch"
    faked = dict(request.headers, **{"x-acs-content-sha256": hashlib.sha256(b"a=2").hexdigest()})
    assert code_of(replace(request, headers=faked, body=b"a=2"), now) == "SignatureDoesNotMatch"
    other_action = dict(request.headers, **{"x-acs-action": "DeleteVpc"})
    assert code_of(replace(request, headers=other_action), now) == "SignatureDoesNotMatch"
    extra = dict(request.headers, **{"x-acs-security-token": "t"})
    assert code_of(replace(request, headers=extra), now) == "IncompleteSignature"
    assert code_of(signed(now - timedelta(minutes=16)), now) == "InvalidTimeStamp.Expired"
    with pytest.raises(RamError) as err:
        verify_v3("other-secret", signed(now), now, InMemoryNonceRegistry())
    assert err.value.code == "SignatureDoesNotMatch"


@given(st.text(max_size=120))
def test_authorization_headers_parse_or_fail_with_a_ram_error(text):
    try:
        auth = parse_authorization(text)
    except RamError as exc:
        assert exc.code in ("InvalidSignatureMethod", "IncompleteSignature")
    else:
        assert auth.access_key_id and auth.signature


@pytest.mark.parametrize("method", ["HMAC-SHA1", "HMAC-SHA256"])
def test_rpc_signatures_verify_once_and_only_while_fresh(now, method):
    def signed_at(moment, nonce):
        return sign_request(
            {"Action": "DescribeVpcs", "Description": "a b*~"},
            KEY_ID,
            SECRET,
            moment,
            nonce,
            signature_method=method,
        )

    nonces = InMemoryNonceRegistry()
    params = signed_at(now, "n-9")
    assert verify(SECRET, params, now, nonces).nonce == "n-9"
    for request, code in [
        (params, "SignatureNonceUsed"),
        (signed_at(now - timedelta(minutes=16), "n-10"), "InvalidTimeStamp.Expired"),
        ({**signed_at(now, "n-11"), "Description": "other"}, "SignatureDoesNotMatch"),
    ]:
        with pytest.raises(RamError) as err:
            verify(SECRET, request, now, nonces)
        assert err.value.code == code
