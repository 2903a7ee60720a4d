"""RAM groups and their members."""

from __future__ import annotations

from datetime import datetime

from palisade.auditor.model import changes as K
from palisade.auditor.model.ram import names
from palisade.auditor.model.ram.account_state import AccountState
from palisade.auditor.model.ram.entities import Group, PrincipalKind, User
from palisade.auditor.model.ram.errors import RamError


class GroupOperations(AccountState):
    def create_group(self, group_name: str, now: datetime, comments: str = "") -> Group:
        names.GROUP_NAME.check(group_name)
        names.check_text("Comments", comments, 128)
        if group_name in self.groups:
            raise RamError("EntityAlreadyExists.Group", f"the group {group_name} already exists")
        group = Group(group_name, comments, now)
        self.groups[group_name] = group
        self.changes.touch(K.RAM_GROUP, group_name)
        return group

    def list_groups(self) -> list[Group]:
        return list(self.groups.values())

    def update_group(
        self, group_name: str, new_group_name: str | None = None, new_comments: str | None = None
    ) -> Group:
        group = self.get_group(group_name)
        if new_comments is not None:
            names.check_text("Comments", new_comments, 128)
        if new_group_name is not None and new_group_name != group_name:
            names.GROUP_NAME.check(new_group_name)
            if new_group_name in self.groups:
                raise RamError(
                    "EntityAlreadyExists.Group", f"the group {new_group_name} already exists"
                )
            del self.groups[group_name]
            group.group_name = new_group_name
            self.groups[new_group_name] = group
            self.changes.touch(K.RAM_GROUP, group_name)
            self._rename_principal(PrincipalKind.GROUP, group_name, new_group_name)
        if new_comments is not None:
            group.comments = new_comments
        if (new_group_name, new_comments) != (None, None):
            self.changes.touch(K.RAM_GROUP, group.group_name)
        return group

    def delete_group(self, group_name: str) -> None:
        group = self.get_group(group_name)
        if group.members:
            raise RamError("DeleteConflict.Group.User", f"the group {group_name} still has users")
        if self._attached(PrincipalKind.GROUP, group_name):
            raise RamError(
                "DeleteConflict.Group.Policy", f"the group {group_name} still has policies attached"
            )
        del self.groups[group_name]
        self.changes.touch(K.RAM_GROUP, group_name)

    def add_user_to_group(self, user_name: str, group_name: str) -> None:
        self.get_user(user_name)
        group = self.get_group(group_name)
        if user_name in group.members:
            raise RamError(
                "EntityAlreadyExists.User.Group",
                f"the user {user_name} is already in the group {group_name}",
            )
        group.members.append(user_name)
        self.changes.touch(K.RAM_GROUP, group_name)

    def remove_user_from_group(self, user_name: str, group_name: str) -> None:
        self.get_user(user_name)
        group = self.get_group(group_name)
        if user_name not in group.members:
            raise RamError(
                "EntityNotExist.User.Group",
                f"the user {user_name} is not in the group {group_name}",
            )
        group.members.remove(user_name)
        self.changes.touch(K.RAM_GROUP, group_name)

    def move_user_between_groups(self, user_name: str, from_group: str, to_group: str) -> None:
        """Remove then add, all checked first so a failure leaves the user where it was."""
        self.get_user(user_name)
        source = self.get_group(from_group)
        target = self.get_group(to_group)
        if user_name not in source.members:
            raise RamError(
                "EntityNotExist.User.Group",
                f"the user {user_name} is not in the group {from_group}",
            )
        if user_name in target.members:
            raise RamError(
                "EntityAlreadyExists.User.Group",
                f"the user {user_name} is already in the group {to_group}",
            )
        source.members.remove(user_name)
        target.members.append(user_name)
        self.changes.touch(K.RAM_GROUP, from_group)
        self.changes.touch(K.RAM_GROUP, to_group)

    def list_users_for_group(self, group_name: str) -> list[User]:
        return [self.users[name] for name in self.get_group(group_name).members]
