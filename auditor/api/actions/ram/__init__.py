"""RAM actions: users, console passwords, AccessKeys, groups, group members, policies, policy
attachments, roles, findings (the RAM API's names).

Resources are RAM ARNs `acs:ram:*:<account>:user/<name>` (`group/`, `policy/`, `role/`).
Secrets never reach the audit log.
"""

from palisade.auditor.api.actions.ram import (  # noqa: F401  (registration on import)
    access_keys,
    findings,
    group_members,
    groups,
    login_profiles,
    policies,
    policy_attachments,
    roles,
    users,
)
