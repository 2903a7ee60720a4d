"""Key-pair activation is level-triggered: the periodic sweep activates every pending binding
whose instance has booted (by its agent's latest snapshot) since the change was requested,
also when the activation at the restart itself failed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest

from palisade.auditor.alerts.repository import AlertRepository
from palisade.auditor.ingest.restarts import RestartWatch
from palisade.auditor.model.cloud_state import DEFAULT_REGION, CloudState
from palisade.auditor.server import key_activation
from palisade.auditor.server.check_runner import CheckRunner
from palisade.auditor.store.cloud_rows import CloudRows
from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from palisade.shared.proto import agent_pb2, facts_pb2
from tests.helpers.in_process_api import ApiHarness

ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHOIZLYJaeHEvSR6e1AKt4BOBDQjOUg3M/1wLOW6BJwP c"
R = {"RegionId": DEFAULT_REGION}


@pytest.fixture
def h(tmp_path) -> Iterator[ApiHarness]:
    harness = ApiHarness(tmp_path / "auditor")

    def build(state: CloudState) -> None:
        cloud = state.cloud
        vpc = cloud.create_vpc(state.account_id, DEFAULT_REGION, "172.16.0.0/12", vpc_id="vpc-1")
        group = None
        for n, instance_id in enumerate(("i-1", "i-2")):
            inst = cloud.create_instance(
                state.account_id,
                DEFAULT_REGION,
                created_at=harness.now,
                vpc_id=vpc.vpc_id,
                private_ips=[f"172.16.0.{10 + n}"],
                instance_id=instance_id,
                security_group_ids=[group] if group else None,
            )
            group = group or inst.primary_nic.security_group_ids[0]

    harness.save(build)
    harness.ok("ImportKeyPair", KeyPairName="key", PublicKeyBody=ED25519, **R)
    for n, instance_id in enumerate(("i-1", "i-2")):
        harness.store.record_enrolment(instance_id, instance_id, 100 + n, _ms(harness))
    yield harness
    harness.store.close()


def _ms(h: ApiHarness) -> int:
    return int(h.now.timestamp() * 1000)


def _report(h: ApiHarness, instance_id: str, boot_time: int) -> int:
    """Stores a snapshot with this boot time; returns the restart the store noticed (or 0)."""
    snap = facts_pb2.Snapshot(
        snapshot_id=uuid.uuid4().hex,
        instance_id=instance_id,
        collected_at_ms=_ms(h),
        host=facts_pb2.HostInfo(hostname=instance_id, os_family="linux", boot_time=boot_time),
    )
    message = agent_pb2.AgentMessage(
        message_id=uuid.uuid4().hex, instance_id=instance_id, snapshot=snap
    )
    return h.store.apply(message, _ms(h)).restarted_at_boot_time


def _status(h: ApiHarness, instance_id: str) -> str:
    binding = h.api.current().keypairs.binding(instance_id)
    if binding is None:
        return "none"
    return "pending" if binding.has_pending else ("active" if binding.active else "none")


def _runner(h: ApiHarness) -> CheckRunner:
    return CheckRunner(h.store, h.api, AlertRepository(h.store), clock=lambda: h.now)


def test_a_restart_whose_activation_failed_is_activated_by_the_sweep(h, monkeypatch):
    watch = RestartWatch(key_activation.restart_listener(h.api))  # as serve.py wires it
    booted = int(h.now.timestamp()) - 3600
    assert _report(h, "i-1", booted) == 0  # the first snapshot
    h.advance(60)
    h.ok("AttachKeyPair", KeyPairName="key", InstanceIds='["i-1"]', **R)
    assert _status(h, "i-1") == "pending"

    # the restart: the state write fails once (say the database was briefly unavailable)
    h.advance(120)
    rebooted = int(h.now.timestamp()) - 5
    save = CloudRows.write  # where every state write stores its units
    failures = []

    def failing_save(self, *args, **kwargs):
        if not failures:
            failures.append(1)
            raise OSError("injected: the state could not be written")
        return save(self, *args, **kwargs)

    monkeypatch.setattr(CloudRows, "write", failing_save)
    restarted = _report(h, "i-1", rebooted)
    assert restarted == rebooted
    watch.restarted("i-1", restarted)  # logged, never raised to the agent
    assert failures and _status(h, "i-1") == "pending"

    # later snapshots carry the same boot time: no edge any more
    for _ in range(3):
        h.advance(30)
        assert _report(h, "i-1", rebooted) == 0
    assert _status(h, "i-1") == "pending"

    # the periodic sweep sees the boot after the request and activates it
    _runner(h).sweep()
    binding = h.api.current().keypairs.binding("i-1")
    assert binding is not None and not binding.has_pending
    assert binding.active is not None and binding.active.name == "key"
    assert binding.password_login_enabled is False
    system = [r for r in h.audit() if r.actor == "system"]
    assert [r.action for r in system] == ["InstanceRestarted"]
    assert system[0].resource.endswith(":instance/i-1")

    # again: nothing pending, nothing written
    version = CloudStateRepository(h.store).version()
    _runner(h).sweep()
    assert CloudStateRepository(h.store).version() == version


def test_a_binding_requested_after_the_last_boot_stays_pending(h):
    booted = int(h.now.timestamp()) - 3600
    _report(h, "i-1", booted)
    h.advance(60)
    h.ok("AttachKeyPair", KeyPairName="key", InstanceIds='["i-1"]', **R)
    h.advance(60)
    _report(h, "i-1", booted)
    version = CloudStateRepository(h.store).version()
    _runner(h).sweep()
    assert _status(h, "i-1") == "pending"
    assert CloudStateRepository(h.store).version() == version  # nothing was written


def test_the_sweep_activates_every_booted_instance_and_leaves_the_rest(h):
    """i-1 booted after the request (first reported after it: no restart edge at all);
    i-2 has not reported since; a detach pending on a booted instance takes effect too."""
    h.ok("AttachKeyPair", KeyPairName="key", InstanceIds='["i-1", "i-2"]', **R)
    h.advance(300)
    assert _report(h, "i-1", int((h.now - timedelta(seconds=30)).timestamp())) == 0
    _runner(h).sweep()
    assert _status(h, "i-1") == "active"
    assert _status(h, "i-2") == "pending"

    h.ok("DetachKeyPair", KeyPairName="key", InstanceIds='["i-1"]', **R)
    assert h.api.current().keypairs.binding("i-1").pending_detach
    h.advance(300)
    _report(h, "i-1", int((h.now - timedelta(seconds=30)).timestamp()))  # a restart edge,
    _runner(h).sweep()  # handled here as well: one code path
    assert _status(h, "i-1") == "none"


def test_only_a_boot_the_store_knows_counts(h):
    """An instance with no snapshot (boot time 0) is never activated."""
    h.ok("AttachKeyPair", KeyPairName="key", InstanceIds='["i-2"]', **R)
    h.advance(300)
    assert key_activation.sweep(h.api, h.store) is False
    assert _status(h, "i-2") == "pending"
