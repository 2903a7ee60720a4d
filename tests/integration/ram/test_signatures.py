"""Signed HTTP requests to a real auditor process: a replayed nonce, a stale timestamp, a changed
parameter, a wrong secret or no signature is refused."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from palisade.auditor.api.client import Credentials
from palisade.auditor.model.ram import sign_request

pytestmark = pytest.mark.integration


def post(auditor, params: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://{auditor.http}/",
        data=urlencode(params).encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def signed(auditor, when: datetime | None = None, secret: str | None = None, **params: str):
    admin = Credentials.resolve(auditor.data_dir)
    return sign_request(
        {"Action": "ListUsers", "Version": "2015-05-01", "Format": "JSON", **params},
        admin.access_key_id,
        secret or admin.access_key_secret,
        when or datetime.now(UTC),
        secrets.token_hex(16),
        method="POST",
        path="/",
    )


def test_signature_refusals(auditor):
    request = signed(auditor)
    assert post(auditor, request)[0] == 200
    status, body = post(auditor, request)  # the same request again: same nonce
    assert (status, body["Code"]) == (400, "SignatureNonceUsed")

    stale = signed(auditor, when=datetime.now(UTC) - timedelta(hours=1))
    assert post(auditor, stale)[1]["Code"] == "InvalidTimeStamp.Expired"

    tampered = signed(auditor)
    tampered["Signature"] = tampered["Signature"][:-4] + "AAA="
    assert post(auditor, tampered)[1]["Code"] == "SignatureDoesNotMatch"

    changed = signed(auditor, MaxItems="1")
    changed["MaxItems"] = "2"
    assert post(auditor, changed)[1]["Code"] == "SignatureDoesNotMatch"

    wrong_secret = signed(auditor, secret="not-the-secret")
    assert post(auditor, wrong_secret)[1]["Code"] == "SignatureDoesNotMatch"

    unsigned = signed(auditor)
    del unsigned["Signature"]
    assert post(auditor, unsigned)[1]["Code"] == "MissingSignature"
