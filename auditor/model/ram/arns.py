"""Resource names (ARNs) that ECS-style actions are authorised against."""

from __future__ import annotations


def arn(service: str, region: str, account_id: str, relative_id: str) -> str:
    """`acs:<service>:<region>:<account>:<relative id>`; RAM leaves region empty for itself."""
    return f"acs:{service}:{region}:{account_id}:{relative_id}"


def instance_arn(region: str, account_id: str, instance_id: str) -> str:
    return arn("ecs", region, account_id, f"instance/{instance_id}")


def security_group_arn(region: str, account_id: str, security_group_id: str) -> str:
    return arn("ecs", region, account_id, f"securitygroup/{security_group_id}")


def key_pair_arn(region: str, account_id: str, key_pair_name: str) -> str:
    return arn("ecs", region, account_id, f"keypair/{key_pair_name}")


def role_arn(account_id: str, role_name: str) -> str:
    return arn("ram", "", account_id, f"role/{role_name}")


def user_arn(account_id: str, user_name: str) -> str:
    return arn("ram", "", account_id, f"user/{user_name}")
