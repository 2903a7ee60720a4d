"""The check runner checks every host's packages against the stored feed: it loads it when
an import (on any replica: here another Database on the same file) moved its version, and
only then."""

from __future__ import annotations

import json
import uuid

from palisade.auditor.alerts.repository import AlertFilter, AlertRepository
from palisade.auditor.server.check_runner import CheckRunner
from palisade.auditor.store import advisories as feed
from palisade.auditor.store.database import Database, sqlite_url
from palisade.shared.proto import agent_pb2, facts_pb2
from tests.helpers.in_process_api import ApiHarness


def _record(fixed: str, modified: str) -> feed.StoredAdvisory:
    doc = {
        "id": "DSA-5532-1",
        "modified": modified,
        "affected": [
            {
                "package": {"ecosystem": "Debian:12", "name": "openssl"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
    }  # fmt: skip
    return feed.StoredAdvisory("DSA-5532-1", modified, ("Debian:12",), json.dumps(doc))


def _vulnerability_alerts(alerts: AlertRepository) -> list:
    return alerts.list_alerts(AlertFilter(check_id="vulnerability.package"))[1]


def test_an_import_on_another_replica_is_loaded_on_the_next_round(tmp_path):
    h = ApiHarness(tmp_path / "auditor")
    now_ms = int(h.now.timestamp() * 1000)
    h.store.record_enrolment("i-1", "i-1", 100, now_ms)
    snap = facts_pb2.Snapshot(
        snapshot_id=uuid.uuid4().hex,
        instance_id="i-1",
        collected_at_ms=now_ms,
        host=facts_pb2.HostInfo(os_family="linux", os_name="Debian GNU/Linux", os_version="12"),
        packages=[facts_pb2.Package(name="libssl3", version="3.0.9-1", source="dpkg",
                                    source_package="openssl")],
    )  # fmt: skip
    h.store.apply(
        agent_pb2.AgentMessage(message_id=uuid.uuid4().hex, instance_id="i-1", snapshot=snap),
        now_ms,
    )
    alerts = AlertRepository(h.store)
    runner = CheckRunner(h.store, h.api, alerts, clock=lambda: h.now)
    runner.evaluate("i-1")
    assert runner.settings.advisories is None  # no feed: the check is not evaluated

    other = Database(sqlite_url(tmp_path / "auditor"))  # another replica's connection
    feed.import_advisories(other, [_record("3.0.11-1", "2024-01-01T00:00:00Z")], "a", now_ms)
    assert runner.evaluate("i-1") == 1
    (alert,) = _vulnerability_alerts(alerts)
    assert alert.resolved_at_ms is None
    assert alert.details["packages"][0]["fixed"] == ["3.0.11-1"]
    loaded = runner.settings.advisories
    assert not runner.refresh_advisories() and runner.settings.advisories is loaded

    feed.import_advisories(other, [_record("3.0.9-1", "2024-02-01T00:00:00Z")], "b", now_ms)
    runner.evaluate("i-1")
    (resolved,) = _vulnerability_alerts(alerts)
    assert resolved.id == alert.id and resolved.resolved_at_ms is not None
    other.close()
    h.store.close()
