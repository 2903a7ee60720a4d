"""Security groups, VPCs and instances through `palisade api` in-process (palisade_cli):
the calls the security-group integration tests build their fleets with."""

from __future__ import annotations

import itertools
import json
import os

from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from palisade.auditor.store.database import Database, sqlite_url
from tests.helpers.palisade_cli import api, assert_error_body, ok, run

R = "RegionId=cn-hangzhou"
_cidr = itertools.count(1)


def refused(auditor, action: str, *assignments: str) -> str:
    rc, body = api(auditor, action, *assignments)
    assert rc == 1, body
    assert_error_body(body)
    return body["Code"]


def _repository(auditor) -> CloudStateRepository:
    if os.environ.get("PALISADE_TEST_DB", "").startswith("postgresql"):
        return CloudStateRepository(Database(auditor.database))
    return CloudStateRepository(Database(sqlite_url(auditor.data_dir)))


def version(auditor) -> int:
    return _repository(auditor).version()


def audit_rows(auditor, resource: str | None) -> list:
    """The auditor's audit-log rows about `resource` (an ARN; None: all), newest first."""
    return _repository(auditor).audit_log(limit=100_000, resource=resource)


def explain(auditor, instance: str, source: str, proto: str = "tcp", port: int = 0) -> dict:
    args = ["sg", "explain", "--instance", instance, "--from", source, "--proto", proto]
    rc, text = run(auditor, *args, "--port", str(port), "--json")
    assert rc == 0, text
    return json.loads(text)


def new_vpc(auditor, *extra: str) -> str:
    """A VPC of its own for a test (10.N.0.0/16 keeps addresses apart)."""
    cidr = f"10.{next(_cidr)}.0.0/16"
    return ok(auditor, "CreateVpc", R, f"CidrBlock={cidr}", *extra)["VpcId"]


def ip_of(auditor, vpc: str, host: int) -> str:
    block = next(
        v["CidrBlock"] for v in ok(auditor, "DescribeVpcs", R, f"VpcId={vpc}")["Vpcs"]["Vpc"]
    )
    a, b = block.split(".")[:2]
    return f"{a}.{b}.0.{host}"


def group(auditor, vpc: str | None, *extra: str) -> str:
    args = [R, *extra] + ([f"VpcId={vpc}"] if vpc else [])
    return ok(auditor, "CreateSecurityGroup", *args)["SecurityGroupId"]


def instance(auditor, vpc: str | None, groups: list[str], private_ip: str, *extra: str) -> str:
    args = [R, f"PrivateIpAddress={private_ip}", f"SecurityGroupIds={json.dumps(groups)}", *extra]
    if vpc:
        args.append(f"VpcId={vpc}")
    else:
        args.append("InstanceNetworkType=classic")
    return ok(auditor, "RunInstances", *args)["InstanceIdSets"]["InstanceIdSet"][0]


def authorize(auditor, gid: str, proto: str, ports: str, *extra: str, egress=False) -> list:
    action = "AuthorizeSecurityGroupEgress" if egress else "AuthorizeSecurityGroup"
    body = ok(
        auditor,
        action,
        R,
        f"SecurityGroupId={gid}",
        f"IpProtocol={proto}",
        f"PortRange={ports}",
        *extra,
    )
    return body["SecurityGroupRuleIds"]["SecurityGroupRuleId"]


def permissions(auditor, gid: str, *extra: str) -> list[dict]:
    body = ok(auditor, "DescribeSecurityGroupAttribute", R, f"SecurityGroupId={gid}", *extra)
    return body["Permissions"]["Permission"]


def content(perms: list[dict]) -> list[tuple]:
    """Rules without ids and times: what "identical rules" means across groups."""
    drop = {"SecurityGroupRuleId", "CreateTime"}
    return sorted(tuple(sorted((k, v) for k, v in p.items() if k not in drop)) for p in perms)
