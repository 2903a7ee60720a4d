"""Every key-pair rule through `palisade api` against a real auditor, with its error code."""

from __future__ import annotations

import base64
import json
import subprocess
import time
import uuid

import pytest

from palisade.agent import enrolment
from palisade.shared import sshkeys
from tests.helpers.auditor_process import start_auditor
from tests.helpers.keypair_auditor import (
    OTHER_REGION,
    add_test_instances,
    api,
    edit_state,
    error_code,
    ok,
    read_state,
    report,
    snapshot_message,
)
from tests.helpers.system import require_binary

pytestmark = pytest.mark.integration
R = {"RegionId": "cn-hangzhou"}


@pytest.fixture(scope="module")
def kp(tmp_path_factory):
    proc = start_auditor(tmp_path_factory.mktemp("keypairs") / "auditor")
    add_test_instances(proc)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """Public keys made by ssh-keygen: name -> (line, md5 fingerprint as ssh-keygen prints)."""
    keygen = require_binary("ssh-keygen")
    d = tmp_path_factory.mktemp("keys")
    out = {}
    for name, args in {
        "ed25519": ["-t", "ed25519"],
        "rsa": ["-t", "rsa", "-b", "2048"],
        "ecdsa256": ["-t", "ecdsa", "-b", "256"],
        "ecdsa384": ["-t", "ecdsa", "-b", "384"],
        "ecdsa521": ["-t", "ecdsa", "-b", "521"],
        "ca": ["-t", "ed25519"],
    }.items():
        subprocess.run([keygen, "-q", *args, "-N", "", "-C", name, "-f", str(d / name)], check=True)
    subprocess.run(  # an OpenSSH user certificate for the RSA key
        [keygen, "-q", "-s", str(d / "ca"), "-I", "kp", "-n", "root", str(d / "rsa.pub")],
        check=True,
    )
    for name in ("ed25519", "rsa", "ecdsa256", "ecdsa384", "ecdsa521", "rsa-cert"):
        line = (d / f"{name}.pub").read_text().strip()
        printed = subprocess.run(
            [keygen, "-l", "-E", "md5", "-f", str(d / f"{name}.pub")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[1]
        out[name] = (line, printed.removeprefix("MD5:"))
    out["_private_rsa"] = ((d / "rsa").read_text(), "")
    return out


def _name(prefix: str = "kp") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _binding(auditor, instance_id: str) -> dict:
    from palisade.auditor.cli.keypairs import instance_key_pair
    from palisade.auditor.server.serve import DataDir

    return instance_key_pair(DataDir(auditor.data_dir), instance_id)


# -- CreateKeyPair ---------------------------------------------------------------------------


def test_create_returns_a_pkcs8_rsa_2048_key_once_and_keeps_only_the_public_key(kp, tmp_path):
    name = _name()
    body = ok(kp, "CreateKeyPair", KeyPairName=name, **R)
    assert body["KeyPairName"] == name
    pem = body["PrivateKeyBody"]
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8, unencrypted
    key_file = tmp_path / "key.pem"
    key_file.write_text(pem)
    public_line = kp.cli("keypair", "pubkey", str(key_file)).stdout.strip()
    public = sshkeys.parse_public_key(public_line)
    assert (public.key_type, public.bits) == ("ssh-rsa", 2048)
    assert body["KeyPairFingerPrint"] == public.fingerprint_md5
    listed = ok(kp, "DescribeKeyPairs", KeyPairName=name, **R)["KeyPairs"]["KeyPair"]
    assert [(k["KeyPairName"], k["KeyPairFingerPrint"]) for k in listed] == [
        (name, public.fingerprint_md5)
    ]
    assert listed[0]["PublicKey"] == public_line
    # nothing of the private key in the database (state document, audit log)
    secret_part = "".join(pem.splitlines()[5:8])
    assert secret_part.encode() not in (kp.data_dir / "palisade.db").read_bytes()
    wal = kp.data_dir / "palisade.db-wal"
    assert not wal.exists() or secret_part.encode() not in wal.read_bytes()


def test_names_are_unique(kp):
    name = _name()
    ok(kp, "CreateKeyPair", KeyPairName=name, **R)
    assert error_code(kp, "CreateKeyPair", KeyPairName=name, **R) == "KeyPair.AlreadyExist"


@pytest.mark.parametrize(
    "bad",
    [
        "a",
        "1starts-with-digit",
        "http://x",
        "https://x.y",
        "has space",
        "x" * 129,
        "semi;colon",
        "-dash",
    ],
)
def test_names_are_validated_as_ecs_does(kp, keys, bad):
    assert error_code(kp, "CreateKeyPair", KeyPairName=bad, **R) == "InvalidKeyPairName.Malformed"
    line = keys["ed25519"][0]
    code = error_code(kp, "ImportKeyPair", KeyPairName=bad, PublicKeyBody=line, **R)
    assert code == "InvalidKeyPairName.Malformed"


@pytest.mark.parametrize("good", ["ab", "密钥对-1", "A.b_c-d:e9", "x" * 128])
def test_valid_names_are_accepted(kp, good):
    suffix = uuid.uuid4().hex[:6]
    name = good[: 128 - len(suffix)] + suffix if len(good) > 100 else good + suffix
    assert ok(kp, "CreateKeyPair", KeyPairName=name, **R)["KeyPairName"] == name


def test_region_is_required_and_must_exist(kp):
    assert error_code(kp, "CreateKeyPair", KeyPairName=_name()) == "MissingParameter"
    code = error_code(kp, "CreateKeyPair", KeyPairName=_name(), RegionId="xx-nowhere")
    assert code == "InvalidRegionId.NotFound"


# -- ImportKeyPair -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ed25519", "rsa", "ecdsa256", "ecdsa384", "ecdsa521", "rsa-cert"])
def test_import_accepts_the_types_with_ssh_keygens_md5_fingerprint(kp, keys, kind):
    line, md5 = keys[kind]
    name = _name(kind)
    body = ok(kp, "ImportKeyPair", KeyPairName=name, PublicKeyBody=line, **R)
    assert body == {"KeyPairName": name, "KeyPairFingerPrint": md5, "RequestId": body["RequestId"]}


@pytest.mark.parametrize("alias,kind", [("rsa", "rsa"), ("ecdsa", "ecdsa384")])
def test_import_accepts_the_ecs_guides_short_type_names(kp, keys, alias, kind):
    line, md5 = keys[kind]
    aliased = alias + " " + line.split(" ", 1)[1]
    body = ok(kp, "ImportKeyPair", KeyPairName=_name(), PublicKeyBody=aliased, **R)
    assert body["KeyPairFingerPrint"] == md5


def test_import_refuses_a_private_key(kp, keys):
    private = keys["_private_rsa"][0]
    code = error_code(kp, "ImportKeyPair", KeyPairName=_name(), PublicKeyBody=private, **R)
    assert code == "InvalidKeyPair.PrivateKeyNotAllowed"


def test_import_refuses_malformed_base64(kp, keys):
    kind, data = keys["ed25519"][0].split()[:2]
    body = f"{kind} {data[:20]}!!{data[22:]}"
    code = error_code(kp, "ImportKeyPair", KeyPairName=_name(), PublicKeyBody=body, **R)
    assert code == "InvalidPublicKeyBody.Malformed"


def test_import_refuses_a_type_body_mismatch(kp, keys):
    data = keys["ed25519"][0].split()[1]
    code = error_code(
        kp, "ImportKeyPair", KeyPairName=_name(), PublicKeyBody=f"ssh-rsa {data}", **R
    )
    assert code == "InvalidPublicKeyBody.TypeMismatch"


def test_import_refuses_a_truncated_key(kp, keys):
    kind, data = keys["rsa"][0].split()[:2]
    blob = base64.b64decode(data)
    truncated = base64.b64encode(blob[: len(blob) - 40]).decode()
    rc, body = api(
        kp, "ImportKeyPair", KeyPairName=_name(), PublicKeyBody=f"{kind} {truncated}", **R
    )
    assert rc == 1 and body["Code"] == "InvalidPublicKeyBody.Malformed"
    assert "truncated" in body["Message"]


def test_import_refuses_unsupported_types(kp):
    body = "sk-ssh-ed25519@openssh.com AAAA"
    code = error_code(kp, "ImportKeyPair", KeyPairName=_name(), PublicKeyBody=body, **R)
    assert code == "InvalidPublicKeyBody.KeyTypeNotSupported"


def test_a_refused_import_stores_nothing(kp):
    name = _name()
    error_code(kp, "ImportKeyPair", KeyPairName=name, PublicKeyBody="ssh-ed25519 AAAA", **R)
    assert ok(kp, "DescribeKeyPairs", KeyPairName=name, **R)["TotalCount"] == 0


# -- quota ---------------------------------------------------------------------------------------


def test_key_pairs_per_account_per_region_are_limited(auditor, keys):
    """The quota is a setting (500 by default); here it is lowered to 2 in the stored state."""
    import dataclasses

    add_test_instances(auditor)

    def lower(state):
        state.keypairs.limits = dataclasses.replace(state.keypairs.limits, key_pairs_per_region=2)

    edit_state(auditor, lower)
    assert read_state(auditor).keypairs.limits.key_pairs_per_region == 2
    ok(auditor, "CreateKeyPair", KeyPairName="one", **R)
    ok(auditor, "ImportKeyPair", KeyPairName="two", PublicKeyBody=keys["ed25519"][0], **R)
    assert error_code(auditor, "CreateKeyPair", KeyPairName="three", **R) == "QuotaExceed.KeyPair"
    line = keys["rsa"][0]
    code = error_code(auditor, "ImportKeyPair", KeyPairName="three", PublicKeyBody=line, **R)
    assert code == "QuotaExceed.KeyPair"
    ok(auditor, "CreateKeyPair", KeyPairName="three", RegionId=OTHER_REGION)  # per region
    ok(auditor, "DeleteKeyPairs", KeyPairNames='["one"]', **R)
    ok(auditor, "CreateKeyPair", KeyPairName="three", **R)


def test_the_default_quota_is_500(kp):
    assert read_state(kp).keypairs.limits.key_pairs_per_region == 500


# -- DescribeKeyPairs ---------------------------------------------------------------------------


def test_describe_filters_by_name_wildcard_and_fingerprint_and_pages(kp, keys):
    prefix = f"web{uuid.uuid4().hex[:6]}"
    for i in range(5):
        ok(kp, "CreateKeyPair", KeyPairName=f"{prefix}-{i}", **R)
    ok(kp, "ImportKeyPair", KeyPairName=f"{prefix}x", PublicKeyBody=keys["ecdsa256"][0], **R)
    every = ok(kp, "DescribeKeyPairs", KeyPairName=f"{prefix}*", PageSize="50", **R)
    assert every["TotalCount"] == 6
    star = ok(kp, "DescribeKeyPairs", KeyPairName=f"{prefix}-*", PageSize="2", PageNumber="2", **R)
    assert star["TotalCount"] == 5 and (star["PageNumber"], star["PageSize"]) == (2, 2)
    assert [k["KeyPairName"] for k in star["KeyPairs"]["KeyPair"]] == [
        f"{prefix}-2",
        f"{prefix}-3",
    ]
    exact = ok(kp, "DescribeKeyPairs", KeyPairName=f"{prefix}-1", **R)
    assert [k["KeyPairName"] for k in exact["KeyPairs"]["KeyPair"]] == [f"{prefix}-1"]
    by_fp = ok(kp, "DescribeKeyPairs", KeyPairFingerPrint=keys["ecdsa256"][1], **R)
    assert f"{prefix}x" in [k["KeyPairName"] for k in by_fp["KeyPairs"]["KeyPair"]]
    assert error_code(kp, "DescribeKeyPairs", PageSize="51", **R) == "InvalidParameter.PageSize"
    other = ok(kp, "DescribeKeyPairs", KeyPairName=f"{prefix}*", RegionId=OTHER_REGION)
    assert other["TotalCount"] == 0


# -- AttachKeyPair / DetachKeyPair ----------------------------------------------------------------


def _results(body: dict) -> dict[str, tuple[str, str]]:
    return {r["InstanceId"]: (r["Code"], r["Success"]) for r in body["Results"]["Result"]}


def test_attach_answers_per_instance_linux_only(kp):
    name = _name()
    ok(kp, "CreateKeyPair", KeyPairName=name, **R)
    body = ok(
        kp,
        "AttachKeyPair",
        KeyPairName=name,
        InstanceIds=json.dumps(["i-stop2", "i-win1", "i-nope", "i-far1"]),
        **R,
    )
    assert (body["TotalCount"], body["FailCount"]) == ("4", "3")
    assert _results(body) == {
        "i-stop2": ("200", "true"),
        "i-win1": ("DependencyViolation.WindowsInstance", "false"),
        "i-nope": ("InvalidInstanceId.NotFound", "false"),
        "i-far1": ("InvalidInstanceId.NotFound", "false"),  # another region
    }
    assert _binding(kp, "i-win1")["status"] == "none"


def test_attach_to_a_stopped_instance_is_effective_at_once_and_disables_passwords(kp):
    first, second = _name(), _name()
    fp = {}
    for name in (first, second):
        fp[name] = ok(kp, "CreateKeyPair", KeyPairName=name, **R)["KeyPairFingerPrint"]
    assert _binding(kp, "i-stop1")["password_login_enabled"] is True
    ok(kp, "AttachKeyPair", KeyPairName=first, **{"InstanceIds.1": "i-stop1"}, **R)
    b = _binding(kp, "i-stop1")
    assert b["status"] == "active" and b["active"]["name"] == first
    assert b["active"]["fingerprint"] == fp[first]
    assert b["password_login_enabled"] is False
    ok(kp, "AttachKeyPair", KeyPairName=second, InstanceIds='["i-stop1"]', **R)  # replaces
    assert _binding(kp, "i-stop1")["active"]["name"] == second
    ok(kp, "DetachKeyPair", KeyPairName=second, InstanceIds='["i-stop1"]', **R)
    b = _binding(kp, "i-stop1")
    assert b["status"] == "none" and b["active"] is None
    assert b["password_login_enabled"] is False  # unbinding does not bring passwords back


def test_attach_to_a_running_instance_is_pending_until_restart(kp):
    name = _name()
    ok(kp, "CreateKeyPair", KeyPairName=name, **R)
    ok(kp, "AttachKeyPair", KeyPairName=name, InstanceIds='["i-run2"]', **R)
    b = _binding(kp, "i-run2")
    assert b["status"] == "pending" and b["active"] is None and b["pending"]["name"] == name
    assert b["password_login_enabled"] is True  # not until the restart
    # a detach of the pending key pair is pending too, and detaching another name is refused
    body = ok(kp, "DetachKeyPair", KeyPairName=_name(), InstanceIds='["i-run2"]', **R)
    assert _results(body) == {"i-run2": ("InvalidKeyPairName.NotAttached", "false")}
    ok(kp, "DetachKeyPair", KeyPairName=name, InstanceIds='["i-run2"]', **R)
    b = _binding(kp, "i-run2")
    assert b["status"] == "none" and b["pending"] is None


def test_attach_and_detach_take_at_most_50_instances(kp):
    name = _name()
    ok(kp, "CreateKeyPair", KeyPairName=name, **R)
    ids = json.dumps([f"i-x{n}" for n in range(51)])
    for verb in ("AttachKeyPair", "DetachKeyPair"):
        code = error_code(kp, verb, KeyPairName=name, InstanceIds=ids, **R)
        assert code == "InvalidParameter.InstanceIds"
    fifty = json.dumps([f"i-x{n}" for n in range(50)])
    body = ok(kp, "AttachKeyPair", KeyPairName=name, InstanceIds=fifty, **R)
    assert body["TotalCount"] == "50"


def test_attach_needs_an_existing_key_pair(kp):
    code = error_code(kp, "AttachKeyPair", KeyPairName=_name(), InstanceIds='["i-stop2"]', **R)
    assert code == "InvalidKeyPairName.NotFound"


# -- DeleteKeyPairs -----------------------------------------------------------------------------


def test_deleting_a_bound_key_pair_keeps_its_name_on_the_instance_and_retires_the_name(kp):
    bound, unbound = _name("bound"), _name("free")
    ok(kp, "CreateKeyPair", KeyPairName=bound, **R)
    ok(kp, "CreateKeyPair", KeyPairName=unbound, **R)
    ok(kp, "AttachKeyPair", KeyPairName=bound, InstanceIds='["i-stop2"]', **R)
    ok(kp, "DeleteKeyPairs", KeyPairNames=json.dumps([bound, unbound]), **R)
    assert ok(kp, "DescribeKeyPairs", KeyPairName=bound, **R)["TotalCount"] == 0
    b = _binding(kp, "i-stop2")
    assert b["active"]["name"] == bound and b["active"]["deleted"] is True
    assert error_code(kp, "CreateKeyPair", KeyPairName=bound, **R) == "InvalidKeyPairName.Retired"
    ok(kp, "CreateKeyPair", KeyPairName=unbound, **R)  # an unbound name can be used again
    # still detachable by its name, and still retired afterwards
    ok(kp, "DetachKeyPair", KeyPairName=bound, InstanceIds='["i-stop2"]', **R)
    assert error_code(kp, "CreateKeyPair", KeyPairName=bound, **R) == "InvalidKeyPairName.Retired"


def test_delete_is_all_or_nothing_and_takes_at_most_100_names(kp):
    name = _name()
    ok(kp, "CreateKeyPair", KeyPairName=name, **R)
    code = error_code(kp, "DeleteKeyPairs", KeyPairNames=json.dumps([name, _name()]), **R)
    assert code == "InvalidKeyPairName.NotFound"
    assert ok(kp, "DescribeKeyPairs", KeyPairName=name, **R)["TotalCount"] == 1
    many = json.dumps([name] + [f"n{n:03d}x" for n in range(100)])
    assert (
        error_code(kp, "DeleteKeyPairs", KeyPairNames=many, **R) == "InvalidParameter.KeyPairNames"
    )
    assert error_code(kp, "DeleteKeyPairs", **R) == "MissingParameter.KeyPairNames"


def test_every_change_is_in_the_audit_log(kp):
    from palisade.auditor.store.cloud_state_repository import CloudStateRepository
    from palisade.auditor.store.database import Database, sqlite_url

    name = _name()
    ok(kp, "CreateKeyPair", KeyPairName=name, **R)
    store = Database(sqlite_url(kp.data_dir))
    try:
        rows = CloudStateRepository(store).audit_log(limit=500)
    finally:
        store.close()
    (row,) = [r for r in rows if r.resource.endswith(f":keypair/{name}")]
    assert (row.action, row.actor) == ("CreateKeyPair", "user/admin")
    assert row.resource == f"acs:ecs:cn-hangzhou:{read_state(kp).account_id}:keypair/{name}"
    assert "PRIVATE" not in json.dumps(row.after)


# -- restart: the agent reports a new boot time ----------------------------------------------


def test_a_pending_change_takes_effect_when_the_agent_reports_a_restart(kp, tmp_path):
    agent = enrolment.enroll(
        tmp_path / "agent", [kp.grpc], kp.token("i-run1"), enroll_address=kp.enroll
    )
    now = int(time.time())
    report(kp, agent, snapshot_message("i-run1", now - 7200))
    name = _name()
    fingerprint = ok(kp, "CreateKeyPair", KeyPairName=name, **R)["KeyPairFingerPrint"]
    ok(kp, "AttachKeyPair", KeyPairName=name, InstanceIds='["i-run1"]', **R)
    # a boot from before the request, reported late, changes nothing
    report(kp, agent, snapshot_message("i-run1", now - 3600))
    view = kp.cli_json("instance", "show", "i-run1")
    assert view["key_pair"]["status"] == "pending"
    assert view["key_pair"]["pending"] == {
        "name": name,
        "fingerprint": fingerprint,
        "deleted": False,
    }
    # the restart after the request activates it, and disables password login
    report(kp, agent, snapshot_message("i-run1", int(time.time()) + 1))
    view = kp.cli_json("instance", "show", "i-run1")
    assert view["key_pair"]["status"] == "active"
    assert view["key_pair"]["active"]["name"] == name
    assert view["key_pair"]["password_login_enabled"] is False
    # the data the cross-checks need sits together
    assert view["sshd"]["password_authentication"] is False
    assert view["sshd"]["authorized_keys_file"] == [".ssh/authorized_keys"]
    assert view["authorized_keys"][0]["path"] == "/root/.ssh/a"
    from palisade.auditor.store.cloud_state_repository import CloudStateRepository
    from palisade.auditor.store.database import Database, sqlite_url

    store = Database(sqlite_url(kp.data_dir))
    try:
        rows = CloudStateRepository(store).audit_log(limit=50, resource=None)
    finally:
        store.close()
    system = [r for r in rows if r.actor == "system"]
    assert system and system[0].action == "InstanceRestarted"
    assert system[0].resource.endswith(":instance/i-run1")
    # a pending detach, then a restart: no key pair any more (password login stays off)
    ok(kp, "DetachKeyPair", KeyPairName=name, InstanceIds='["i-run1"]', **R)
    assert kp.cli_json("instance", "show", "i-run1")["key_pair"]["pending_detach"] is True
    report(kp, agent, snapshot_message("i-run1", int(time.time()) + 2))
    kp_view = kp.cli_json("instance", "show", "i-run1")["key_pair"]
    assert kp_view["status"] == "none" and kp_view["active"] is None
    assert kp_view["password_login_enabled"] is False
