"""`palisade-agent uninstall`'s refusals that need no auditor (the whole path runs against real
processes in tests/integration/test_agent_uninstall.py)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from palisade.agent.uninstall import uninstall


def _state_dir(tmp_path: Path) -> Path:
    state = tmp_path / "agent"
    (state / "spool").mkdir(parents=True)
    (state / "agent.json").write_text(
        json.dumps({"instance_id": "i-1", "auditors": ["127.0.0.1:1"]})
    )
    return state


def test_undelivered_messages_stop_the_uninstall_and_nothing_is_removed(tmp_path):
    state = _state_dir(tmp_path)
    (state / "spool" / "000001-events-3-abc.pb").write_bytes(b"")
    unit = tmp_path / "palisade-agent.service"
    unit.write_text("[Service]\n")
    out, err = io.StringIO(), io.StringIO()
    assert uninstall(state, unit, "test", False, out, err) == 1
    assert "1 message(s) in the spool were never delivered" in err.getvalue()
    assert "nothing was removed" in err.getvalue()
    assert (state / "agent.json").exists() and unit.exists()


def test_a_state_dir_without_an_enrolment_is_refused(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    assert uninstall(tmp_path, tmp_path / "unit", "test", False, out, err) == 1
    assert "holds no enrolment" in err.getvalue()
