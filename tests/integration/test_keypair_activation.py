"""A real auditor activates a pending key pair once the instance has booted since the request,
from its periodic sweep, also when no snapshot ever showed the boot time changing (the
agent's first report came after the restart)."""

from __future__ import annotations

import time
import uuid

import pytest

from palisade.agent import enrolment
from palisade.auditor.cli.keypairs import instance_key_pair
from palisade.auditor.server.data_dir import DataDir
from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from palisade.auditor.store.database import Database, sqlite_url
from tests.helpers.auditor_process import start_auditor
from tests.helpers.keypair_auditor import add_test_instances, ok, report, snapshot_message
from tests.helpers.polling import wait_for

pytestmark = pytest.mark.integration
R = {"RegionId": "cn-hangzhou"}


@pytest.fixture(scope="module")
def auditor(tmp_path_factory):
    proc = start_auditor(
        tmp_path_factory.mktemp("keyactivation") / "auditor", "--check-period", "1"
    )
    add_test_instances(proc)
    yield proc
    proc.stop()


def _status(auditor, instance_id: str) -> dict:
    """The binding as `palisade instance show` reads it (also before the agent enrols)."""
    return instance_key_pair(DataDir(auditor.data_dir), instance_id)


def test_the_sweep_activates_a_key_pair_whose_instance_booted_since_it_was_requested(
    auditor, tmp_path
):
    name = f"kp-{uuid.uuid4().hex[:8]}"
    ok(auditor, "CreateKeyPair", KeyPairName=name, **R)
    # i-run3 booted an hour ago and reports so; a key pair attached now waits for its restart
    early = enrolment.enroll(
        tmp_path / "run3", [auditor.grpc], auditor.token("i-run3"), enroll_address=auditor.enroll
    )
    report(auditor, early, snapshot_message("i-run3", int(time.time()) - 3600))
    ok(auditor, "AttachKeyPair", KeyPairName=name, InstanceIds='["i-run3", "i-run2"]', **R)
    assert _status(auditor, "i-run2")["status"] == "pending"
    # i-run2 restarts after the request; its agent first reports afterwards, twice with the
    # same boot time: no snapshot ever shows the boot time changing
    time.sleep(1.1)  # boot times are whole seconds: boot strictly after the request
    booted = int(time.time())
    agent = enrolment.enroll(
        tmp_path / "run2", [auditor.grpc], auditor.token("i-run2"), enroll_address=auditor.enroll
    )
    report(auditor, agent, snapshot_message("i-run2", booted))
    report(auditor, agent, snapshot_message("i-run2", booted))
    active = wait_for(
        lambda: (s := _status(auditor, "i-run2"))["status"] == "active" and s,
        timeout=20,
        what="the sweep to activate the key pair",
    )
    assert active["active"]["name"] == name and active["password_login_enabled"] is False
    # the same sweep saw i-run3: requested after its last boot, it stays pending
    assert _status(auditor, "i-run3")["status"] == "pending"
    store = Database(sqlite_url(auditor.data_dir))
    try:
        rows = CloudStateRepository(store).audit_log(limit=50)
    finally:
        store.close()
    system = [r for r in rows if r.actor == "system"]
    assert [r.resource.rsplit("/", 1)[-1] for r in system] == ["i-run2"]
    assert system[0].action == "InstanceRestarted"
