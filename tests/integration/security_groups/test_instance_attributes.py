"""ApplyTcp25Unblock and ModifyInstanceAttribute (Password) through `palisade api` against a
real auditor: the platform's TCP 25 block lifted on application (RenderNftables and the audit
log show it), and a password reset turning password login on again after a key-pair binding.
"""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.helpers.palisade_cli import ok, run
from tests.helpers.security_group_cli import R, audit_rows, group, instance, ip_of, new_vpc, refused

pytestmark = pytest.mark.integration

SMTP_DROP = 'tcp dport 25 drop comment "platform: TCP 25 egress blocked"'


def _render(auditor, instance_id: str) -> str:
    rc, text = run(auditor, "sg", "render-nft", "--instance", instance_id)
    assert rc == 0, text
    return text


def test_tcp25_unblock_lifts_the_platform_block_and_is_audited(auditor):
    vpc = new_vpc(auditor)
    g = group(auditor, vpc)
    i = instance(auditor, vpc, [g], ip_of(auditor, vpc, 10))
    assert SMTP_DROP in _render(auditor, i)

    assert refused(auditor, "ApplyTcp25Unblock", R, f"InstanceId={i}") == (
        "MissingParameter.Reason"
    )
    assert refused(auditor, "ApplyTcp25Unblock", R, f"InstanceId={i}", "Reason=" + "x" * 257) == (
        "InvalidReason.Malformed"
    )
    assert refused(auditor, "ApplyTcp25Unblock", R, "InstanceId=i-nothere", "Reason=mail") == (
        "InvalidInstanceId.NotFound"
    )
    assert SMTP_DROP in _render(auditor, i)  # refused applications changed nothing

    body = ok(auditor, "ApplyTcp25Unblock", R, f"InstanceId={i}", "Reason=our mail relay")
    assert body["Tcp25Unblocked"] is True
    assert "tcp dport 25" not in _render(auditor, i)

    rows = [
        r for r in audit_rows(auditor, _instance_arn(auditor, i)) if r.action == "ApplyTcp25Unblock"
    ]
    assert len(rows) == 1
    assert rows[0].before == {"InstanceId": i, "Tcp25Unblocked": False}
    assert rows[0].after == {"InstanceId": i, "Tcp25Unblocked": True, "Reason": "our mail relay"}


def _instance_arn(auditor, instance_id: str) -> str:
    """The instance's ARN as the audit log names it (the owner's account id in it)."""
    (resource,) = {
        r.resource for r in audit_rows(auditor, None) if r.resource.endswith(f"/{instance_id}")
    }
    return resource


def _password_login(auditor, instance_id: str) -> bool:
    rc, text = run(auditor, "instance", "show", instance_id, "--json")
    assert rc == 0, text
    return json.loads(text)["key_pair"]["password_login_enabled"]


def test_password_reset_after_a_key_pair_binding_re_enables_password_login(auditor):
    vpc = new_vpc(auditor)
    g = group(auditor, vpc)
    i = instance(auditor, vpc, [g], ip_of(auditor, vpc, 11))
    ok(auditor, "StopInstance", R, f"InstanceId={i}")
    public_key = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    ok(auditor, "ImportKeyPair", R, "KeyPairName=reset-kp", f"PublicKeyBody={public_key}")
    ok(auditor, "AttachKeyPair", R, "KeyPairName=reset-kp", f"InstanceIds={json.dumps([i])}")
    assert _password_login(auditor, i) is False  # binding a key pair turns passwords off

    for bad in ("sh1A!", "alllowercase123", "NoDigitsOrSpecials", "x" * 31 + "A1!", "Ab1!中文pass"):
        code = refused(auditor, "ModifyInstanceAttribute", R, f"InstanceId={i}", f"Password={bad}")
        assert code == "InvalidPassword.Malformed", bad
    assert _password_login(auditor, i) is False

    secret = "Reset-Pass-2026"
    ok(auditor, "ModifyInstanceAttribute", R, f"InstanceId={i}", f"Password={secret}")
    assert _password_login(auditor, i) is True
    rows = [
        r
        for r in audit_rows(auditor, _instance_arn(auditor, i))
        if r.action == "ModifyInstanceAttribute"
    ]
    assert [(r.before, r.after) for r in rows] == [
        (
            {"InstanceId": i, "PasswordLoginEnabled": False},
            {"InstanceId": i, "PasswordLoginEnabled": True},
        )
    ]
    assert secret not in json.dumps([r.before for r in rows] + [r.after for r in rows])
