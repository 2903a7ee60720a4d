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
