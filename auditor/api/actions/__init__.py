"""Every API action, grouped by the cloud product that owns it (`ecs`, `vpc`, `ram`, `sts`,
`sas`, `antiddos`), one module per resource; importing this package registers them all."""

from palisade.auditor.api.actions import (  # noqa: F401  (registration on import)
    antiddos,
    ecs,
    ram,
    sas,
    sts,
    vpc,
)
