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

from palisade.auditor.model import changes as K
from palisade.auditor.model.changes import Unit, compound

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
