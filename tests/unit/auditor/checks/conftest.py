"""Fixture fleets and facts for the check tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from palisade.auditor.checks import CheckInput, CheckSettings, InstanceHistory
from palisade.auditor.model.cloud_state import DEFAULT_REGION, CloudState
from palisade.auditor.model.keypairs.service import InstanceView
from palisade.auditor.model.network.security_group import RuleRequest
from palisade.shared import sshkeys
from palisade.shared.proto import facts_pb2

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
REGION = DEFAULT_REGION

_SETTINGS = CheckSettings()  # loads the packaged CSV and policies once


def settings(**kw) -> CheckSettings:
    base = {
        "ddos_thresholds": _SETTINGS.ddos_thresholds,
        "baseline_policies": _SETTINGS.baseline_policies,
    }
    return CheckSettings(**(base | kw))


def new_public_key(comment: str = "") -> str:
    return sshkeys.public_key_from_cryptography(ed25519.Ed25519PrivateKey.generate(), comment)


class World:
    """A CloudState with one VPC; helpers for groups, instances, key pairs and inputs."""

    def __init__(self) -> None:
        self.state, _ = CloudState.create(NOW)
        self.account = self.state.account_id
        self.model = self.state.cloud
        self.vpc = self.model.create_vpc(self.account, REGION, "172.16.0.0/12").vpc_id
        self._ip = 10

    def group(self, *rules: tuple, **kw) -> str:
        gid = self.model.create_security_group(
            self.account, REGION, now=NOW, vpc_id=self.vpc, network_type="vpc", **kw
        ).group_id
        for rule in rules:
            self.allow(gid, *rule)
        return gid

    def allow(self, gid: str, protocol: str, ports: str, cidr: str = "0.0.0.0/0", **kw):
        (rule,) = self.model.authorize(
            gid, RuleRequest("ingress", protocol, ports, peer_cidr=cidr, **kw), NOW
        )
        return rule

    def instance(self, groups: list[str], public_ip: str | None = "47.1.1.1", **kw) -> str:
        self._ip += 1
        return self.model.create_instance(
            self.account,
            REGION,
            created_at=NOW,
            vpc_id=self.vpc,
            network_type="vpc",
            private_ips=[f"172.16.0.{self._ip}"],
            public_ip=public_ip,
            security_group_ids=groups,
            **kw,
        ).instance_id

    def bind_key(self, instance_id: str, name: str = "prod-key", public_key: str | None = None):
        public_key = public_key or new_public_key()
        pair = self.state.keypairs.import_key(self.account, REGION, name, public_key, NOW)
        inst = self.model.instances[instance_id]

        def view(iid):
            return InstanceView(
                iid, inst.account_id, inst.region_id, inst.os_family.value == "linux", False, True
            )

        (result,) = self.state.keypairs.attach(self.account, REGION, name, [instance_id], view, NOW)
        assert result.success, result.message
        return pair, public_key

    def input(self, instance_id: str, snapshot=None, events=(), **kw) -> CheckInput:
        kw.setdefault("settings", settings())
        return CheckInput(
            state=self.state,
            instance_id=instance_id,
            snapshot=snapshot,
            events=list(events),
            now=NOW,
            **kw,
        )


@pytest.fixture
def world() -> World:
    return World()


def snapshot(**kw) -> facts_pb2.Snapshot:
    snap = facts_pb2.Snapshot(collected_at_ms=NOW_MS, **kw)
    if "host" not in kw:
        snap.host.os_family = "linux"
    return snap


def listener(port: int, protocol: str = "tcp", address: str = "0.0.0.0", process: str = "x"):
    return facts_pb2.Listener(
        protocol=protocol, family="ipv4", address=address, port=port, process_name=process, pid=100
    )


def authorized_keys_file(user: str, *public_keys: str, path: str | None = None):
    f = facts_pb2.AuthorizedKeysFile(
        user=user,
        path=path or f"/{'root' if user == 'root' else 'home/' + user}/.ssh/authorized_keys",
        exists=True,
    )
    for n, text in enumerate(public_keys, 1):
        k = sshkeys.parse_public_key(text)
        f.keys.add(
            line_number=n,
            key_type=k.key_type,
            key_blob=k.blob_b64,
            comment=k.comment,
            fingerprint_sha256=k.fingerprint_sha256,
            fingerprint_md5=k.fingerprint_md5,
        )
    return f


_EVENT_N = [0]


def login(
    result: str,
    source_ip: str = "203.0.113.7",
    *,
    at: datetime | int = NOW,
    user: str = "root",
    method: str = "password",
    service: str = "sshd",
    pid: int = 0,
    repeat: int = 0,
    key_fingerprint: str = "",
    instance_id: str = "",
    session: str = "",
    attempt: int = facts_pb2.LOGIN_ATTEMPT_UNSPECIFIED,
    forgiven: bool = False,
) -> facts_pb2.Event:
    _EVENT_N[0] += 1
    time_ms = at if isinstance(at, int) else int(at.timestamp() * 1000)
    ev = facts_pb2.Event(event_id=f"ev-{_EVENT_N[0]}", instance_id=instance_id, time_ms=time_ms)
    ev.login.CopyFrom(
        facts_pb2.LoginEvent(
            user=user,
            source_ip=source_ip,
            method=method,
            result=result,
            service=service,
            pid=pid,
            repeat=repeat,
            key_fingerprint=key_fingerprint,
            session=session,
            attempt=attempt,  # type: ignore[arg-type]
            forgiven=forgiven,
        )
    )
    return ev


def history_learned(**kw) -> InstanceHistory:
    """An instance observed for two days."""
    return InstanceHistory(
        learning_since_ms=NOW_MS - int(timedelta(days=2).total_seconds() * 1000), **kw
    )


def ids(findings) -> list[str]:
    return sorted(f.check_id for f in findings)
