"""Every API action, grouped by the cloud product that owns it (`ecs`, `ram`, `sas`), one
module per resource; importing this package registers them all."""

from palisade.auditor.api.actions import ecs, ram, sas  # noqa: F401  (registration on import)
