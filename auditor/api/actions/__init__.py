"""Every ECS-style action, one module per resource family; importing registers them."""

from palisade.auditor.api.actions import (
    alerts,  # noqa: F401
    instance_ram_roles,  # noqa: F401
    instances,  # noqa: F401
    keypairs,  # noqa: F401
    network_queries,  # noqa: F401
    notifications,  # noqa: F401
    ram,  # noqa: F401
    regions,  # noqa: F401
    security_groups,  # noqa: F401
)
