"""The compiled fleet: one exposure index for the live state, kept current by the live state's
change listener (changes noted on the writing thread, applied on the runner's next read), rebuilt
on a whole reload, and handed to the checks by the check runner."""

from __future__ import annotations

import random
import threading
import uuid
from types import SimpleNamespace

import pytest

import tests.unit.auditor.model.network.test_exposure_fast as fast
import tests.unit.auditor.model.network.test_exposure_updates as updates
from palisade.auditor.alerts.repository import AlertRepository
from palisade.auditor.checks.exposure import check as exposure_check
from palisade.auditor.model import changes as K
from palisade.auditor.model.cloud_state import DEFAULT_REGION, CloudState
from palisade.auditor.model.network.exposure_index import ExposureIndex
from palisade.auditor.model.network.security_group import RuleRequest
from palisade.auditor.server.check_runner import CheckRunner
from palisade.auditor.server.compiled_fleet import CompiledFleet
from palisade.shared.proto import agent_pb2, facts_pb2
from tests.helpers.in_process_api import ApiHarness


class FakeLive:
    """What the compiled fleet uses of the live state: its listeners and its lock. `change`
    runs a change of the model under the lock and tells the listeners, as a write does."""

    def __init__(self, model) -> None:
        self.lock = threading.RLock()
        self.listeners: list = []
        self.state = SimpleNamespace(cloud=model)

    def notify(self, units) -> None:
        for listener in list(self.listeners):
            listener(units)

    def change(self, rng: random.Random) -> None:
        with self.lock:
            groups, instances, _ = updates.random_change(rng, self.state.cloud)
            units = {(K.GROUP, g) for g in groups} | {(K.INSTANCE, i) for i in instances}
            if units:
                self.notify(units | {(K.RAM_USER, "alice")})


def _followed(seed: int = 3) -> tuple[FakeLive, CompiledFleet]:
    live = FakeLive(fast.random_fleet(seed))
    fleet = CompiledFleet.follow(SimpleNamespace(live=live))
    assert fleet is not None and live.listeners == [fleet.changed]
    return live, fleet


def test_changes_are_applied_at_the_next_read_without_a_rebuild():
    live, fleet = _followed()
    model = live.state.cloud
    index = fleet.index(model)
    assert fleet.builds == 1
    updates.reports(model, index)  # warm
    rng = random.Random(1)
    for step in range(40):
        live.change(rng)
        assert fleet.index(model) is index
        updates.assert_current(model, index, f"step {step}")
    assert fleet.builds == 1
    assert fleet.updates > 10


def test_units_that_do_not_reach_exposure_change_nothing():
    live, fleet = _followed()
    model = live.state.cloud
    index = fleet.index(model)
    live.notify({(K.RAM_USER, "alice"), (K.VPC, "vpc-1"), (K.DDOS, "i-1")})
    assert fleet.index(model) is index
    assert (fleet.builds, fleet.updates) == (1, 0)


def test_a_whole_reload_or_another_model_rebuilds():
    live, fleet = _followed()
    first = fleet.index(live.state.cloud)
    live.notify(None)
    second = fleet.index(live.state.cloud)
    assert second is not first and fleet.builds == 2
    other = fast.random_fleet(4)  # the state replaced: an index for the new one
    third = fleet.index(other)
    assert third.model is other and fleet.builds == 3


def test_a_failed_update_rebuilds(monkeypatch):
    live, fleet = _followed()
    model = live.state.cloud
    index = fleet.index(model)

    def broken(*_args, **_kw):
        raise KeyError("half-applied")

    monkeypatch.setattr(index, "update", broken)
    live.notify({(K.GROUP, sorted(model.groups)[0])})
    rebuilt = fleet.index(model)
    assert rebuilt is not index and fleet.builds == 2
    updates.assert_current(model, rebuilt, "rebuilt")


def test_an_api_without_a_live_state_is_not_followed():
    assert CompiledFleet.follow(SimpleNamespace()) is None
    assert CompiledFleet.follow(SimpleNamespace(live=SimpleNamespace())) is None


def test_writers_on_other_threads_while_the_runner_reads():
    """Writes change the model and note their units on their own threads (under the live
    lock); the reader's index, read under the same lock, always equals a fresh one."""
    live, fleet = _followed(seed=11)
    model = live.state.cloud
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            while not stop.is_set():
                live.change(rng)
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(s,)) for s in (1, 2)]
    for t in threads:
        t.start()
    try:
        for step in range(60):
            with live.lock:
                index = fleet.index(model)
                updates.assert_current(model, index, f"read {step}")
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors
    assert fleet.builds == 1


# ------------------------------------------------------------------ the check runner's hand-over


@pytest.fixture
def h(tmp_path):
    harness = ApiHarness(tmp_path / "auditor")

    def build(state: CloudState) -> None:
        cloud = state.cloud
        vpc = cloud.create_vpc(state.account_id, DEFAULT_REGION, "172.16.0.0/12", vpc_id="vpc-1")
        group = cloud.create_security_group(
            state.account_id, DEFAULT_REGION, now=harness.now, vpc_id=vpc.vpc_id
        ).group_id
        cloud.authorize(
            group, RuleRequest("ingress", "tcp", "22/22", peer_cidr="0.0.0.0/0"), harness.now
        )
        for n in (1, 2):
            cloud.create_instance(
                state.account_id,
                DEFAULT_REGION,
                created_at=harness.now,
                vpc_id=vpc.vpc_id,
                private_ips=[f"172.16.0.{10 + n}"],
                public_ip=f"47.0.0.{n}",
                instance_id=f"i-{n}",
                security_group_ids=[group],
            )

    harness.save(build)
    yield harness
    harness.store.close()


def _listening(h: ApiHarness, instance_id: str) -> None:
    at = int(h.now.timestamp() * 1000)
    snap = facts_pb2.Snapshot(
        snapshot_id=uuid.uuid4().hex,
        instance_id=instance_id,
        collected_at_ms=at,
        listeners=[facts_pb2.Listener(protocol="tcp", port=22, address="0.0.0.0")],
    )
    h.store.record_enrolment(instance_id, instance_id, 100, at)
    message = agent_pb2.AgentMessage(
        message_id=uuid.uuid4().hex, instance_id=instance_id, snapshot=snap
    )
    h.store.apply(message, at)


def test_the_runner_hands_the_followed_index_to_the_exposure_check(h, monkeypatch):
    if not hasattr(h.api, "live"):  # until the API keeps a live state: what it will offer
        h.api.live = SimpleNamespace(listeners=[], lock=h.api.lock)
    live = h.api.live
    runner = CheckRunner(h.store, h.api, AlertRepository(h.store), clock=lambda: h.now)
    fleet = runner.compiled
    assert fleet is not None and fleet.changed in live.listeners
    seen: list[ExposureIndex | None] = []
    real = exposure_check.exposure

    def spy(model, instance_id, index=None, black_holed=False):
        seen.append(index)
        return real(model, instance_id, index, black_holed)

    monkeypatch.setattr(exposure_check, "exposure", spy)
    for iid in ("i-1", "i-2"):
        _listening(h, iid)
    runner.evaluate_many(["i-1", "i-2"])
    assert len(seen) == 2 and seen[0] is not None and seen[0] is seen[1]
    assert seen[0].model is h.api.current().cloud
    assert fleet.builds == 1


def test_a_runner_without_a_compiled_fleet_lets_the_check_build_its_own(h, monkeypatch):
    runner = CheckRunner(h.store, h.api, AlertRepository(h.store), clock=lambda: h.now)
    runner.compiled = None  # an API with no live state to follow
    seen: list = []
    real = exposure_check.exposure

    def spy(model, instance_id, index=None, black_holed=False):
        seen.append(index)
        return real(model, instance_id, index, black_holed)

    monkeypatch.setattr(exposure_check, "exposure", spy)
    _listening(h, "i-1")
    runner.evaluate("i-1")
    assert seen == [None]


# ------------------------------------------------------------------ the real live state

R = {"RegionId": DEFAULT_REGION}


def test_the_runner_follows_the_live_state_through_its_writes_and_another_replicas(tmp_path):
    """Own writes and another replica's (caught up from the change sequence) reach the compiled
    fleet unit by unit: one build, then updates, and the index always answers as a fresh one."""
    h = ApiHarness(tmp_path / "auditor")
    try:
        runner = CheckRunner(h.store, h.api, AlertRepository(h.store), clock=lambda: h.now)
        fleet = runner.compiled
        assert fleet is not None
        vpc = h.ok("CreateVpc", **R, CidrBlock="172.16.0.0/12")["VpcId"]
        groups = [h.ok("CreateSecurityGroup", **R, VpcId=vpc)["SecurityGroupId"] for _ in "ab"]
        ids = [
            h.ok(
                "RunInstances",
                **R,
                VpcId=vpc,
                SecurityGroupId=groups[n % 2],
                PrivateIpAddress=f"172.16.0.{10 + n}",
                PublicIpAddress=f"47.0.0.{1 + n}",
            )["InstanceIdSets"]["InstanceIdSet"][0]
            for n in range(4)
        ]

        def current() -> ExposureIndex:
            model = h.api.current().cloud
            index = fleet.index(model)
            updates.assert_current(model, index, "live")
            return index

        first = current()
        builds = fleet.builds
        h.ok("AuthorizeSecurityGroup", **R, SecurityGroupId=groups[0], IpProtocol="tcp",
             PortRange="22/22", SourceCidrIp="0.0.0.0/0")  # fmt: skip
        h.ok("AuthorizeSecurityGroup", **R, SecurityGroupId=groups[1], IpProtocol="tcp",
             PortRange="80/80", SourceGroupId=groups[0])  # fmt: skip
        assert current() is first
        h.ok("JoinSecurityGroup", **R, InstanceId=ids[1], SecurityGroupId=groups[0])
        assert current() is first
        replica = h.via(h.replica())  # another auditor process on the same database
        replica.ok("LeaveSecurityGroup", **R, InstanceId=ids[1], SecurityGroupId=groups[1])
        replica.ok("RevokeSecurityGroup", **R, SecurityGroupId=groups[0], IpProtocol="tcp",
                   PortRange="22/22", SourceCidrIp="0.0.0.0/0")  # fmt: skip
        replica.ok("DeleteInstance", **R, InstanceId=ids[3], Force="true")
        assert current() is first  # caught up unit by unit: no rebuild
        assert fleet.builds == builds and fleet.updates >= 3
        assert set(first.model.instances) == set(ids[:3])
    finally:
        h.store.close()
