"""Alerts people trust (issue 17): an accepted risk's expiry on alerts; the group of an
outbox row and why a stage dropped it; the account's notification grouping.

Existing rows keep their meaning: no alert is an accepted risk yet (NULL), existing outbox
rows belong to no group ("": they go as before) and none was dropped.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("accepted_until_ms", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("notify_outbox") as batch:
        batch.add_column(
            sa.Column("group_key", sa.String(length=64), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("drop_reason", sa.Text(), nullable=True))
        batch.create_index(
            "ix_notify_outbox_group", ["account_id", "channel_id", "group_key"], unique=False
        )
    op.create_table(
        "notify_grouping",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("group_wait_s", sa.Integer(), nullable=False),
        sa.Column("group_interval_s", sa.Integer(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id"),
    )


def downgrade() -> None:
    op.drop_table("notify_grouping")
    with op.batch_alter_table("notify_outbox") as batch:
        batch.drop_index("ix_notify_outbox_group")
        batch.drop_column("drop_reason")
        batch.drop_column("group_key")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("accepted_until_ms")
