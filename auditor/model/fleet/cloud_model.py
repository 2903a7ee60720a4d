"""`CloudModel`: the fleet (accounts, regions, VPCs, instances, security groups) and the ECS
management operations on it, as pure methods.

Every operation validates everything first and only then changes the model, so a `ModelError`
leaves the model exactly as it was. No clock reads: callers pass `now`.

The state and its indexes are in `FleetInventory`; each family of operations is a mixin in
its own module. Every operation that changes the model touches the units it changed
(`self.changes`, see model.changes): the store writes exactly those.
"""

from __future__ import annotations

from palisade.auditor.model.fleet.instances import InstanceOperations
from palisade.auditor.model.fleet.membership import MembershipOperations
from palisade.auditor.model.fleet.placement import PlacementOperations
from palisade.auditor.model.fleet.rule_building import RuleBuilding
from palisade.auditor.model.fleet.rule_transfer import RuleTransferOperations
from palisade.auditor.model.fleet.rules import RuleOperations
from palisade.auditor.model.fleet.security_groups import SecurityGroupOperations
from palisade.auditor.model.fleet.tagging import TagOperations


class CloudModel(
    PlacementOperations,
    InstanceOperations,
    MembershipOperations,
    RuleTransferOperations,
    SecurityGroupOperations,
    RuleOperations,
    RuleBuilding,
    TagOperations,
):
    """The fleet as the cloud sees it. `id_prefix` keeps generated ids of two models apart."""
