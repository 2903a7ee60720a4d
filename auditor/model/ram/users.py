"""RAM users and their console passwords (login profiles)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from palisade.auditor.model import changes as K
from palisade.auditor.model.ram import names
from palisade.auditor.model.ram.account_state import AccountState
from palisade.auditor.model.ram.entities import LoginProfile, PrincipalKind, User
from palisade.auditor.model.ram.errors import RamError
from palisade.auditor.model.ram.passwords import (
    check_password_policy,
    hash_password,
    verify_password,
)
from palisade.auditor.model.ram.tokens import new_numeric_id


class UserOperations(AccountState):
    # ---- users -------------------------------------------------------------------------

    def create_user(
        self, user_name: str, now: datetime, display_name: str | None = None, comments: str = ""
    ) -> User:
        names.USER_NAME.check(user_name)
        display = names.DISPLAY_NAME.check(display_name if display_name else user_name)
        names.check_text("Comments", comments, 128)
        if user_name in self.users:
            raise RamError("EntityAlreadyExists.User", f"the user {user_name} already exists")
        user = User(user_name, new_numeric_id(16, self._random_bytes), display, comments, now)
        self.users[user_name] = user
        self.changes.touch(K.RAM_USER, user_name)
        return user

    def list_users(self) -> list[User]:
        return list(self.users.values())

    def update_user(
        self,
        user_name: str,
        new_user_name: str | None = None,
        new_display_name: str | None = None,
        new_comments: str | None = None,
    ) -> User:
        user = self.get_user(user_name)
        if new_display_name is not None:
            names.DISPLAY_NAME.check(new_display_name)
        if new_comments is not None:
            names.check_text("Comments", new_comments, 128)
        if new_user_name is not None and new_user_name != user_name:
            names.USER_NAME.check(new_user_name)
            if new_user_name in self.users:
                raise RamError(
                    "EntityAlreadyExists.User", f"the user {new_user_name} already exists"
                )
            del self.users[user_name]
            user.user_name = new_user_name
            self.users[new_user_name] = user
            self.changes.touch(K.RAM_USER, user_name)
            for group in self.groups.values():
                if user_name in group.members:
                    group.members = [new_user_name if m == user_name else m for m in group.members]
                    self.changes.touch(K.RAM_GROUP, group.group_name)
            self._rename_principal(PrincipalKind.USER, user_name, new_user_name)
        if new_display_name is not None:
            user.display_name = new_display_name
        if new_comments is not None:
            user.comments = new_comments
        if (new_user_name, new_display_name, new_comments) != (None, None, None):
            self.changes.touch(K.RAM_USER, user.user_name)
        return user

    def delete_user(self, user_name: str) -> None:
        user = self.get_user(user_name)
        if user.access_keys:
            raise RamError(
                "DeleteConflict.User.AccessKey", f"the user {user_name} still has AccessKeys"
            )
        if user.login_profile is not None:
            raise RamError(
                "DeleteConflict.User.LoginProfile",
                f"the user {user_name} still has a console password",
            )
        if self.list_groups_for_user(user_name):
            raise RamError("DeleteConflict.User.Group", f"the user {user_name} is still in groups")
        if self._attached(PrincipalKind.USER, user_name):
            raise RamError(
                "DeleteConflict.User.Policy", f"the user {user_name} still has policies attached"
            )
        del self.users[user_name]
        self.changes.touch(K.RAM_USER, user_name)

    # ---- console password (login profile) ------------------------------------------------

    def create_login_profile(
        self,
        user_name: str,
        password: str,
        now: datetime,
        password_reset_required: bool = False,
        mfa_bind_required: bool = False,
    ) -> LoginProfile:
        user = self.get_user(user_name)
        if user.login_profile is not None:
            raise RamError(
                "EntityAlreadyExists.User.LoginProfile",
                f"the user {user_name} already has a console password",
            )
        check_password_policy(password)
        user.login_profile = LoginProfile(
            hash_password(password, self._random_bytes),
            password_reset_required,
            mfa_bind_required,
            now,
        )
        self.changes.touch(K.RAM_USER, user_name)
        return user.login_profile

    def update_login_profile(
        self,
        user_name: str,
        password: str | None = None,
        password_reset_required: bool | None = None,
        mfa_bind_required: bool | None = None,
    ) -> LoginProfile:
        profile = self.get_login_profile(user_name)
        if password is not None:
            check_password_policy(password)
            profile.password_hash = hash_password(password, self._random_bytes)
        if password_reset_required is not None:
            profile.password_reset_required = password_reset_required
        if mfa_bind_required is not None:
            profile.mfa_bind_required = mfa_bind_required
        if (password, password_reset_required, mfa_bind_required) != (None, None, None):
            self.changes.touch(K.RAM_USER, user_name)
        return profile

    def get_login_profile(self, user_name: str) -> LoginProfile:
        profile = self.get_user(user_name).login_profile
        if profile is None:
            raise RamError(
                "EntityNotExist.User.LoginProfile", f"the user {user_name} has no console password"
            )
        return profile

    def delete_login_profile(self, user_name: str) -> None:
        self.get_login_profile(user_name)
        self.users[user_name].login_profile = None
        self.changes.touch(K.RAM_USER, user_name)

    def console_credential(self, user_name: str) -> str | None:
        """What a console sign-in of `user_name` rests on, as an opaque fingerprint: the user
        (its UserId: a user deleted and made again is another one) and its console password
        (its salted hash: a new password, or a login profile deleted and made again, is
        another one). None when the user cannot sign in. A dashboard session keeps the
        fingerprint it was opened with and ends as soon as it no longer matches."""
        user = self.users.get(user_name)
        if user is None or user.login_profile is None:
            return None
        material = f"{user.user_id}\0{user.login_profile.password_hash}".encode()
        return hashlib.sha256(b"palisade-console-session/" + material).hexdigest()

    def check_console_password(self, user_name: str, password: str) -> bool:
        user = self.users.get(user_name)
        if user is None or user.login_profile is None:
            return False
        return verify_password(password, user.login_profile.password_hash)
