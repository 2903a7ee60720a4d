"""`palisade ...` in-process against a real auditor (faster than a subprocess per call)."""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Sequence

from palisade.auditor.cli import main as cli

# What `palisade` signs requests with; none of them set: the account owner.
CREDENTIAL_VARS = (
    "PALISADE_ACCESS_KEY_ID",
    "PALISADE_ACCESS_KEY_SECRET",
    "PALISADE_SECURITY_TOKEN",
)

# What an API error prints over HTTP: the fields the official SDKs read, nothing else
# (and RAM's AccessDeniedDetail on a RAM denial).
API_ERROR_FIELDS = {"RequestId", "HostId", "Code", "Message", "Recommend"}


def error_fields(body: dict) -> set[str]:
    """The fields an API error body must have, exactly."""
    if body.get("Code") == "Forbidden.RAM":
        return API_ERROR_FIELDS | {"AccessDeniedDetail"}
    return API_ERROR_FIELDS


def credentials_env(creds: Sequence[str] | None) -> dict[str, str]:
    """`(AccessKeyId, AccessKeySecret[, SecurityToken])` as the variables `palisade` reads."""
    return dict(zip(CREDENTIAL_VARS, creds or (), strict=False))


def run(
    auditor, *args: str, env: dict[str, str] | None = None, clear_credentials: bool = False
) -> tuple[int, str]:
    """`palisade ARGS` with `env` set for the call; `clear_credentials`: the credential
    variables of this process are unset for the call, so only those in `env` count."""
    out = io.StringIO()
    umask = os.umask(0o022)
    cleared = CREDENTIAL_VARS if clear_credentials else ()
    saved = {k: os.environ.get(k) for k in (*cleared, *(env or {}))}
    for k in cleared:
        os.environ.pop(k, None)
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out):
            rc = cli.main(["--data-dir", str(auditor.data_dir), *args])
    finally:
        os.umask(umask)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return rc, out.getvalue()


def api(
    auditor,
    action: str,
    *assignments: str,
    env: dict[str, str] | None = None,
    clear_credentials: bool = False,
):
    rc, text = run(
        auditor, "api", action, *assignments, env=env, clear_credentials=clear_credentials
    )
    return rc, json.loads(text)


def ok(
    auditor,
    action: str,
    *assignments: str,
    env: dict[str, str] | None = None,
    clear_credentials: bool = False,
) -> dict:
    rc, body = api(auditor, action, *assignments, env=env, clear_credentials=clear_credentials)
    assert rc == 0, body
    return body


def assert_error_body(body: dict) -> None:
    """An API error answers exactly the SDKs' error fields; a RAM refusal adds the
    AccessDeniedDetail RAM sends (the action, who, implicit or explicit deny)."""
    assert set(body) == error_fields(body), body
    if "AccessDeniedDetail" in body:
        assert {"AuthAction", "AuthPrincipalType", "NoPermissionType"} <= set(
            body["AccessDeniedDetail"]
        ), body
