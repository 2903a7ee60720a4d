"""Abnormal login checks."""

from __future__ import annotations

from datetime import timedelta

from palisade.auditor.checks import FleetInput, InstanceHistory
from palisade.auditor.checks.logins import check as logins
from palisade.shared.proto import facts_pb2

from .conftest import NOW, NOW_MS, history_learned, login, settings, snapshot


def _seconds(n: float):
    return NOW + timedelta(seconds=n)


def test_brute_force_eight_failures_within_120_seconds(world):
    i = world.instance([world.group()])
    events = [login("failure", at=_seconds(10 * n), user=f"u{n}") for n in range(8)]
    (f,) = logins.brute_force(world.input(i, None, events))
    assert f.subject == "203.0.113.7" and f.details["failures_in_window"] == 8
    # near misses: seven failures; or eight spread over more than 120 s
    assert logins.brute_force(world.input(i, None, events[:7])) == []
    spread = [login("failure", at=_seconds(20 * n)) for n in range(8)]
    assert logins.brute_force(world.input(i, None, spread)) == []


def test_brute_force_counts_repeat_and_not_duplicate_messages(world):
    i = world.instance([world.group()])
    # "message repeated 7 times" + one: eight attempts
    events = [login("failure", repeat=7, pid=5), login("failure", at=_seconds(1), pid=5)]
    assert [
        f.details["failures_in_window"] for f in logins.brute_force(world.input(i, None, events))
    ] == [8]
    # four attempts each logged twice (PAM + sshd) are four, not eight
    doubled = []
    for n in range(4):
        doubled += [
            login("failure", at=_seconds(n), method="pam", pid=10 + n),
            login("failure", at=_seconds(n), method="password", pid=10 + n),
        ]
    assert logins.attempts([(e, e.login) for e in doubled])[-1].count == 1
    assert sum(a.count for a in logins.attempts([(e, e.login) for e in doubled])) == 4
    assert logins.brute_force(world.input(i, None, doubled)) == []


def test_brute_force_setting_changes_the_threshold(world):
    i = world.instance([world.group()])
    events = [login("invalid_user", at=_seconds(n)) for n in range(3)]
    inp = world.input(i, None, events, settings=settings(brute_force_failures=3))
    assert len(logins.brute_force(inp)) == 1


def test_brute_force_success(world):
    i = world.instance([world.group()])
    events = [login("failure", at=_seconds(n)) for n in range(6)]
    events.append(login("success", at=_seconds(30)))
    (f,) = logins.brute_force_success(world.input(i, None, events))
    assert f.severity == "serious" and f.details["failures_before"] == 6
    # near misses: a couple of typos, then success; failures from another source
    typos = [
        login("failure", at=_seconds(0)),
        login("failure", at=_seconds(2)),
        login("success", at=_seconds(5)),
    ]
    assert logins.brute_force_success(world.input(i, None, typos)) == []
    other = [login("failure", "198.51.100.9", at=_seconds(n)) for n in range(6)]
    other.append(login("success", at=_seconds(30)))
    assert logins.brute_force_success(world.input(i, None, other)) == []


def test_new_source_after_learning(world):
    i = world.instance([world.group()])
    known = NOW_MS - 3_600_000
    history = history_learned(
        sources={"198.51.100.1": known}, accounts={"root": known}, hours={12: known}
    )
    events = [login("success", "198.51.100.1"), login("success", "203.0.113.99")]
    (f,) = logins.new_source(world.input(i, None, events, history=history))
    assert f.subject == "203.0.113.99"


def test_new_source_is_quiet_while_learning(world):
    i = world.instance([world.group()])
    learning = InstanceHistory(learning_since_ms=NOW_MS - 3_600_000)  # one hour of 24
    ev = [login("success", "203.0.113.99")]
    assert logins.new_source(world.input(i, None, ev, history=learning)) == []
    assert logins.new_source(world.input(i, None, ev, history=InstanceHistory())) == []


def test_history_built_from_the_same_events_still_sees_the_new_source(world):
    i = world.instance([world.group()])
    ev = login("success", "203.0.113.99")
    history = InstanceHistory.from_events([ev], learning_since_ms=NOW_MS - 2 * 86_400_000)
    assert [f.subject for f in logins.new_source(world.input(i, None, [ev], history=history))] == [
        "203.0.113.99"
    ]


def test_unusual_hour(world):
    i = world.instance([world.group()])
    day = 86_400_000
    history = history_learned(hours={9: NOW_MS - day, 10: NOW_MS - day})
    at_3 = NOW.replace(hour=3)
    (f,) = logins.unusual_hour(world.input(i, None, [login("success", at=at_3)], history=history))
    assert f.subject == "03h"
    # near miss: 11:xx is next to the usual 10:xx
    at_11 = NOW.replace(hour=11)
    assert (
        logins.unusual_hour(world.input(i, None, [login("success", at=at_11)], history=history))
        == []
    )


def test_unusual_account(world):
    i = world.instance([world.group()])
    history = history_learned(accounts={"alice": NOW_MS - 86_400_000})
    events = [login("success", user="alice"), login("success", user="backup")]
    (f,) = logins.unusual_account(world.input(i, None, events, history=history))
    assert f.subject == "backup"


def test_successful_login_from_a_source_the_groups_drop(world):
    g = world.group()
    world.allow(g, "tcp", "22/22", cidr="198.51.100.0/24")
    i = world.instance([g])
    events = [login("success", "198.51.100.5"), login("success", "203.0.113.7")]
    (f,) = logins.source_blocked_by_security_group(world.input(i, None, events))
    assert (f.subject, f.severity, f.details["port"]) == ("203.0.113.7", "serious", 22)
    # near misses: failures are not logins; loopback never crosses the NIC
    assert logins.source_blocked_by_security_group(world.input(i, None, [login("failure")])) == []
    assert (
        logins.source_blocked_by_security_group(
            world.input(i, None, [login("success", "127.0.0.1")])
        )
        == []
    )


def test_dropped_source_uses_the_sshd_port_from_facts(world):
    g = world.group()
    world.allow(g, "tcp", "2222/2222")
    i = world.instance([g])
    snap = snapshot(
        baseline=facts_pb2.Baseline(sshd_config=[facts_pb2.ConfigEntry(key="port", value="2222")])
    )
    ev = [login("success", "203.0.113.7")]
    assert logins.source_blocked_by_security_group(world.input(i, snap, ev)) == []
    (f,) = logins.source_blocked_by_security_group(world.input(i, snapshot(), ev))
    assert f.details["port"] == 22


def test_same_source_failing_across_the_fleet(world):
    g = world.group()
    a, b, c = (world.instance([g]) for _ in range(3))
    by_instance = {
        iid: [login("failure", at=_seconds(n * 60), instance_id=iid)]
        for n, iid in enumerate((a, b, c))
    }
    inp = FleetInput(world.state, NOW, settings(), by_instance)
    (f,) = logins.source_failing_across_fleet(inp)
    assert f.instance_id is None and f.details["instances"] == sorted([a, b, c])
    del by_instance[c]
    assert (
        logins.source_failing_across_fleet(FleetInput(world.state, NOW, settings(), by_instance))
        == []
    )


# -- issue 14: attempts by the agent's session verdicts, forgiven failures, scanners -------------

NEW = facts_pb2.LOGIN_ATTEMPT_NEW
SAME = facts_pb2.LOGIN_ATTEMPT_SAME
NONE = facts_pb2.LOGIN_ATTEMPT_NONE


def test_attempts_count_new_attempts_not_lines(world):
    i = world.instance([world.group()])
    events = []
    for n in range(8):  # eight passwords, each logged by PAM (NEW) and sshd (SAME)
        s = f"h:{100 + n}:1"
        events += [
            login("failure", at=_seconds(n), method="pam", session=s, attempt=NEW, pid=100 + n),
            login("failure", at=_seconds(n), session=s, attempt=SAME, pid=100 + n),
            login("preauth_close", at=_seconds(n), session=s, attempt=NONE, pid=100 + n),
        ]
    (f,) = logins.brute_force(world.input(i, None, events))
    assert f.details["failures_in_window"] == 8
    # refusals count (AllowUsers: the tries after it are its own), a summary line does not
    refused = [login("refused", at=_seconds(n), attempt=NEW, session=f"r{n}") for n in range(8)]
    assert len(logins.brute_force(world.input(i, None, refused))) == 1
    summary = [login("failure", at=_seconds(n), method="pam", attempt=NONE) for n in range(8)]
    assert logins.brute_force(world.input(i, None, summary)) == []


def test_forgiven_failures_never_count(world):
    i = world.instance([world.group()])
    events = []
    for n in range(3):  # three sessions: three wrong keys, then the right one
        s = f"h:{200 + n}:1"
        at = 10 * n
        events += [
            login("failure", at=_seconds(at + k), method="publickey", session=s, attempt=NEW)
            for k in range(3)
        ]
        events.append(login("success", at=_seconds(at + 4), method="publickey", session=s))
    assert logins.attempts([(e, e.login) for e in events]) == []
    assert logins.brute_force(world.input(i, None, events)) == []
    assert logins.brute_force_success(world.input(i, None, events)) == []
    # the agent's own mark counts too, and a success in another session forgives nothing
    marked = [login("failure", at=_seconds(n), attempt=NEW, forgiven=True) for n in range(8)]
    assert logins.brute_force(world.input(i, None, marked)) == []
    other = [login("failure", at=_seconds(n), attempt=NEW, session="a") for n in range(8)]
    other.append(login("success", at=_seconds(9), session="b"))
    assert len(logins.brute_force(world.input(i, None, other))) == 1
    # a success before the failures of its session (a re-used key) forgives nothing
    before = [login("success", at=_seconds(0), session="c")]
    before += [login("failure", at=_seconds(1 + n), attempt=NEW, session="c") for n in range(8)]
    assert len(logins.brute_force(world.input(i, None, before))) == 1


def test_ssh_scanner_per_source_separate_from_brute_force(world):
    i = world.instance([world.group()])
    events = []
    for n in range(5):  # five garbage connections, two scan lines each
        s = f"h:{300 + n}:1"
        events += [
            login("scan", at=_seconds(n), user="", method="", session=s, attempt=NONE),
            login("scan", at=_seconds(n), user="", method="", session=s, attempt=NONE),
        ]
    (f,) = logins.ssh_scanner(world.input(i, None, events))
    assert f.check_id == "login.ssh_scanner" and f.subject == "203.0.113.7"
    assert f.details["connections_in_window"] == 5 and f.details["results"] == ["scan"]
    assert logins.brute_force(world.input(i, None, events)) == []
    # near misses: four connections; five spread over more than the window; another source
    assert logins.ssh_scanner(world.input(i, None, events[:8])) == []
    spread = [
        login("protocol_error", at=_seconds(200 * n), session=f"s{n}", attempt=NONE)
        for n in range(5)
    ]
    assert logins.ssh_scanner(world.input(i, None, spread)) == []
    mixed = events[:8] + [login("negotiation_failure", "198.51.100.1", session="x")]
    assert logins.ssh_scanner(world.input(i, None, mixed)) == []
    inp = world.input(i, None, spread, settings=settings(ssh_scanner_window_s=1000))
    assert len(logins.ssh_scanner(inp)) == 1


def test_checks_count_what_the_agent_parsed_from_the_session_corpus(world):
    """The agent's events (sessions, attempts, forgiven) through the wire form into the checks:
    attempts() counts exactly the new, unforgiven failed attempts the corpus annotates."""
    from pathlib import Path

    from palisade.agent.collectors.logins import read_log_file

    data = Path(__file__).resolve().parents[3] / "data" / "logins"
    for name in ("sessions_openssh.log", "sessions_pam.log", "sessions_dropbear.log"):
        events = read_log_file(str(data / name), year=2026).events
        wire = [e.to_event_proto("i-1") for e in events]
        expected = sum(
            e.repeat
            for e in events
            if e.new_attempt and not e.forgiven and e.result in logins.ATTEMPT_RESULTS
        )
        assert expected > 0
        counted = logins.attempts([(ev, ev.login) for ev in wire])
        assert sum(a.count for a in counted) == expected, name
        # the forgiven ones are forgiven on the auditor's side too, without the agent's mark
        for ev in wire:
            ev.login.forgiven = False
        assert sum(a.count for a in logins.attempts([(ev, ev.login) for ev in wire])) == expected
