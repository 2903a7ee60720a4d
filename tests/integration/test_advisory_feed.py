"""The advisory feed through a real auditor and agent: `palisade advisories import` stores a
record of a known CVE for a package installed on this host, the agent's next report raises
one vulnerability alert naming the fixed version; a newer record (osv.dev's zip export) that
marks the installed version fixed resolves it.

The record is CVE-2022-3715 (bash's valid_parameter_transform heap overflow) as osv.dev
writes Debian's records (DEBIAN-CVE-...). Its fixed version is set from the installed one
(just above it, then the installed one itself), so the test holds on any Debian 12 host
whatever its point release."""

from __future__ import annotations

import json
import subprocess
import zipfile

import pytest

from tests.helpers.agent_enrollment import enroll_agent
from tests.helpers.polling import wait_for
from tests.helpers.system import BIN, require_binary

pytestmark = [pytest.mark.integration]

INSTANCE = "i-feed"
ADVISORY = "DEBIAN-CVE-2022-3715"


def _record(fixed: str, modified: str) -> dict:
    return {
        "id": ADVISORY,
        "schema_version": "1.6.0",
        "modified": modified,
        "published": "2023-01-05T15:15:10Z",
        "upstream": ["CVE-2022-3715"],
        "details": "A flaw was found in the bash package, where a heap-buffer overflow can "
        "occur in valid parameter_transform. This issue may lead to memory problems.",
        "affected": [
            {
                "package": {
                    "name": "bash",
                    "ecosystem": "Debian:12",
                    "purl": "pkg:deb/debian/bash?arch=source",
                },
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
                "ecosystem_specific": {"urgency": "low"},
            }
        ],
        "references": [{"type": "ADVISORY", "url": "https://security-tracker.debian.org/tracker/CVE-2022-3715"}],
    }  # fmt: skip


@pytest.fixture
def running_agent(auditor, tmp_path):
    state_dir = tmp_path / "agent"
    enroll_agent(auditor, state_dir, INSTANCE)
    with open(tmp_path / "agent.log", "ab") as log:
        proc = subprocess.Popen(
            [str(BIN / "palisade-agent"), "run", "--state-dir", str(state_dir), "--interval", "1"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    yield proc
    proc.terminate()
    proc.wait(timeout=15)


def _installed(package: str) -> str:
    out = subprocess.run(
        [require_binary("dpkg-query"), "-W", "-f", "${Version}", package],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def _vulnerability_alerts(auditor) -> list[dict]:
    alerts = auditor.cli_json("alerts", "--check", "vulnerability.package", "--instance", INSTANCE)
    return [a for a in alerts if a["Subject"] == ADVISORY]


def test_a_known_cve_raises_one_alert_and_a_newer_feed_that_fixes_it_resolves_it(
    auditor, running_agent, tmp_path
):
    version = _installed("bash")
    wait_for(lambda: auditor.cli_json("instance", "show", INSTANCE)["snapshot_at_ms"], 30,
             what="the agent's first snapshot")  # fmt: skip
    assert "no advisory feed" in auditor.cli("advisories", "status").stdout

    first = tmp_path / "feed-1"
    first.mkdir()
    fixed = f"{version}+deb12u99"  # above what is installed: this host is affected
    (first / f"{ADVISORY}.json").write_text(json.dumps(_record(fixed, "2026-01-01T00:00:00Z")))
    out = auditor.cli("advisories", "import", str(first)).stdout
    assert "1 added" in out

    (alert,) = wait_for(lambda: _vulnerability_alerts(auditor), 30, what="the alert")
    assert alert["Status"] == "pending" and alert["ResolvedTime"] is None
    assert alert["Category"] == "vulnerability"
    (pkg,) = alert["Details"]["packages"]
    assert (pkg["name"], pkg["version"], pkg["fixed"]) == ("bash", version, [fixed])
    assert f"fixed in {fixed}" in alert["Message"]
    assert "CVE-2022-3715" in alert["Message"]

    # osv.dev's per-ecosystem export: a zip of one record a member; the record is newer and
    # the installed version is the fixed one
    export = tmp_path / "all.zip"
    with zipfile.ZipFile(export, "w") as z:
        z.writestr(f"{ADVISORY}.json", json.dumps(_record(version, "2026-02-01T00:00:00Z")))
    out = auditor.cli("advisories", "import", str(export)).stdout
    assert "1 updated" in out

    resolved = wait_for(
        lambda: (
            (a := auditor.cli_json("alert", "show", str(alert["AlertId"])))["ResolvedTime"] and a
        ),
        30,
        what="the alert resolved",
    )
    assert resolved["Status"] == "handled" and resolved["Resolution"]
    assert len(_vulnerability_alerts(auditor)) <= 1  # resolved, never a second one opened
    status = json.loads(auditor.cli("advisories", "status", "--json").stdout)
    assert (status["Records"], status["Imports"]) == (1, 2)
    assert status["NewestModified"] == "2026-02-01T00:00:00Z"
