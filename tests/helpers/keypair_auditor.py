"""Shared by the key-pair tests: instances seeded into a running auditor's state, API calls
through `palisade api`, and snapshots (with the host's boot time) reported as an enrolled
agent would."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from datetime import UTC, datetime

import grpc

from palisade.agent import transport
from palisade.auditor.model.cloud_state import DEFAULT_REGION, CloudState
from palisade.auditor.model.fleet.resources import InstanceState
from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from palisade.auditor.store.database import Database, sqlite_url
from palisade.shared.proto import agent_pb2, agent_pb2_grpc, facts_pb2
from tests.helpers.palisade_cli import error_fields

OTHER_REGION = "cn-beijing"


def edit_state(auditor, change) -> None:
    """Changes the auditor's stored state directly (for what no action builds yet, such as
    instances); the auditor picks the new version up on its next request."""
    store = Database(sqlite_url(auditor.data_dir))
    try:
        states = CloudStateRepository(store)
        version, doc = states.load()
        state = CloudState.from_document(doc)
        change(state)
        states.save(version, state.to_document(), [], datetime.now(UTC))
    finally:
        store.close()


def read_state(auditor) -> CloudState:
    store = Database(sqlite_url(auditor.data_dir))
    try:
        return CloudState.from_document(CloudStateRepository(store).load()[1])
    finally:
        store.close()


def add_test_instances(auditor) -> None:
    """Linux running i-run1..i-run3, Linux stopped i-stop1..i-stop2, Windows i-win1, and
    i-far1 in another region."""

    def build(state: CloudState) -> None:
        cloud, account = state.cloud, state.account_id
        now = datetime.now(UTC)
        cloud.add_region(OTHER_REGION)
        vpc = cloud.create_vpc(account, DEFAULT_REGION, "172.16.0.0/12", vpc_id="vpc-kp")
        far = cloud.create_vpc(account, OTHER_REGION, "10.0.0.0/8", vpc_id="vpc-far")
        specs = [
            ("i-run1", "linux", InstanceState.RUNNING),
            ("i-run2", "linux", InstanceState.RUNNING),
            ("i-run3", "linux", InstanceState.RUNNING),
            ("i-stop1", "linux", InstanceState.STOPPED),
            ("i-stop2", "linux", InstanceState.STOPPED),
            ("i-win1", "windows", InstanceState.RUNNING),
        ]
        group = None
        for n, (instance_id, os_family, status) in enumerate(specs):
            inst = cloud.create_instance(
                account,
                DEFAULT_REGION,
                created_at=now,
                vpc_id=vpc.vpc_id,
                private_ips=[f"172.16.0.{10 + n}"],
                os_family=os_family,
                instance_id=instance_id,
                security_group_ids=[group] if group else None,
            )
            group = group or inst.primary_nic.security_group_ids[0]
            inst.state = status
        cloud.create_instance(
            account,
            OTHER_REGION,
            created_at=now,
            vpc_id=far.vpc_id,
            private_ips=["10.0.0.10"],
            instance_id="i-far1",
        )

    edit_state(auditor, build)


def api(auditor, action: str, **params: str) -> tuple[int, dict]:
    """`palisade api ACTION Name=Value...`: (exit code, JSON answer)."""
    done = auditor.cli("api", action, *(f"{k}={v}" for k, v in params.items()), check=False)
    return done.returncode, json.loads(done.stdout)


def ok(auditor, action: str, **params: str) -> dict:
    rc, body = api(auditor, action, **params)
    assert rc == 0, body
    return body


def error_code(auditor, action: str, **params: str) -> str:
    rc, body = api(auditor, action, **params)
    assert rc == 1, body
    assert set(body) == error_fields(body), body
    return body["Code"]


# -- the agent's side: snapshots with a boot time --------------------------------------------


def snapshot_message(instance_id: str, boot_time: int) -> agent_pb2.AgentMessage:
    snap = facts_pb2.Snapshot(
        snapshot_id=uuid.uuid4().hex,
        instance_id=instance_id,
        collected_at_ms=int(time.time() * 1000),
        host=facts_pb2.HostInfo(hostname="kp-host", os_family="linux", boot_time=boot_time),
        sshd=facts_pb2.SshdFacts(
            password_authentication=False,
            pubkey_authentication=True,
            authorized_keys_file=[".ssh/authorized_keys"],
            permit_root_login="prohibit-password",
            source="parsed",
        ),
    )
    snap.authorized_keys.append(facts_pb2.AuthorizedKeysFile(user="root", path="/root/.ssh/a"))
    return agent_pb2.AgentMessage(
        message_id=uuid.uuid4().hex, instance_id=instance_id, snapshot=snap
    )


def report(auditor, state, message) -> None:
    with transport_channel(auditor, state) as stub:
        acks = list(stub.Report(iter([message]), timeout=10))
    assert [a.message_id for a in acks] == [message.message_id]


@contextlib.contextmanager
def transport_channel(auditor, state):
    with grpc.secure_channel(
        auditor.grpc, state.credentials(), options=transport.CHANNEL_OPTIONS
    ) as ch:
        yield agent_pb2_grpc.IngestStub(ch)
