"""Baseline policies (YAML) through the one engine, on a plain dict and on real facts."""

from __future__ import annotations

import pytest

from palisade.auditor.checks.baseline import check as baseline_check
from palisade.auditor.checks.baseline.engine import (
    BaselinePolicyError,
    as_number,
    baseline_facts,
    evaluate_policies,
    load_default_policies,
    load_policy_text,
)
from palisade.shared.proto import facts_pb2

from .conftest import snapshot

HARDENED_SSHD = {
    "permitrootlogin": "no",
    "passwordauthentication": "no",
    "permitemptypasswords": "no",
    "maxauthtries": "4",
    "ciphers": "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com",
    "macs": "hmac-sha2-512-etm@openssh.com",
    "kexalgorithms": "curve25519-sha256",
    "logingracetime": "60",
    "clientaliveinterval": "300",
    "clientalivecountmax": "3",
}


def _facts(**sshd) -> dict:
    return {
        "os_family": "linux",
        "sshd": {"source": "sshd -T", "config": HARDENED_SSHD | sshd},
        "files": [],
    }


def _failed(facts: dict) -> set[str]:
    return {
        f"{r.policy_id}/{r.check.id}"
        for r in evaluate_policies(load_default_policies(), facts)
        if r.status == "failed"
    }


def test_hardened_sshd_passes_every_sshd_item():
    assert _failed(_facts()) == set()


@pytest.mark.parametrize(
    ("key", "value", "check"),
    [
        ("permitrootlogin", "yes", "permit_root_login"),
        ("passwordauthentication", "yes", "password_authentication"),
        ("permitemptypasswords", "yes", "permit_empty_passwords"),
        ("maxauthtries", "6", "max_auth_tries"),
        ("ciphers", "aes256-ctr,aes128-cbc", "weak_ciphers"),
        ("ciphers", "arcfour256", "weak_ciphers"),
        ("macs", "hmac-sha2-256,hmac-sha1", "weak_macs"),
        ("kexalgorithms", "curve25519-sha256,diffie-hellman-group1-sha1", "weak_kex"),
        ("logingracetime", "2m", "login_grace_time"),
        ("clientaliveinterval", "0", "client_alive"),
        ("clientalivecountmax", "10", "client_alive"),
    ],
)
def test_each_sshd_item_fails_alone(key, value, check):
    assert _failed(_facts(**{key: value})) == {f"linux_sshd/{check}"}


def test_near_misses_on_the_boundaries():
    assert (
        _failed(_facts(maxauthtries="4", logingracetime="1m", permitrootlogin="prohibit-password"))
        == set()
    )


def test_absent_keywords_take_sshd_defaults():
    facts = {"os_family": "linux", "sshd": {"source": "parsed", "config": {}}, "files": []}
    failed = _failed(facts)
    assert "linux_sshd/password_authentication" in failed  # default yes
    assert "linux_sshd/permit_root_login" not in failed  # default prohibit-password
    assert "linux_sshd/weak_ciphers" not in failed


def test_no_sshd_no_sshd_policy():
    assert (
        _failed({"os_family": "linux", "sshd": {"source": "", "config": {}}, "files": []}) == set()
    )


def _accounts(**kw) -> facts_pb2.AccountsBaseline:
    defs = facts_pb2.LoginDefs(exists=True, pass_max_days=90, pass_min_days=1, pass_warn_age=7)
    acc = facts_pb2.AccountsBaseline(login_defs=defs, shadow_readable=True, **kw)
    return acc


def _baseline_snapshot(**kw) -> facts_pb2.Snapshot:
    b = facts_pb2.Baseline(
        sshd_config=[facts_pb2.ConfigEntry(key=k, value=v) for k, v in HARDENED_SSHD.items()],
        sshd_config_source="sshd -T",
        **kw,
    )
    return snapshot(baseline=b)


def test_accounts_uid0_empty_password_and_aging(world):
    i = world.instance([world.group()])
    clean = _baseline_snapshot(
        accounts=_accounts(
            password_aging=[
                facts_pb2.PasswordAging(user="alice", password_state="hash", max_days=90)
            ]
        )
    )
    assert baseline_check.baseline(world.input(i, clean)) == []
    bad = _baseline_snapshot(
        accounts=_accounts(
            uid0_accounts=["toor"],
            empty_password_accounts=["guest"],
            password_aging=[
                facts_pb2.PasswordAging(
                    user="alice", password_state="hash"
                ),  # max unset: never expires
                facts_pb2.PasswordAging(user="svc", password_state="locked"),  # near miss: locked
            ],
        )
    )
    found = {f.subject: f for f in baseline_check.baseline(world.input(i, bad))}
    assert set(found) == {
        "linux_accounts/uid0_accounts",
        "linux_accounts/empty_passwords",
        "linux_accounts/password_max_days",
    }
    assert found["linux_accounts/uid0_accounts"].severity == "serious"
    assert [x["item"] for x in found["linux_accounts/password_max_days"].details["failures"]] == [
        "alice"
    ]


def _file(role, path, mode, owner="root", user=""):
    return facts_pb2.FileFact(
        path=path, role=role, user=user, exists=True, file_type="file", owner=owner, mode=mode
    )


def test_file_permissions(world):
    i = world.instance([world.group()])
    good = [
        _file("sshd_config", "/etc/ssh/sshd_config", 0o600),
        _file("host_key", "/etc/ssh/ssh_host_ed25519_key", 0o600),
        _file("host_key_public", "/etc/ssh/ssh_host_ed25519_key.pub", 0o644),
        _file("ssh_dir", "/home/alice/.ssh", 0o700, owner="alice", user="alice"),
        _file(
            "authorized_keys",
            "/home/alice/.ssh/authorized_keys",
            0o600,
            owner="alice",
            user="alice",
        ),
    ]
    assert baseline_check.baseline(world.input(i, _baseline_snapshot(files=good))) == []
    bad = [
        _file("sshd_config", "/etc/ssh/sshd_config", 0o666),
        _file("host_key", "/etc/ssh/ssh_host_ed25519_key", 0o644),
        _file("ssh_dir", "/home/alice/.ssh", 0o700, owner="bob", user="alice"),
        _file(
            "authorized_keys",
            "/home/alice/.ssh/authorized_keys",
            0o620,
            owner="alice",
            user="alice",
        ),
    ]
    subjects = {
        f.subject for f in baseline_check.baseline(world.input(i, _baseline_snapshot(files=bad)))
    }
    assert subjects == {
        "linux_files/sshd_config_mode",
        "linux_files/host_key_mode",
        "linux_files/ssh_dir_mode",
        "linux_files/authorized_keys_mode",
    }


def test_windows_policy(world):
    i = world.instance([world.group()], os_family="windows")
    good = facts_pb2.WindowsBaseline(
        guest_enabled=False,
        rdp_nla_required=True,
        password_policy=facts_pb2.WindowsPasswordPolicy(
            min_length=14, max_age_days=60, complexity_required=True, lockout_threshold=5
        ),
        logon_audit=[facts_pb2.AuditSetting(subcategory="Logon", success=True, failure=True)],
    )
    snap = snapshot(
        host=facts_pb2.HostInfo(os_family="windows"), baseline=facts_pb2.Baseline(windows=good)
    )
    assert baseline_check.baseline(world.input(i, snap)) == []
    bad = facts_pb2.WindowsBaseline(
        guest_enabled=True,
        rdp_nla_required=False,
        password_policy=facts_pb2.WindowsPasswordPolicy(
            min_length=0, max_age_days=0, complexity_required=False, lockout_threshold=0
        ),
        logon_audit=[facts_pb2.AuditSetting(subcategory="Logon", success=True, failure=False)],
    )
    snap = snapshot(
        host=facts_pb2.HostInfo(os_family="windows"), baseline=facts_pb2.Baseline(windows=bad)
    )
    subjects = {f.subject for f in baseline_check.baseline(world.input(i, snap))}
    assert subjects == {
        f"windows/{c}"
        for c in (
            "guest_enabled",
            "rdp_nla",
            "password_min_length",
            "password_complexity",
            "password_max_age",
            "account_lockout",
            "logon_audit",
        )
    }


def test_unknown_windows_facts_are_not_applicable_not_failed(world):
    i = world.instance([world.group()], os_family="windows")
    partial = facts_pb2.WindowsBaseline(guest_enabled=False)  # the rest could not be read
    snap = snapshot(
        host=facts_pb2.HostInfo(os_family="windows"), baseline=facts_pb2.Baseline(windows=partial)
    )
    assert baseline_check.baseline(world.input(i, snap)) == []


def test_baseline_not_evaluated_without_facts(world):
    i = world.instance([world.group()])
    assert baseline_check.baseline(world.input(i, snapshot())) is None


def test_baseline_facts_view_keeps_optional_fields_unknown():
    snap = snapshot(
        baseline=facts_pb2.Baseline(windows=facts_pb2.WindowsBaseline(guest_enabled=False))
    )
    facts = baseline_facts(snap)
    assert facts["windows"]["guest_enabled"] is False and "rdp_nla_required" not in facts["windows"]


def test_policy_errors_are_reported():
    with pytest.raises(BaselinePolicyError, match="unknown operator"):
        load_policy_text(
            "policy: {id: p}\nchecks:\n - {id: a, title: t, severity: remind, rationale: r,"
            " remediation: r, rules: [{fact: x, op: bogus}]}"
        )
    with pytest.raises(BaselinePolicyError, match="missing 'rules'"):
        load_policy_text(
            "policy: {id: p}\nchecks:\n - {id: a, title: t, severity: remind, rationale: r,"
            " remediation: r}"
        )


def test_durations_in_sshd_time_format():
    assert as_number("90") == 90 and as_number("2m") == 120 and as_number("1h30m") == 5400
    assert as_number("abc") is None and as_number("") is None
