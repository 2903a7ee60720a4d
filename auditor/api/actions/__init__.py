"""Every ECS-style action, one module per resource family; importing registers them."""

from palisade.auditor.api.actions import (
    instance_ram_roles,  # noqa: F401
    keypairs,  # noqa: F401
    ram,  # noqa: F401
    regions,  # noqa: F401
)
