"""One sync round on the in-process API (`local_api` over a CloudState): the cloud's snapshot
made true, a second round changes nothing, what the cloud has not is removed, RAM is copied;
vSwitches copied exactly; what the cloud detached is detached; the watch loop; the metadata
role's URI."""

from __future__ import annotations

import http.server
import threading
import urllib.parse
from dataclasses import replace
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
    VSwitchSpec,
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


def _with_vswitches(snapshot: CloudSnapshot, *vswitches: VSwitchSpec, on: str | None = None):
    fleet = snapshot.fleet
    instances = tuple(replace(i, vswitch=on) for i in fleet.instances)
    return replace(snapshot, fleet=replace(fleet, vswitches=vswitches, instances=instances))


SW_H = VSwitchSpec("web-h", REGION, "vpc-cloud1", "cn-hangzhou-h", "10.0.0.0/24", "web",
                   "vsw-cloudh")  # fmt: skip
SW_I = VSwitchSpec("", REGION, "vpc-cloud1", "cn-hangzhou-i", "10.0.1.0/24", "", "vsw-cloudi")


def _vswitches(state) -> dict:
    return {
        s.vswitch_id: (s.vpc_id, s.zone_id, s.cidr, s.name, s.description)
        for s in state.cloud.vswitches.values()
    }


def test_vswitches_are_copied_exactly_and_instances_keep_theirs():
    state, _ = CloudState.create(NOW)
    api = local_api(state, NOW)
    first = sync_once(_with_vswitches(_snapshot(), SW_H, SW_I, on="vsw-cloudh"), api, "1")
    assert ("CreateVSwitch", "vsw-cloudh") in [(c.action, c.resource) for c in first.changes]
    assert _vswitches(state) == {
        "vsw-cloudh": ("vpc-cloud1", "cn-hangzhou-h", "10.0.0.0/24", "web-h", "web"),
        "vsw-cloudi": ("vpc-cloud1", "cn-hangzhou-i", "10.0.1.0/24", "", ""),
    }
    instance = state.cloud.instances["i-cloud1"]
    assert (instance.vswitch_id, instance.zone_id) == ("vsw-cloudh", "cn-hangzhou-h")
    assert instance.nics[0].private_ips == ["10.0.0.5"]
    again = sync_once(_with_vswitches(_snapshot(), SW_H, SW_I, on="vsw-cloudh"), api, "1")
    assert again.changes == [] and not [n for n in again.notes if "vsw" in n]

    # the cloud renames one; the name and description follow
    renamed = replace(SW_H, name="web-h2", description="")
    changed = sync_once(_with_vswitches(_snapshot(), renamed, SW_I, on="vsw-cloudh"), api, "1")
    assert [(c.action, c.resource, c.detail) for c in changed.changes] == [
        ("ModifyVSwitchAttribute", "vsw-cloudh", "VSwitchName, Description")
    ]
    assert _vswitches(state)["vsw-cloudh"][3:] == ("web-h2", "")


def test_a_vswitch_the_cloud_deleted_goes_after_its_instances():
    state, _ = CloudState.create(NOW)
    api = local_api(state, NOW)
    sync_once(_with_vswitches(_snapshot(), SW_H, SW_I, on="vsw-cloudh"), api, "1")
    # the cloud deletes the instance and its vSwitch, and makes a new one with the same block
    snapshot = _with_vswitches(_snapshot(), replace(SW_H, vswitch_id="vsw-cloudnew"), SW_I)
    snapshot = replace(snapshot, fleet=replace(snapshot.fleet, instances=()))
    done = sync_once(snapshot, api, "1")
    steps = [(c.action, c.resource) for c in done.changes]
    assert steps[:3] == [
        ("DeleteInstance", "i-cloud1"),
        ("DeleteVSwitch", "vsw-cloudh"),
        ("CreateVSwitch", "vsw-cloudnew"),
    ]
    assert set(_vswitches(state)) == {"vsw-cloudnew", "vsw-cloudi"}
    assert sync_once(snapshot, api, "1").changes == []


def test_what_the_cloud_detached_is_detached_and_ram_changes_are_mirrored():
    state, _ = CloudState.create(NOW)
    api = local_api(state, NOW)
    sync_once(_snapshot(), api, state.account_id)
    assert state.instance_roles.role_of("i-cloud1") == "web"
    snapshot = _snapshot()
    (instance,) = snapshot.fleet.instances
    ram = snapshot.ram
    trust = ECS_TRUST.replace("ecs.aliyuncs.com", "fc.aliyuncs.com")
    changed = replace(
        snapshot,
        fleet=replace(snapshot.fleet, instances=(replace(instance, key_pair=None, ram_role=None),)),
        ram=replace(
            ram,
            members=frozenset(),
            attachments=frozenset({("Role", "web", "Custom", "read")}),
            roles={"web": RamRoleSpec("web", trust, "now for FC")},
            policies={"read": RamPolicySpec("read", READ.replace("Describe*", "DescribeRegions"))},
        ),
    )
    plan = sync_once(changed, local_api(_copy(state), NOW), state.account_id)  # the dry run
    done = sync_once(changed, api, state.account_id)
    assert [str(c) for c in plan.changes] == [str(c) for c in done.changes]
    assert {(c.action, c.resource, c.detail) for c in done.changes} == {
        ("CreatePolicyVersion", "read", "the cloud's document is the default"),
        ("UpdateRole", "web", "trust policy, description"),
        ("RemoveUserFromGroup", "alice", "ops"),
        ("DetachPolicyFromGroup", "ops", "Custom:read"),
        ("DetachKeyPair", "i-cloud1", "deploy"),
        ("DetachInstanceRamRole", "i-cloud1", "web"),
    }
    assert state.instance_roles.role_of("i-cloud1") is None
    assert state.ram.roles["web"].assume_role_policy_document == trust
    assert api("ListPoliciesForGroup", {"GroupName": "ops"})["Policies"]["Policy"] == []
    assert api("ListGroupsForUser", {"UserName": "alice"})["Groups"]["Group"] == []
    # the instance runs: its key pair's detach waits for a restart, and is not asked again
    assert sync_once(changed, api, state.account_id).changes == []


def _copy(state: CloudState) -> CloudState:
    return CloudState.from_document(state.to_document())


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
