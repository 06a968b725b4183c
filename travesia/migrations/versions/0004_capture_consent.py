"""biometric capture: consent and exemptions on the encounter

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("encounters") as batch:
        batch.add_column(sa.Column("biometric_consent", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("biometric_exemptions", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("encounters") as batch:
        batch.drop_column("biometric_exemptions")
        batch.drop_column("biometric_consent")
