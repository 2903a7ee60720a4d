"""VPC actions: VPCs."""

from palisade.auditor.api.actions.vpc import vpcs  # noqa: F401  (registration on import)
