"""Request signatures: a good one passes; tampering, stale timestamps and replays do not."""

from datetime import timedelta

import pytest

from palisade.auditor.model.ram import (
    InMemoryNonceRegistry,
    RamError,
    canonical_request,
    sign,
    sign_request,
    verify,
)
from palisade.auditor.model.ram.signing import percent_encode

KEY_ID = "LTAI5tExampleKey000000"
SECRET = "testsecret"
PARAMS = {
    "Action": "AuthorizeSecurityGroup",
    "RegionId": "cn-hangzhou",
    "SecurityGroupId": "sg-bp1",
    "PortRange": "22/22",
    "SourceCidrIp": "42.120.66.0/24",
    "Description": "ssh from office ~*",
}


def signed(now, nonce="n-1", **extra):
    return sign_request({**PARAMS, **extra}, KEY_ID, SECRET, now, nonce)


def code_of(fn, *args, **kwargs) -> str:
    with pytest.raises(RamError) as err:
        fn(*args, **kwargs)
    return err.value.code


def test_percent_encoding_is_rfc3986():
    assert percent_encode("a b*c~d/é") == "a%20b%2Ac~d%2F%C3%A9"


def test_canonical_request_sorts_and_encodes():
    sts = canonical_request("get", "/", {"b": "2", "a": "x y", "Signature": "ignored"})
    assert sts == "GET&%2F&a%3Dx%2520y%26b%3D2"


def test_canonical_request_includes_only_acs_headers():
    without = canonical_request("POST", "/", {"a": "1"})
    with_other = canonical_request("POST", "/", {"a": "1"}, {"User-Agent": "x"})
    with_acs = canonical_request("POST", "/", {"a": "1"}, {"X-Acs-Foo": " bar "})
    assert without == with_other
    assert with_acs == without + "&" + percent_encode("x-acs-foo:bar")


def test_sign_is_base64_hmac_sha256_with_ampersand_key():
    import base64
    import hashlib
    import hmac

    expected = base64.b64encode(hmac.new(b"k&", b"text", hashlib.sha256).digest()).decode()
    assert sign("k", "text") == expected


def test_a_correctly_signed_request_verifies(now):
    params = signed(now)
    assert params["SignatureMethod"] == "HMAC-SHA256"
    assert params["Timestamp"] == "2019-09-18T08:00:00Z"
    verified = verify(SECRET, params, now + timedelta(minutes=3), InMemoryNonceRegistry())
    assert verified.access_key_id == KEY_ID and verified.nonce == "n-1"


def test_wrong_secret_is_refused(now):
    assert code_of(verify, "other", signed(now), now, InMemoryNonceRegistry()) == (
        "SignatureDoesNotMatch"
    )


@pytest.mark.parametrize(
    "name, value",
    [("PortRange", "1/65535"), ("SourceCidrIp", "0.0.0.0/0"), ("Extra", "1"), ("Action", "x")],
)
def test_tampered_parameter_is_refused(now, name, value):
    params = signed(now)
    params[name] = value
    assert code_of(verify, SECRET, params, now, InMemoryNonceRegistry()) == "SignatureDoesNotMatch"


def test_dropped_parameter_is_refused(now):
    params = signed(now)
    del params["SourceCidrIp"]
    assert code_of(verify, SECRET, params, now, InMemoryNonceRegistry()) == "SignatureDoesNotMatch"


def test_method_and_path_are_signed(now):
    params = signed(now)
    assert code_of(verify, SECRET, params, now, InMemoryNonceRegistry(), method="POST") == (
        "SignatureDoesNotMatch"
    )
    assert code_of(verify, SECRET, params, now, InMemoryNonceRegistry(), path="/x") == (
        "SignatureDoesNotMatch"
    )


def test_unsigned_acs_header_is_refused(now):
    params = signed(now)
    headers = {"x-acs-security-token": "forged"}
    assert code_of(verify, SECRET, params, now, InMemoryNonceRegistry(), headers=headers) == (
        "SignatureDoesNotMatch"
    )


@pytest.mark.parametrize("skew", [timedelta(minutes=16), -timedelta(minutes=16), timedelta(days=1)])
def test_stale_or_future_timestamp_is_refused(now, skew):
    assert code_of(verify, SECRET, signed(now), now + skew, InMemoryNonceRegistry()) == (
        "InvalidTimeStamp.Expired"
    )


def test_timestamp_at_the_edge_of_the_window_is_accepted(now):
    verify(SECRET, signed(now), now + timedelta(minutes=15), InMemoryNonceRegistry())


def test_replayed_nonce_is_refused(now):
    nonces = InMemoryNonceRegistry()
    params = signed(now)
    verify(SECRET, params, now, nonces)
    assert code_of(verify, SECRET, params, now + timedelta(seconds=1), nonces) == (
        "SignatureNonceUsed"
    )
    verify(SECRET, signed(now, nonce="n-2"), now, nonces)


def test_a_bad_signature_does_not_burn_the_nonce(now):
    nonces = InMemoryNonceRegistry()
    forged = signed(now)
    forged["Signature"] = "AAAA"
    code_of(verify, SECRET, forged, now, nonces)
    verify(SECRET, signed(now), now, nonces)


def test_nonce_store_reporting_a_race_refuses(now):
    class RacingStore:
        def seen(self, nonce):
            return False

        def add(self, nonce, expires):
            return False

    assert code_of(verify, SECRET, signed(now), now, RacingStore()) == "SignatureNonceUsed"


def test_nonce_is_remembered_until_the_timestamp_window_closes(now):
    nonces = InMemoryNonceRegistry()
    verify(SECRET, signed(now), now, nonces)
    nonces.purge(now + timedelta(minutes=14))
    assert nonces.seen("n-1")
    nonces.purge(now + timedelta(minutes=15))
    assert not nonces.seen("n-1")


@pytest.mark.parametrize(
    "mutate, code",
    [
        (lambda p: p.pop("Signature"), "MissingSignature"),
        (lambda p: p.pop("Timestamp"), "MissingTimestamp"),
        (lambda p: p.pop("SignatureNonce"), "MissingSignatureNonce"),
        (lambda p: p.pop("AccessKeyId"), "MissingAccessKeyId"),
        (lambda p: p.update(SignatureMethod="HMAC-MD5"), "InvalidSignatureMethod"),
        (lambda p: p.update(SignatureVersion="2.0"), "InvalidSignatureVersion"),
        (lambda p: p.update(Timestamp="2019-09-18 08:00:00"), "InvalidTimeStamp.Format"),
        (lambda p: p.update(Timestamp="2019-02-30T08:00:00Z"), "InvalidTimeStamp.Format"),
    ],
)
def test_malformed_requests(now, mutate, code):
    params = signed(now)
    mutate(params)
    assert code_of(verify, SECRET, params, now, InMemoryNonceRegistry()) == code


def test_unknown_access_key(now):
    assert code_of(verify, None, signed(now), now, InMemoryNonceRegistry()) == (
        "InvalidAccessKeyId.NotFound"
    )
