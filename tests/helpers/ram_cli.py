"""RAM through `palisade api` in-process (palisade_cli), signed as the account owner or with
the credentials given: the calls the RAM integration tests make."""

from __future__ import annotations

from tests.helpers import palisade_cli
from tests.helpers.palisade_cli import credentials_env


def api(auditor, action: str, *assignments: str, creds=None) -> tuple[int, dict]:
    """`palisade api ACTION Name=Value...`: (exit code, JSON printed), signed with `creds`
    (AccessKeyId, AccessKeySecret[, SecurityToken]) or, without them, as the account owner."""
    return palisade_cli.api(
        auditor, action, *assignments, env=credentials_env(creds), clear_credentials=True
    )


def ok(auditor, action: str, *assignments: str, creds=None) -> dict:
    return palisade_cli.ok(
        auditor, action, *assignments, env=credentials_env(creds), clear_credentials=True
    )


def refused(auditor, action: str, *assignments: str, creds=None) -> tuple[str, str]:
    rc, body = api(auditor, action, *assignments, creds=creds)
    assert rc == 1, body
    assert set(body) == palisade_cli.error_fields(body)
    return body["Code"], body["Message"]


def new_user(auditor, name: str, *policies: str) -> tuple[str, str]:
    """A RAM user with an AccessKey and `Type:Name` policies attached."""
    ok(auditor, "CreateUser", f"UserName={name}")
    for item in policies:
        kind, _, policy_name = item.partition(":")
        ok(
            auditor,
            "AttachPolicyToUser",
            f"PolicyType={kind}",
            f"PolicyName={policy_name}",
            f"UserName={name}",
        )
    key = ok(auditor, "CreateAccessKey", f"UserName={name}")["AccessKey"]
    return key["AccessKeyId"], key["AccessKeySecret"]
