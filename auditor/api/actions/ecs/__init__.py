"""ECS actions: regions, VPCs, instances, security groups, key pairs, instance RAM roles."""

from palisade.auditor.api.actions.ecs import (  # noqa: F401  (registration on import)
    instance_ram_roles,
    instances,
    keypairs,
    network_queries,
    regions,
    security_groups,
)
