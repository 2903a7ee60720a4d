"""The auditor tells a connected agent at once when its instance's role binding changes: a
real auditor, a real report stream (the agent's Sender over mutual TLS) that sends nothing at
all, so every word it hears is a notice, not a snapshot's acknowledgement."""

from __future__ import annotations

import asyncio

import pytest

from palisade.agent.spool import Spool
from palisade.agent.transport import Backoff, Sender
from palisade.auditor.model.cloud_state import DEFAULT_REGION
from tests.helpers.agent_enrollment import enroll_agent
from tests.helpers.auditor_process import start_auditor
from tests.helpers.ram_cli import ok
from tests.helpers.ram_policies import ECS_TRUST
from tests.helpers.stored_state import add_vpc_instances

pytestmark = pytest.mark.integration

INSTANCE = "i-notice"
ROLE = "NoticedRole"


@pytest.fixture
def auditor(tmp_path):
    """An auditor of its own: the package's shared one has instances of other tests."""
    proc = start_auditor(tmp_path / "auditor")
    yield proc
    proc.stop()


async def hear(heard: list, count: int, timeout: float = 30) -> None:
    async def enough() -> None:
        while len(heard) < count:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(enough(), timeout)


def test_an_idle_agent_hears_of_an_attach_and_a_detach_on_its_report_stream(auditor, tmp_path):
    add_vpc_instances(auditor, INSTANCE)
    ok(auditor, "CreateRole", f"RoleName={ROLE}", f"AssumeRolePolicyDocument={ECS_TRUST}")
    state = enroll_agent(auditor, tmp_path / "agent", INSTANCE)
    spool = Spool(tmp_path / "spool")
    heard: list = []
    sender = Sender(state, spool, Backoff(initial=0.2, maximum=1), on_ack=heard.append)
    instance = f'InstanceIds=["{INSTANCE}"]'

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        try:
            await hear(heard, 1)  # on connecting: the binding as it stands, none
            ok(auditor, "AttachInstanceRamRole", f"RegionId={DEFAULT_REGION}", instance,
               f"RamRoleName={ROLE}")  # fmt: skip
            await hear(heard, 2)
            ok(auditor, "DetachInstanceRamRole", f"RegionId={DEFAULT_REGION}", instance)
            await hear(heard, 3)
        finally:
            stop.set()
            await task

    asyncio.run(scenario())
    assert all(not ack.message_id and ack.HasField("role") for ack in heard)
    assert [ack.role.role_name for ack in heard] == ["", ROLE, ""]
    assert heard[1].role.generation > 0
    assert len(spool) == 0 and sender.acked == 0  # notices acknowledge nothing
