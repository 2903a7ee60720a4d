"""VPC actions: VPCs and their vSwitches."""

from palisade.auditor.api.actions.vpc import vpcs, vswitches  # noqa: F401  (registration on import)
