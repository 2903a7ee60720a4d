"""The ECS-style actions: one registry, one way to declare an action.

An action declares the RAM action it needs (`service:Name`) and the resource
ARNs it touches; the API layer authorises every one of them before the handler
runs, so no action can forget its permission check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from palisade.auditor.api.errors import ApiError, access_denied
from palisade.auditor.api.params import Params
from palisade.auditor.api.products import VERSIONS, service_of_version
from palisade.auditor.model.ram import RequestContext
from palisade.auditor.model.ram.request_context import ContextScalar

if TYPE_CHECKING:
    from palisade.auditor.model.cloud_state import CloudState
    from palisade.auditor.model.ram import Caller


@dataclass
class AuditEntry:
    """One change, for the append-only audit log: what, before and after."""

    resource: str
    before: Any = None
    after: Any = None


@dataclass
class ActionContext:
    state: CloudState
    caller: Caller
    now: datetime
    request_id: str
    source_ip: str
    audit: list[AuditEntry] = field(default_factory=list)
    # What the auditor gives actions besides the state document, by name (ApiService's
    # `services` argument; "store" is always there), e.g. "alerts" -> AlertService.
    services: dict[str, Any] = field(default_factory=dict)
    # Reads the append-only audit log (`StateStore.audit_log(limit=, resource=)`); the pipeline
    # sets it, since handlers otherwise see only the state document, not the store.
    audit_reader: Callable[..., list] | None = None
    # condition keys of this request besides the four built-in ones (see `condition_values`)
    condition_values: Mapping[str, ContextScalar] = field(default_factory=dict)
    # `state` is a private copy the action may change (ActionSpec.on_copy)
    state_is_copy: bool = False

    @property
    def account_id(self) -> str:
        return self.state.account_id

    def arn(self, service: str, region: str, resource: str) -> str:
        return f"acs:{service}:{region or '*'}:{self.account_id}:{resource}"

    def request_context(self) -> RequestContext:
        """The condition values of this request, for checks a handler makes itself
        (e.g. `ram:PassRole` when granting an instance a role)."""
        return RequestContext(
            current_time=self.now,
            source_ip=self.source_ip,
            secure_transport=False,
            mfa_present=False,
            extra=self.condition_values,
        )

    def record(self, resource: str, before: Any, after: Any) -> None:
        self.audit.append(AuditEntry(resource, before, after))


def describe_caller(caller: Caller) -> str:
    """The caller as the audit log and error messages name it."""
    return "account owner" if caller.kind == "root" else f"{caller.kind}/{caller.name}"


Handler = Callable[[ActionContext, Params], dict]
Resources = Callable[[ActionContext, Params], list[str]]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    service: str
    handler: Handler
    resources: Resources
    # True: changes the cloud state (runs in the write transaction; the units it touches are
    # stored). A string: changes only its own tables (named by the string), in its own
    # transaction; the cloud state is read-only to it. False: changes nothing. The pipeline
    # refuses a call that touched the cloud state without `writes=True`.
    writes: bool | str
    params: frozenset[str]
    # Runs on a private copy of the state (a plan: it changes the copy and throws it away).
    # The live state's lock is held only while the copy is taken, not while the action runs.
    on_copy: bool = False

    @property
    def ram_action(self) -> str:
        return f"{self.service}:{self.name}"


# An action by its name alone (the dashboard, fleet specs and the palisade client call it so):
# the product it is registered in first.
ACTIONS: dict[str, ActionSpec] = {}
# Every product's actions: one name may be served by two products, as the cloud does
# (TagResources is ECS's for instances and VPC's for VPCs), each authorised as its own.
PRODUCT_ACTIONS: dict[tuple[str, str], ActionSpec] = {}


def action(
    name: str,
    *,
    service: str = "ecs",
    writes: bool | str,
    resources: Resources,
    params: tuple[str, ...] = (),
    on_copy: bool = False,
) -> Callable[[Handler], Handler]:
    if on_copy and writes is not False:
        raise RuntimeError(f"action {name}: a write cannot run on a copy")

    def register(handler: Handler) -> Handler:
        if (service, name) in PRODUCT_ACTIONS:
            raise RuntimeError(f"action {service}:{name} registered twice")
        spec = ActionSpec(
            name, service, handler, resources, writes, frozenset(params), on_copy=on_copy
        )
        PRODUCT_ACTIONS[(service, name)] = spec
        ACTIONS.setdefault(name, spec)
        return handler

    return register


PAGING_PARAMS = ("PageSize", "MaxItems")


def condition_values(spec: ActionSpec, p: Params, access_key_id: str) -> dict[str, ContextScalar]:
    """The request's own condition keys: `acs:AccessId` (the AccessKey that signed it, so a
    policy can tell `STS.*` sessions from long-lived keys) and, for a list action, the page
    size it asks for as the number `<service>:PageSize` / `<service>:MaxItems` (as OSS offers
    `oss:max-keys`). A malformed size is left out; the handler refuses it."""
    values: dict[str, ContextScalar] = {"acs:AccessId": access_key_id}
    for name in PAGING_PARAMS:
        raw = p.str(name) if name in spec.params else None
        if raw and raw.isascii() and raw.isdigit() and len(raw) <= 9:
            values[f"{spec.service}:{name}"] = int(raw)
    return values


def lookup(name: str | None, version: str | None = None) -> ActionSpec:
    """The action `name` of the product whose API `version` is given (any product when the
    version is None: the dashboard and fleet specs call actions by name)."""
    if not name:
        raise ApiError("MissingParameter", 'The input parameter "Action" is not supplied.')
    spec = ACTIONS.get(name)
    if version is not None:
        service = service_of_version(version)
        if spec is None or spec.service != service:
            spec = PRODUCT_ACTIONS.get((service, name))
    if spec is None:
        where = f" in version {version[:32]}" if version is not None else ""
        raise ApiError(
            "InvalidAction.NotFound", f"Specified api {name[:64]!r} is not found{where}.", 404
        )
    return spec


def check_params(spec: ActionSpec, p: Params) -> None:
    """Refuses parameters the action does not take (a typo is not silently ignored)."""
    stray = p.unknown(spec.params | {"RegionId"})
    if stray:
        raise ApiError(
            "InvalidParameter",
            f"{spec.name} does not take the parameter(s) {', '.join(stray[:5])}",
        )


def authorise(spec: ActionSpec, ctx: ActionContext, p: Params) -> None:
    """RAM allows `ctx.caller` the action on every resource it declares, or AccessDenied."""
    state, caller = ctx.state, ctx.caller
    context = ctx.request_context()
    for arn in spec.resources(ctx, p):
        decision = state.ram.authorize(caller, spec.ram_action, arn, context)
        if not decision.allowed:
            raise access_denied(caller, decision, state.account_id, describe_caller(caller))


def version_of(name: str) -> str:
    """The API version to call the action `name` with (ECS's for an unknown name)."""
    spec = ACTIONS.get(name)
    return VERSIONS[spec.service if spec is not None else "ecs"]
