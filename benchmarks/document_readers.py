"""How fast the document readers are (issue 18: one schema library must not slow the hot
paths): a fleet file of N instances and N/10 groups of 20 rules (`palisade apply`), the same
fleet as ECS responses (`palisade import-ecs`), a RAM policy document (parsed each time an
account document is loaded), the packaged baseline policies, and an OSV advisory.

    .venv/bin/python benchmarks/document_readers.py [--instances 10000] [--rounds 5]

Prints the median wall time of each reader over the rounds (CPU time of this process; the
load average is printed because the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from importlib import resources

from palisade.auditor.checks.baseline.engine import load_policy_text
from palisade.auditor.checks.vulnerabilities.osv import parse_osv
from palisade.auditor.fleetspec.ecs_import import parse_ecs
from palisade.auditor.fleetspec.fleet_file import parse_fleet
from palisade.auditor.model.ram import parse_policy


def fleet(n: int) -> dict:
    groups = [
        {
            "name": f"g{g}",
            "vpc": "prod",
            "rules": [
                {"protocol": "tcp", "ports": 1000 + r, "cidr": f"10.{g % 250}.{r}.0/24"}
                for r in range(20)
            ],
        }
        for g in range(max(1, n // 10))
    ]
    instances = [
        {
            "name": f"i{i}",
            "vpc": "prod",
            "private_ip": f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}",
            "security_groups": [f"g{i % len(groups)}"],
        }
        for i in range(n)
    ]
    return {"vpcs": [{"name": "prod", "cidr": "10.0.0.0/8"}], "security_groups": groups,
            "instances": instances}  # fmt: skip


def ecs(n: int) -> list:
    attributes = [
        {
            "RegionId": "cn-hangzhou",
            "SecurityGroupId": f"sg-{g}",
            "VpcId": "vpc-1",
            "Permissions": {
                "Permission": [
                    {"Direction": "ingress", "IpProtocol": "TCP", "PortRange": f"{p}/{p}",
                     "SourceCidrIp": f"10.{g % 250}.{r}.0/24", "Policy": "Accept",
                     "Priority": "1", "NicType": "intranet", "Ipv6SourceCidrIp": ""}
                    for r, p in enumerate(range(1000, 1020))
                ]
            },
        }
        for g in range(max(1, n // 10))
    ]  # fmt: skip
    instances = {
        "Instances": {
            "Instance": [
                {
                    "InstanceId": f"i-{i}",
                    "RegionId": "cn-hangzhou",
                    "VpcAttributes": {
                        "VpcId": "vpc-1",
                        "PrivateIpAddress": {
                            "IpAddress": [f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}"]
                        },
                    },
                    "SecurityGroupIds": {"SecurityGroupId": [f"sg-{i % len(attributes)}"]},
                }
                for i in range(n)
            ]
        }
    }
    return [attributes, instances]


RAM_POLICY = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["ecs:Describe*", "ecs:StartInstance", "ecs:StopInstance"],
                "Resource": ["acs:ecs:*:*:instance/*", "acs:ecs:*:*:securitygroup/*"],
                "Condition": {"IpAddress": {"acs:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}},
            },
            {"Effect": "Deny", "Action": "ram:*", "Resource": "*"},
        ]
        * 4,
    }
)
OSV = {
    "id": "DSA-5532-1",
    "modified": "2023-10-25T00:00:00Z",
    "aliases": ["CVE-2023-5363"],
    "affected": [
        {
            "package": {"ecosystem": "Debian:12", "name": f"pkg{k}"},
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1"}]}
            ],
        }
        for k in range(5)
    ],
}  # fmt: skip


def timed(fn, rounds: int, repeat: int = 1) -> float:
    times = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(repeat):
            fn()
        times.append((time.process_time() - start) / repeat)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--instances", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args()
    fleet_doc, ecs_docs = fleet(a.instances), ecs(a.instances)
    folder = resources.files("palisade.auditor.checks.baseline") / "policies"
    texts = [f.read_text() for f in folder.iterdir() if f.name.endswith(".yaml")]
    rows = [
        (f"fleet file ({a.instances} instances)", timed(lambda: parse_fleet(fleet_doc), a.rounds)),
        (f"ECS responses ({a.instances} instances)", timed(lambda: parse_ecs(ecs_docs), a.rounds)),
        ("RAM policy (8 statements)", timed(lambda: parse_policy(RAM_POLICY), a.rounds, 200)),
        ("baseline policies (packaged)", timed(
            lambda: [load_policy_text(t) for t in texts], a.rounds, 5)),
        ("OSV advisory (5 packages)", timed(lambda: parse_osv(OSV), a.rounds, 500)),
    ]  # fmt: skip
    load = os.getloadavg()
    print(f"reader                                   median CPU time  (load {load[0]:.2f})")
    for name, seconds in rows:
        print(f"{name:40} {seconds * 1000:10.3f} ms")


if __name__ == "__main__":
    main()
