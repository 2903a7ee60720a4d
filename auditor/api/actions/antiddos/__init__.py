"""Anti-DDoS Basic actions (RAM service `yundun-ddos`): thresholds and protection state."""

from palisade.auditor.api.actions.antiddos import (  # noqa: F401  (registration on import)
    basic_protection,
)
