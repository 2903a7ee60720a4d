"""Every API action, grouped by the cloud product that owns it (`ecs`, `vpc`, `ram`, `sts`,
`sas`), one module per resource; importing this package registers them all."""

from palisade.auditor.api.actions import ecs, ram, sas, sts, vpc  # noqa: F401  (registration on import)
