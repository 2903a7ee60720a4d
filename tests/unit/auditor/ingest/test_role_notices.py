"""The role-binding notices the report streams send, read from the in-process API's state."""

from __future__ import annotations

import asyncio

from palisade.auditor.api.instance_credentials import InstanceRoleCredentials
from palisade.auditor.ingest.role_notices import RoleNotices
from palisade.auditor.model.cloud_state import DEFAULT_REGION
from tests.helpers.in_process_ram import add_instances, reader_role


def attach(h, role: str = "reader") -> None:
    h.ok(
        "AttachInstanceRamRole",
        RegionId=DEFAULT_REGION,
        InstanceIds='["i-vpc1"]',
        RamRoleName=role,
    )


def test_a_stream_hears_the_binding_at_once_then_each_change_once(h):
    add_instances(h)
    reader_role(h)
    notices = RoleNotices(InstanceRoleCredentials(h.api))
    heard: list[tuple[str, int]] = []
    others: list[tuple[str, int]] = []

    def listen(into):
        return lambda b: into.append((b.role_name, b.generation)) is None

    unsubscribe = notices.subscribe("i-vpc1", listen(heard))
    notices.subscribe("i-vpc2", listen(others))
    asyncio.run(notices.check())
    assert heard == [("", 0)] and others == [("", 0)]
    asyncio.run(notices.check())
    assert heard == [("", 0)]  # nothing changed: nothing said
    attach(h)
    asyncio.run(notices.check())
    role, first = heard[-1]
    assert role == "reader" and first > 0 and others == [("", 0)]
    h.ok("DetachInstanceRamRole", RegionId=DEFAULT_REGION, InstanceIds='["i-vpc1"]')
    attach(h)  # detached and attached again between two rounds: a new binding all the same
    asyncio.run(notices.check())
    assert heard[-1][0] == "reader" and heard[-1][1] > first and len(heard) == 3
    unsubscribe()
    h.ok("DetachInstanceRamRole", RegionId=DEFAULT_REGION, InstanceIds='["i-vpc1"]')
    asyncio.run(notices.check())
    assert len(heard) == 3


def test_a_notice_a_full_stream_could_not_take_is_tried_again(h):
    add_instances(h)
    notices = RoleNotices(InstanceRoleCredentials(h.api))
    offers: list[str] = []
    full = True

    def deliver(binding) -> bool:
        offers.append(binding.role_name)
        return not full

    notices.subscribe("i-vpc1", deliver)
    asyncio.run(notices.check())
    full = False
    asyncio.run(notices.check())
    asyncio.run(notices.check())
    assert offers == ["", ""]  # refused once, delivered once, then nothing new to say


def test_a_database_that_stays_down_is_logged_once_a_minute_not_every_round(caplog):
    """The watch reads the bindings every `period`; while that fails it logs the first
    failure (with its traceback), then a line a minute, and once more when it recovers."""
    import asyncio
    import logging

    from palisade.auditor.ingest.role_notices import RoleNotices

    class Down:
        calls = 0

        def bindings(self, instance_ids):
            Down.calls += 1
            if Down.calls <= 30:
                raise OSError("connection refused")
            return {}

    async def scenario() -> None:
        notices = RoleNotices(Down(), period=0.001)
        notices.subscribe("i-1", lambda message: True)
        task = asyncio.get_running_loop().create_task(notices._run())  # noqa: SLF001
        while Down.calls < 35:
            await asyncio.sleep(0.001)
        task.cancel()

    with caplog.at_level(logging.INFO, logger="palisade.ingest"):
        asyncio.run(scenario())
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("cannot read the instances' role bindings") == 1
    assert not [m for m in messages if m.startswith("still cannot")]  # within the minute
    assert messages[-1] == "reading the instances' role bindings again"
