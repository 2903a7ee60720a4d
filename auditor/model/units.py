"""The cloud state as units (see `model.changes`): what the store keeps one row set for.

`units_from_document` cuts a whole state document (`CloudState.to_document`) into units and
`document_from_units` puts them back together, in order; `unit_body` encodes one unit straight
from the live objects, without the whole document (what a write costs), and `apply_units` puts
stored units into a live state (what a replica catching up, or a failed write restoring, does).
A unit's body is exactly its part of the document, so a state stored as units and read back is
the state `from_document` would have read, with every check that reader makes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from palisade.auditor.model import changes as K
from palisade.auditor.model.changes import Unit, compound, parts
from palisade.auditor.model.ddos.protection import InstanceDdos
from palisade.auditor.model.document import decode, encode
from palisade.auditor.model.fleet import document as fleet_document
from palisade.auditor.model.fleet.resources import Account, Instance, Region, Vpc, VSwitch
from palisade.auditor.model.keypairs.service import KeyBinding, KeyPair
from palisade.auditor.model.network.security_group import SecurityGroup
from palisade.auditor.model.ram import account_document as ram_document

if TYPE_CHECKING:
    from palisade.auditor.model.cloud_state import CloudState

Body = dict


@dataclass(frozen=True)
class _List:
    """A list of units in one section of the document: `kind` units at doc[section][key]."""

    kind: str
    section: str
    key: str
    identity: Callable[[dict], str]


def _field(name: str) -> Callable[[dict], str]:
    return lambda item: str(item[name])


LISTS: tuple[_List, ...] = (
    _List(K.ACCOUNT, "cloud", "accounts", _field("account_id")),
    _List(K.REGION, "cloud", "regions", _field("region_id")),
    _List(K.VPC, "cloud", "vpcs", _field("vpc_id")),
    _List(K.VSWITCH, "cloud", "vswitches", _field("vswitch_id")),
    _List(K.GROUP, "cloud", "groups", _field("group_id")),
    _List(K.INSTANCE, "cloud", "instances", _field("instance_id")),
    _List(
        K.KEYPAIR,
        "keypairs",
        "key_pairs",
        lambda p: compound(p["account_id"], p["region_id"], p["name"]),
    ),
    _List(K.KEYPAIR_BINDING, "keypairs", "bindings", _field("instance_id")),
    _List(K.RAM_USER, "ram", "Users", _field("UserName")),
    _List(K.RAM_GROUP, "ram", "Groups", _field("GroupName")),
    _List(K.RAM_POLICY, "ram", "Policies", _field("PolicyName")),
    _List(K.RAM_ROLE, "ram", "Roles", _field("RoleName")),
    _List(
        K.RAM_ATTACHMENT,
        "ram",
        "Attachments",
        lambda a: compound(
            a["PrincipalType"], a["PrincipalName"], a["PolicyType"], a["PolicyName"]
        ),
    ),
    _List(K.INSTANCE_ROLE, "instance_roles", "Bindings", _field("InstanceId")),
)
_BY_KIND = {spec.kind: spec for spec in LISTS}

# the rest of each section (what is not in a list) is one unit of its own
SECTION_META = {
    "cloud": K.FLEET,
    "keypairs": K.KEYPAIRS,
    "ram": K.RAM,
    "instance_roles": K.INSTANCE_ROLES,
}
SECTIONS = ("cloud", "ram", "instance_roles", "keypairs", "ddos")


def units_from_document(doc: dict) -> dict[Unit, Body]:
    """Every unit of a whole state document, in document order (the order the lists keep)."""
    out: dict[Unit, Body] = {}
    out[(K.STATE, "")] = {k: v for k, v in doc.items() if k not in SECTIONS}
    for section, meta_kind in SECTION_META.items():
        part = doc.get(section)
        if part is None:  # a section older documents lack
            continue
        lists = {spec.key for spec in LISTS if spec.section == section}
        out[(meta_kind, "")] = {k: v for k, v in part.items() if k not in lists}
        for spec in LISTS:
            if spec.section == section:
                for item in part.get(spec.key, []):
                    out[(spec.kind, spec.identity(item))] = item
    ddos = doc.get("ddos")
    if ddos is not None:
        for instance_id, record in ddos.get("instances", {}).items():
            out[(K.DDOS, str(instance_id))] = record
    return out


def document_from_units(units: Iterable[tuple[Unit, Body]]) -> dict:
    """The whole state document of `units` (each list in the order given); the inverse of
    `units_from_document`."""
    doc: dict = {}
    sections: dict[str, dict] = {}
    lists: dict[str, list] = {spec.kind: [] for spec in LISTS}
    ddos: dict[str, Body] = {}
    for (kind, unit_id), body in units:
        if kind == K.STATE:
            doc.update(body)
        elif kind == K.DDOS:
            ddos[unit_id] = body
        elif kind in lists:
            lists[kind].append(body)
        else:
            section = next(s for s, k in SECTION_META.items() if k == kind)
            sections[section] = dict(body)
    for section, part in sections.items():
        for spec in LISTS:
            if spec.section == section:
                part[spec.key] = lists[spec.kind]
        doc[section] = part
    doc["ddos"] = {"instances": dict(sorted(ddos.items()))}
    return doc


# -- one unit from the live objects ------------------------------------------------------------


def unit_body(state: CloudState, unit: Unit) -> Body | None:
    """The body `units_from_document(state.to_document())` has for `unit` (None: the unit is
    not there), computed from that unit's objects alone."""
    kind, unit_id = unit
    cloud, ram, keypairs = state.cloud, state.ram, state.keypairs
    if kind == K.STATE:
        return state.meta_document()
    if kind == K.FLEET:
        return fleet_document.meta_document(cloud)
    resources = _resources(state)
    if kind in resources:
        obj = resources[kind][1].get(unit_id)
        return None if obj is None else encode(obj)  # type: ignore[return-value]
    if kind == K.KEYPAIRS:
        return keypairs.meta_document()
    if kind == K.KEYPAIR:
        account_id, region_id, name = parts(unit_id)
        pair = keypairs.pairs.get((account_id, region_id, name))
        return None if pair is None else encode(pair)  # type: ignore[return-value]
    if kind == K.RAM:
        return ram_document.meta_document(ram)
    if kind == K.RAM_USER:
        user = ram.users.get(unit_id)
        return None if user is None else ram_document.user_document(user)
    if kind == K.RAM_GROUP:
        group = ram.groups.get(unit_id)
        return None if group is None else ram_document.group_document(group)
    if kind == K.RAM_POLICY:
        policy = ram.policies.get(unit_id)
        return None if policy is None else ram_document.policy_document(policy)
    if kind == K.RAM_ROLE:
        role = ram.roles.get(unit_id)
        return None if role is None else ram_document.role_document(role)
    if kind == K.RAM_ATTACHMENT:
        for attachment in ram.attachments:
            body = ram_document.attachment_document(attachment)
            if _BY_KIND[K.RAM_ATTACHMENT].identity(body) == unit_id:
                return body
        return None
    if kind == K.INSTANCE_ROLES:
        return state.instance_roles.meta_document()
    if kind == K.INSTANCE_ROLE:
        return state.instance_roles.binding_document(unit_id)
    raise ValueError(f"unknown unit kind {kind!r}")


# -- stored units into a live state ------------------------------------------------------------

RAM_KINDS = frozenset({K.RAM, K.RAM_USER, K.RAM_GROUP, K.RAM_POLICY, K.RAM_ROLE, K.RAM_ATTACHMENT})


def apply_units(
    state: CloudState,
    updates: dict[Unit, Body | None],
    ram_units: Callable[[], Iterable[tuple[Unit, Body]]],
) -> None:
    """Makes `state` hold the stored bodies `updates` gives (None: the unit is gone), each
    read by the same decoder a whole-document load uses. The fleet's indexes follow instance
    by instance. RAM units are few and checked against each other (members, attachments), so
    a change to any of them reloads the RAM account from `ram_units()` (all its stored
    units) with `ram_document.from_document`'s checks."""
    cloud, keypairs = state.cloud, state.keypairs
    classes = _resources(state)
    reload_ram = False
    for (kind, unit_id), body in updates.items():
        where = f"$.{kind}[{unit_id!r}]"
        if kind in RAM_KINDS:
            reload_ram = True
        elif kind == K.INSTANCE:  # the fleet's indexes follow
            cloud.replace_instance(unit_id, None if body is None else decode(Instance, body, where))
        elif kind in classes:
            cls, target = classes[kind]
            if body is None:
                target.pop(unit_id, None)
            else:
                target[unit_id] = decode(cls, body, where)
        elif kind == K.KEYPAIR:
            key = tuple(parts(unit_id))
            if body is None:
                keypairs.pairs.pop(key, None)  # type: ignore[arg-type]
            else:
                keypairs.pairs[key] = decode(KeyPair, body, where)  # type: ignore[index]
        elif kind == K.STATE and body is not None:
            state.account_id = body["account_id"]
            state.sts_signing_key = bytes.fromhex(body["sts_signing_key"])
        elif kind == K.FLEET and body is not None:
            fleet_document.apply_meta_document(cloud, body)
        elif kind == K.KEYPAIRS and body is not None:
            keypairs.apply_meta_document(body)
        elif kind == K.INSTANCE_ROLES and body is not None:
            state.instance_roles.apply_meta_document(body)
        elif kind == K.INSTANCE_ROLE:
            state.instance_roles.apply_binding_document(unit_id, body)
        elif kind not in K.KINDS:
            raise ValueError(f"unknown unit kind {kind!r}")
    if reload_ram:
        doc = document_from_units(ram_units())
        state.ram = ram_document.from_document(doc["ram"])
        state.share_changes()


def _resources(state: CloudState) -> dict[str, tuple[type, dict]]:
    """The unit kinds that are one object each in a dict of the live state, keyed by the
    unit id: the object's class and that dict."""
    cloud = state.cloud
    return {
        K.ACCOUNT: (Account, cloud.accounts),
        K.REGION: (Region, cloud.regions),
        K.VPC: (Vpc, cloud.vpcs),
        K.VSWITCH: (VSwitch, cloud.vswitches),
        K.GROUP: (SecurityGroup, cloud.groups),
        K.INSTANCE: (Instance, cloud.instances),
        K.KEYPAIR_BINDING: (KeyBinding, state.keypairs.bindings),
        K.DDOS: (InstanceDdos, state.ddos.instances),
    }
