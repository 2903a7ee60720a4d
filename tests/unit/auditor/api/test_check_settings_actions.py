"""DescribeCheckSettings / ModifyCheckSettings: the settings file's values with the account's
changes over them, each bound checked with an ECS-style error naming the parameter, RAM
deciding, stored in the database so another replica's check runner uses them."""

from __future__ import annotations

from palisade.auditor.alerts.repository import AlertRepository
from palisade.auditor.checks import CheckSettings
from palisade.auditor.server.check_runner import CheckRunner
from palisade.auditor.store.database import Database
from tests.helpers.in_process_api import ApiHarness
from tests.helpers.in_process_ram import user_with_key
from tests.helpers.ram_policies import policy


def test_describe_modify_reset_and_the_audit_log(h: ApiHarness):
    values = h.ok("DescribeCheckSettings")["CheckSettings"]
    assert (values["BruteForceFailures"], values["BruteForceWindowSeconds"]) == (8, 120)
    assert values["TimeZone"] == "UTC" and values["DdosBlackHoleBps"] == 5_000_000_000
    body = h.ok("ModifyCheckSettings", BruteForceWindowSeconds="60", TimeZone="Asia/Shanghai")
    assert body["CheckSettings"]["BruteForceWindowSeconds"] == 60
    assert body["Modified"] == ["BruteForceWindowSeconds", "TimeZone"]
    h.ok("ModifyCheckSettings", LearningWindowSeconds="0")  # the earlier changes stay
    got = h.ok("DescribeCheckSettings")
    assert got["CheckSettings"]["TimeZone"] == "Asia/Shanghai"
    assert got["Modified"] == ["BruteForceWindowSeconds", "LearningWindowSeconds", "TimeZone"]
    assert [e for e in h.audit() if e.action == "ModifyCheckSettings"]
    got = h.ok("ModifyCheckSettings", Reset="true", BruteForceFailures="20")
    assert got["Modified"] == ["BruteForceFailures"]
    assert got["CheckSettings"]["TimeZone"] == "UTC"


def test_bad_values_name_their_parameter_and_change_nothing(h: ApiHarness):
    for params, code in (
        ({"BruteForceWindowSeconds": "5"}, "InvalidParameter.BruteForceWindowSeconds"),
        ({"BruteForceWindowSeconds": "ten"}, "InvalidParameter.BruteForceWindowSeconds"),
        ({"TimeZone": "Mars/Base"}, "InvalidParameter.TimeZone"),
        ({"DdosBlackHoleSeconds": "1"}, "InvalidParameter.DdosBlackHoleSeconds"),
    ):
        status, got, message = h.error("ModifyCheckSettings", **params)
        assert (status, got) == (400, code), message
    status, code, _ = h.error("ModifyCheckSettings", BruteForceWindow="60")  # not a parameter
    assert status == 400
    assert h.ok("DescribeCheckSettings")["Modified"] == []


def test_ram_decides(h: ApiHarness):
    h.ok("CreatePolicy", PolicyName="read-settings", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "sas:DescribeCheckSettings", "Resource": "*"}))  # fmt: skip
    reader = user_with_key(h, "reader", ("Custom", "read-settings"))
    assert h.ok("DescribeCheckSettings", reader)["CheckSettings"]
    status, code, _ = h.error("ModifyCheckSettings", reader, BruteForceFailures="3")
    assert (status, code) == (403, "Forbidden.RAM")


def test_the_file_gives_the_defaults_and_every_replica_runs_with_the_changes(tmp_path):
    h = ApiHarness(tmp_path / "auditor")
    h.api.services["check_settings"] = CheckSettings(brute_force_failures=12)
    assert h.ok("DescribeCheckSettings")["CheckSettings"]["BruteForceFailures"] == 12
    replica = Database(h.store.url)  # another auditor on the same database
    file_settings = CheckSettings(brute_force_failures=12, ssh_scanner_connections=9)
    runner = CheckRunner(replica, h.api, AlertRepository(replica), file_settings)
    runner.sweep()
    assert runner.settings.brute_force_window_s == 120
    h.ok("ModifyCheckSettings", BruteForceWindowSeconds="300")
    runner.sweep()
    s = runner.settings
    assert (s.brute_force_window_s, s.brute_force_failures, s.ssh_scanner_connections) == (
        300, 12, 9,
    )  # fmt: skip
    replica.close()
    h.store.close()
