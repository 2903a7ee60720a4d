"""The status file the running agent keeps and `palisade-agent status`."""

from __future__ import annotations

import asyncio
import json

from palisade.agent import cli, health
from palisade.agent.spool import Spool, depth
from palisade.agent.state import AgentState
from palisade.shared.proto import agent_pb2, facts_pb2

NOW = 1_796_000_000.0


def enrolled(tmp_path) -> AgentState:
    state = AgentState(tmp_path, "i-bp1abc", ["a1:50051", "a2:50051"])
    state.save()
    return state


def events_message(n: int, message_id: str) -> agent_pb2.AgentMessage:
    batch = facts_pb2.EventBatch(events=[facts_pb2.Event() for _ in range(n)])
    return agent_pb2.AgentMessage(message_id=message_id, instance_id="i-bp1abc", events=batch)


def test_status_of_a_state_dir_without_enrolment(tmp_path, capsys):
    assert cli.main(["status", "--state-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().out.startswith("not enrolled:")


def test_status_of_an_agent_that_never_ran(tmp_path):
    enrolled(tmp_path)
    code, facts, lines = health.report(tmp_path, now=NOW)
    assert code == 0 and facts["enrolled"] and not facts["running"]
    assert lines[0] == (
        "i-bp1abc: enrolled; agent has not run; spool 0 messages waiting; last send never"
    )
    assert "last error:  none" in lines


def test_status_of_a_running_agent_with_a_spool_and_an_error(tmp_path, capsys):
    enrolled(tmp_path)
    spool = Spool(tmp_path / "spool")
    spool.put(events_message(3, "m1"))
    spool.put(events_message(2, "m2"))
    spool.put(agent_pb2.AgentMessage(message_id="s1", snapshot=facts_pb2.Snapshot()))
    assert depth(tmp_path / "spool") == (3, 5, 0)
    health.write_status(
        tmp_path,
        {
            "updated_at": NOW - 4,
            "connected": False,
            "last_send_at": NOW - 65,
            "last_error": "auditor a1:50051: UNAVAILABLE failed to connect",
            "last_error_at": NOW - 5,
            "task_restarts": 1,
        },
    )
    code, facts, lines = health.report(tmp_path, now=NOW)
    assert code == 0 and facts["running"] and not facts["connected"]
    assert facts["spool_messages"] == 3 and facts["spool_events"] == 5
    assert lines[0] == (
        "i-bp1abc: enrolled; agent running, not connected; spool 3 messages waiting; "
        "last send 2026-11-30T00:52:15Z (65 s ago)"
    )
    assert any("UNAVAILABLE failed to connect at" in line and "(5 s ago)" in line for line in lines)
    assert cli.main(["status", "--state-dir", str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["last_error"].startswith("auditor a1:50051") and out["spool_messages"] == 3


def test_a_stale_or_stopped_status_is_not_running(tmp_path):
    enrolled(tmp_path)
    health.write_status(tmp_path, {"updated_at": NOW - health.STALE_S - 1, "connected": True})
    _, facts, lines = health.report(tmp_path, now=NOW)
    assert not facts["running"] and not facts["connected"]
    assert "agent not running (status written" in lines[0]
    health.write_status(
        tmp_path, {"updated_at": NOW, "stopped_at": NOW, "failure": "agent task x died"}
    )
    _, facts, lines = health.report(tmp_path, now=NOW)
    assert not facts["running"] and lines[-1] == "gave up:     agent task x died"


def test_the_status_file_is_replaced_never_half_written(tmp_path):
    health.write_status(tmp_path, {"a": 1})
    health.write_status(tmp_path, {"a": 2})
    assert health.read_status(tmp_path) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["status.json"]  # no temporary left
    (tmp_path / "status.json").write_text("{trunc")
    assert health.read_status(tmp_path) is None


def test_the_running_agent_rewrites_the_file_on_change_and_at_the_end(tmp_path):
    async def main():
        stop = asyncio.Event()
        current = {"connected": False}
        seen = []
        task = asyncio.create_task(health.keep_status_file(tmp_path, lambda: dict(current), stop))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if (tmp_path / "status.json").exists():
                break
        seen.append(health.read_status(tmp_path))
        current["connected"] = True
        stop.set()
        await asyncio.wait_for(task, 5)
        seen.append(health.read_status(tmp_path))
        return seen

    first, last = asyncio.run(main())
    assert first["connected"] is False and "updated_at" in first
    assert last["connected"] is True


def test_a_foreign_status_file_cannot_crash_status(tmp_path):
    enrolled(tmp_path)
    health.write_status(tmp_path, {"updated_at": "yesterday", "last_send_at": [1]})
    code, facts, lines = health.report(tmp_path, now=NOW)
    assert code == 0 and not facts["running"] and facts["last_send_at"] is None
    assert "agent has not run" in lines[0]
