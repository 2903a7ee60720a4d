"""Anti-DDoS Basic (the `antiddos-public` API, RAM service `yundun-ddos`) for ECS instances:
DescribeDdosThreshold, ModifyDdosThreshold and DescribeInstanceDdosStatus.

Names and parameters follow Alibaba Cloud's Anti-DDoS Basic API: `DdosRegionId`,
`InstanceType` (only `ecs` here), `InstanceIds`, `DdosType` (`defense`: the scrubbing
threshold, `blackhole`: the black-hole level), `Bps` in Mbit/s, `Pps`, `IsAuto` (true: the
default threshold). Alibaba's own name for the change is ModifyDefenseThreshold; here it is
ModifyDdosThreshold, and it only lowers a threshold (the ECS security guide: the instance
type's threshold is the maximum) or resets it (IsAuto=true).

The thresholds come from the check settings in force (the settings file's with the account's
ModifyCheckSettings changes: what the check runner uses), the user's lowered threshold and the
instance's state from CloudState.ddos.
"""

from __future__ import annotations

from palisade.auditor.api.actions.ecs.common import ecs_time, instance_arn
from palisade.auditor.api.actions.sas.check_settings import effective_settings
from palisade.auditor.api.params import Params, invalid
from palisade.auditor.api.registry import ActionContext, action
from palisade.auditor.checks.inputs import CheckSettings
from palisade.auditor.model.ddos.protection import (
    InstanceDdos,
    default_threshold,
    effective_threshold,
)
from palisade.auditor.model.ddos.thresholds import DdosThreshold
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.resources import Instance

SERVICE = "yundun-ddos"
DDOS_TYPES = ("defense", "blackhole")
COMMON = ("DdosRegionId", "InstanceType")


def _settings(ctx: ActionContext) -> CheckSettings:
    """The thresholds in force: the settings file's, with the account's ModifyCheckSettings
    changes over them (the same values the check runner moves the states with)."""
    return effective_settings(ctx)


def _instance_type(p: Params) -> None:
    kind = p.str("InstanceType", "ecs")
    if kind != "ecs":
        raise invalid("InstanceType", f"{(kind or '')[:32]!r}: only ecs instances are modelled")


def _instances(ctx: ActionContext, p: Params, name: str, required: bool) -> list[Instance]:
    """The instances named by `name` (InstanceIds / InstanceId) in DdosRegionId, or every
    instance of the region when none is named and `required` is false."""
    region = p.req("DdosRegionId")
    ctx.state.cloud.get_region(region)
    _instance_type(p)
    cloud = ctx.state.cloud
    ids = p.list(name) if name.endswith("s") else [p.req(name)]
    if not ids:
        if required:
            p.req(name)  # MissingParameter
        return sorted(
            (i for i in cloud.instances.values() if i.region_id == region),
            key=lambda i: i.instance_id,
        )
    out = []
    for instance_id in ids:
        instance = cloud.get_instance(instance_id)
        if instance.region_id != region:
            raise ModelError(
                "InvalidInstanceId.NotFound",
                f"Instance {instance_id} is in {instance.region_id}, not {region[:64]}; check "
                "the DdosRegionId.",
            )
        out.append(instance)
    return out


def _resources(name: str):
    """The named instances' ARNs (RAM authorises each); `instance/*` of the region when none
    or an unknown one is named (the handler then answers the error)."""

    def arns(ctx: ActionContext, p: Params) -> list[str]:
        try:
            ids = p.list(name) if name.endswith("s") else [p.str(name) or ""]
        except ModelError:
            ids = []
        found = [ctx.state.cloud.instances.get(i) for i in ids]
        if ids and all(found):
            return [instance_arn(i) for i in found if i is not None]
        region = p.str("DdosRegionId") or "*"
        return [f"acs:ecs:{region}:{ctx.account_id}:instance/*"]

    return arns


def _public_ip(instance: Instance) -> str:
    return instance.primary_nic.public_ip or ""


def _defense_view(ctx: ActionContext, settings: CheckSettings, instance: Instance) -> dict:
    default = default_threshold(settings.ddos_thresholds, instance.instance_type)
    lowered = ctx.state.ddos.get(instance.instance_id).lowered
    current = effective_threshold(default, lowered)
    assert current is not None  # the default exists
    return {
        "InstanceId": instance.instance_id,
        "InternetIp": _public_ip(instance),
        "DdosType": "defense",
        "Bps": round(current.bps / 1e6),
        "Pps": round(current.pps),
        "MaxBps": round(default.bps / 1e6),
        "MaxPps": round(default.pps),
        "IsAuto": lowered is None,
        "InstanceSpec": instance.instance_type,
    }


def _black_hole_view(ctx: ActionContext, settings: CheckSettings, instance: Instance) -> dict:
    mbps = round(settings.ddos_black_hole_bps / 1e6)
    return {
        "InstanceId": instance.instance_id,
        "InternetIp": _public_ip(instance),
        "DdosType": "blackhole",
        "Bps": mbps,
        "MaxBps": mbps,
        "IsAuto": True,
        "InstanceSpec": instance.instance_type,
    }


@action(
    "DescribeDdosThreshold",
    service=SERVICE,
    writes=False,
    resources=_resources("InstanceIds"),
    params=(*COMMON, "DdosType", "InstanceIds"),
)
def describe_ddos_threshold(ctx: ActionContext, p: Params) -> dict:
    """Each instance's scrubbing threshold (`defense`: current, default maximum, IsAuto) or
    black-hole level (`blackhole`)."""
    kind = p.req("DdosType")
    if kind not in DDOS_TYPES:
        raise invalid("DdosType", f"{kind[:32]!r}: use defense or blackhole")
    view = _defense_view if kind == "defense" else _black_hole_view
    settings = _settings(ctx)  # once: it reads the account's stored changes
    return {
        "Thresholds": [view(ctx, settings, i) for i in _instances(ctx, p, "InstanceIds", False)]
    }


def _requested(p: Params, instance: Instance, default: DdosThreshold) -> DdosThreshold | None:
    """The threshold asked for (None: IsAuto, back to the default)."""
    bps = p.int("Bps", minimum=1, maximum=10**7)
    pps = p.int("Pps", minimum=1, maximum=10**10)
    if p.bool("IsAuto"):
        if bps is not None or pps is not None:
            raise ModelError(
                "InvalidParameter.IsAuto",
                "IsAuto=true resets the threshold to the instance type's default; do not also "
                "give Bps or Pps.",
            )
        return None
    if bps is None or pps is None:
        raise ModelError(
            "MissingParameter",
            "Give both Bps (Mbit/s) and Pps to lower the scrubbing threshold, or IsAuto=true to "
            f"reset it to the default ({default.bps / 1e6:.0f} Mbit/s, {default.pps:.0f} pps "
            f"for {instance.instance_type}).",
        )
    return DdosThreshold(bps * 1e6, float(pps))


def _view(record: InstanceDdos) -> dict | None:
    if record.lowered is None:
        return None
    return {"Bps": record.lowered.bps / 1e6, "Pps": record.lowered.pps}


@action(
    "ModifyDdosThreshold",
    service=SERVICE,
    writes=True,
    resources=_resources("InstanceId"),
    params=(*COMMON, "InstanceId", "Bps", "Pps", "IsAuto"),
)
def modify_ddos_threshold(ctx: ActionContext, p: Params) -> dict:
    """Lowers the instance's scrubbing threshold (Bps in Mbit/s and Pps), or resets it to the
    instance type's default (IsAuto=true). Above the default is refused: the default is the
    maximum."""
    (instance,) = _instances(ctx, p, "InstanceId", True)
    settings = _settings(ctx)
    default = default_threshold(settings.ddos_thresholds, instance.instance_type)
    requested = _requested(p, instance, default)
    before = _view(ctx.state.ddos.get(instance.instance_id))
    record = ctx.state.ddos.set_threshold(
        instance.instance_id, default, requested, instance.instance_type
    )
    after = _view(record)
    if before != after:
        ctx.record(instance_arn(instance), {"DdosThreshold": before}, {"DdosThreshold": after})
    return _defense_view(ctx, settings, instance)


@action(
    "DescribeInstanceDdosStatus",
    service=SERVICE,
    writes=False,
    resources=_resources("InstanceIds"),
    params=(*COMMON, "InstanceIds"),
)
def describe_instance_ddos_status(ctx: ActionContext, p: Params) -> dict:
    """Each instance's state: normal, defense (scrubbing) or blackhole; with when it began and
    when a black hole ends."""
    statuses = {}
    details = []
    for instance in _instances(ctx, p, "InstanceIds", True):
        record = ctx.state.ddos.get(instance.instance_id)
        status = record.effective_status(ctx.now)
        statuses[instance.instance_id] = status.value
        current = record.status == status
        details.append(
            {
                "InstanceId": instance.instance_id,
                "Status": status.value,
                "Since": ecs_time(record.since) if current else "",
                "BlackHoleEndTime": ecs_time(record.until) if record.black_holed(ctx.now) else "",
            }
        )
    return {"InstanceStatusMap": statuses, "InstanceStatuses": details}
