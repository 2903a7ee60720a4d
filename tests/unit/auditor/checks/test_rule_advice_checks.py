"""Rule advice as findings (checks/rule_advice): dead, duplicate, conflicting and too-broad
rules and counts near the limits become one finding per rule and kind, with the analysis's
severity; through the real check runner they open alerts, and a fixed rule set resolves
them."""

from __future__ import annotations

from palisade.auditor.alerts.repository import AlertFilter, AlertRepository
from palisade.auditor.checks import FleetInput, evaluate_fleet
from palisade.auditor.checks.rule_advice import check as rule_advice
from palisade.auditor.model.cloud_state import DEFAULT_REGION, CloudState
from palisade.auditor.model.network.security_group import RuleRequest
from palisade.auditor.server.check_runner import CheckRunner
from tests.helpers.in_process_api import ApiHarness

from .conftest import NOW, settings


def _by_check(world) -> dict[str, list]:
    run = evaluate_fleet(FleetInput(world.state, NOW, settings()))
    out: dict[str, list] = {}
    for f in run.findings:
        if f.check_id.startswith("rules."):
            out.setdefault(f.check_id, []).append(f)
    assert {m for m in run.evaluated if m.startswith("rules.")} == {
        "rules.shadowed", "rules.duplicate", "rules.conflict", "rules.too_broad",
        "rules.near_limit", "rules.practice",
    }  # fmt: skip
    return out


def test_each_kind_of_advice_is_one_finding_per_rule(world):
    g = world.group()
    broad = world.allow(g, "tcp", "1/65535")  # a range to the internet
    world.allow(g, "tcp", "22/22", "10.0.0.0/8", priority=5)  # shadowed by the range (1)
    world.allow(g, "tcp", "3306/3306", "192.168.0.0/16", priority=7)
    world.instance([g])
    found = _by_check(world)
    (too_broad,) = found["rules.too_broad"]
    assert too_broad.subject == f"{g}/{broad.rule_id}" and too_broad.severity == "suspicious"
    assert "0.0.0.0/0" in too_broad.message
    assert too_broad.details["group_id"] == g and too_broad.details["kind"] == "overly-broad"
    assert len(found["rules.shadowed"]) == 2  # 22 and 3306 never decide
    assert "rules.duplicate" not in found and "rules.near_limit" not in found
    # the group page's view: the findings about that group only
    other = world.group()
    all_findings = [f for fs in found.values() for f in fs]
    assert rule_advice.group_findings(all_findings, other) == []
    assert len(rule_advice.group_findings(all_findings, g)) == 3


def test_a_group_near_its_rule_limit(world):
    g = world.group()
    limit = world.model.limits.rules_per_group
    for port in range(1, int(0.8 * limit) + 1):  # 80% of the limit
        world.allow(g, "tcp", f"{port}/{port}", "10.1.0.0/16")
    world.instance([g])
    (near,) = _by_check(world)["rules.near_limit"]
    assert near.subject == f"{g}/rules"
    assert f"{int(0.8 * limit)} of {limit} rules" in near.message


def test_findings_open_alerts_and_a_fixed_rule_set_resolves_them(tmp_path):
    h = ApiHarness(tmp_path / "auditor")
    ids: dict[str, str] = {}

    def build(state: CloudState) -> None:
        cloud = state.cloud
        vpc = cloud.create_vpc(state.account_id, DEFAULT_REGION, "172.16.0.0/12", vpc_id="vpc-1")
        gid = cloud.create_security_group(
            state.account_id, DEFAULT_REGION, now=h.now, vpc_id=vpc.vpc_id, network_type="vpc"
        ).group_id
        (rule,) = cloud.authorize(
            gid, RuleRequest("ingress", "all", "-1/-1", peer_cidr="0.0.0.0/0"), h.now
        )
        ids.update(group=gid, rule=rule.rule_id)

    h.save(build)
    alerts = AlertRepository(h.store)
    runner = CheckRunner(h.store, h.api, alerts, clock=lambda: h.now)
    runner.sweep()
    (alert,) = alerts.list_alerts(AlertFilter(check_id="rules.too_broad"))[1]
    assert alert.subject == f"{ids['group']}/{ids['rule']}" and alert.severity == "serious"
    assert alert.resolved_at_ms is None and alert.category == "rules"

    h.save(lambda state: state.cloud.revoke(ids["group"], ids["rule"]))
    h.advance(60)
    runner.sweep()
    (alert,) = alerts.list_alerts(AlertFilter(check_id="rules.too_broad"))[1]
    assert alert.resolved_at_ms is not None
    h.store.close()
