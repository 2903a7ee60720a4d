"""The registry: every check has valid metadata; a failing check becomes a finding and does
not stop the others; checks without their facts are not 'evaluated'."""

from __future__ import annotations

import json

from palisade.auditor.checks import (
    CHECK_ERROR,
    INSTANCE_CHECKS,
    FleetInput,
    all_metas,
    evaluate_instance,
    run_fleet_checks,
    run_instance_checks,
)
from palisade.auditor.checks.base import CATEGORIES, SEVERITIES
from palisade.auditor.checks.registry import RegisteredCheck

from .conftest import NOW, listener, login, snapshot


def test_metadata_is_complete_and_ids_unique():
    metas = all_metas()
    assert len({m.id for m in metas}) == len(metas) >= 20
    for m in metas:
        assert m.severity in SEVERITIES and m.category in CATEGORIES
        assert m.title and m.rationale and m.remediation
    assert {m.category for m in metas} == set(CATEGORIES)


def test_a_failing_check_is_reported_and_the_others_still_run(world, monkeypatch):
    def broken(inp):
        raise RuntimeError("boom")

    meta = INSTANCE_CHECKS["login.brute_force"].meta
    monkeypatch.setitem(INSTANCE_CHECKS, "login.brute_force", RegisteredCheck(meta, broken))
    g = world.group()
    world.allow(g, "tcp", "6379/6379")
    i = world.instance([g])
    run = evaluate_instance(
        world.input(i, snapshot(listeners=[listener(6379)]), [login("failure")])
    )
    errors = [f for f in run.findings if f.check_id == CHECK_ERROR]
    assert [(f.subject, f.category) for f in errors] == [("login.brute_force", "login")]
    assert "login.brute_force" not in run.evaluated
    assert "exposure.internet_listener_common_port" in {f.check_id for f in run.findings}


def test_evaluated_set_excludes_checks_missing_their_facts(world):
    i = world.instance([world.group()])
    run = evaluate_instance(world.input(i, None))
    assert (
        "baseline" not in run.evaluated and "exposure.high_risk_port_open_to_world" in run.evaluated
    )
    assert "login.brute_force" in run.evaluated


def test_findings_are_json_serialisable_end_to_end(world):
    g = world.group()
    world.allow(g, "tcp", "1/65535")
    i = world.instance([g])
    events = [login("failure", at=NOW) for _ in range(9)] + [login("success", at=NOW)]
    findings = run_instance_checks(
        world.input(i, snapshot(listeners=[listener(3306), listener(4444)]), events)
    )
    findings += run_fleet_checks(FleetInput(world.state, NOW, events_by_instance={i: events}))
    assert {
        "login.brute_force",
        "login.brute_force_success",
        "exposure.high_risk_port_open_to_world",
        "exposure.internet_listener_unrecognised_port",
        "ram.user_password_and_access_key",
    } <= {f.check_id for f in findings}
    for f in findings:
        json.dumps(f.details)
