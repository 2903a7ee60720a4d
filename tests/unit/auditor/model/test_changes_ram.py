"""RAM says which units each change touched (model.changes): every mutating method of
`RamAccount`, cascades (a rename moves group members and attachments) included, runs through
the oracle (tests/helpers/change_oracle.py), and a refused change or a read touches nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.auditor.model import changes as K
from palisade.auditor.model.changes import compound
from palisade.auditor.model.cloud_state import ADMIN_USER, CloudState
from palisade.auditor.model.ram import Caller, RamError, RequestContext
from tests.helpers.change_oracle import changed_units
from tests.helpers.ram_policies import ECS_TRUST

NOW = datetime(2019, 9, 18, 8, 0, 0, tzinfo=UTC)
PASSWORD = "Long-enough-1"
ALLOW_ECS = json.dumps(
    {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]}
)
DENY_STOP = json.dumps(
    {"Version": "1", "Statement": [{"Effect": "Deny", "Action": "ecs:Stop*", "Resource": "*"}]}
)

Unit = tuple[str, str]


def attachment(kind: str, name: str, policy_type: str, policy: str) -> Unit:
    return (K.RAM_ATTACHMENT, compound(kind, name, policy_type, policy))


def run(state: CloudState, change: Callable[[], object]) -> tuple[set[Unit], set[Unit], bool]:
    """(units changed, units touched, whether `change` was refused) of one change; every
    changed unit must have been touched, and a refused change changes and touches nothing."""
    before = state.to_document()
    state.changes.take()
    refused = False
    try:
        change()
    except RamError:
        refused = True
    touched = set(state.changes.take())
    changed = changed_units(before, state.to_document())
    assert changed <= touched, f"changed but not touched: {sorted(changed - touched)}"
    if refused:
        assert (changed, touched) == (set(), set())
    return changed, touched, refused


def touches(state: CloudState, change: Callable[[], object]) -> set[Unit]:
    """The units a successful change touched (all of them changed: nothing touched in vain)."""
    changed, touched, refused = run(state, change)
    assert not refused
    assert touched == changed, f"touched but not changed: {sorted(touched - changed)}"
    return touched


def refuses(state: CloudState, change: Callable[[], object]) -> None:
    assert run(state, change)[2], "the change was not refused"


@cache
def _new_state_document() -> dict:
    return CloudState.create(NOW)[0].to_document()


def new_state() -> CloudState:
    """A new account (its administrator with an AccessKey and a console password), made once
    and read back for every test: scrypt makes `CloudState.create` slow."""
    return CloudState.from_document(_new_state_document())


@pytest.fixture
def state() -> CloudState:
    return new_state()


@pytest.fixture
def ram(state: CloudState):
    return state.ram


# --- users, console passwords, AccessKeys ----------------------------------------------


def test_users(state, ram):
    assert touches(state, lambda: ram.create_user("alice", NOW)) == {(K.RAM_USER, "alice")}
    refuses(state, lambda: ram.create_user("alice", NOW))
    refuses(state, lambda: ram.create_user("bad name", NOW))
    assert touches(state, lambda: ram.update_user("alice", new_display_name="Alice")) == {
        (K.RAM_USER, "alice")
    }
    assert touches(state, lambda: ram.update_user("alice", new_comments="c")) == {
        (K.RAM_USER, "alice")
    }
    refuses(state, lambda: ram.update_user("alice", new_user_name=ADMIN_USER))
    refuses(state, lambda: ram.update_user("alice", new_user_name="x", new_comments="c" * 129))
    refuses(state, lambda: ram.update_user("nobody", new_comments="c"))
    assert touches(state, lambda: ram.delete_user("alice")) == {(K.RAM_USER, "alice")}
    refuses(state, lambda: ram.delete_user("alice"))


def test_rename_user_moves_its_memberships_and_attachments(state, ram):
    ram.create_user("alice", NOW)
    ram.create_user("bob", NOW)
    for group in ("A", "B", "C"):
        ram.create_group(group, NOW)
    ram.add_user_to_group("alice", "A")
    ram.add_user_to_group("bob", "A")
    ram.add_user_to_group("alice", "C")
    ram.add_user_to_group("bob", "B")
    ram.create_policy("EcsAll", ALLOW_ECS, NOW)
    ram.attach_policy_to_user("Custom", "EcsAll", "alice")
    ram.attach_policy_to_user("System", "AdministratorAccess", "alice")
    ram.attach_policy_to_user("Custom", "EcsAll", "bob")
    assert touches(state, lambda: ram.update_user("alice", new_user_name="carol")) == {
        (K.RAM_USER, "alice"),
        (K.RAM_USER, "carol"),
        (K.RAM_GROUP, "A"),
        (K.RAM_GROUP, "C"),
        attachment("User", "alice", "Custom", "EcsAll"),
        attachment("User", "carol", "Custom", "EcsAll"),
        attachment("User", "alice", "System", "AdministratorAccess"),
        attachment("User", "carol", "System", "AdministratorAccess"),
    }
    # a rename and a new display name at once: one user unit under its new name
    assert touches(
        state, lambda: ram.update_user("bob", new_user_name="dave", new_display_name="Dave")
    ) == {
        (K.RAM_USER, "bob"),
        (K.RAM_USER, "dave"),
        (K.RAM_GROUP, "A"),
        (K.RAM_GROUP, "B"),
        attachment("User", "bob", "Custom", "EcsAll"),
        attachment("User", "dave", "Custom", "EcsAll"),
    }


def test_console_password(state, ram):
    ram.create_user("alice", NOW)
    alice = {(K.RAM_USER, "alice")}
    assert touches(state, lambda: ram.create_login_profile("alice", PASSWORD, NOW)) == alice
    refuses(state, lambda: ram.create_login_profile("alice", PASSWORD, NOW))
    refuses(state, lambda: ram.update_login_profile("alice", password="short"))
    refuses(state, lambda: ram.update_login_profile("alice", "short", password_reset_required=True))
    assert touches(state, lambda: ram.update_login_profile("alice", password="Another-one-2")) == (
        alice
    )
    assert touches(state, lambda: ram.update_login_profile("alice", mfa_bind_required=True)) == (
        alice
    )
    assert touches(state, lambda: ram.delete_login_profile("alice")) == alice
    refuses(state, lambda: ram.delete_login_profile("alice"))
    refuses(state, lambda: ram.update_login_profile("alice", password=PASSWORD))
    refuses(state, lambda: ram.create_login_profile("nobody", PASSWORD, NOW))
    refuses(state, lambda: ram.create_login_profile("alice", "\x00" * 10, NOW))


def test_access_keys(state, ram):
    ram.create_user("alice", NOW)
    alice = {(K.RAM_USER, "alice")}
    keys = []
    assert touches(state, lambda: keys.append(ram.create_access_key("alice", NOW))) == alice
    assert touches(state, lambda: ram.import_access_key("alice", "LTAI5tImported", "s", NOW)) == (
        alice
    )
    refuses(state, lambda: ram.create_access_key("alice", NOW))  # at most two
    refuses(state, lambda: ram.import_access_key("bob", "LTAI5tImported2", "s", NOW))
    refuses(state, lambda: ram.import_access_key(ADMIN_USER, "LTAI5tImported", "s", NOW))
    key_id = keys[0].access_key_id
    assert touches(state, lambda: ram.update_access_key("alice", key_id, "Inactive")) == alice
    refuses(state, lambda: ram.update_access_key("alice", key_id, "Off"))
    refuses(state, lambda: ram.update_access_key(ADMIN_USER, key_id, "Active"))  # not its key
    assert touches(state, lambda: ram.delete_access_key("alice", key_id)) == alice
    refuses(state, lambda: ram.delete_access_key("alice", key_id))
    refuses(state, lambda: ram.delete_user("alice"))  # it still has a key


# --- groups -------------------------------------------------------------------------------


def test_groups_and_members(state, ram):
    ram.create_user("alice", NOW)
    assert touches(state, lambda: ram.create_group("A", NOW)) == {(K.RAM_GROUP, "A")}
    ram.create_group("B", NOW)
    refuses(state, lambda: ram.create_group("A", NOW))
    refuses(state, lambda: ram.create_group("bad_name", NOW))
    assert touches(state, lambda: ram.add_user_to_group("alice", "A")) == {(K.RAM_GROUP, "A")}
    refuses(state, lambda: ram.add_user_to_group("alice", "A"))
    refuses(state, lambda: ram.add_user_to_group("nobody", "A"))
    assert touches(state, lambda: ram.move_user_between_groups("alice", "A", "B")) == {
        (K.RAM_GROUP, "A"),
        (K.RAM_GROUP, "B"),
    }
    refuses(state, lambda: ram.move_user_between_groups("alice", "A", "B"))
    ram.add_user_to_group("alice", "A")
    refuses(state, lambda: ram.move_user_between_groups("alice", "A", "B"))  # already in B
    assert touches(state, lambda: ram.remove_user_from_group("alice", "A")) == {(K.RAM_GROUP, "A")}
    refuses(state, lambda: ram.remove_user_from_group("alice", "A"))
    refuses(state, lambda: ram.delete_group("B"))  # alice is in it
    assert touches(state, lambda: ram.update_group("A", new_comments="ops")) == {(K.RAM_GROUP, "A")}
    assert touches(state, lambda: ram.delete_group("A")) == {(K.RAM_GROUP, "A")}
    refuses(state, lambda: ram.delete_group("A"))


def test_rename_group_moves_its_attachments(state, ram):
    ram.create_group("Ops", NOW)
    ram.create_group("Dev", NOW)
    ram.create_user("alice", NOW)
    ram.add_user_to_group("alice", "Ops")
    ram.attach_policy_to_group("System", "AdministratorAccess", "Ops")
    ram.attach_policy_to_group("System", "AdministratorAccess", "Dev")
    refuses(state, lambda: ram.update_group("Ops", new_group_name="Dev"))
    refuses(state, lambda: ram.update_group("Ops", new_group_name="X", new_comments="c" * 129))
    assert touches(
        state, lambda: ram.update_group("Ops", new_group_name="Operations", new_comments="c")
    ) == {
        (K.RAM_GROUP, "Ops"),
        (K.RAM_GROUP, "Operations"),
        attachment("Group", "Ops", "System", "AdministratorAccess"),
        attachment("Group", "Operations", "System", "AdministratorAccess"),
    }
    assert [g.group_name for g in ram.list_groups_for_user("alice")] == ["Operations"]


# --- policies, versions, attachments ----------------------------------------------------


def test_policies_and_versions(state, ram):
    policy = {(K.RAM_POLICY, "EcsAll")}
    assert touches(state, lambda: ram.create_policy("EcsAll", ALLOW_ECS, NOW)) == policy
    refuses(state, lambda: ram.create_policy("EcsAll", ALLOW_ECS, NOW))
    refuses(state, lambda: ram.create_policy("AdministratorAccess", ALLOW_ECS, NOW))
    refuses(state, lambda: ram.create_policy("Broken", "{", NOW))
    assert touches(state, lambda: ram.create_policy_version("EcsAll", DENY_STOP, NOW)) == policy
    assert touches(
        state, lambda: ram.create_policy_version("EcsAll", ALLOW_ECS, NOW, set_as_default=True)
    ) == (policy)
    refuses(state, lambda: ram.create_policy_version("EcsAll", "{", NOW))
    refuses(state, lambda: ram.create_policy_version("Nope", ALLOW_ECS, NOW))
    assert touches(state, lambda: ram.set_default_policy_version("EcsAll", "v2")) == policy
    refuses(state, lambda: ram.set_default_policy_version("EcsAll", "v9"))
    refuses(state, lambda: ram.delete_policy_version("EcsAll", "v2"))  # the default
    refuses(state, lambda: ram.delete_policy("EcsAll"))  # it has other versions
    for version in ("v1", "v3"):
        assert touches(state, lambda v=version: ram.delete_policy_version("EcsAll", v)) == policy
    for _ in range(4):
        ram.create_policy_version("EcsAll", ALLOW_ECS, NOW)
    refuses(state, lambda: ram.create_policy_version("EcsAll", ALLOW_ECS, NOW))  # at most five
    for version in ("v4", "v5", "v6", "v7"):
        ram.delete_policy_version("EcsAll", version)
    assert touches(state, lambda: ram.delete_policy("EcsAll")) == policy
    refuses(state, lambda: ram.delete_policy("EcsAll"))


@pytest.mark.parametrize("kind", ["User", "Group", "Role"])
def test_attachments(state, ram, kind):
    create = {
        "User": lambda: ram.create_user("p", NOW),
        "Group": lambda: ram.create_group("p", NOW),
        "Role": lambda: ram.create_role("p", ECS_TRUST, NOW),
    }[kind]
    attach = getattr(ram, f"attach_policy_to_{kind.lower()}")
    detach = getattr(ram, f"detach_policy_from_{kind.lower()}")
    delete = getattr(ram, f"delete_{kind.lower()}")
    create()
    ram.create_policy("EcsAll", ALLOW_ECS, NOW)
    for policy_type, policy in (("Custom", "EcsAll"), ("System", "AdministratorAccess")):
        unit = {attachment(kind, "p", policy_type, policy)}
        assert touches(state, lambda t=policy_type, n=policy: attach(t, n, "p")) == unit
        refuses(state, lambda t=policy_type, n=policy: attach(t, n, "p"))
    refuses(state, lambda: attach("Custom", "Nope", "p"))
    refuses(state, lambda: attach("Other", "EcsAll", "p"))
    refuses(state, lambda: attach("Custom", "EcsAll", "nobody"))
    refuses(state, lambda: delete("p"))  # policies still attached
    refuses(state, lambda: ram.delete_policy("EcsAll"))  # still attached
    unit = {attachment(kind, "p", "Custom", "EcsAll")}
    assert touches(state, lambda: detach("Custom", "EcsAll", "p")) == unit
    refuses(state, lambda: detach("Custom", "EcsAll", "p"))
    detach("System", "AdministratorAccess", "p")
    assert touches(state, lambda: delete("p")) == {(f"ram_{kind.lower()}", "p")}


# --- roles --------------------------------------------------------------------------------


def test_roles(state, ram):
    role = {(K.RAM_ROLE, "EcsRole")}
    assert touches(state, lambda: ram.create_role("EcsRole", ECS_TRUST, NOW)) == role
    refuses(state, lambda: ram.create_role("EcsRole", ECS_TRUST, NOW))
    refuses(state, lambda: ram.create_role("Other", ECS_TRUST, NOW, max_session_duration=60))
    refuses(state, lambda: ram.create_role("Other", ALLOW_ECS, NOW))  # not a trust policy
    fc_trust = ECS_TRUST.replace("ecs.aliyuncs.com", "fc.aliyuncs.com")
    assert touches(
        state, lambda: ram.update_role("EcsRole", new_assume_role_policy_document=fc_trust)
    ) == (role)
    assert touches(state, lambda: ram.update_role("EcsRole", new_max_session_duration=7200)) == (
        role
    )
    refuses(state, lambda: ram.update_role("EcsRole", fc_trust, new_max_session_duration=60))
    refuses(state, lambda: ram.update_role("EcsRole", new_assume_role_policy_document="{"))
    refuses(state, lambda: ram.update_role("Nope", new_max_session_duration=7200))
    assert touches(state, lambda: ram.delete_role("EcsRole")) == role
    refuses(state, lambda: ram.delete_role("EcsRole"))


# --- reads touch nothing ------------------------------------------------------------------


def test_reads_touch_nothing(state, ram):
    ram.create_user("alice", NOW)
    ram.create_login_profile("alice", PASSWORD, NOW)
    key = ram.create_access_key("alice", NOW)
    ram.create_group("A", NOW)
    ram.add_user_to_group("alice", "A")
    ram.create_policy("EcsAll", ALLOW_ECS, NOW)
    ram.attach_policy_to_group("Custom", "EcsAll", "A")
    ram.create_role("EcsRole", ECS_TRUST, NOW)
    ram.attach_policy_to_role("System", "AdministratorAccess", "EcsRole")
    reads: list[Callable[[], object]] = [
        lambda: ram.get_user("alice"),
        ram.list_users,
        lambda: ram.get_login_profile("alice"),
        lambda: ram.console_credential("alice"),
        lambda: ram.check_console_password("alice", PASSWORD),
        lambda: ram.check_console_password("alice", "wrong-password"),
        lambda: ram.list_access_keys("alice"),
        lambda: ram.find_access_key(key.access_key_id),
        ram.list_groups,
        lambda: ram.get_group("A"),
        lambda: ram.list_groups_for_user("alice"),
        lambda: ram.list_users_for_group("A"),
        lambda: ram.get_policy("EcsAll", "Custom"),
        lambda: ram.get_policy("AdministratorAccess", "System"),
        ram.list_policies,
        lambda: ram.get_policy_version("EcsAll", "v1"),
        lambda: ram.list_policy_versions("EcsAll"),
        lambda: ram.list_policies_for_user("alice"),
        lambda: ram.list_policies_for_group("A"),
        lambda: ram.list_policies_for_role("EcsRole"),
        lambda: ram.list_entities_for_policy("Custom", "EcsAll"),
        ram.list_roles,
        lambda: ram.get_role("EcsRole"),
        lambda: ram.role_arn("EcsRole"),
        lambda: ram.authorize(
            Caller("user", "alice"), "ecs:DescribeInstances", "*", RequestContext()
        ),
        lambda: ram.effective_policies("alice"),
        lambda: ram.role_policies("EcsRole"),
    ]
    for read in reads:
        assert run(state, read)[:2] == (set(), set())


# --- random sequences through the oracle --------------------------------------------------

# mostly names that exist or will, now and then one the model refuses
USERS = st.sampled_from(["alice", "alice", "bob", "carol", ADMIN_USER, "bad name"])
GROUPS = st.sampled_from(["A", "A", "B", "C", "bad_name"])
POLICY_REFS = st.sampled_from(
    [
        ("Custom", "P"),
        ("Custom", "P"),
        ("Custom", "Q"),
        ("System", "AdministratorAccess"),
        ("System", "AliyunECSReadOnlyAccess"),
        ("Custom", "AdministratorAccess"),
    ]
)
POLICIES = st.sampled_from(["P", "P", "Q", "AdministratorAccess"])
ROLES = st.sampled_from(["R", "R", "S"])
DOCUMENTS = st.sampled_from([ALLOW_ECS, DENY_STOP, ALLOW_ECS, "{"])
TRUSTS = st.sampled_from([ECS_TRUST, ECS_TRUST, ALLOW_ECS])
TEXTS = st.sampled_from(["", "note", "other", "x" * 129])
VERSIONS = st.sampled_from(["v1", "v2", "v3", "v4", "v9"])
KEY_INDEX = st.integers(0, 2)


def _key_id(ram, user_name: str, index: int) -> str:
    keys = list(ram.users[user_name].access_keys) if user_name in ram.users else []
    return keys[index] if index < len(keys) else "LTAI5tNoSuchKey"


def _operations(ram) -> st.SearchStrategy[Callable[[], object]]:
    def op(fn, *strategies):
        return st.tuples(*strategies).map(lambda args: lambda: fn(*args))

    def attach(kind: str, verb: str):
        method = getattr(ram, f"{verb}_policy_{'to' if verb == 'attach' else 'from'}_{kind}")
        names = {"user": USERS, "group": GROUPS, "role": ROLES}[kind]
        return op(lambda ref, name: method(*ref, name), POLICY_REFS, names)

    return st.one_of(
        op(lambda u, d: ram.create_user(u, NOW, display_name=d or None), USERS, TEXTS),
        op(
            lambda u, n, d, c: ram.update_user(u, n, d or None, c),
            USERS,
            st.none() | USERS,
            TEXTS,
            st.none() | TEXTS,
        ),
        op(ram.delete_user, USERS),
        op(lambda u, p: ram.create_login_profile(u, p, NOW), USERS, st.just(PASSWORD) | TEXTS),
        op(
            lambda u, p, r: ram.update_login_profile(u, p, r),
            USERS,
            st.none() | st.just("Another-one-2") | TEXTS,
            st.none() | st.booleans(),
        ),
        op(ram.delete_login_profile, USERS),
        op(lambda u: ram.create_access_key(u, NOW), USERS),
        op(lambda u, k: ram.import_access_key(u, k, "secret", NOW), USERS, st.just("LTAI5tMine")),
        op(
            lambda u, i, s: ram.update_access_key(u, _key_id(ram, u, i), s),
            USERS,
            KEY_INDEX,
            st.sampled_from(["Active", "Inactive", "Off"]),
        ),
        op(lambda u, i: ram.delete_access_key(u, _key_id(ram, u, i)), USERS, KEY_INDEX),
        op(lambda g, c: ram.create_group(g, NOW, c), GROUPS, TEXTS),
        op(ram.update_group, GROUPS, st.none() | GROUPS, st.none() | TEXTS),
        op(ram.delete_group, GROUPS),
        op(ram.add_user_to_group, USERS, GROUPS),
        op(ram.remove_user_from_group, USERS, GROUPS),
        op(ram.move_user_between_groups, USERS, GROUPS, GROUPS),
        op(lambda p, d: ram.create_policy(p, d, NOW), POLICIES, DOCUMENTS),
        op(ram.delete_policy, POLICIES),
        op(
            lambda p, d, s: ram.create_policy_version(p, d, NOW, s),
            POLICIES,
            DOCUMENTS,
            st.booleans(),
        ),
        op(ram.set_default_policy_version, POLICIES, VERSIONS),
        op(ram.delete_policy_version, POLICIES, VERSIONS),
        op(
            lambda r, t, d: ram.create_role(r, t, NOW, max_session_duration=d),
            ROLES,
            TRUSTS,
            st.sampled_from([3600, 3600, 60]),
        ),
        op(ram.update_role, ROLES, st.none() | TRUSTS, st.none() | st.sampled_from([7200, 60])),
        op(ram.delete_role, ROLES),
        *(attach(k, verb) for k in ("user", "group", "role") for verb in ("attach", "detach")),
    )


@cache
def _seeded_document() -> dict:
    """Something of everything, so that most random operations find what they act on."""
    state = new_state()
    ram = state.ram
    for user in ("alice", "bob"):
        ram.create_user(user, NOW)
        ram.create_access_key(user, NOW)
    ram.create_login_profile("alice", PASSWORD, NOW)
    ram.create_group("A", NOW)
    ram.create_group("B", NOW)
    ram.add_user_to_group("alice", "A")
    ram.add_user_to_group("bob", "A")
    ram.add_user_to_group(ADMIN_USER, "B")
    ram.create_policy("P", ALLOW_ECS, NOW)
    ram.create_policy_version("P", DENY_STOP, NOW)
    ram.create_role("R", ECS_TRUST, NOW)
    ram.attach_policy_to_user("Custom", "P", "alice")
    ram.attach_policy_to_group("System", "AliyunECSReadOnlyAccess", "A")
    ram.attach_policy_to_role("Custom", "P", "R")
    return state.to_document()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_random_sequences_touch_what_they_change(data):
    state = CloudState.from_document(_seeded_document())
    ram = state.ram
    operations = _operations(ram)
    # a cheap stand-in for scrypt (a quarter of a second a password): what is stored changes
    # with each new password all the same, which is what the oracle looks at
    fast_hash = lambda password, random_bytes: f"fake${password}${random_bytes(4).hex()}"  # noqa: E731
    with mock.patch("palisade.auditor.model.ram.users.hash_password", fast_hash):
        for _ in range(data.draw(st.integers(1, 40), label="steps")):
            run(state, data.draw(operations))
