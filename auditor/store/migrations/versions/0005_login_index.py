"""A covering index for the dashboard's 24-hour login counts, instead of the time index.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_events_login_time", "events", ["login_result", "time_ms", "source_ip"], unique=False
    )
    op.drop_index("ix_events_time", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_time", "events", ["time_ms"], unique=False)
    op.drop_index("ix_events_login_time", table_name="events")
