"""RAM users, a role and instances to give it to, made through an in-process API: the setting
of the RAM and instance-role action tests."""

from __future__ import annotations

import json

from palisade.auditor.model.cloud_state import DEFAULT_REGION, CloudState
from tests.helpers.in_process_api import ApiHarness
from tests.helpers.ram_policies import ECS_TRUST

DESCRIBE_ONLY = json.dumps(
    {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"}]}
)
ATTACH_ONLY = json.dumps(
    {
        "Version": "1",
        "Statement": [{"Effect": "Allow", "Action": "ecs:*InstanceRamRole", "Resource": "*"}],
    }
)


def user_with_key(h: ApiHarness, name: str, *policies: tuple[str, str]) -> tuple[str, str]:
    h.ok("CreateUser", UserName=name)
    for policy_type, policy_name in policies:
        h.ok("AttachPolicyToUser", PolicyType=policy_type, PolicyName=policy_name, UserName=name)
    key = h.ok("CreateAccessKey", UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["AccessKeySecret"]


def add_instances(h: ApiHarness) -> None:
    """A VPC instance i-vpc1, another i-vpc2, and a classic-network instance i-classic."""

    def build(state: CloudState) -> None:
        cloud, account = state.cloud, state.account_id
        vpc = cloud.create_vpc(account, DEFAULT_REGION, "172.16.0.0/12", vpc_id="vpc-1")
        cloud.create_instance(
            account,
            DEFAULT_REGION,
            created_at=h.now,
            vpc_id=vpc.vpc_id,
            private_ips=["172.16.0.10"],
            instance_id="i-vpc1",
        )
        group = next(iter(cloud.groups))
        cloud.create_instance(
            account,
            DEFAULT_REGION,
            created_at=h.now,
            vpc_id=vpc.vpc_id,
            private_ips=["172.16.0.11"],
            instance_id="i-vpc2",
            security_group_ids=[group],
        )
        classic = cloud.create_security_group(
            account, DEFAULT_REGION, now=h.now, network_type="classic"
        )
        cloud.create_instance(
            account,
            DEFAULT_REGION,
            created_at=h.now,
            network_type="classic",
            private_ips=["10.1.0.5"],
            instance_id="i-classic",
            security_group_ids=[classic.group_id],
        )

    h.save(build)


def reader_role(h: ApiHarness) -> None:
    h.ok("CreateRole", RoleName="reader", AssumeRolePolicyDocument=ECS_TRUST)
    h.ok("CreatePolicy", PolicyName="describe-only", PolicyDocument=DESCRIBE_ONLY)
    h.ok("AttachPolicyToRole", PolicyType="Custom", PolicyName="describe-only", RoleName="reader")
