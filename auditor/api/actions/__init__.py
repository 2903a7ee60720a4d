"""Every ECS-style action, one module per resource family; importing registers them."""

from palisade.auditor.api.actions import regions  # noqa: F401
