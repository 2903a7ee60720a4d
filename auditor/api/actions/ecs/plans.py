"""DescribeFleetPlan and DescribeSyncPlan (Palisade's own): what `palisade apply` / `import-ecs`
and `palisade sync` would change, computed by the auditor on a copy of its current model,
nothing stored (a read: the name says so, and RAM's `ecs:Describe*` covers it; each step of the
plan is authorised on its own). The real cloud has no such action: ECS's `DryRun` checks one
request, a plan is a whole sequence whose later steps depend on the earlier ones (a group in the
VPC just created).

The plan runs the same steps the CLI then sends one by one (fleetspec/apply.py's
`apply_fleet`, sync/run.py's `sync_once`) through the action handlers (`local_api`), each step
authorised by RAM for the caller as the pipeline would, on the copy as the plan has changed
it. The first refused step ends the plan: its error is the answer's (Code, Message, HTTP
status), with `FailedAction` naming the step. Otherwise the answer lists the changes
(`Changes.Change[]`: Action, Resource, Detail) and the notes (`Notes.Note[]`).

The input is a document the CLI read (a `FleetSpec`; for DescribeSyncPlan a `CloudSnapshot`), as
JSON in the model's document form, zlib-compressed, URL-safe base64, and cut into pieces of at
most `PART` characters: `Fleet.1`, `Fleet.2`, ... (`Snapshot.N`), so that a fleet of thousands
of instances fits the API's limits on a value and on a request."""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Callable
from typing import Any

from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params, invalid
from palisade.auditor.api.registry import ActionContext, action

PART = 60_000  # characters of one piece (a parameter value holds at most 64 KiB)
MAX_PARTS = 16  # 16 pieces stay under the 1 MiB request body
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024  # the document decompressed


def pack(value: object) -> list[str]:
    """`value` (a dataclass of the fleet spec or the sync snapshot) as the pieces to send."""
    from palisade.auditor.model.document import encode

    text = json.dumps(encode(value), separators=(",", ":"), ensure_ascii=False)
    packed = base64.urlsafe_b64encode(zlib.compress(text.encode(), 6)).decode()
    return [packed[i : i + PART] for i in range(0, len(packed), PART)] or [""]


def pack_params(name: str, value: object) -> dict[str, str]:
    return {f"{name}.{n}": piece for n, piece in enumerate(pack(value), 1)}


def unpack(tp: type, p: Params, name: str) -> Any:
    """The pieces `name.N` put back together and read as a `tp`; InvalidParameter naming
    what is wrong otherwise."""
    from palisade.auditor.model.document import DocumentError, decode

    pieces = p.list(name, max_items=MAX_PARTS)
    if not pieces:
        raise ApiError("MissingParameter", f'The input parameter "{name}" is not supplied.')
    try:
        compressed = base64.urlsafe_b64decode("".join(pieces).encode("ascii"))
        inflater = zlib.decompressobj()
        data = inflater.decompress(compressed, MAX_DOCUMENT_BYTES)
        if inflater.unconsumed_tail:
            raise invalid(name, f"the document exceeds {MAX_DOCUMENT_BYTES} bytes")
        if not inflater.eof:
            raise invalid(name, "the compressed document is cut short")
        document = json.loads(data)
    except (UnicodeError, binascii.Error, zlib.error, ValueError, RecursionError):
        raise invalid(name, "not a compressed JSON document (see the action's help)") from None
    try:
        return decode(tp, document, name)
    except DocumentError as exc:
        raise invalid(name, str(exc)) from None
    except (TypeError, ValueError) as exc:  # a value the spec's own classes refuse
        raise invalid(name, str(exc)) from None


def _plan(ctx: ActionContext, run: Callable[[Callable], Any]) -> dict:
    """`run(api)` on a copy of the model as the caller; the changes and notes it made."""
    from palisade.auditor.fleetspec.apply import ApiCallError, local_api

    copy = ctx.state if ctx.state_is_copy else ctx.state.copy()
    api = local_api(
        copy,
        ctx.now,
        ctx.caller,
        source_ip=ctx.source_ip,
        access_key_id=str(ctx.condition_values.get("acs:AccessId", "")),
        request_id=ctx.request_id,
    )
    try:
        result = run(api)
    except ApiCallError as err:
        raise ApiError(err.code, err.message, err.status, {"FailedAction": err.action}) from None
    return {
        "Changes": {
            "Change": [
                {"Action": c.action, "Resource": c.resource, "Detail": c.detail}
                for c in result.changes
            ]
        },
        "Notes": {"Note": list(result.notes)},
    }


@action(
    "DescribeFleetPlan",
    writes=False,  # runs on a copy: the model is not changed
    resources=lambda ctx, p: [ctx.arn("ecs", "*", "plan/*")],
    params=("Fleet",),
    on_copy=True,
)
def describe_fleet_plan(ctx: ActionContext, p: Params) -> dict:
    """What `palisade apply` / `import-ecs` would change: the fleet spec applied on a copy of
    the model, every step authorised for the caller; nothing is stored. Fleet.N: the spec
    (see the module's docstring). The first refused step is the answer's error, named by
    FailedAction."""
    from palisade.auditor.fleetspec.apply import apply_fleet
    from palisade.auditor.fleetspec.spec import FleetSpec

    spec = unpack(FleetSpec, p, "Fleet")
    return _plan(ctx, lambda api: apply_fleet(spec, api, ctx.account_id))


@action(
    "DescribeSyncPlan",
    writes=False,  # runs on a copy: the model is not changed
    resources=lambda ctx, p: [ctx.arn("ecs", "*", "plan/*")],
    params=("Snapshot",),
    on_copy=True,
)
def describe_sync_plan(ctx: ActionContext, p: Params) -> dict:
    """What one `palisade sync` round would change: the cloud's snapshot made true on a copy
    of the model, every step authorised for the caller; nothing is stored. Snapshot.N: the
    snapshot the sync read (see the module's docstring). The first refused step is the
    answer's error, named by FailedAction."""
    from palisade.auditor.sync.reader import CloudSnapshot
    from palisade.auditor.sync.run import sync_once

    snapshot = unpack(CloudSnapshot, p, "Snapshot")
    return _plan(ctx, lambda api: sync_once(snapshot, api, ctx.account_id))
