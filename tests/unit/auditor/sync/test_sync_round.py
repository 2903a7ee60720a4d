"""One sync round on the in-process API (`local_api` over a CloudState): the cloud's snapshot
made true, a second round changes nothing, what the cloud has not is removed, RAM is copied;
the watch loop; the metadata role's URI."""

from __future__ import annotations

import http.server
import threading
import urllib.parse
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from palisade.auditor.fleetspec.apply import ApplyResult, Change, local_api
from palisade.auditor.fleetspec.spec import (
    FleetSpec,
    GroupSpec,
    InstanceSpec,
    KeyPairSpec,
    RuleSpec,
    VpcSpec,
)
from palisade.auditor.model.cloud_state import CloudState
from palisade.auditor.sync.credentials import ROLE_PATH, CredentialsError, metadata_role_uri
from palisade.auditor.sync.reader import CloudSnapshot, RamPolicySpec, RamRoleSpec, RamSpec
from palisade.auditor.sync.run import sync_once, watch
from tests.helpers.ram_policies import ECS_TRUST, policy

NOW = datetime(2026, 1, 1, tzinfo=UTC)
REGION = "cn-hangzhou"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHd2Jd3l7gqYpJq2fFQm7o8m0n9cY8z3J0n0o8c0bq4s test"
READ = policy({"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"})


def _snapshot(port: str = "22") -> CloudSnapshot:
    fleet = FleetSpec(
        regions=(REGION,),
        vpcs=(VpcSpec("prod", REGION, "10.0.0.0/8", "vpc-cloud1"),),
        groups=(
            GroupSpec(
                "web",
                REGION,
                "vpc-cloud1",
                rules=(RuleSpec("tcp", f"{port}/{port}", cidr="10.1.0.0/16"),),
                group_id="sg-cloud1",
            ),
        ),
        key_pairs=(KeyPairSpec("deploy", REGION, KEY),),
        instances=(
            InstanceSpec(
                "web-1",
                REGION,
                "10.0.0.5",
                vpc="vpc-cloud1",
                public_ip="47.0.0.5",
                security_groups=("sg-cloud1",),
                key_pair="deploy",
                ram_role="web",
                instance_id="i-cloud1",
            ),
        ),
    )
    ram = RamSpec(
        users={"alice": ("Alice", "ops")},
        groups={"ops": ""},
        members=frozenset({("ops", "alice")}),
        policies={"read": RamPolicySpec("read", READ)},
        roles={"web": RamRoleSpec("web", ECS_TRUST)},
        attachments=frozenset(
            {("Group", "ops", "Custom", "read"), ("Role", "web", "Custom", "read")}
        ),
    )
    return CloudSnapshot("1000", fleet, ram)


def _actions(result: ApplyResult) -> list[str]:
    return [c.action for c in result.changes]


def test_a_round_copies_the_snapshot_and_a_second_changes_nothing():
    state, _ = CloudState.create(NOW)
    api = local_api(state, NOW)
    first = sync_once(_snapshot(), api, state.account_id)
    assert {"CreateVpc", "CreateSecurityGroup", "Authorize", "ImportKeyPair", "RunInstances",
            "CreateUser", "CreateGroup", "AddUserToGroup", "CreatePolicy", "CreateRole",
            "AttachPolicyToGroup", "AttachPolicyToRole"} <= set(_actions(first))  # fmt: skip
    instance = state.cloud.instances["i-cloud1"]
    assert instance.nics[0].security_group_ids == ["sg-cloud1"]
    assert state.instance_roles.role_of("i-cloud1") == "web"
    assert sync_once(_snapshot(), api, state.account_id).changes == []

    changed = sync_once(_snapshot(port="2222"), api, state.account_id)
    assert [(c.action, c.resource) for c in changed.changes] == [
        ("Revoke", "sg-cloud1"),
        ("Authorize", "sg-cloud1"),
    ]


def test_what_the_cloud_has_not_is_removed():
    state, _ = CloudState.create(NOW)
    api = local_api(state, NOW)
    sync_once(_snapshot(), api, state.account_id)
    api("CreateVpc", {"RegionId": REGION, "CidrBlock": "192.168.0.0/16", "VpcId": "vpc-old"})
    api("CreateSecurityGroup", {"RegionId": REGION, "VpcId": "vpc-old", "SecurityGroupId": "sg-o"})
    removed = sync_once(_snapshot(), api, state.account_id)
    assert [(c.action, c.resource) for c in removed.changes] == [
        ("DeleteSecurityGroup", "sg-o"),
        ("DeleteVpc", "vpc-old"),
    ]
    # RAM the cloud has not is kept, with a note
    api("CreateUser", {"UserName": "operator"})
    kept = sync_once(_snapshot(), api, state.account_id)
    assert kept.changes == [] and "RAM user operator is not in the cloud (kept)" in kept.notes


def test_watch_reports_each_round_and_sleeps_between():
    slept: list[float] = []
    seen: list[tuple[int, int]] = []
    results = iter([ApplyResult(), ApplyResult([Change("Authorize", "sg-1")]), ApplyResult()])
    watch(lambda: next(results), 30, lambda n, r: seen.append((n, len(r.changes))), 3, slept.append)
    assert seen == [(0, 0), (1, 1), (2, 0)] and slept == [30, 30]


class _Metadata(http.server.BaseHTTPRequestHandler):
    role = ""

    def do_GET(self):
        body = self.role.encode() if self.path == ROLE_PATH else b""
        self.send_response(200 if self.path == ROLE_PATH and self.role else 404)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def metadata_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Metadata)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@settings(max_examples=60, deadline=None)
@given(role=st.text(min_size=1, max_size=40).filter(lambda r: r.strip() and "\n" not in r))
def test_a_role_name_from_the_metadata_endpoint_stays_in_the_role_path(metadata_server, role):
    _Metadata.role = role
    try:
        uri = metadata_role_uri(metadata_server)
    except CredentialsError:
        return  # text an HTTP answer cannot carry, or blank once stripped
    parts = urllib.parse.urlsplit(uri)
    assert parts.netloc == metadata_server and not parts.query and not parts.fragment
    assert parts.path.startswith(ROLE_PATH) and "/" not in parts.path[len(ROLE_PATH) :]


def test_no_role_at_the_metadata_endpoint_is_a_clear_error(metadata_server):
    _Metadata.role = ""
    with pytest.raises(CredentialsError, match="instance metadata at"):
        metadata_role_uri(metadata_server)
