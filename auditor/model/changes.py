"""What a write changed, unit by unit: the record the store writes rows from.

The cloud state is stored as rows (see `store.cloud_rows`), grouped in *units*: one unit is
what is written together when any part of it changes (a security group with its rules, an
instance with its NICs and memberships, a RAM user with its AccessKeys and console password).
Every model method that changes a unit says so with `changes.touch(kind, unit_id)`, before or
after the change, in the same call; the store then writes exactly the touched units, and a
failed write restores exactly them. A change nobody touched would be lost at the next
restart: the tests run every write with `PALISADE_VERIFY_CHANGES=1`, which compares the whole
state with the rows after each write and fails on any difference.

Unit kinds and their ids (`compound` joins the parts of a composite id):
- "state" "" (account id, STS signing key), "ram" "" (the RAM account's own fields), "fleet" ""
  (limits, id prefix, id counters)
- "account" account_id, "region" region_id, "vpc" vpc_id, "vswitch" vswitch_id
- "group" group_id (the group and its rules), "instance" instance_id (the instance, its NICs
  and their group memberships)
- "keypairs" "" (limits, retired names, last id), "keypair" compound(account, region, name),
  "keypair_binding" instance_id
- "ram_user" user_name (with its AccessKeys and login profile), "ram_group" group_name (with
  its members), "ram_policy" policy_name (with its versions), "ram_role" role_name,
  "ram_attachment" compound(principal_kind, principal_name, policy_type, policy_name)
- "instance_roles" "" (the next generation), "instance_role" instance_id
- "ddos" instance_id
"""

from __future__ import annotations

import json

STATE = "state"
RAM = "ram"
FLEET = "fleet"
ACCOUNT = "account"
REGION = "region"
VPC = "vpc"
VSWITCH = "vswitch"
GROUP = "group"
INSTANCE = "instance"
KEYPAIRS = "keypairs"
KEYPAIR = "keypair"
KEYPAIR_BINDING = "keypair_binding"
RAM_USER = "ram_user"
RAM_GROUP = "ram_group"
RAM_POLICY = "ram_policy"
RAM_ROLE = "ram_role"
RAM_ATTACHMENT = "ram_attachment"
INSTANCE_ROLES = "instance_roles"
INSTANCE_ROLE = "instance_role"
DDOS = "ddos"

KINDS = (
    STATE,
    RAM,
    FLEET,
    ACCOUNT,
    REGION,
    VPC,
    VSWITCH,
    GROUP,
    INSTANCE,
    KEYPAIRS,
    KEYPAIR,
    KEYPAIR_BINDING,
    RAM_USER,
    RAM_GROUP,
    RAM_POLICY,
    RAM_ROLE,
    RAM_ATTACHMENT,
    INSTANCE_ROLES,
    INSTANCE_ROLE,
    DDOS,
)

Unit = tuple[str, str]  # (kind, unit id)


def compound(*parts: object) -> str:
    """One unit id from several parts (a key pair's account, region and name), unambiguous
    whatever the parts contain."""
    return json.dumps([str(p) for p in parts], ensure_ascii=False, separators=(",", ":"))


def parts(unit_id: str) -> list[str]:
    """The parts `compound` joined."""
    value = json.loads(unit_id)
    assert isinstance(value, list)
    return [str(p) for p in value]


class Changes:
    """The units touched since the last `take`, in the order they were first touched. One
    object is shared by every section of a `CloudState`."""

    __slots__ = ("_touched",)

    def __init__(self) -> None:
        self._touched: dict[Unit, None] = {}

    def touch(self, kind: str, unit_id: str) -> None:
        self._touched[(kind, unit_id)] = None

    def touched(self) -> list[Unit]:
        return list(self._touched)

    def take(self) -> list[Unit]:
        """The touched units; the record starts empty again."""
        out = list(self._touched)
        self._touched.clear()
        return out

    def __bool__(self) -> bool:
        return bool(self._touched)
