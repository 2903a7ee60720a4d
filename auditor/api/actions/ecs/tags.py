"""Tags: TagResources, UntagResources, ListTagResources, and what the create and describe
actions share about tags (`Tag.N.Key` / `Tag.N.Value` on a create call, the same as a filter
on a describe call, `Tags.Tag` in answers).

Two products tag, as in the cloud, with one implementation:
- ECS (2014-05-26): TagResources, UntagResources, ListTagResources, ResourceType `instance`,
  `securitygroup`, `keypair` (a key pair's ResourceId is its name), authorised as `ecs:...`.
  Called by name alone (the palisade client, the dashboard, fleet specs) it also takes the
  VPC product's types, as it always did.
- VPC (2016-04-28): TagResources, UnTagResources (its SDK's spelling), ListTagResources
  (with MaxResults), ResourceType `VPC`, `VSWITCH`, authorised as `vpc:...`.
ResourceType is matched in any case; each resource is authorised on its own ARN. The rules
(20 tags per resource, lengths, reserved prefixes) are in `model/tags.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from palisade.auditor.api.actions.ecs.common import arn, owner_account, region_id
from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params, invalid
from palisade.auditor.api.registry import ActionContext, Handler, Resources, action
from palisade.auditor.model import tags as tag_rules
from palisade.auditor.model.errors import ModelError

_TAG_PARAM = re.compile(r"^Tag\.([0-9]{1,6})\.(Key|Value)$")
MAX_RESOURCES = 50  # ResourceId.N of the tagging actions
LIST_PAGE = 50  # ListTagResources answers at most 50 tags per page


def _tag_pairs(p: Params) -> list[tuple[str, str | None]]:
    """`Tag.N.Key` / `Tag.N.Value` (N = 1..20) in index order; a value not given is None."""
    keys: dict[int, str] = {}
    values: dict[int, str] = {}
    for name, value in p.raw.items():
        if not name.startswith("Tag."):
            continue
        m = _TAG_PARAM.match(name)
        if m is None or not 1 <= int(m.group(1)) <= tag_rules.MAX_TAGS_PER_RESOURCE:
            raise invalid(
                name, f"use Tag.N.Key and Tag.N.Value with N 1..{tag_rules.MAX_TAGS_PER_RESOURCE}"
            )
        (keys if m.group(2) == "Key" else values)[int(m.group(1))] = value
    for index in values.keys() - keys.keys():
        raise ModelError(
            "InvalidTagKey.Malformed", f"Tag.{index}.Value is given without Tag.{index}.Key."
        )
    return [(keys[i], values.get(i)) for i in sorted(keys)]


def tags_given(p: Params) -> dict[str, str]:
    """The tags a create call puts on its new resource (a value not given is "")."""
    return tag_rules.checked_tags((k, v or "") for k, v in _tag_pairs(p))


def tag_filter(p: Params) -> list[tuple[str, str | None]]:
    """The `Tag.N.*` filter of a describe call: resources carrying every key (with the value,
    where one is given)."""
    return _tag_pairs(p)


# -- the resource types -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    name: str  # as answered in ListTagResources
    service: str
    arn_kind: str
    find: Callable[[ActionContext, str, str], Any]  # (ctx, region, id) -> resource or None


def _in_region(found: Any, region: str) -> Any:
    return found if found is not None and found.region_id == region else None


def _set_tags(ctx: ActionContext, kind: _Kind, ident: str, resource: Any, tags: dict) -> None:
    """Through the model, which records the unit it changed."""
    if kind.arn_kind == "keypair":
        ctx.state.keypairs.set_tags(resource.account_id, resource.region_id, ident, tags)
    else:
        ctx.state.cloud.set_tags(kind.arn_kind, ident, tags)


_KINDS = {
    "instance": _Kind(
        "instance",
        "ecs",
        "instance",
        lambda ctx, r, i: _in_region(ctx.state.cloud.instances.get(i), r),
    ),
    "securitygroup": _Kind(
        "securitygroup",
        "ecs",
        "securitygroup",
        lambda ctx, r, i: _in_region(ctx.state.cloud.groups.get(i), r),
    ),
    "keypair": _Kind(
        "keypair",
        "ecs",
        "keypair",
        lambda ctx, r, i: ctx.state.keypairs.pairs.get((ctx.account_id, r, i)),
    ),
    "vpc": _Kind("VPC", "vpc", "vpc", lambda ctx, r, i: _in_region(ctx.state.cloud.vpcs.get(i), r)),
    "vswitch": _Kind(
        "VSWITCH",
        "vpc",
        "vswitch",
        lambda ctx, r, i: _in_region(ctx.state.cloud.vswitches.get(i), r),
    ),
}


ECS_TYPES = ("instance", "securitygroup", "keypair")
VPC_TYPES = ("vpc", "vswitch")


def _kind(p: Params, types: tuple[str, ...]) -> _Kind:
    name = p.req("ResourceType")
    if name.lower() not in types:
        raise ApiError(
            "InvalidResourceType.NotFound",
            f"ResourceType {name[:40]!r} is not valid; use one of "
            + ", ".join(_KINDS[t].name for t in types)
            + ".",
            404,
        )
    return _KINDS[name.lower()]


def _resource_arns(types: tuple[str, ...], service: str) -> Resources:
    def arns(ctx: ActionContext, p: Params) -> list[str]:
        """The ARN of every named resource (RAM checks the action on each)."""
        try:
            kind = _kind(p, types)
        except ModelError:
            return [ctx.arn(service, p.str("RegionId") or "*", "*")]
        account = p.str("ResourceOwnerAccount") or ctx.account_id
        region = p.str("RegionId") or "*"
        ids = p.list("ResourceId", max_items=MAX_RESOURCES) or ["*"]
        return [arn(kind.service, region, account, f"{kind.arn_kind}/{i}") for i in ids]

    return arns


def _resources(ctx: ActionContext, p: Params, kind: _Kind, region: str) -> list[tuple[str, Any]]:
    account = owner_account(ctx, p)
    ids = list(dict.fromkeys(p.list("ResourceId", max_items=MAX_RESOURCES)))
    if not ids:
        raise ApiError(
            "MissingParameter",
            'The input parameter "ResourceId.N" that is mandatory for processing this request '
            "is not supplied.",
        )
    out = []
    for ident in ids:
        found = kind.find(ctx, region, ident)
        if found is None or found.account_id != account:
            raise ApiError(
                "InvalidResourceId.NotFound",
                f"The {kind.name} {ident[:64]!r} does not exist in region {region}.",
                404,
            )
        out.append((ident, found))
    return out


def _record(ctx, kind: _Kind, region: str, ident: str, found, before: dict) -> None:
    if found.tags != before:
        where = arn(kind.service, region, found.account_id, f"{kind.arn_kind}/{ident}")
        ctx.record(where, {"Tags": before}, {"Tags": dict(found.tags)})


def _tag_resources(types: tuple[str, ...]) -> Handler:
    def tag_resources(ctx: ActionContext, p: Params) -> dict:
        """Sets the tags on every resource (a key a resource has gets the new value); all or
        nothing: a resource that would carry more than 20 tags refuses the whole call."""
        region = region_id(ctx, p)
        kind = _kind(p, types)
        new = tags_given(p)
        if not new:
            raise ApiError(
                "MissingParameter",
                'The input parameter "Tag.N.Key" that is mandatory for processing this request '
                "is not supplied.",
            )
        found = _resources(ctx, p, kind, region)
        after = [tag_rules.merged(r.tags, new, ident) for ident, r in found]  # check all first
        for (ident, resource), tags in zip(found, after, strict=True):
            before = dict(resource.tags)
            _set_tags(ctx, kind, ident, resource, tags)
            _record(ctx, kind, region, ident, resource, before)
        return {}

    return tag_resources


def _untag_resources(types: tuple[str, ...]) -> Handler:
    def untag_resources(ctx: ActionContext, p: Params) -> dict:
        """Removes the keys named in `TagKey.N` (1..20), or every tag with `All=true` and no
        TagKey; a key a resource does not have is ignored."""
        region = region_id(ctx, p)
        kind = _kind(p, types)
        keys = p.list("TagKey", max_items=tag_rules.MAX_TAGS_PER_RESOURCE)
        for key in keys:
            tag_rules.check_key(key)
        remove_all = p.bool("All") and not keys
        for ident, resource in _resources(ctx, p, kind, region):
            before = dict(resource.tags)
            after = {} if remove_all else {k: v for k, v in before.items() if k not in keys}
            _set_tags(ctx, kind, ident, resource, after)
            _record(ctx, kind, region, ident, resource, before)
        return {}

    return untag_resources


def _next_token(p: Params) -> int:
    token = p.str("NextToken")
    if token is None:
        return 0
    if not (token.isascii() and token.isdigit() and len(token) <= 9):
        raise ApiError("InvalidNextToken.Malformed", "NextToken is not one this API gave out.")
    return int(token)


def _list_tag_resources(types: tuple[str, ...]) -> Handler:
    def list_tag_resources(ctx: ActionContext, p: Params) -> dict:
        """The tags of the named resources (or of every resource of the type in the region),
        one row per tag; `Tag.N.*` keeps resources carrying those tags. 50 rows a page (VPC:
        `MaxResults`, 1..50); the answer's NextToken asks for the next page."""
        region = region_id(ctx, p)
        kind = _kind(p, types)
        wanted = tag_filter(p)
        size = p.int("MaxResults", default=LIST_PAGE, minimum=1, maximum=LIST_PAGE)
        assert size is not None
        if "ResourceId" in p.raw or any(k.startswith("ResourceId.") for k in p.raw):
            resources = _resources(ctx, p, kind, region)
        else:
            account = owner_account(ctx, p)
            resources = [
                (i, r)
                for i, r in sorted(_all_of(ctx, kind, region).items())
                if r.account_id == account
            ]
        rows = [
            {"ResourceType": kind.name, "ResourceId": ident, "TagKey": k, "TagValue": v}
            for ident, r in resources
            if tag_rules.matches(r.tags, wanted)
            for k, v in r.tags.items()
        ]
        start = _next_token(p)
        page = rows[start : start + size]
        more = start + size < len(rows)
        return {
            "NextToken": str(start + size) if more else "",
            "TagResources": {"TagResource": page},
        }

    return list_tag_resources


def _register(service: str, types: tuple[str, ...], untag: str, list_params: tuple) -> None:
    """One product's three tagging actions over the resource types it serves."""
    common = ("ResourceType", "ResourceId", "ResourceOwnerAccount")
    action(
        "TagResources",
        service=service,
        writes=True,
        resources=_resource_arns(types, service),
        params=(*common, "Tag"),
    )(_tag_resources(types))
    action(
        untag,
        service=service,
        writes=True,
        resources=_resource_arns(types, service),
        params=(*common, "TagKey", "All"),
    )(_untag_resources(types))
    action(
        "ListTagResources",
        service=service,
        writes=False,
        resources=lambda ctx, p: [ctx.arn(service, p.str("RegionId") or "*", "*")],
        params=(*common, "Tag", "NextToken", *list_params),
    )(_list_tag_resources(types))


_register("ecs", ECS_TYPES + VPC_TYPES, "UntagResources", ())
_register("vpc", VPC_TYPES, "UnTagResources", ("MaxResults",))


def _all_of(ctx: ActionContext, kind: _Kind, region: str) -> dict[str, Any]:
    cloud = ctx.state.cloud
    if kind.arn_kind == "keypair":
        return {n: pair for (_, r, n), pair in ctx.state.keypairs.pairs.items() if r == region}
    table = {
        "instance": cloud.instances,
        "securitygroup": cloud.groups,
        "vpc": cloud.vpcs,
        "vswitch": cloud.vswitches,
    }[kind.arn_kind]
    return {i: r for i, r in table.items() if r.region_id == region}
