"""The advisory feed (OSV records) shared by every replica: advisories, advisory_imports;
the check settings changed through the API (ModifyCheckSettings): check_settings.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "advisories",
        sa.Column("advisory_id", sa.String(length=255), nullable=False),
        sa.Column("modified", sa.String(length=64), nullable=False),
        sa.Column("ecosystems", sa.Text(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("imported_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("advisory_id"),
    )
    op.create_table(
        "advisory_imports",
        sa.Column("import_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("imported_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("import_id"),
    )
    op.create_table(
        "check_settings",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id"),
    )


def downgrade() -> None:
    op.drop_table("check_settings")
    op.drop_table("advisory_imports")
    op.drop_table("advisories")
