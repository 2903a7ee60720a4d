"""ECS actions: regions, peer accounts, instances (with their password reset and TCP 25
unblock), security groups, key pairs, instance RAM roles, tags, and read-only questions about
the network model."""

from palisade.auditor.api.actions.ecs import (  # noqa: F401  (registration on import)
    accounts,
    instance_attributes,
    instance_ram_roles,
    instances,
    keypairs,
    network_queries,
    plans,
    regions,
    security_group_audit,
    security_group_copies,
    security_group_membership,
    security_group_rules,
    security_groups,
    tags,
)
