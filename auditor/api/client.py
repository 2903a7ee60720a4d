"""A signing client for the auditor's API (what `palisade api` uses).

It keeps Palisade's RPC signature (SignatureVersion 1.0 with HMAC-SHA256, the parameters in
a form body); the auditor also takes the official SDKs' HMAC-SHA1 and V3 signatures. Each
action is sent with the API version of the product that serves it.
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from palisade.auditor.model.ram.signing import sign_request

CREDENTIALS_FILE = "credentials.json"


@dataclass
class Credentials:
    access_key_id: str
    access_key_secret: str
    security_token: str | None = None

    @classmethod
    def resolve(cls, data_dir: Path) -> Credentials:
        """PALISADE_ACCESS_KEY_ID/_SECRET, else the first administrator's file in the data dir."""
        key_id = os.environ.get("PALISADE_ACCESS_KEY_ID")
        secret = os.environ.get("PALISADE_ACCESS_KEY_SECRET")
        if key_id and secret:
            return cls(key_id, secret, os.environ.get("PALISADE_SECURITY_TOKEN") or None)
        path = Path(data_dir) / CREDENTIALS_FILE
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise LookupError(
                f"no credentials: set PALISADE_ACCESS_KEY_ID and "
                f"PALISADE_ACCESS_KEY_SECRET, or start the auditor so that it "
                f"writes {path}"
            ) from None
        return cls(data["AccessKeyId"], data["AccessKeySecret"])


def call(
    endpoint: str,
    credentials: Credentials,
    action: str,
    params: dict[str, str],
    timeout: float = 30.0,
) -> tuple[int, dict]:
    """POSTs one signed action; returns (HTTP status, JSON body)."""
    from palisade.auditor.api import actions as _actions  # noqa: F401  (the action names)
    from palisade.auditor.api.registry import version_of

    unsigned = {"Action": action, "Version": version_of(action), "Format": "JSON", **params}
    signed = sign_request(
        unsigned,
        credentials.access_key_id,
        credentials.access_key_secret,
        datetime.now(UTC),
        secrets.token_hex(16),
        method="POST",
        path="/",
        security_token=credentials.security_token,
    )
    request = urllib.request.Request(
        f"http://{endpoint}/",
        data=urlencode(signed).encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        body = err.read()
        try:
            return err.code, json.loads(body)
        except ValueError:
            return err.code, {"Code": "HttpError", "Message": body[:500].decode("utf-8", "replace")}
