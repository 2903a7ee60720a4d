"""Tags on the fleet's resources (instances, security groups, VPCs, vSwitches): TagResources
and UntagResources set a resource's whole tag map here (the rules are `model.tags`)."""

from __future__ import annotations

from collections.abc import Mapping

from palisade.auditor.model import changes as K
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.fleet.inventory import FleetInventory
from palisade.auditor.model.fleet.resources import Instance, Vpc, VSwitch
from palisade.auditor.model.network.security_group import SecurityGroup

# the resource types that carry tags -> their unit kind (see model.changes)
TAGGABLE = {
    "instance": K.INSTANCE,
    "securitygroup": K.GROUP,
    "vpc": K.VPC,
    "vswitch": K.VSWITCH,
}


class TagOperations(FleetInventory):
    def set_tags(self, resource_type: str, resource_id: str, tags: Mapping[str, str]) -> None:
        """The resource's tags become `tags` (checked by the caller: `model.tags`)."""
        kind = TAGGABLE.get(resource_type)
        resource: Instance | SecurityGroup | Vpc | VSwitch | None
        if kind == K.INSTANCE:
            resource = self.instances.get(resource_id)
        elif kind == K.GROUP:
            resource = self.groups.get(resource_id)
        elif kind == K.VPC:
            resource = self.vpcs.get(resource_id)
        elif kind == K.VSWITCH:
            resource = self.vswitches.get(resource_id)
        else:
            raise ModelError(
                "InvalidResourceType.NotFound",
                f"ResourceType {resource_type[:40]!r} carries no tags here; use one of "
                f"{', '.join(TAGGABLE)}.",
            )
        if resource is None:
            raise ModelError(
                "InvalidResourceId.NotFound",
                f"The {resource_type} {resource_id[:64]!r} does not exist.",
            )
        if resource.tags != dict(tags):
            resource.tags = dict(tags)
            self.changes.touch(kind, resource_id)
