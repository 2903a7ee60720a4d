"""SSH key pairs: CreateKeyPair, ImportKeyPair, AttachKeyPair, DetachKeyPair, DeleteKeyPairs,
DescribeKeyPairs, with the ECS API's parameters and response fields.

Also the one change the cloud makes by itself: a pending attach/detach takes effect when the
instance's agent reports a new boot (see `activate_after_restart`, called by the auditor's
ingest through `ApiService.apply_system_change`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from palisade.auditor.api.actions.ecs.common import ecs_tags
from palisade.auditor.api.actions.ecs.tags import tag_filter, tags_given
from palisade.auditor.api.params import Params, paginate
from palisade.auditor.api.registry import ActionContext, AuditEntry, action
from palisade.auditor.model import tags as tag_rules
from palisade.auditor.model.cloud_state import CloudState
from palisade.auditor.model.fleet.resources import InstanceState, OsFamily
from palisade.auditor.model.keypairs.service import (
    GeneratedKey,
    InstanceResult,
    InstanceView,
    KeyPair,
    binding_view,
)


def rsa_2048() -> GeneratedKey:
    """The cloud's key generation: RSA 2048, private key as unencrypted PEM PKCS#8."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode("ascii")
    )
    return GeneratedKey(public, private_pem)


# -- resources (RAM checks every one) ----------------------------------------------------------


def _region(p: Params) -> str:
    return p.str("RegionId") or "*"


def _keypair_arn(ctx: ActionContext, p: Params) -> list[str]:
    return [ctx.arn("ecs", _region(p), f"keypair/{p.str('KeyPairName') or '*'}")]


def _keypair_and_instances(ctx: ActionContext, p: Params) -> list[str]:
    ids = p.list("InstanceIds", max_items=1000) or ["*"]
    return _keypair_arn(ctx, p) + [ctx.arn("ecs", _region(p), f"instance/{i}") for i in ids]


def _keypair_names(ctx: ActionContext, p: Params) -> list[str]:
    names = p.list("KeyPairNames", max_items=1000) or ["*"]
    return [ctx.arn("ecs", _region(p), f"keypair/{n}") for n in names]


# -- helpers ------------------------------------------------------------------------------------


def _region_id(ctx: ActionContext, p: Params) -> str:
    region = p.req("RegionId")
    ctx.state.cloud.get_region(region)
    return region


def _pair_view(pair: KeyPair) -> dict:
    return {"name": pair.name, "fingerprint": pair.fingerprint, "key_type": pair.key_type}


def _instance_view(state: CloudState, instance_id: str) -> InstanceView | None:
    inst = state.cloud.instances.get(instance_id)
    if inst is None:
        return None
    return InstanceView(
        inst.instance_id,
        inst.account_id,
        inst.region_id,
        is_linux=inst.os_family is OsFamily.LINUX,
        is_running=inst.state is InstanceState.RUNNING,
        is_stopped=inst.state is InstanceState.STOPPED,
    )


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _results(name: str, results: list[InstanceResult]) -> dict:
    # ECS answers these as strings ("1", "true").
    return {
        "KeyPairName": name,
        "TotalCount": str(len(results)),
        "FailCount": str(sum(1 for r in results if not r.success)),
        "Results": {
            "Result": [
                {
                    "InstanceId": r.instance_id,
                    "Code": r.code,
                    "Message": r.message,
                    "Success": "true" if r.success else "false",
                }
                for r in results
            ]
        },
    }


def _change_bindings(ctx: ActionContext, p: Params, attach: bool) -> dict:
    region = _region_id(ctx, p)
    name = p.req("KeyPairName")
    ids = p.list("InstanceIds", max_items=1000)
    service = ctx.state.keypairs
    before = {i: binding_view(service.binding(i)) for i in dict.fromkeys(ids)}
    change = service.attach if attach else service.detach
    results = change(
        ctx.account_id, region, name, ids, lambda i: _instance_view(ctx.state, i), ctx.now
    )
    for r in results:
        after = binding_view(service.binding(r.instance_id))
        if r.success and after != before[r.instance_id]:
            ctx.record(
                ctx.arn("ecs", region, f"instance/{r.instance_id}"), before[r.instance_id], after
            )
    return _results(name, results)


# -- actions ------------------------------------------------------------------------------------


@action(
    "CreateKeyPair",
    writes=True,
    resources=_keypair_arn,
    params=("KeyPairName", "Tag", "RegionId"),
)
def create_key_pair(ctx: ActionContext, p: Params) -> dict:
    region = _region_id(ctx, p)
    tags = tags_given(p)
    pair, private_pem = ctx.state.keypairs.create(
        ctx.account_id, region, p.req("KeyPairName"), ctx.now, rsa_2048, tags=tags
    )
    ctx.record(ctx.arn("ecs", region, f"keypair/{pair.name}"), None, _pair_view(pair))
    return {
        "KeyPairId": pair.key_pair_id,
        "KeyPairName": pair.name,
        "KeyPairFingerPrint": pair.fingerprint,
        "PrivateKeyBody": private_pem,
    }


@action(
    "ImportKeyPair",
    writes=True,
    resources=_keypair_arn,
    params=("KeyPairName", "PublicKeyBody", "Tag", "RegionId"),
)
def import_key_pair(ctx: ActionContext, p: Params) -> dict:
    region = _region_id(ctx, p)
    tags = tags_given(p)
    pair = ctx.state.keypairs.import_key(
        ctx.account_id, region, p.req("KeyPairName"), p.req("PublicKeyBody"), ctx.now, tags=tags
    )
    ctx.record(ctx.arn("ecs", region, f"keypair/{pair.name}"), None, _pair_view(pair))
    return {"KeyPairName": pair.name, "KeyPairFingerPrint": pair.fingerprint}


@action(
    "AttachKeyPair",
    writes=True,
    resources=_keypair_and_instances,
    params=("KeyPairName", "InstanceIds", "RegionId"),
)
def attach_key_pair(ctx: ActionContext, p: Params) -> dict:
    return _change_bindings(ctx, p, attach=True)


@action(
    "DetachKeyPair",
    writes=True,
    resources=_keypair_and_instances,
    params=("KeyPairName", "InstanceIds", "RegionId"),
)
def detach_key_pair(ctx: ActionContext, p: Params) -> dict:
    return _change_bindings(ctx, p, attach=False)


@action(
    "DeleteKeyPairs", writes=True, resources=_keypair_names, params=("KeyPairNames", "RegionId")
)
def delete_key_pairs(ctx: ActionContext, p: Params) -> dict:
    region = _region_id(ctx, p)
    names = p.list("KeyPairNames", max_items=1000)
    retired_before = set(ctx.state.keypairs.retired)
    for pair in ctx.state.keypairs.delete(ctx.account_id, region, names):
        key = (pair.account_id, pair.region_id, pair.name)
        after = {
            "deleted": True,
            "name_retired": key not in retired_before and key in ctx.state.keypairs.retired,
        }
        ctx.record(ctx.arn("ecs", region, f"keypair/{pair.name}"), _pair_view(pair), after)
    return {}


@action(
    "DescribeKeyPairs",
    writes=False,
    resources=lambda ctx, p: [ctx.arn("ecs", _region(p), "keypair/*")],
    params=("KeyPairName", "KeyPairFingerPrint", "Tag", "PageNumber", "PageSize", "RegionId"),
)
def describe_key_pairs(ctx: ActionContext, p: Params) -> dict:
    region = _region_id(ctx, p)
    number, size = p.page(default_size=10, max_size=50)
    wanted = tag_filter(p)
    pairs = [
        pair
        for pair in ctx.state.keypairs.describe(
            ctx.account_id, region, p.str("KeyPairName"), p.str("KeyPairFingerPrint")
        )
        if tag_rules.matches(pair.tags, wanted)
    ]
    return {
        "TotalCount": len(pairs),
        "PageNumber": number,
        "PageSize": size,
        "KeyPairs": {
            "KeyPair": [
                {
                    "KeyPairId": pair.key_pair_id,
                    "KeyPairName": pair.name,
                    "KeyPairFingerPrint": pair.fingerprint,
                    "CreationTime": _time(pair.created_at),
                    "PublicKey": pair.public_key,
                    "ResourceGroupId": "",
                    "Tags": ecs_tags(pair.tags),
                }
                for pair in paginate(pairs, number, size)
            ]
        },
    }


# -- changes the cloud makes by itself ---------------------------------------------------------


def activate_after_restart(
    state: CloudState, instance_id: str, boot_time: datetime
) -> list[AuditEntry]:
    """An instance restarted (its agent reported a new boot time): pending key-pair changes
    take effect. Returns the audit entries (none when nothing was pending)."""
    before = binding_view(state.keypairs.binding(instance_id))
    if state.keypairs.restart_observed(instance_id, boot_time) is None:
        return []
    inst = state.cloud.instances.get(instance_id)
    region = inst.region_id if inst else "*"
    arn = f"acs:ecs:{region}:{state.account_id}:instance/{instance_id}"
    after = binding_view(state.keypairs.binding(instance_id))
    return [AuditEntry(arn, {**before, "boot_time": _time(boot_time)}, after)]


def activate_booted(
    boot_times: Mapping[str, int],
) -> Callable[[CloudState, datetime], list[AuditEntry]]:
    """The change `ApiService.apply_system_change` runs for instances whose agents reported a
    boot time (instance id -> unix seconds, the latest reported): every pending change
    requested before that boot takes effect. Level-triggered and idempotent: the ingest's
    restart hook passes the one instance that just restarted, the periodic sweep every
    pending instance's latest boot; an activated binding is no longer pending, and a
    replica replaying it on a newer state finds nothing to do."""
    boots = {i: datetime.fromtimestamp(s, UTC) for i, s in boot_times.items() if s > 0}

    def change(state: CloudState, _now: datetime) -> list[AuditEntry]:
        entries: list[AuditEntry] = []
        for instance_id in sorted(boots):
            entries += activate_after_restart(state, instance_id, boots[instance_id])
        return entries

    return change
