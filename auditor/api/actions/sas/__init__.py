"""Security-center (`sas`) actions: alerts, findings, silences, whitelist, notifications."""

from palisade.auditor.api.actions.sas import (  # noqa: F401  (registration on import)
    alerts,
    notifications,
)
