"""On a real Windows host (the windows-agent CI job): the parsers read what the system's own
tools print there, and the Windows collectors run end to end."""

from __future__ import annotations

import sys

import pytest

pytestmark = [
    pytest.mark.windows,
    pytest.mark.integration,
    pytest.mark.skipif(sys.platform != "win32", reason="runs the Windows tools"),
]


def test_net_accounts_output_parses_into_the_whole_policy():
    from palisade.agent.collectors import windows_baseline as wb

    policy = wb.parse_net_accounts(wb.run_tool(["net", "accounts"]))
    assert set(policy) == {
        "min_age_days",
        "max_age_days",
        "min_length",
        "history_length",
        "lockout_threshold",
        "lockout_duration_minutes",
        "lockout_window_minutes",
    }


def test_secedit_export_gives_complexity_and_the_guest_name():
    from palisade.agent.collectors import windows_baseline as wb

    exported = wb.export_security_policy()  # the runner is an administrator
    policy = wb.password_policy("", exported)
    assert policy.HasField("complexity_required")
    assert wb.guest_name(exported)


def test_net_user_guest_says_whether_the_account_is_active():
    from palisade.agent.collectors import windows_baseline as wb

    name = wb.guest_name(wb.export_security_policy())
    assert wb.parse_net_user_active(wb.run_tool(["net", "user", name])) in (True, False)


def test_auditpol_logon_logoff_lists_the_logon_subcategory():
    from palisade.agent.collectors import windows_baseline as wb

    out = wb.run_tool(["auditpol", "/get", "/category:Logon/Logoff"])
    names = {s.subcategory for s in wb.parse_auditpol(out)}
    assert {"Logon", "Logoff", "Account Lockout", "Special Logon"} <= names


def test_reg_query_output_parses():
    from palisade.agent.collectors import windows_baseline as wb

    try:
        out = wb.run_tool(["reg", "query", wb.RDP_TCP_KEY, "/v", "UserAuthentication"])
    except OSError:
        pytest.skip("UserAuthentication is not set on this image")
    assert wb.reg_dword(out, "UserAuthentication") in (0, 1)


def test_windows_baseline_collects_without_errors():
    from palisade.agent.collectors import windows_baseline as wb

    errors: list[tuple[str, str]] = []
    msg = wb.collect(lambda part, message: errors.append((part, message)))
    assert [e for e in errors if e[0] != "windows.reg_rdp_tcp"] == []
    assert msg.HasField("guest_enabled")
    assert msg.password_policy.HasField("min_length")
    assert msg.password_policy.HasField("complexity_required")
    assert any(s.subcategory == "Logon" for s in msg.logon_audit)


def test_wevtutil_security_log_xml_parses_without_errors():
    import subprocess

    from palisade.agent.collectors.logins import parse_windows_events_xml

    out = subprocess.run(
        ["wevtutil", "qe", "Security", "/c:50", "/rd:true", "/f:xml"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    result = parse_windows_events_xml(out)
    assert result.errors == []
    assert result.last_record_id is not None  # the Security log is never empty on a runner


def test_wevtutil_logon_query_through_the_agent_reader():
    from palisade.agent.collectors.logins import read_windows_security_log

    result = read_windows_security_log(max_events=50)
    assert result.errors == []
    for event in result.events:
        assert event.result in ("success", "failure", "invalid_user", "refused")
        assert event.time.tzinfo is not None


def test_snapshot_on_windows_reports_baseline_traffic_and_packages():
    from palisade.agent.snapshot import collect_snapshot

    snap = collect_snapshot()
    failed = {e.collector for e in snap.errors}
    assert not failed & {"baseline", "traffic", "packages"}, list(snap.errors)
    assert snap.baseline.windows.HasField("guest_enabled")
    assert snap.traffic.interfaces
    assert any(p.source == "windows" for p in snap.packages)
