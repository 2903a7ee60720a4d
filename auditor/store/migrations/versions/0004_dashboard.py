"""Dashboard: server-side sessions; login result and source copied onto events.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("session_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("session_sha256"),
    )
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("login_result", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("source_ip", sa.String(length=64), nullable=True))
        batch.create_index("ix_events_time", ["time_ms"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_index("ix_events_time")
        batch.drop_column("source_ip")
        batch.drop_column("login_result")
    op.drop_table("web_sessions")
