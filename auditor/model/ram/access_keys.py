"""The AccessKeys of RAM users: create, import, disable, delete, and find one by id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from palisade.auditor.model import changes as K
from palisade.auditor.model.ram.account_state import AccountState
from palisade.auditor.model.ram.entities import AccessKey, AccessKeyStatus, User
from palisade.auditor.model.ram.errors import RamError
from palisade.auditor.model.ram.tokens import new_access_key_id, new_access_key_secret

MAX_ACCESS_KEYS_PER_USER = 2


@dataclass(frozen=True)
class NewAccessKey:
    """What CreateAccessKey returns: the only time the secret is shown."""

    access_key_id: str
    access_key_secret: str
    status: AccessKeyStatus
    create_date: datetime


class AccessKeyOperations(AccountState):
    def create_access_key(self, user_name: str, now: datetime) -> NewAccessKey:
        user = self.get_user(user_name)
        if len(user.access_keys) >= MAX_ACCESS_KEYS_PER_USER:
            raise RamError(
                "LimitExceeded.User.AccessKey",
                f"a user has at most {MAX_ACCESS_KEYS_PER_USER} AccessKeys",
            )
        key_id = new_access_key_id(self._random_bytes)
        while self._find_key(key_id) is not None:
            key_id = new_access_key_id(self._random_bytes)
        secret = new_access_key_secret(self._random_bytes)
        user.access_keys[key_id] = AccessKey(key_id, secret, AccessKeyStatus.ACTIVE, now)
        self.changes.touch(K.RAM_USER, user_name)
        return NewAccessKey(key_id, secret, AccessKeyStatus.ACTIVE, now)

    def import_access_key(
        self, user_name: str, access_key_id: str, secret: str, now: datetime
    ) -> AccessKey:
        """Add a key made elsewhere (say, a first administrator's known one), secret verbatim."""
        user = self.get_user(user_name)
        if self._find_key(access_key_id) is not None:
            raise RamError(
                "EntityAlreadyExists.User.AccessKey", f"AccessKey {access_key_id} already exists"
            )
        key = AccessKey(access_key_id, secret, AccessKeyStatus.ACTIVE, now)
        user.access_keys[access_key_id] = key
        self.changes.touch(K.RAM_USER, user_name)
        return key

    def list_access_keys(self, user_name: str) -> list[AccessKey]:
        return list(self.get_user(user_name).access_keys.values())

    def update_access_key(
        self, user_name: str, access_key_id: str, status: AccessKeyStatus | str
    ) -> AccessKey:
        key = self._user_key(user_name, access_key_id)
        try:
            key.status = AccessKeyStatus(status)
        except ValueError:
            raise RamError(
                "InvalidParameter.Status", f"Status must be Active or Inactive, not {status!r}"
            ) from None
        self.changes.touch(K.RAM_USER, user_name)
        return key

    def delete_access_key(self, user_name: str, access_key_id: str) -> None:
        self._user_key(user_name, access_key_id)
        del self.users[user_name].access_keys[access_key_id]
        self.changes.touch(K.RAM_USER, user_name)

    def find_access_key(self, access_key_id: str) -> tuple[User, AccessKey]:
        """The active key `access_key_id` and its user, for authenticating a request."""
        found = self._find_key(access_key_id)
        if found is None:
            raise RamError(
                "InvalidAccessKeyId.NotFound", f"the AccessKey {access_key_id} does not exist"
            )
        if found[1].status is not AccessKeyStatus.ACTIVE:
            raise RamError(
                "InvalidAccessKeyId.Inactive", f"the AccessKey {access_key_id} is disabled"
            )
        return found

    def _find_key(self, access_key_id: str) -> tuple[User, AccessKey] | None:
        for user in self.users.values():
            key = user.access_keys.get(access_key_id)
            if key is not None:
                return user, key
        return None

    def _user_key(self, user_name: str, access_key_id: str) -> AccessKey:
        key = self.get_user(user_name).access_keys.get(access_key_id)
        if key is None:
            raise RamError(
                "EntityNotExist.User.AccessKey",
                f"the user {user_name} has no AccessKey {access_key_id}",
            )
        return key
