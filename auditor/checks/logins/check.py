"""Abnormal logins, from the agent's LoginEvents (vocabulary: agent/collectors/logins).

Counting attempts: one failed attempt can be logged twice (a PAM failure and sshd's "Failed
password"; "Invalid user" and "Failed password for invalid user"), and "message repeated N
times" stands for N. The agent's session tracker says which event starts a new attempt
(`attempt` NEW); `attempts()` counts those whose result is a failure, an unknown account or a
refusal, `repeat` times each, except forgiven ones: marked by the agent, or of a session
(`session` key) that has a success later. Events from agents that predate sessions
(`attempt` UNSPECIFIED) are counted per sshd process as before: the messages that name an
authentication method when there are any, else the others.

Scanners are not failures: `ssh_scanner` counts the sessions from one source that ended in
`scan`, `protocol_error` or `negotiation_failure`.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from dataclasses import dataclass, fields

from palisade.auditor.checks.base import Evidence, Finding
from palisade.auditor.checks.inputs import CheckInput, FleetInput
from palisade.auditor.checks.logins.metadata import (
    BRUTE_FORCE,
    BRUTE_FORCE_SUCCESS,
    FLEET_FAILURES,
    NEW_SOURCE,
    SOURCE_DROPPED_BY_MODEL,
    SSH_SCANNER,
    UNUSUAL_ACCOUNT,
    UNUSUAL_HOUR,
)
from palisade.auditor.checks.registry import fleet_check, instance_check
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.network.reachability import Reachability, reachable
from palisade.shared.proto import facts_pb2

FAILED_RESULTS = ("failure", "invalid_user")
ATTEMPT_RESULTS = ("failure", "invalid_user", "refused")
SCANNER_RESULTS = ("scan", "protocol_error", "negotiation_failure")
_VAGUE_METHODS = ("", "pam")
_UNSPECIFIED = facts_pb2.LOGIN_ATTEMPT_UNSPECIFIED
_NEW = facts_pb2.LOGIN_ATTEMPT_NEW


# -- the evidence of the login findings (source_ip, last_ms, port: base.Evidence) -----------


@dataclass(frozen=True, kw_only=True)
class BruteForceEvidence(Evidence):
    failures_in_window: int
    failures_total: int
    first_ms: int
    users: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class BruteForceSuccessEvidence(Evidence):
    user: str
    method: str
    failures_before: int
    time_ms: int
    event_id: str


@dataclass(frozen=True, kw_only=True)
class LoginEvidence(Evidence):
    """One successful login."""

    user: str
    method: str
    service: str
    time_ms: int
    event_id: str


@dataclass(frozen=True, kw_only=True)
class UnusualHourEvidence(LoginEvidence):
    hour: int
    timezone: str


@dataclass(frozen=True, kw_only=True)
class DroppedLoginEvidence(LoginEvidence):
    decisions: tuple[dict, ...]  # the deciding paths: sources, target, decision, rule, reason
    reason: str


@dataclass(frozen=True, kw_only=True)
class FleetFailuresEvidence(Evidence):
    instances: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ScannerEvidence(Evidence):
    """Sessions from one source that ended before authentication without trying it."""

    connections_in_window: int
    results: tuple[str, ...]  # scan / protocol_error / negotiation_failure
    first_ms: int


@dataclass(frozen=True)
class Attempt:
    time_ms: int
    count: int
    user: str


def attempts(events: list[tuple[facts_pb2.Event, facts_pb2.LoginEvent]]) -> list[Attempt]:
    """Failed attempts of one source, oldest first, without double counting (module doc)."""
    succeeded: dict[str, int] = {}  # session -> time of its first success
    for ev, login in events:
        if login.result == "success" and login.session:
            known = succeeded.get(login.session)
            if known is None or ev.time_ms < known:
                succeeded[login.session] = ev.time_ms
    out: list[Attempt] = []
    legacy: list[tuple[facts_pb2.Event, facts_pb2.LoginEvent]] = []
    for ev, login in events:
        if login.attempt == _UNSPECIFIED:
            legacy.append((ev, login))
            continue
        if login.attempt != _NEW or login.result not in ATTEMPT_RESULTS or login.forgiven:
            continue
        success_ms = succeeded.get(login.session) if login.session else None
        if success_ms is not None and success_ms >= ev.time_ms:
            continue  # forgiven: its session succeeded afterwards
        out.append(Attempt(ev.time_ms, max(1, login.repeat), login.user))
    out += _legacy_attempts(legacy)
    return sorted(out, key=lambda a: a.time_ms)


def _legacy_attempts(events: list[tuple[facts_pb2.Event, facts_pb2.LoginEvent]]) -> list[Attempt]:
    """Events without the agent's verdict: counted per sshd process."""
    by_pid: dict[int, list[tuple[facts_pb2.Event, facts_pb2.LoginEvent]]] = defaultdict(list)
    out: list[Attempt] = []
    for ev, login in events:
        if login.result not in FAILED_RESULTS:
            continue
        if login.pid:
            by_pid[login.pid].append((ev, login))
        else:
            out.append(Attempt(ev.time_ms, max(1, login.repeat), login.user))
    for group in by_pid.values():
        concrete = [(e, lg) for e, lg in group if lg.method not in _VAGUE_METHODS]
        pam = [(e, lg) for e, lg in group if lg.method == "pam"]
        counted = concrete or pam
        if counted:
            out += [Attempt(e.time_ms, max(1, lg.repeat), lg.user) for e, lg in counted]
        else:  # only "Invalid user" lines: one attempt per line
            out += [Attempt(e.time_ms, max(1, lg.repeat), lg.user) for e, lg in group]
    return out


def _by_source(inp: CheckInput) -> dict[str, list[tuple[facts_pb2.Event, facts_pb2.LoginEvent]]]:
    out: dict[str, list] = defaultdict(list)
    for ev, login in inp.logins():
        if login.source_ip:
            out[login.source_ip].append((ev, login))
    return out


def densest_window(items: list[Attempt], window_ms: int) -> tuple[int, int, int]:
    """(count, start index, end index) of the window of `window_ms` holding most attempts."""
    best = (0, 0, -1)
    total, lo = 0, 0
    for hi, a in enumerate(items):
        total += a.count
        while a.time_ms - items[lo].time_ms > window_ms:
            total -= items[lo].count
            lo += 1
        if total > best[0]:
            best = (total, lo, hi)
    return best


@instance_check(BRUTE_FORCE)
def brute_force(inp: CheckInput) -> list[Finding]:
    s = inp.settings
    findings = []
    for source, evs in sorted(_by_source(inp).items()):
        tries = attempts(evs)
        count, lo, hi = densest_window(tries, s.brute_force_window_s * 1000)
        if count < s.brute_force_failures:
            continue
        window = tries[lo : hi + 1]
        users = sorted({a.user for a in window if a.user})
        total = sum(a.count for a in tries)
        findings.append(
            BRUTE_FORCE.finding(
                inp.instance_id,
                source,
                f"{count} failed logins from {source} within {s.brute_force_window_s} s "
                f"({total} in the recent events), trying {', '.join(users[:5]) or 'no user'}.",
                BruteForceEvidence(
                    source_ip=source,
                    failures_in_window=count,
                    failures_total=total,
                    first_ms=window[0].time_ms,
                    last_ms=window[-1].time_ms,
                    users=tuple(users[:20]),
                ),
            )
        )
    return findings


@instance_check(BRUTE_FORCE_SUCCESS)
def brute_force_success(inp: CheckInput) -> list[Finding]:
    s = inp.settings
    findings = []
    for source, evs in sorted(_by_source(inp).items()):
        tries = attempts(evs)
        for ev, login in evs:
            if login.result != "success":
                continue
            since = ev.time_ms - s.brute_force_success_window_s * 1000
            before = sum(a.count for a in tries if since <= a.time_ms <= ev.time_ms)
            if before >= s.brute_force_success_min_failures:
                findings.append(
                    BRUTE_FORCE_SUCCESS.finding(
                        inp.instance_id,
                        source,
                        f"{login.user} logged in from {source} ({login.method or 'unknown'}) "
                        f"after {before} failed attempts from it.",
                        BruteForceSuccessEvidence(
                            source_ip=source,
                            user=login.user,
                            method=login.method,
                            failures_before=before,
                            time_ms=ev.time_ms,
                            event_id=ev.event_id,
                        ),
                    )
                )
                break  # one finding per source
    return findings


def _learned(inp: CheckInput, time_ms: int) -> bool:
    since = inp.history.learning_since_ms
    return since is not None and time_ms - since >= inp.settings.learning_window_s * 1000


def _new(first_seen: dict, key, time_ms: int) -> bool:
    seen = first_seen.get(key)
    return seen is None or seen >= time_ms


def _successes(inp: CheckInput):
    return [(ev, lg) for ev, lg in inp.logins() if lg.result == "success"]


def _login_details(ev: facts_pb2.Event, login: facts_pb2.LoginEvent) -> LoginEvidence:
    return LoginEvidence(
        user=login.user,
        source_ip=login.source_ip,
        method=login.method,
        service=login.service,
        time_ms=ev.time_ms,
        event_id=ev.event_id,
    )


def _login_fields(ev: facts_pb2.Event, login: facts_pb2.LoginEvent) -> dict:
    """The LoginEvidence fields, for the evidence that extends it."""
    base = _login_details(ev, login)
    own = [f.name for f in fields(LoginEvidence) if f.name not in Evidence.SHARED]
    return {name: getattr(base, name) for name in [*own, "source_ip"]}


@instance_check(NEW_SOURCE)
def new_source(inp: CheckInput) -> list[Finding]:
    findings: dict[str, Finding] = {}
    for ev, login in _successes(inp):
        src = login.source_ip
        if not src or src in findings or not _learned(inp, ev.time_ms):
            continue
        if _new(inp.history.sources, src, ev.time_ms):
            findings[src] = NEW_SOURCE.finding(
                inp.instance_id,
                src,
                f"{login.user} logged in from {src}, never seen for this instance.",
                _login_details(ev, login),
            )
    return list(findings.values())


@instance_check(UNUSUAL_HOUR)
def unusual_hour(inp: CheckInput) -> list[Finding]:
    s = inp.settings
    findings: dict[str, Finding] = {}
    for ev, login in _successes(inp):
        if not _learned(inp, ev.time_ms):
            continue
        hour = s.hour_of(ev.time_ms)
        near = [
            (hour + d) % 24
            for d in range(-s.unusual_hour_tolerance_h, s.unusual_hour_tolerance_h + 1)
        ]
        if all(_new(inp.history.hours, h, ev.time_ms) for h in near):
            subject = f"{hour:02d}h"
            findings.setdefault(
                subject,
                UNUSUAL_HOUR.finding(
                    inp.instance_id,
                    subject,
                    f"{login.user} logged in from {login.source_ip or 'an unknown source'} at "
                    f"{hour:02d}:xx ({s.timezone}), an hour with no logins before.",
                    UnusualHourEvidence(**_login_fields(ev, login), hour=hour, timezone=s.timezone),
                ),
            )
    return list(findings.values())


@instance_check(UNUSUAL_ACCOUNT)
def unusual_account(inp: CheckInput) -> list[Finding]:
    findings: dict[str, Finding] = {}
    for ev, login in _successes(inp):
        if not login.user or login.user in findings or not _learned(inp, ev.time_ms):
            continue
        if _new(inp.history.accounts, login.user, ev.time_ms):
            findings[login.user] = UNUSUAL_ACCOUNT.finding(
                inp.instance_id,
                login.user,
                f"{login.user} logged in from {login.source_ip or 'an unknown source'}; the "
                "account never logged in here before.",
                _login_details(ev, login),
            )
    return list(findings.values())


def service_port(inp: CheckInput, login: facts_pb2.LoginEvent) -> int | None:
    """The TCP port the login came in on: sshd's Port from the baseline facts (the first one),
    else 22; RDP 3389; None for console logins and services we can't place."""
    if login.service == "sshd":
        if inp.snapshot is not None:
            for entry in inp.snapshot.baseline.sshd_config:
                if entry.key.lower() == "port" and entry.value.strip().isdigit():
                    return int(entry.value.strip())
        return inp.settings.default_ssh_port
    if login.service == "rdp" or login.logon_type == 10:
        return inp.settings.default_rdp_port
    return None


def _checkable_source(source: str, own_ips: set[str]) -> bool:
    try:
        ip = ipaddress.ip_address(source)
    except ValueError:
        return False  # a host name (UseDNS) or garbage: nothing to ask the model
    if not isinstance(ip, ipaddress.IPv4Address):
        return False  # the model is IPv4
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or source in own_ips)


@instance_check(SOURCE_DROPPED_BY_MODEL)
def source_blocked_by_security_group(inp: CheckInput) -> list[Finding] | None:
    inst = inp.instance
    if inst is None:
        return None
    own = set(inst.private_ips) | {n.public_ip for n in inst.nics if n.public_ip}
    findings: dict[str, Finding] = {}
    asked: dict[tuple[str, int], Reachability | None] = {}
    for ev, login in _successes(inp):
        src = login.source_ip
        port = service_port(inp, login)
        if port is None or src in findings or not _checkable_source(src, own):
            continue
        key = (src, port)
        if key not in asked:
            try:
                asked[key] = reachable(inp.state.cloud, src, inp.instance_id, "tcp", port)
            except ModelError:
                asked[key] = None
        verdict = asked[key]
        if verdict is None or verdict.reachable:
            continue
        paths = verdict.paths
        deciding = [
            {
                "sources": p.sources,
                "target_ip": p.target_ip,
                "decision": p.ingress.verdict.value,
                "rule_id": p.ingress.rule.rule_id if p.ingress.rule else None,
                "group_id": p.ingress.group_id,
                "reason": p.ingress.reason,
            }
            for p in paths
        ]
        why = verdict.reason or "; ".join(d["reason"] for d in deciding if d["reason"])
        findings[src] = SOURCE_DROPPED_BY_MODEL.finding(
            inp.instance_id,
            src,
            f"{login.user} logged in from {src} on tcp/{port}, which the modelled security "
            f"groups drop ({why or 'no rule allows it'}).",
            DroppedLoginEvidence(
                **_login_fields(ev, login), port=port, decisions=tuple(deciding), reason=why
            ),
        )
    return list(findings.values())


@fleet_check(FLEET_FAILURES)
def source_failing_across_fleet(inp: FleetInput) -> list[Finding]:
    s = inp.settings
    window_ms = s.fleet_failure_window_s * 1000
    per_source: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for instance_id, events in inp.events_by_instance.items():
        seen: dict[str, list] = defaultdict(list)
        for ev in events:
            if ev.HasField("login") and ev.login.source_ip:
                seen[ev.login.source_ip].append((ev, ev.login))
        for source, evs in seen.items():
            for a in attempts(evs):
                per_source[source].append((a.time_ms, instance_id))
    findings = []
    for source, hits in sorted(per_source.items()):
        hits.sort()
        best: set[str] = set()
        lo = 0
        for hi in range(len(hits)):
            while hits[hi][0] - hits[lo][0] > window_ms:
                lo += 1
            instances = {iid for _, iid in hits[lo : hi + 1]}
            if len(instances) > len(best):
                best = instances
        if len(best) >= s.fleet_failure_min_instances:
            findings.append(
                FLEET_FAILURES.finding(
                    None,
                    source,
                    f"{source} failed to log in on {len(best)} instances within "
                    f"{s.fleet_failure_window_s} s.",
                    FleetFailuresEvidence(source_ip=source, instances=tuple(sorted(best))),
                )
            )
    return findings


@instance_check(SSH_SCANNER)
def ssh_scanner(inp: CheckInput) -> list[Finding]:
    """Sources whose connections end before authentication without trying it (scans, protocol
    errors, failed negotiations): one finding per source past the threshold."""
    s = inp.settings
    window_ms = s.ssh_scanner_window_s * 1000
    findings = []
    for source, evs in sorted(_by_source(inp).items()):
        first: dict[str, tuple[int, str]] = {}  # one per session (or per event without one)
        for ev, login in evs:
            if login.result not in SCANNER_RESULTS:
                continue
            key = login.session or ev.event_id
            if key not in first or ev.time_ms < first[key][0]:
                first[key] = (ev.time_ms, login.result)
        if len(first) < s.ssh_scanner_connections:
            continue
        times = sorted(first.values())
        best, lo = (0, 0, -1), 0
        for hi in range(len(times)):
            while times[hi][0] - times[lo][0] > window_ms:
                lo += 1
            if hi - lo + 1 > best[0]:
                best = (hi - lo + 1, lo, hi)
        count, lo, hi = best
        if count < s.ssh_scanner_connections:
            continue
        kinds = sorted({result for _, result in times[lo : hi + 1]})
        findings.append(
            SSH_SCANNER.finding(
                inp.instance_id,
                source,
                f"{count} connections from {source} within {s.ssh_scanner_window_s} s ended "
                f"before authentication without trying it ({', '.join(kinds)}).",
                ScannerEvidence(
                    source_ip=source,
                    connections_in_window=count,
                    results=tuple(kinds),
                    first_ms=times[lo][0],
                    last_ms=times[hi][0],
                ),
            )
        )
    return findings
