"""Quotas and platform constants. The defaults are the figures of the ECS security guide
(2019-09-18); later cloud figures are settings (e.g.
`Limits(rules_per_group=200, rules_per_nic=1000)`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Limits:
    rules_per_group: int = 100  # ingress and egress counted together (later 200)
    groups_per_nic: int = 5
    objects_per_rule: int = 10  # comma-separated CIDRs in one authorisation
    private_ips_per_normal_group: int = 2000  # enterprise groups: unlimited
    authorized_groups_per_group: int = 20
    rules_per_nic: int = 500  # summed over all groups of a NIC (later 1,000)
    classic_intranet_ingress_prefix: int = 32  # classic intranet ingress CIDR must be a.b.c.d/32
    enterprise_min_instance_created: date = date(2019, 5, 30)
    enterprise_nics_per_group: int = 50000
    # The ECS security guide: enterprise groups allow all egress; later cloud docs deny it by
    # default.
    enterprise_egress_default_accept: bool = True
    import_max_rules: int = 100
    name_min: int = 2
    name_max: int = 128
    description_min: int = 2
    description_max: int = 256
    priority_min: int = 1
    priority_max: int = 100
    system_priority: int = 110  # default-group rules; lose to every user rule
    session_timeout_s: int = 910  # a stateful session is kept at most this long
    smtp_port: int = 25
    carrier_blocked_ports: frozenset[int] = field(
        default_factory=lambda: frozenset({135, 139, 444, 445, 5800, 5900})
    )


DEFAULT_LIMITS = Limits()
