"""STS credentials for the RAM role attached to an instance, from the API's current state.

The ingest side asks on behalf of an agent whose identity is its client certificate; this
object only answers for that one instance, and only while the role is attached to it.
"""

from __future__ import annotations

from datetime import timedelta

from palisade.auditor.api.pipeline import ApiService
from palisade.auditor.model.ram import RamError, RoleCredentials

DEFAULT_TTL = timedelta(hours=1)
# the operator's `palisade serve --sts-ttl`: STS's own floor is 15 minutes, short lifetimes
# are for tests and demonstrations of expiry
MIN_TTL = timedelta(seconds=15)
MAX_TTL = timedelta(hours=12)


class InstanceRoleCredentials:
    def __init__(self, api: ApiService, ttl: timedelta = DEFAULT_TTL):
        if not MIN_TTL <= ttl <= MAX_TTL:
            raise ValueError(
                f"the role credentials' lifetime must be {int(MIN_TTL.total_seconds())} to "
                f"{int(MAX_TTL.total_seconds())} seconds"
            )
        self.api = api
        self.ttl = ttl

    def issue(self, instance_id: str, role_name: str | None = None) -> tuple[str, RoleCredentials]:
        """(role name, credentials) for the role `instance_id` has now; RamError
        `InvalidRamRole.NotAttached` when it has none, or not `role_name`."""
        with self.api.lock:  # the API mutates this state under the same lock
            state = self.api.current()
            bound = state.instance_roles.role_of(instance_id)
            instance = state.cloud.instances.get(instance_id)
            if bound is None or instance is None or (role_name and role_name != bound):
                raise RamError(
                    "InvalidRamRole.NotAttached",
                    f"the instance {instance_id} has no RAM role"
                    + (f" named {role_name}" if role_name else ""),
                )
            credentials = state.instance_roles.issue_credentials(
                state.ram,
                instance_id,
                bound,
                self.api.clock(),
                self.ttl,
                signing_key=state.sts_signing_key,
                min_ttl=MIN_TTL,
            )
            return bound, credentials

    def bindings(self, instance_ids: list[str]) -> dict[str, tuple[str, int]]:
        """(role name, binding generation) of each instance's role as the current state has
        it; ("", 0) for one without. What the report streams tell the agents."""
        with self.api.lock:
            state = self.api.current()
            roles, instances = state.instance_roles, state.cloud.instances
            out: dict[str, tuple[str, int]] = {}
            for instance_id in instance_ids:
                bound = roles.role_of(instance_id)
                if bound is None or instance_id not in instances:
                    out[instance_id] = ("", 0)
                else:
                    out[instance_id] = (bound, roles.generation_of(instance_id) or 0)
            return out
