"""biometrics: a fused candidate's calibrated evidence, each modality's bits (explained, not recomputed)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 22:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("biometric_candidates") as batch:
        batch.add_column(sa.Column("evidence", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("biometric_candidates") as batch:
        batch.drop_column("evidence")
