"""A fleet file's document (auditor/fleetspec/spec.py) of any size, for `palisade sync`'s
tests and benchmark."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519


def fleet_document(instances: int, groups: int = 8, region: str = "cn-hangzhou") -> dict:
    """`instances` instances in one VPC (10.0.0.0/8), spread over `groups` groups of five
    rules each (CIDR, group and egress rules, accept and drop), a third with a public address,
    four in five bound to one of two key pairs, one in seven stopped."""
    keys = [
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
        + f" key{n}"
        for n in range(2)
    ]
    doc = {
        "region": region,
        "vpcs": [{"name": "prod", "cidr": "10.0.0.0/8"}],
        "security_groups": [
            {
                "name": f"g{k}",
                "vpc": "prod",
                "description": f"group {k}",
                "inner_access_policy": "Drop" if k % 2 else "Accept",
                "rules": [
                    {"protocol": "tcp", "ports": str(22 + k), "cidr": f"192.168.{k}.0/24"},
                    {"protocol": "tcp", "ports": "443", "cidr": "0.0.0.0/0", "description": "web"},
                    {"protocol": "tcp", "ports": "5432", "group": "g0"},
                    {"protocol": "udp", "ports": "53", "cidr": "10.1.0.0/16", "policy": "drop"},
                    {
                        "direction": "egress",
                        "protocol": "all",
                        "cidr": "10.0.0.0/8",
                        "policy": "drop",
                        "priority": "5",
                    },
                ],
            }
            for k in range(groups)
        ],
        "key_pairs": [{"name": f"key{n}", "public_key": keys[n]} for n in range(2)],
        "instances": [
            {
                "name": f"web-{i}",
                "vpc": "prod",
                "private_ip": f"10.{i // 250}.{i % 250}.10",
                **({"public_ip": f"47.0.{i // 250}.{i % 250 + 1}"} if i % 3 == 0 else {}),
                "security_groups": [f"g{i % groups}", *([f"g{(i + 1) % groups}"] * (i % 4 == 0))],
                **({"key_pair": f"key{i % 2}"} if i % 5 else {}),
                "status": "Running" if i % 7 else "Stopped",
            }
            for i in range(instances)
        ],
    }
    return doc
