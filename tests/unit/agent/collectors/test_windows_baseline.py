"""Windows baseline parsers on sample outputs of net, secedit, auditpol and reg (English)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from palisade.agent.collectors import windows_baseline as wb

DATA = Path(__file__).resolve().parents[3] / "data" / "windows"


def _text(name: str) -> str:
    data = (DATA / name).read_bytes()
    return wb.decode_console(data) if not name.endswith(".inf") else data.decode("utf-16")


def test_net_accounts_gives_the_password_and_lockout_policy():
    assert wb.parse_net_accounts(_text("net_accounts.txt")) == {
        "min_age_days": 1,
        "max_age_days": 42,
        "min_length": 14,
        "history_length": 24,
        "lockout_threshold": 10,
        "lockout_duration_minutes": 10,
        "lockout_window_minutes": 10,
    }


def test_unlimited_never_and_none_are_zero():
    policy = wb.parse_net_accounts(_text("net_accounts_weak.txt"))
    assert policy["max_age_days"] == 0  # Unlimited: passwords never expire
    assert policy["lockout_threshold"] == 0  # Never: no lockout
    assert policy["history_length"] == 0
    assert policy["min_length"] == 0


def test_complexity_comes_from_the_secedit_export():
    policy = wb.password_policy(_text("net_accounts.txt"), _text("secedit_securitypolicy.inf"))
    assert policy.complexity_required is True
    assert policy.min_length == 14 and policy.max_age_days == 42
    without_secedit = wb.password_policy(_text("net_accounts.txt"), "")
    assert not without_secedit.HasField("complexity_required")


def test_secedit_alone_fills_what_net_accounts_could_not_give():
    policy = wb.password_policy("", _text("secedit_securitypolicy.inf"))
    assert (policy.min_length, policy.lockout_threshold, policy.max_age_days) == (14, 10, 42)
    never = wb.password_policy("", "[System Access]\nMaximumPasswordAge = -1\n")
    assert never.max_age_days == 0


def test_guest_account_active_flag():
    assert wb.parse_net_user_active(_text("net_user_guest.txt")) is False
    assert wb.parse_net_user_active(_text("net_user_guest_enabled.txt")) is True
    assert wb.parse_net_user_active("The user name could not be found.\r\n") is None
    # without net user's answer, secedit's EnableGuestAccount decides
    assert wb.guest_enabled("", _text("secedit_securitypolicy.inf")) is False
    assert wb.guest_name(_text("secedit_securitypolicy.inf")) == "Guest"
    assert wb.guest_name('[System Access]\nNewGuestName = "visitor"\n') == "visitor"


def test_auditpol_logon_logoff_subcategories():
    settings_ = {
        s.subcategory: (s.success, s.failure)
        for s in wb.parse_auditpol(_text("auditpol_logon_logoff.txt"))
    }
    assert settings_["Logon"] == (True, True)
    assert settings_["Logoff"] == (True, False)
    assert settings_["IPsec Main Mode"] == (False, False)
    assert settings_["Other Logon/Logoff Events"] == (False, False)
    assert settings_["User / Device Claims"] == (False, False)
    assert "Logon/Logoff" not in settings_  # the category line has no setting
    assert len(settings_) == 11


def test_rdp_nla_from_reg_query():
    assert wb.reg_dword(_text("reg_rdp_tcp_nla.txt"), "UserAuthentication") == 1
    assert wb.reg_dword(_text("reg_rdp_tcp_no_nla.txt"), "UserAuthentication") == 0
    assert wb.reg_dword(_text("reg_rdp_tcp_nla.txt"), "SecurityLayer") is None


def test_baseline_from_all_outputs():
    msg = wb.baseline_from_outputs(
        net_accounts=_text("net_accounts_weak.txt"),
        secedit=_text("secedit_securitypolicy.inf"),
        net_user_guest=_text("net_user_guest_enabled.txt"),
        auditpol_logon=_text("auditpol_logon_logoff.txt"),
        reg_rdp_tcp=_text("reg_rdp_tcp_no_nla.txt"),
    )
    assert msg.guest_enabled is True
    assert msg.rdp_nla_required is False
    assert msg.password_policy.lockout_threshold == 0
    assert msg.password_policy.complexity_required is True
    assert [s.subcategory for s in msg.logon_audit][:2] == ["Logon", "Logoff"]


def test_no_output_leaves_everything_unset():
    msg = wb.baseline_from_outputs()
    assert not msg.HasField("guest_enabled") and not msg.HasField("rdp_nla_required")
    assert not msg.password_policy.HasField("min_length")
    assert list(msg.logon_audit) == []


def test_utf16_console_output_is_decoded():
    text = _text("net_accounts.txt")
    assert wb.decode_console(text.encode("utf-16")) == text
    assert wb.decode_console(text.encode("utf-16-le")) == text


@settings(max_examples=300, deadline=None)
@given(st.text(), st.binary())
def test_parsers_never_raise_on_arbitrary_text(text, data):
    wb.baseline_from_outputs(
        net_accounts=text, secedit=text, net_user_guest=text, auditpol_logon=text, reg_rdp_tcp=text
    )
    wb.decode_console(data)
    wb.parse_reg_query(text)
