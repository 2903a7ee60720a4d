"""DescribeFleetPlan / DescribeSyncPlan (what `palisade apply --dry-run`, `import-ecs --dry-run`
and `sync`'s plan ask the auditor), the key pair binding DescribeInstances answers (what
`instance show` and `keypair verify` read), and those commands without a running auditor."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib

import pytest

from palisade.auditor.api.actions.ecs.plans import pack_params
from palisade.auditor.cli import main as cli
from palisade.auditor.cli.keypairs import key_pair_view
from palisade.auditor.fleetspec.apply import ApiCallError, ApplyResult, Change, apply_fleet
from palisade.auditor.fleetspec.fleet_file import parse_fleet
from palisade.auditor.fleetspec.spec import FleetSpec
from palisade.auditor.model.keypairs.service import binding_view
from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from palisade.auditor.sync.reader import CloudSnapshot, RamSpec
from tests.helpers.in_process_ram import add_instances, user_with_key

R = {"RegionId": "cn-hangzhou"}
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"

FLEET = {
    "region": "cn-hangzhou",
    "regions": ["cn-chengdu"],
    "vpcs": [{"name": "plan-prod", "cidr": "192.168.0.0/16"}],
    "security_groups": [
        {
            "name": "plan-web",
            "vpc": "plan-prod",
            "rules": [
                {"protocol": "tcp", "ports": "443", "cidr": "0.0.0.0/0"},
                {"direction": "egress", "protocol": "all", "cidr": "10.0.0.0/8", "policy": "drop"},
            ],
        }
    ],
    "key_pairs": [{"name": "plan-deploy", "public_key": PUBLIC_KEY}],
    "instances": [
        {
            "name": "plan-web-1",
            "vpc": "plan-prod",
            "private_ip": "192.168.0.10",
            "security_groups": ["plan-web"],
            "key_pair": "plan-deploy",
        }
    ],
}


def _result(body: dict) -> ApplyResult:
    return ApplyResult(
        [Change(c["Action"], c["Resource"], c["Detail"]) for c in body["Changes"]["Change"]],
        body["Notes"]["Note"],
    )


def _version(h) -> int:
    return CloudStateRepository(h.store).version()


def _through(h, credentials=None):
    """`api(action, params)` through the signed pipeline, as `remote_api` calls it."""

    def api(action: str, params: dict[str, str]) -> dict:
        response = h.call(action, credentials, **params)
        if response.status != 200:
            raise ApiCallError(action, response.body["Code"], response.body["Message"])
        return response.body

    return api


def test_the_plan_is_what_the_apply_then_does_and_stores_nothing(h):
    spec = parse_fleet(FLEET)
    version = _version(h)
    plan = _result(h.ok("DescribeFleetPlan", **pack_params("Fleet", spec)))
    assert _version(h) == version  # nothing stored
    assert h.ok("DescribeVpcs", **R, VpcName="plan-prod")["TotalCount"] == 0
    actions = [c.action for c in plan.changes]
    assert actions[:2] == ["AddRegion", "CreateVpc"] and "RunInstances" in actions
    done = apply_fleet(spec, _through(h), h.state.account_id)
    assert done == plan
    # applied: the plan of the same fleet is empty, and the ids it names are the real ones
    assert _result(h.ok("DescribeFleetPlan", **pack_params("Fleet", spec))).changes == []
    (web,) = h.ok("DescribeInstances", **R, InstanceName="plan-web-1")["Instances"]["Instance"]
    assert web["KeyPairName"] == "plan-deploy"


def test_a_running_plan_does_not_hold_up_other_calls(h, monkeypatch):
    # the plan runs on a private copy: the live state is locked only while it is copied, so
    # a write made while a plan runs goes through at once, and the plan never sees it
    import threading

    from palisade.auditor.fleetspec import apply as fleet_apply

    started, release = threading.Event(), threading.Event()
    real = fleet_apply.apply_fleet

    def slow_apply(spec, api, account_id):
        started.set()
        assert release.wait(10)
        return real(spec, api, account_id)

    monkeypatch.setattr(fleet_apply, "apply_fleet", slow_apply)
    spec = parse_fleet(FLEET)
    answers: list = []
    planner = threading.Thread(
        target=lambda: answers.append(h.ok("DescribeFleetPlan", **pack_params("Fleet", spec)))
    )
    planner.start()
    try:
        assert started.wait(30)
        vpc = h.ok("CreateVpc", **R, CidrBlock="10.9.0.0/16", VpcName="made-meanwhile")["VpcId"]
        assert h.ok("DescribeVpcs", **R, VpcId=vpc)["TotalCount"] == 1
    finally:
        release.set()
        planner.join(30)
    plan = _result(answers[0])
    assert plan.changes[:2][1].action == "CreateVpc"  # the plan's own VPC, on its copy
    assert h.ok("DescribeVpcs", **R, VpcName="plan-prod")["TotalCount"] == 0  # nothing stored


def test_a_step_the_caller_may_not_take_fails_the_plan_naming_it(h):
    policy = {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                # ecs:Describe* covers DescribeFleetPlan itself
                "Action": ["ecs:Describe*", "vpc:Describe*", "ecs:AddRegion"],
                "Resource": "*",
            }
        ],
    }
    h.ok("CreatePolicy", PolicyName="planner", PolicyDocument=json.dumps(policy))
    planner = user_with_key(h, "planner", ("Custom", "planner"))
    response = h.call("DescribeFleetPlan", planner, **pack_params("Fleet", parse_fleet(FLEET)))
    assert response.status == 403, response.body
    assert response.body["Code"] == "Forbidden.RAM"
    assert response.body["FailedAction"] == "CreateVpc"
    assert "vpc:CreateVpc" in response.body["Message"]
    # the same refusal as the real step would meet
    with pytest.raises(ApiCallError) as refused:
        apply_fleet(parse_fleet(FLEET), _through(h, planner), h.state.account_id)
    assert (refused.value.action, refused.value.code) == ("CreateVpc", "Forbidden.RAM")
    # without the plan action itself: refused before any step
    nobody = user_with_key(h, "nobody")
    response = h.call("DescribeFleetPlan", nobody, **pack_params("Fleet", parse_fleet(FLEET)))
    assert response.body["Code"] == "Forbidden.RAM" and "FailedAction" not in response.body


def test_a_refused_step_is_the_plans_error_with_its_own_status(h):
    bad = {**FLEET, "instances": [{**FLEET["instances"][0], "private_ip": "10.0.0.1"}]}
    version = _version(h)
    response = h.call("DescribeFleetPlan", **pack_params("Fleet", parse_fleet(bad)))
    assert response.body["Code"] == "InvalidPrivateIpAddress.Mismatch"
    assert response.body["FailedAction"] == "RunInstances"
    assert _version(h) == version


def test_a_plan_input_that_is_not_a_packed_document_is_refused(h):
    def code(**params: str) -> tuple[int, str]:
        status, code, _ = h.error("DescribeFleetPlan", **params)
        return status, code

    assert code() == (400, "MissingParameter")
    assert code(**{"Fleet.1": "not base64 at all!"}) == (400, "InvalidParameter.Fleet")
    packed = base64.urlsafe_b64encode(zlib.compress(b'{"regions": 5}')).decode()
    status, code_, message = h.error("DescribeFleetPlan", **{"Fleet.1": packed})
    assert code_ == "InvalidParameter.Fleet" and "regions" in message
    cut = base64.urlsafe_b64encode(zlib.compress(json.dumps(FLEET).encode())[:20]).decode()
    assert code(**{"Fleet.1": cut}) == (400, "InvalidParameter.Fleet")
    # a small request that inflates past the limit is refused, not inflated
    bomb = base64.urlsafe_b64encode(zlib.compress(b" " * (40 * 1024 * 1024), 9)).decode()
    assert len(bomb) < 64 * 1024
    status, code_, message = h.error("DescribeFleetPlan", **{"Fleet.1": bomb})
    assert code_ == "InvalidParameter.Fleet" and "exceeds" in message


def test_a_large_fleet_travels_in_several_pieces(h):
    """More than one parameter value holds (64 KiB): the pieces Fleet.1, Fleet.2, ... put
    back together (here the spec's warnings, which the plan answers as notes, are what makes
    it large and incompressible)."""
    warnings = tuple(hashlib.sha256(str(n).encode()).hexdigest() for n in range(3000))
    spec = FleetSpec(regions=("cn-chengdu",), warnings=warnings)
    params = pack_params("Fleet", spec)
    assert len(params) > 1 and all(len(v) <= 60_000 for v in params.values())
    plan = _result(h.ok("DescribeFleetPlan", **params))
    assert [c.action for c in plan.changes] == ["AddRegion"]
    assert tuple(plan.notes) == warnings


def test_plan_sync_runs_a_sync_round_on_a_copy(h):
    snapshot = CloudSnapshot(
        account_id="1234",
        fleet=parse_fleet({"region": "cn-hangzhou", "vpcs": [FLEET["vpcs"][0]]}),
        ram=RamSpec(users={"synced": ("Synced", "")}),
    )
    version = _version(h)
    plan = _result(h.ok("DescribeSyncPlan", **pack_params("Snapshot", snapshot)))
    assert {"CreateVpc", "CreateUser"} <= {c.action for c in plan.changes}
    assert _version(h) == version


# -- the key pair binding in DescribeInstances --------------------------------------------------


def _old_instance_key_pair(state, instance_id: str) -> dict:
    """What `instance show` printed when it read the state itself (the view to keep)."""
    view = binding_view(state.keypairs.binding(instance_id))
    inst = state.cloud.instances[instance_id]
    for which in ("active", "pending"):
        if view[which] is not None:
            key = (inst.account_id, inst.region_id, view[which]["name"])
            view[which]["deleted"] = key not in state.keypairs.pairs
    return view


def _described(h, instance_id: str) -> dict:
    found = h.ok("DescribeInstances", **R, InstanceIds=json.dumps([instance_id]))
    (instance,) = found["Instances"]["Instance"]
    return instance


def test_describe_instances_answers_the_key_pair_binding_instance_show_prints(h):
    add_instances(h)
    assert key_pair_view(_described(h, "i-vpc1")) == _old_instance_key_pair(h.state, "i-vpc1")
    assert key_pair_view(_described(h, "i-vpc1"))["status"] == "none"
    h.ok("ImportKeyPair", **R, KeyPairName="first", PublicKeyBody=PUBLIC_KEY)
    h.ok("AttachKeyPair", **R, KeyPairName="first", InstanceIds='["i-vpc1"]')
    described = _described(h, "i-vpc1")
    assert described["KeyPairName"] == "first"
    view = key_pair_view(described)
    assert view == _old_instance_key_pair(h.state, "i-vpc1")
    bound = view["pending"] or view["active"]
    assert bound["name"] == "first" and bound["deleted"] is False
    h.ok("DeleteKeyPairs", **R, KeyPairNames='["first"]')
    view = key_pair_view(_described(h, "i-vpc1"))
    assert view == _old_instance_key_pair(h.state, "i-vpc1")
    assert (view["pending"] or view["active"])["deleted"] is True
    # every NIC's addresses, as the official answer's PrivateIpSets
    nic = _described(h, "i-vpc2")["NetworkInterfaces"]["NetworkInterface"][0]
    assert nic["PrivateIpSets"]["PrivateIpSet"] == [
        {"PrivateIpAddress": "172.16.0.11", "Primary": True}
    ]


# -- the commands without an auditor -------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "stream", "rc"),
    [
        (["instances"], "err", 1),
        (["instances", "--json"], "err", 1),
        (["instance", "show", "i-x"], "err", 1),
        (["apply", "--dry-run", "FLEET"], "out", 1),
        (["apply", "FLEET"], "out", 1),
        (["import-ecs", "--dry-run", "ECS"], "out", 1),
    ],
)
def test_without_a_running_auditor_the_commands_say_so(tmp_path, capsys, args, stream, rc):
    fleet = tmp_path / "fleet.json"
    fleet.write_text(json.dumps(FLEET))
    ecs = tmp_path / "groups.json"
    ecs.write_text(json.dumps({"SecurityGroups": {"SecurityGroup": []}}))
    args = [str(fleet) if a == "FLEET" else str(ecs) if a == "ECS" else a for a in args]
    data = tmp_path / "data"
    data.mkdir()
    assert cli.main([*args, "--data-dir", str(data)]) == rc
    out, err = capsys.readouterr()
    body = json.loads(out if stream == "out" else err)
    assert body["Code"] == "AuditorNotFound" and "auditor.json" in body["Message"]


def test_keypair_verify_without_a_running_auditor_says_so(tmp_path, capsys):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = tmp_path / "key"
    key.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    data = tmp_path / "data"
    data.mkdir()
    rc = cli.main(
        ["keypair", "verify", "--instance", "i-x", "--key", str(key), "--data-dir", str(data)]
    )
    out, err = capsys.readouterr()
    assert rc == 2 and not out
    assert err.startswith("error: AuditorNotFound: ") and "Traceback" not in err
