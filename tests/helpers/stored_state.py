"""Instances put straight into a real auditor's stored state (its SQLite database), for
tests that need VPC instances without going through RunInstances."""

from __future__ import annotations

from datetime import UTC, datetime

from palisade.auditor.model.cloud_state import DEFAULT_REGION, CloudState
from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from palisade.auditor.store.database import Database, sqlite_url


def add_vpc_instances(auditor, *instance_ids: str) -> None:
    """Put VPC instances in the auditor's stored state (no RunInstances action yet); the
    auditor picks the new state version up at its next request."""
    states = CloudStateRepository(Database(sqlite_url(auditor.data_dir)))
    version, document = states.load()
    state = CloudState.from_document(document)
    now = datetime.now(UTC)
    vpc = state.cloud.create_vpc(state.account_id, DEFAULT_REGION, "192.168.0.0/16")
    group = None
    for n, instance_id in enumerate(instance_ids):
        state.cloud.create_instance(
            state.account_id,
            DEFAULT_REGION,
            created_at=now,
            vpc_id=vpc.vpc_id,
            private_ips=[f"192.168.0.{10 + n}"],
            instance_id=instance_id,
            security_group_ids=[group] if group else None,
        )
        group = group or state.cloud.instances[instance_id].nics[0].security_group_ids[0]
    states.save(version, state.to_document(), [], now)


def apply_in_store(auditor, fleet_document: dict) -> int:
    """A fleet file's document (auditor/fleetspec/spec.py) applied in-process on the auditor's
    stored state, through `palisade apply`'s own plan (`apply_fleet` on `local_api`), and saved
    as the next state version: a large fleet in seconds rather than one request per resource.
    Returns the number of changes."""
    from palisade.auditor.api import actions as _actions  # noqa: F401  (registers every action)
    from palisade.auditor.fleetspec.apply import apply_fleet, local_api
    from palisade.auditor.fleetspec.fleet_file import parse_fleet

    states = CloudStateRepository(Database(auditor.database or sqlite_url(auditor.data_dir)))
    loaded = states.load()
    assert loaded is not None, "the auditor has not stored its state yet"
    version, document = loaded
    state = CloudState.from_document(document)
    now = datetime.now(UTC)
    result = apply_fleet(parse_fleet(fleet_document), local_api(state, now), state.account_id)
    states.save(version, state.to_document(), [], now)
    return len(result.changes)
