"""audit: stored nodes of the RFC 6962 Merkle tree over the events (signed tree heads live outside the database)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

INT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_tree_nodes",
        sa.Column("height", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("position", INT_ID, nullable=False, autoincrement=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("height", "position", name=op.f("pk_audit_tree_nodes")),
    )


def downgrade() -> None:
    op.drop_table("audit_tree_nodes")
