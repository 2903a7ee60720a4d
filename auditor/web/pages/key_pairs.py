"""The key-pair page: each key pair with the instances it is bound to."""

from __future__ import annotations

from palisade.auditor.web.pages.router import page


@page("GET", "/key-pairs")
def key_pairs(p):
    p.require("ecs:DescribeKeyPairs", p.arn("ecs", "*", "keypair/*"))
    service = p.state.keypairs
    users: dict[str, list[str]] = {}
    for iid, binding in getattr(service, "bindings", {}).items():
        for bound in (binding.active, binding.pending):
            if bound:
                users.setdefault(bound.name, []).append(iid)
    rows = [
        {
            "name": kp.name,
            "fingerprint": kp.fingerprint,
            "type": kp.key_type,
            "region": kp.region_id,
            "created": kp.created_at.strftime("%Y-%m-%d %H:%M"),
            "instances": sorted(set(users.get(kp.name, []))),
        }
        for kp in sorted(service.pairs.values(), key=lambda k: (k.region_id, k.name))
    ]
    return p.app.render("key_pairs.html", p, p.lang, rows=rows)
