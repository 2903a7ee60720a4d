"""Instance types: which support IPv6 (needed by enterprise groups)."""

from __future__ import annotations

import pytest

from palisade.auditor.model.fleet.resources import instance_type_supports_ipv6


@pytest.mark.parametrize(
    ("instance_type", "capable"),
    [
        ("ecs.g6.large", True),
        ("ecs.c5.xlarge", True),
        ("ecs.g7ne.large", True),
        ("ecs.sn1ne.large", True),
        ("ecs.sn1.medium", False),
        ("ecs.t1.small", False),
        ("ecs.n4.small", False),
        ("", False),
        ("g6.large", False),
        # an Arabic-Indic five reads as 5 to int(): not an instance type at all
        ("ecs.g\u0665.large", False),
        ("ecs.g\uff16.large", False),  # a full-width 6
    ],
)
def test_ipv6_capability_by_generation_and_family(instance_type, capable):
    assert instance_type_supports_ipv6(instance_type) is capable
