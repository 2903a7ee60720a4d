"""The RAM of one account: users, groups, policies, roles and who has which policy.

Methods mirror the RAM API (CreateUser -> create_user, ...) and raise `RamError` with its
error codes. Each family of operations is a module of its own, all over one
`AccountState`; `account_document` stores and loads the account.
"""

from __future__ import annotations

from palisade.auditor.model.ram.access_keys import AccessKeyOperations
from palisade.auditor.model.ram.attachments import AttachmentOperations
from palisade.auditor.model.ram.authorisation import Authorisation
from palisade.auditor.model.ram.groups import GroupOperations
from palisade.auditor.model.ram.roles import RoleOperations
from palisade.auditor.model.ram.users import UserOperations


class RamAccount(
    UserOperations,
    AccessKeyOperations,
    GroupOperations,
    AttachmentOperations,  # with PolicyOperations, which it builds on
    RoleOperations,
    Authorisation,
):
    """RAM of one Alibaba Cloud account (`account_id`, the digits in ARNs)."""
