"""Alerts, findings, silences and whitelist through a real auditor: the `sas` actions over
signed HTTP and the `palisade alerts|alert|findings|silence|whitelist` commands.

The auditor's own checks run too (they may raise e.g. the RAM advice), so the test looks only
at the alerts of the checks it uses: the test applies findings to the auditor's own
database (as the auditor's check runner does) and reads them back through the API.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from palisade.auditor.alerts.lifecycle import Scope
from palisade.auditor.alerts.repository import AlertRepository
from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from palisade.auditor.store.database import Database
from tests.helpers.alert_findings import Finding
from tests.helpers.auditor_process import start_auditor
from tests.helpers.palisade_cli import run

pytestmark = pytest.mark.integration

ACCOUNT = "1234567890"
SCOPE = Scope(ACCOUNT, "i-web", frozenset({"login.brute_force", "exposure.port"}))


def brute(source: str) -> Finding:
    return Finding(
        "login.brute_force",
        "i-web",
        source,
        title="SSH brute force",
        details={"source_ip": source, "failures": 9},
    )


REDIS = Finding(
    "exposure.port",
    "i-web",
    "tcp/6379",
    severity="suspicious",
    category="exposure",
    title="Redis reachable from the internet",
    details={"port": 6379, "protocol": "tcp", "rule": "sgr-1"},
)


@pytest.fixture(scope="module")
def auditor(tmp_path_factory):
    proc = start_auditor(tmp_path_factory.mktemp("alerts") / "auditor")
    store = Database(json.loads((proc.data_dir / "auditor.json").read_text())["db"])
    proc.alerts = AlertRepository(store)  # the auditor's database, as its check runner sees it
    yield proc
    store.close()
    proc.stop()


def cli(auditor, *args: str, env: dict | None = None, subprocess: bool = False):
    """`palisade ARGS`: (exit code, parsed JSON or the text). In-process (`cli.main`, so each
    call does not pay the interpreter start, with no credentials but those in `env`) unless
    `subprocess`."""
    if subprocess:
        done = auditor.cli(*args, check=False)
        rc, out = done.returncode, done.stdout
    else:
        rc, out = run(auditor, *args, env=env, clear_credentials=True)
    out = out.strip()
    return rc, (json.loads(out) if out.startswith(("{", "[")) else out)


def test_alerts_findings_and_handling_through_the_cli(auditor):
    now = datetime.now(UTC)
    opened = auditor.alerts.apply_findings(SCOPE, [brute("203.0.113.7"), REDIS], now)
    ids = {e.alert.check_id: e.alert.id for e in opened}

    rc, alerts = cli(auditor, "alerts", "--json", subprocess=True)
    # the auditor's own checks may have raised alerts of their own (e.g. the RAM advice)
    alerts = [a for a in alerts if a["CheckId"] in ids]
    assert rc == 0 and {a["AlertId"] for a in alerts} == set(ids.values())
    redis = next(a for a in alerts if a["CheckId"] == "exposure.port")
    assert (redis["Status"], redis["Level"], redis["Count"], redis["Subject"]) == (
        "pending",
        "suspicious",
        1,
        "tcp/6379",
    )
    assert redis["Details"]["rule"] == "sgr-1"
    rc, serious = cli(auditor, "alerts", "--json", "--level", "serious", "--status", "pending")
    assert [a["CheckId"] for a in serious] == ["login.brute_force"]
    rc, findings = cli(auditor, "findings", "--json")
    findings = [f for f in findings if f["CheckId"] in ids]
    assert rc == 0 and {f["Subject"] for f in findings} == {"203.0.113.7", "tcp/6379"}
    assert cli(auditor, "alerts")[1].splitlines()[0].split()[:3] == ["ID", "STATUS", "LEVEL"]

    rc, handled = cli(
        auditor,
        "alert",
        "handle",
        str(ids["exposure.port"]),
        "--status",
        "handled",
        "--comment",
        "closed the rule",
        subprocess=True,
    )
    assert rc == 0 and (handled["Status"], handled["Resolution"]) == ("handled", "manual")
    rc, shown = cli(auditor, "alert", "show", str(ids["exposure.port"]), "--json")
    last = shown["History"][-1]
    assert (last["Status"], last["Actor"], last["Comment"]) == (
        "handled",
        "user/admin",
        "closed the rule",
    )
    rc, findings = cli(auditor, "findings", "--json")
    assert [f["Subject"] for f in findings if f["CheckId"] in ids] == ["203.0.113.7"]
    # the change is in the audit log, with who made it
    rows = CloudStateRepository(auditor.alerts.store).audit_log(limit=20)
    row = next(r for r in rows if r.action == "HandleAlert")
    assert row.actor == "user/admin" and row.resource.endswith(f"alert/{ids['exposure.port']}")

    # handled while the condition is still reported: the same alert, shown as still present
    assert (shown["StillPresent"], shown["DisplayStatus"]) == (True, "handled, still present")
    # an accepted risk needs a comment and an expiry
    brute_id = str(ids["login.brute_force"])
    rc, err = cli(auditor, "api", "HandleAlert", f"AlertId={brute_id}", "Status=accepted_risk")
    assert rc == 1 and err["Code"] == "MissingParameter"
    rc, err = cli(auditor, "alert", "handle", brute_id, "--status", "accepted_risk",
                  "--comment", "lab box")  # fmt: skip
    assert rc == 1 and err["Code"] == "MissingParameter"  # the CLI's too: no expiry
    rc, accepted = cli(
        auditor,
        "alert",
        "handle",
        brute_id,
        "--status",
        "accepted_risk",
        "--duration",
        "7d",
        "--comment",
        "lab box, replaced next week",
    )
    assert rc == 0 and accepted["Status"] == "accepted_risk"
    assert accepted["AcceptedUntil"] > accepted["LastSeen"]
    rc, err = cli(auditor, "api", "HandleAlert", f"AlertId={brute_id}", "Status=ignored",
                  "Duration=1h")  # fmt: skip
    assert rc == 1 and err["Code"] == "InvalidParameter.EndTime"
    # once the condition clears, the handled alert is final
    auditor.alerts.apply_findings(SCOPE, [brute("203.0.113.7")], datetime.now(UTC))
    rc, err = cli(auditor, "alert", "handle", str(ids["exposure.port"]), "--status", "ignored")
    assert rc == 1 and err["Code"] == "IncorrectAlertStatus"
    rc, err = cli(auditor, "alert", "show", "999999", "--json")
    assert rc == 1 and err["Code"] == "InvalidAlertId.NotFound"
    rc, err = cli(auditor, "api", "HandleAlert", f"AlertId={ids['login.brute_force']}", "Status=x")
    assert rc == 1 and err["Code"] == "InvalidParameter.Status"
    rc, err = cli(auditor, "api", "DescribeAlerts", "Levels=urgent")
    assert rc == 1 and err["Code"] == "InvalidParameter.Levels"


def test_silences_and_whitelist_through_the_cli(auditor):
    rc, silence = cli(
        auditor,
        "silence",
        "create",
        "--check",
        "login.*",
        "--duration",
        "2h",
        "--comment",
        "pentest this afternoon",
    )
    assert rc == 0 and silence["CheckId"] == "login.*" and silence["CreatedBy"] == "user/admin"
    rc, listed = cli(auditor, "silence", "list", "--active", "--json")
    assert [s["SilenceId"] for s in listed] == [silence["SilenceId"]]
    (ev,) = auditor.alerts.apply_findings(
        Scope(ACCOUNT, "i-db", frozenset({"login.brute_force"})),
        [Finding("login.brute_force", "i-db", "198.51.100.4", details={"source_ip": "1"})],
        datetime.now(UTC),
    )
    assert ev.kind == "opened" and not ev.notify and ev.alert.silenced_by == silence["SilenceId"]
    assert cli(auditor, "silence", "delete", str(silence["SilenceId"]))[0] == 0
    assert cli(auditor, "silence", "list", "--json")[1] == []
    rc, err = cli(auditor, "silence", "create", "--duration", "1h", "--comment", "everything")
    assert rc == 1 and err["Code"] == "MissingParameter"

    rc, entry = cli(auditor, "whitelist", "add", "--ip", "192.0.2.9/24", "--comment", "the office")
    assert rc == 0 and (entry["Kind"], entry["Value"]) == ("ip", "192.0.2.0/24")
    events = auditor.alerts.apply_findings(
        Scope(ACCOUNT, "i-db", frozenset({"login.brute_force"})),
        [
            Finding("login.brute_force", "i-db", "192.0.2.50", details={"source_ip": "192.0.2.50"}),
            Finding("login.brute_force", "i-db", "198.51.100.4", details={"source_ip": "1"}),
        ],
        datetime.now(UTC),
    )
    assert [e.kind for e in events] == ["count"]  # the office's source raised nothing
    rc, entries = cli(auditor, "whitelist", "list", "--json")
    assert [e["WhitelistEntryId"] for e in entries] == [entry["WhitelistEntryId"]]
    assert cli(auditor, "whitelist", "delete", str(entry["WhitelistEntryId"]))[0] == 0
    rc, err = cli(auditor, "whitelist", "add", "--port", "99999", "--comment", "x")
    assert rc == 1 and err["Code"] == "InvalidParameter.Value"
    rc, summary = cli(auditor, "api", "DescribeAlertSummary")
    assert rc == 0 and summary["OpenByLevel"]["serious"] >= 1


def test_ram_authorises_the_sas_actions(auditor):
    read_only = json.dumps(
        {
            "Version": "1",
            "Statement": [{"Effect": "Allow", "Action": "sas:Describe*", "Resource": "*"}],
        }
    )
    for args in (
        ("CreatePolicy", "PolicyName=AlertsReadOnly", f"PolicyDocument={read_only}"),
        ("CreateUser", "UserName=viewer"),
        (
            "AttachPolicyToUser",
            "PolicyType=Custom",
            "PolicyName=AlertsReadOnly",
            "UserName=viewer",
        ),
    ):
        assert cli(auditor, "api", *args)[0] == 0
    key = cli(auditor, "api", "CreateAccessKey", "UserName=viewer")[1]["AccessKey"]
    env = {
        "PALISADE_ACCESS_KEY_ID": key["AccessKeyId"],
        "PALISADE_ACCESS_KEY_SECRET": key["AccessKeySecret"],
    }
    assert cli(auditor, "alerts", "--json", env=env)[0] == 0
    rc, err = cli(auditor, "alert", "handle", "1", "--status", "ignored", env=env)
    assert rc == 1 and err["Code"] == "Forbidden.RAM" and "sas:HandleAlert" in err["Message"]
    rc, err = cli(auditor, "whitelist", "add", "--ip", "0.0.0.0/0", "--comment", "x", env=env)
    assert rc == 1 and err["Code"] == "Forbidden.RAM"
