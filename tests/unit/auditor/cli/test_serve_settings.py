"""`palisade serve`'s hook setting: --allow-hook-host (repeatable), else
$PALISADE_ALLOW_HOOK_HOSTS (comma-separated)."""

from __future__ import annotations

import pytest

from palisade.auditor.cli.main import build_parser
from palisade.auditor.cli.server import _allowed_hook_hosts


def allowed(*argv: str) -> frozenset[str]:
    return _allowed_hook_hosts(build_parser().parse_args(["serve", *argv]))


def test_flags_else_the_environment(monkeypatch):
    monkeypatch.delenv("PALISADE_ALLOW_HOOK_HOSTS", raising=False)
    assert allowed() == frozenset()
    monkeypatch.setenv("PALISADE_ALLOW_HOOK_HOSTS", "sms.internal, 127.0.0.1,")
    assert allowed() == {"sms.internal", "127.0.0.1"}
    assert allowed("--allow-hook-host", "Hooks.LAN.", "--allow-hook-host", "[::1]") == {
        "hooks.lan",
        "::1",
    }


def test_a_bad_name_stops_serve(monkeypatch):
    monkeypatch.setenv("PALISADE_ALLOW_HOOK_HOSTS", "a..b")
    with pytest.raises(SystemExit, match="not a host name"):
        allowed()
