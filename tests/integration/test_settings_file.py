"""`palisade serve --config palisade.toml` as a real process: the file's check settings are
what DescribeCheckSettings answers, and ModifyCheckSettings changes them over it (a bad value
named by its parameter)."""

from __future__ import annotations

import json

import pytest

from tests.helpers.auditor_process import start_auditor

pytestmark = [pytest.mark.integration]

FILE = """
[checks]
brute_force_failures = 6
timezone = "Asia/Shanghai"
"""


def test_the_file_then_the_api(tmp_path):
    config = tmp_path / "palisade.toml"
    config.write_text(FILE)
    auditor = start_auditor(tmp_path / "auditor", "--config", str(config))
    try:
        got = json.loads(auditor.cli("api", "DescribeCheckSettings").stdout)
        values = got["CheckSettings"]
        assert (values["BruteForceFailures"], values["TimeZone"]) == (6, "Asia/Shanghai")
        assert got["Modified"] == []
        changed = json.loads(
            auditor.cli("api", "ModifyCheckSettings", "BruteForceWindowSeconds=60").stdout
        )
        assert changed["CheckSettings"]["BruteForceWindowSeconds"] == 60
        assert changed["CheckSettings"]["BruteForceFailures"] == 6  # the file's still
        bad = auditor.cli("api", "ModifyCheckSettings", "TimeZone=Mars/Base", check=False)
        assert bad.returncode != 0
        assert "InvalidParameter.TimeZone" in bad.stdout + bad.stderr
    finally:
        auditor.stop()
