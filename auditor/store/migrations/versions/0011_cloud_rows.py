"""The cloud state as rows: the one JSON document (`cloud_state`) becomes a row set per unit
(regions, accounts, VPCs, vSwitches, groups and their rules, instances with NICs and
memberships, key pairs and bindings, RAM users with AccessKeys, groups, policies with
versions, roles, attachments, instance roles, DDoS states) plus the change sequence
(`cloud_head`, `cloud_changes`). A stored document is cut into units by the same code the
auditor reads them back with (model/units.py: the document's format 1 is fixed), so the state
after the upgrade is the state before it. The downgrade puts the document back together.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import json
import time

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_UNITS = (
    "cloud_accounts",
    "cloud_regions",
    "cloud_vpcs",
    "cloud_vswitches",
    "cloud_security_groups",
    "cloud_instances",
    "cloud_key_pairs",
    "cloud_key_pair_bindings",
    "cloud_instance_roles",
    "cloud_ddos",
    "ram_users",
    "ram_groups",
    "ram_policies",
    "ram_roles",
    "ram_attachments",
)
_CHILDREN = (
    ("cloud_security_group_rules", "rule_id"),
    ("cloud_nics", "nic_id"),
    ("ram_access_keys", "access_key_id"),
    ("ram_policy_versions", "version_id"),
)


def upgrade() -> None:
    for name in _UNITS:
        op.create_table(
            name,
            sa.Column("id", sa.String(length=512), nullable=False),
            sa.Column("ordinal", sa.BigInteger(), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    for name, key in _CHILDREN:
        op.create_table(
            name,
            sa.Column("unit_id", sa.String(length=512), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.Column(key, sa.String(length=255), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("unit_id", "position"),
        )
        op.create_index(f"ix_{name}_{key}", name, [key])
    op.create_table(
        "cloud_nic_memberships",
        sa.Column("unit_id", sa.String(length=512), nullable=False),
        sa.Column("parent_position", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("unit_id", "parent_position", "position"),
    )
    op.create_index("ix_cloud_nic_memberships_group_id", "cloud_nic_memberships", ["group_id"])
    op.create_table(
        "cloud_meta",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("kind"),
    )
    op.create_table(
        "cloud_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "cloud_changes",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    conn = op.get_bind()
    row = conn.execute(sa.text("SELECT document FROM cloud_state WHERE id = 1")).first()
    if row is not None:
        from palisade.auditor.model.cloud_state import CloudState
        from palisade.auditor.model.units import units_from_document
        from palisade.auditor.store.cloud_rows import write_units

        # the state as the auditor loads it (a load drops the DDoS records of deleted
        # instances and numbers key pairs stored before they had ids): rows and memory agree
        loaded = CloudState.from_document(json.loads(row.document))
        units = units_from_document(loaded.to_document())
        write_units(conn, dict(units), int(time.time() * 1000))
    op.drop_table("cloud_state")


def downgrade() -> None:
    op.create_table(
        "cloud_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    conn = op.get_bind()
    from palisade.auditor.model.units import document_from_units
    from palisade.auditor.store.cloud_rows import LOAD_ORDER, CloudRows, head_of

    seq = head_of(conn)
    if seq:
        document = document_from_units(CloudRows.read_kinds(conn, LOAD_ORDER))
        conn.execute(
            sa.text(
                "INSERT INTO cloud_state (id, version, document, updated_at_ms) "
                "VALUES (1, :version, :document, :at)"
            ),
            {"version": seq, "document": json.dumps(document), "at": int(time.time() * 1000)},
        )
    for name in ("cloud_changes", "cloud_head", "cloud_meta", "cloud_nic_memberships"):
        op.drop_table(name)
    for name, _key in _CHILDREN:
        op.drop_table(name)
    for name in _UNITS:
        op.drop_table(name)
