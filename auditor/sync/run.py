"""One sync round: the cloud's snapshot made true in the model through `api(action, params)`
(fleetspec/apply.py's `apply_fleet` with `exact=True` for the ECS/VPC side: an instance's key
pair or RAM role the cloud detached is detached; ram.py for RAM), then what the model has in
the synced regions and the cloud has not is deleted through the API too: instances and then
vSwitches before the round creates anything (a vSwitch after the instances on it; the cloud
may have made a new one with an old one's block), security groups, VPCs and key pairs after.
The dry run is the same round on `local_api` over a copy of the auditor's state: its changes
are the difference, and nothing is stored.

`watch` repeats it: every round after the first that changes something is drift (the cloud
changed what Palisade had modelled). Each change is an API write by the sync's caller, so the
auditor's audit log holds one entry per drifted resource (before/after); the round is also
printed as `drift:` lines."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from palisade.auditor.fleetspec.apply import Api, ApplyResult, Change, apply_fleet
from palisade.auditor.sync.ram import apply_ram
from palisade.auditor.sync.reader import CloudSnapshot


def _describe_all(
    api: Api, action: str, outer: str, inner: str, region: str, **query: str
) -> list[dict]:
    out: list[dict] = []
    number = 1
    while True:
        page_query = {"RegionId": region, "PageNumber": str(number), "PageSize": "50"}
        body = api(action, {**page_query, **query})
        page = (body.get(outer) or {}).get(inner) or []
        out.extend(page)
        if not page or len(out) >= int(body.get("TotalCount") or 0):
            return out
        number += 1


def remove_stale_placements(snapshot: CloudSnapshot, api: Api, result: ApplyResult) -> None:
    """Before the round's creations: the instances, then the vSwitches, the model has in the
    synced regions and the cloud has not (a vSwitch the cloud made again with the same block
    must not meet the old one). A vSwitch still holding an instance the cloud has (elsewhere)
    is kept, with a note: the instance's vSwitch cannot change in place."""
    fleet = snapshot.fleet
    for region in fleet.all_regions():
        want_instances = {i.instance_id for i in fleet.instances if i.region == region}
        kept: dict[str, list[str]] = {}
        for i in _describe_all(api, "DescribeInstances", "Instances", "Instance", region):
            if i["InstanceId"] not in want_instances:
                api(
                    "DeleteInstance",
                    {"RegionId": region, "InstanceId": i["InstanceId"], "Force": "true"},
                )
                result.changes.append(Change("DeleteInstance", i["InstanceId"]))
            elif (i.get("VpcAttributes") or {}).get("VSwitchId"):
                kept.setdefault(i["VpcAttributes"]["VSwitchId"], []).append(i["InstanceId"])
        want_vswitches = {s.vswitch_id for s in fleet.vswitches if s.region == region}
        for sw in _describe_all(api, "DescribeVSwitches", "VSwitches", "VSwitch", region):
            sw_id = sw["VSwitchId"]
            if sw_id in want_vswitches:
                continue
            if sw_id in kept:
                result.notes.append(
                    f"vSwitch {sw_id} is not in the cloud but still holds "
                    f"{', '.join(kept[sw_id][:5])} (kept)"
                )
                continue
            api("DeleteVSwitch", {"RegionId": region, "VSwitchId": sw_id})
            result.changes.append(Change("DeleteVSwitch", sw_id))


def remove_extras(snapshot: CloudSnapshot, api: Api, result: ApplyResult) -> None:
    """After the round's changes: the security groups, VPCs and key pairs the model has in the
    synced regions and the cloud has not."""
    fleet = snapshot.fleet
    for region in fleet.all_regions():
        want_groups = {g.group_id for g in fleet.groups if g.region == region}
        for g in _describe_all(
            api, "DescribeSecurityGroups", "SecurityGroups", "SecurityGroup", region
        ):
            if g["SecurityGroupId"] not in want_groups:
                api(
                    "DeleteSecurityGroup",
                    {"RegionId": region, "SecurityGroupId": g["SecurityGroupId"]},
                )
                result.changes.append(Change("DeleteSecurityGroup", g["SecurityGroupId"]))
        want_vpcs = {v.vpc_id for v in fleet.vpcs if v.region == region}
        for v in _describe_all(api, "DescribeVpcs", "Vpcs", "Vpc", region):
            if v["VpcId"] not in want_vpcs:
                api("DeleteVpc", {"RegionId": region, "VpcId": v["VpcId"]})
                result.changes.append(Change("DeleteVpc", v["VpcId"]))
        want_pairs = {k.name for k in fleet.key_pairs if k.region == region}
        extra = [
            k["KeyPairName"]
            for k in _describe_all(api, "DescribeKeyPairs", "KeyPairs", "KeyPair", region)
            if k["KeyPairName"] not in want_pairs
        ]
        if extra:
            api("DeleteKeyPairs", {"RegionId": region, "KeyPairNames": json.dumps(extra)})
            result.changes.extend(Change("DeleteKeyPairs", name) for name in extra)


def sync_once(snapshot: CloudSnapshot, api: Api, own_account: str) -> ApplyResult:
    """Make the model hold `snapshot`; raises ApiCallError at the first refused action."""
    result = ApplyResult()
    apply_ram(snapshot.ram, api, result)  # roles first: instances name theirs
    remove_stale_placements(snapshot, api, result)
    fleet = apply_fleet(snapshot.fleet, api, own_account, exact=True)
    result.changes.extend(fleet.changes)
    result.notes.extend(fleet.notes)
    remove_extras(snapshot, api, result)
    return result


def watch(
    round_: Callable[[], ApplyResult],
    every: float,
    report: Callable[[int, ApplyResult], None],
    rounds: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run `round_` every `every` seconds (`rounds` times, or for ever); `report(n, result)`."""
    n = 0
    while rounds is None or n < rounds:
        if n:
            sleep(every)
        report(n, round_())
        n += 1
