"""`palisade serve --config palisade.toml`: the file's keys set the check settings, the alert
lifecycle and the serve flags; a flag given on the command line wins; an unknown key or a bad
value stops serve naming the key; every key is documented in the README."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from palisade.auditor.checks.settings_schema import KEYS, ChecksDocument, describe
from palisade.auditor.cli.main import build_parser
from palisade.auditor.cli.server import serve_options
from palisade.auditor.server.config import (
    AlertsDocument,
    ConfigError,
    LimitsDocument,
    ServeDocument,
    parse,
)
from tests.helpers.documents import json_values, mutations
from tests.helpers.system import BIN

README = Path(__file__).parents[4] / "README.md"

FILE = """
[serve]
grpc = "127.0.0.1:6000"
http = "127.0.0.1:6080"
check_period_s = 15
http_timeout_s = 20
sts_ttl_s = 1800
allow_hook_hosts = ["sms.internal"]

[checks]
brute_force_failures = 5
brute_force_window_s = 60
timezone = "Asia/Shanghai"
learning_window_s = 3600
ssh_scanner_connections = 3
ddos_black_hole_bps = 2000000000
ddos_black_hole_s = 3600

[alerts]
handled_reopen_after_s = 86400

[limits]
rules_per_group = 200
rules_per_nic = 1000
"""


def options(tmp_path, text: str, *argv: str) -> dict:
    path = tmp_path / "palisade.toml"
    path.write_text(text)
    return serve_options(build_parser().parse_args(["serve", "--config", str(path), *argv]))


def test_the_file_sets_checks_alerts_and_serve(tmp_path, monkeypatch):
    monkeypatch.delenv("PALISADE_ALLOW_HOOK_HOSTS", raising=False)
    o = options(tmp_path, FILE)
    s = o["check_settings"]
    assert (s.brute_force_failures, s.brute_force_window_s, s.timezone) == (5, 60, "Asia/Shanghai")
    assert (s.learning_window_s, s.ssh_scanner_connections) == (3600, 3)
    assert (s.ddos_black_hole_bps, s.ddos_black_hole_s) == (2e9, 3600)
    assert s.brute_force_success_window_s == 3600  # not given: the default
    assert (o["grpc_address"], o["http_address"], o["check_period_s"]) == (
        "127.0.0.1:6000", "127.0.0.1:6080", 15.0,
    )  # fmt: skip
    assert o["http_timeout_s"] == 20 and o["sts_ttl"] == dt.timedelta(seconds=1800)
    assert o["allow_hook_hosts"] == {"sms.internal"}
    assert o["handled_reopen_after"] == dt.timedelta(days=1)
    assert o["limits"] == {"rules_per_group": 200, "rules_per_nic": 1000}
    # a flag wins over the file
    o = options(tmp_path, FILE, "--http", "127.0.0.1:7080", "--check-period", "5")
    assert (o["http_address"], o["check_period_s"]) == ("127.0.0.1:7080", 5.0)


def test_without_a_file_the_defaults(monkeypatch):
    monkeypatch.delenv("PALISADE_ALLOW_HOOK_HOSTS", raising=False)
    o = serve_options(build_parser().parse_args(["serve"]))
    assert (o["grpc_address"], o["http_address"], o["check_period_s"]) == (
        "127.0.0.1:50051", "127.0.0.1:8080", 60.0,
    )  # fmt: skip
    assert o["handled_reopen_after"] is None
    assert describe(o["check_settings"])["brute_force_failures"] == 8


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[checks]\nbrute_force_windw_s = 60\n", "checks.brute_force_windw_s: unknown key"),
        ("[checks]\nbrute_force_window_s = 5\n", "checks.brute_force_window_s: Input should be"),
        ('[checks]\nbrute_force_failures = "8"\n', "checks.brute_force_failures: Input should"),
        ('[checks]\ntimezone = "Mars/Base"\n', "checks.timezone: 'Mars/Base' is not an IANA"),
        ("[serve]\nhttp_timeout_s = 0\n", "serve.http_timeout_s: Input should be greater"),
        ("[alerts]\nhandled_reopen_after_s = -1\n", "alerts.handled_reopen_after_s: Input"),
        ('[server]\ngrpc = "x"\n', "server: unknown key 'server'"),
        ("checks = 3\n", "checks: expected a mapping"),
        ("[limits]\nrules_per_group = 0\n", "limits.rules_per_group: Input should be"),
        ("[checks\n", "not TOML"),
    ],
)
def test_a_bad_key_or_value_stops_serve_naming_it(tmp_path, text, error):
    with pytest.raises(SystemExit, match=re.escape(error)):
        options(tmp_path, text)


def test_every_key_is_documented_in_the_readme():
    section = README.read_text().split("### Settings file", 1)[1].split("\n## ", 1)[0]
    keys = [
        *(f"checks.{k}" for k in KEYS),
        *(f"serve.{k}" for k in ServeDocument.model_fields),
        *(f"alerts.{k}" for k in AlertsDocument.model_fields),
        *(f"limits.{k}" for k in LimitsDocument.model_fields),
    ]
    assert [k for k in keys if f"`{k.split('.', 1)[1]}`" not in section] == []
    assert set(KEYS) == set(ChecksDocument.model_fields)


def test_the_real_command_refuses_a_bad_file(tmp_path):
    path = tmp_path / "palisade.toml"
    path.write_text("[checks]\nbrute_force_window_s = 1\n")
    done = subprocess.run(
        [str(BIN / "palisade"), "--data-dir", str(tmp_path / "d"), "serve", "--config", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert "checks.brute_force_window_s" in done.stderr


def _valid_config() -> dict:
    import tomllib

    return tomllib.loads(FILE)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(json_values(["serve", "checks", "alerts", "limits"]) | mutations(_valid_config()))
def test_any_settings_document_loads_or_names_the_key(document):
    """Hypothesis over the settings file's schema: any document (arbitrary values, or the
    example with keys dropped, misspelt or of the wrong type) loads, or is a ConfigError that
    names the file and where; nothing else escapes."""
    try:
        parse(document)
    except ConfigError as err:
        assert str(err).startswith("palisade.toml: ") and len(str(err)) > len("palisade.toml: ")
