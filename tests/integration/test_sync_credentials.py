"""`palisade sync`'s credentials other than the environment, through the real processes: an
aliyun CLI profile (~/.aliyun/config.json as the CLI writes it), and the instance's RAM role
served by a real `palisade-agent run` on its metadata endpoint (agent/metadata.py). A small
cloud (another `palisade serve`) is read; the dry run's plan shows it was."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from palisade.auditor.api.client import Credentials
from palisade.auditor.model.cloud_state import DEFAULT_REGION
from tests.helpers.agent_enrollment import enroll_agent
from tests.helpers.auditor_process import start_auditor
from tests.helpers.metadata_agent import metadata_agent
from tests.helpers.palisade_cli import ok
from tests.helpers.ram_policies import ECS_TRUST, policy
from tests.helpers.stored_state import add_vpc_instances
from tests.helpers.system import BIN

pytestmark = pytest.mark.integration

SYNC_READ = policy(
    {
        "Effect": "Allow",
        "Action": ["ecs:Describe*", "vpc:Describe*", "ram:List*", "ram:Get*"],
        "Resource": "*",
    }
)


@pytest.fixture
def cloud_and_target(tmp_path):
    cloud = start_auditor(tmp_path / "cloud")
    target = start_auditor(tmp_path / "target")
    try:
        add_vpc_instances(cloud, "i-sync1", "i-sync2")
        yield cloud, target
    finally:
        cloud.stop()
        target.stop()


def _sync(target, cloud, home, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")}
    env["HOME"] = str(home)
    env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
    return subprocess.run(
        [
            str(BIN / "palisade"),
            "--data-dir",
            str(target.data_dir),
            "sync",
            "--endpoint",
            f"http://{cloud.http}",
            "--dry-run",
            "--json",
            *args,
        ],  # fmt: skip
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _planned_instances(done: subprocess.CompletedProcess) -> set[str]:
    assert done.returncode == 0, done.stdout + done.stderr
    plan = json.loads(done.stdout)
    return {
        c["Resource"] for c in plan["Changes"] if c["Action"] in ("RunInstances", "CreateInstance")
    }


def test_sync_reads_with_an_aliyun_cli_profile(cloud_and_target, tmp_path):
    cloud, target = cloud_and_target
    creds = Credentials.resolve(cloud.data_dir)
    home = tmp_path / "home"
    (home / ".aliyun").mkdir(parents=True)
    (home / ".aliyun" / "config.json").write_text(
        json.dumps(
            {
                "current": "other",
                "profiles": [
                    {
                        "name": "other",
                        "mode": "AK",
                        "access_key_id": "LTAIwrong",
                        "access_key_secret": "wrong",
                        "region_id": DEFAULT_REGION,
                    },
                    {
                        "name": "palisade",
                        "mode": "AK",
                        "access_key_id": creds.access_key_id,
                        "access_key_secret": creds.access_key_secret,
                        "region_id": DEFAULT_REGION,
                    },
                ],
            }
        )  # fmt: skip
    )
    assert _planned_instances(_sync(target, cloud, home, "--profile", "palisade")) == {
        "i-sync1",
        "i-sync2",
    }
    # the CLI's current profile has a key the cloud does not know: the cloud's own error
    refused = _sync(target, cloud, home)
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["Code"] == "InvalidAccessKeyId.NotFound", refused.stdout
    # no profile at all and nothing in the environment: the SDK chain's clear error
    missing = _sync(target, cloud, tmp_path / "nohome")
    assert missing.returncode == 1
    assert json.loads(missing.stdout)["Code"] == "InvalidCredentials", missing.stdout


def test_sync_reads_with_the_instance_role_from_the_metadata_path(cloud_and_target, tmp_path):
    cloud, target = cloud_and_target
    ok(cloud, "CreateRole", "RoleName=SyncReader", f"AssumeRolePolicyDocument={ECS_TRUST}")
    ok(cloud, "CreatePolicy", "PolicyName=sync-read", f"PolicyDocument={SYNC_READ}")
    ok(cloud, "AttachPolicyToRole", "PolicyType=Custom", "PolicyName=sync-read",
       "RoleName=SyncReader")  # fmt: skip
    ok(cloud, "AttachInstanceRamRole", f"RegionId={DEFAULT_REGION}", 'InstanceIds=["i-sync1"]',
       "RamRoleName=SyncReader")  # fmt: skip
    state = enroll_agent(cloud, tmp_path / "agent", "i-sync1")
    with metadata_agent(state.directory, tmp_path / "agent.log", interval=5) as base:
        endpoint = base.removesuffix("/latest/meta-data")
        done = _sync(target, cloud, tmp_path / "home", "--metadata", endpoint)
    assert _planned_instances(done) == {"i-sync1", "i-sync2"}
    plan = json.loads(done.stdout)
    assert any(
        c["Action"] == "CreateRole" and c["Resource"] == "SyncReader" for c in plan["Changes"]
    )
