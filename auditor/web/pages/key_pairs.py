"""The key-pair page: the key pairs (paged, in natural order) with the instances each is bound
to (active, or pending until the instance restarts), and the forms that create, import,
attach, detach and delete them through the API actions of the same names."""

from __future__ import annotations

import json

from palisade.auditor.web.pages.common import (
    back_to,
    error_text,
    natural_key,
    paged,
)
from palisade.auditor.web.pages.router import page

BACK = "/ui/key-pairs"


def _rows(p) -> list[dict]:
    service = p.state.keypairs
    active: dict[str, list[str]] = {}
    pending: dict[str, list[str]] = {}
    for iid, binding in getattr(service, "bindings", {}).items():
        if binding.active:
            active.setdefault(binding.active.name, []).append(iid)
        if binding.pending:
            pending.setdefault(binding.pending.name, []).append(iid)
    pairs = sorted(service.pairs.values(), key=lambda k: (k.region_id, natural_key(k.name)))
    return [
        {
            "name": kp.name,
            "fingerprint": kp.fingerprint,
            "type": kp.key_type,
            "region": kp.region_id,
            "created": kp.created_at.strftime("%Y-%m-%d %H:%M"),
            "instances": sorted(set(active.get(kp.name, [])), key=natural_key),
            "pending": sorted(set(pending.get(kp.name, [])), key=natural_key),
        }
        for kp in pairs
    ]


def _render(p, created: dict | None = None, results: list | None = None):
    p.require("ecs:DescribeKeyPairs", p.arn("ecs", "*", "keypair/*"))
    rows = _rows(p)
    shown, number, pages = paged(p, rows)
    cloud = p.state.cloud
    arn = p.arn("ecs", "*", "keypair/*")
    return p.app.render(
        "key_pairs.html",
        p,
        p.lang,
        rows=shown,
        number=number,
        pages=pages,
        total=len(rows),
        regions=sorted(cloud.regions),
        instances=sorted(cloud.instances)[:500],  # suggestions only: any id may be typed
        names=[r["name"] for r in rows],
        created=created,
        results=results,
        can_create=p.can("ecs:CreateKeyPair", arn),
        can_import=p.can("ecs:ImportKeyPair", arn),
        can_attach=p.can("ecs:AttachKeyPair", arn),
        can_detach=p.can("ecs:DetachKeyPair", arn),
        can_delete=p.can("ecs:DeleteKeyPairs", arn),
        message=p.params.get("message", ""),
    )


@page("GET", "/key-pairs")
def key_pairs(p):
    return _render(p)


@page("POST", "/key-pairs")
def create_key_pair(p):
    """The private key is shown on this answer once (never in a URL, never stored)."""
    ok, body = p.call(
        "CreateKeyPair", RegionId=p.form.get("region", ""), KeyPairName=p.form.get("name", "")
    )
    if not ok:
        return back_to(p, BACK, error_text(body))
    created = {
        "name": body["KeyPairName"],
        "fingerprint": body["KeyPairFingerPrint"],
        "private_key": body["PrivateKeyBody"],
    }
    return _render(p, created=created)


@page("POST", "/key-pairs/import")
def import_key_pair(p):
    ok, body = p.call(
        "ImportKeyPair",
        RegionId=p.form.get("region", ""),
        KeyPairName=p.form.get("name", ""),
        PublicKeyBody=p.form.get("public_key", "").strip(),
    )
    message = f"Key pair {body.get('KeyPairName')} imported." if ok else error_text(body)
    return back_to(p, BACK, message)


def _region_of(p, name: str) -> str:
    regions = {kp.region_id for kp in p.state.keypairs.pairs.values() if kp.name == name}
    return regions.pop() if len(regions) == 1 else p.form.get("region", "")


@page("POST", "/key-pairs/(attach|detach)")
def bind_key_pair(p, verb: str):
    name = p.form.get("name", "")
    ids = [i for i in p.form.get("instances", "").replace(",", " ").split() if i]
    ok, body = p.call(
        "AttachKeyPair" if verb == "attach" else "DetachKeyPair",
        RegionId=_region_of(p, name),
        KeyPairName=name,
        InstanceIds=_json_list(ids),
    )
    if not ok:
        return back_to(p, BACK, error_text(body))
    failed = [r for r in body["Results"]["Result"] if r["Success"] != "true"]
    if failed:
        message = "; ".join(f"{r['InstanceId']}: {r['Code']}: {r['Message']}" for r in failed)
    else:
        message = f"Key pair {name} {verb}ed: {', '.join(ids)}."
    return back_to(p, BACK, message)


@page("POST", "/key-pairs/delete")
def delete_key_pair(p):
    name = p.form.get("name", "")
    ok, body = p.call(
        "DeleteKeyPairs", RegionId=_region_of(p, name), KeyPairNames=_json_list([name])
    )
    return back_to(p, BACK, f"Key pair {name} deleted." if ok else error_text(body))


def _json_list(values: list[str]) -> str:
    return json.dumps(values)  # a list parameter as a JSON array (Params.list reads both)
