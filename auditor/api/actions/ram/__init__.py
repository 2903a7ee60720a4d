"""RAM actions: users, groups, policies, roles, AccessKeys (the RAM API's names)."""

from palisade.auditor.api.actions.ram import accounts  # noqa: F401  (registration on import)
