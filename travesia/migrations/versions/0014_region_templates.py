"""station: persons of the region and their templates

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 13:53:38.380510
"""

import sqlalchemy as sa
from alembic import op

import travesia.core.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

INT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CHECK = "ck_biometric_templates_subject_kind"


def upgrade() -> None:
    op.create_table(
        "sync_region_persons",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("given_names", sa.String(length=200), nullable=False),
        sa.Column("surnames", sa.String(length=200), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("nationality", sa.String(length=3), nullable=True),
        sa.Column("station", sa.String(length=32), nullable=False),
        sa.Column("seen_at", travesia.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("encounters", sa.Integer(), nullable=False),
        sa.Column("received_at", travesia.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_sync_region_persons")),
    )
    with op.batch_alter_table("sync_region_persons", schema=None) as batch_op:
        batch_op.create_index("ix_sync_region_persons_seen", ["seen_at"], unique=False)
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_mark", INT_ID, nullable=False, server_default="0"))
    with op.batch_alter_table("biometric_templates", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHECK), type_="check")
        batch_op.create_check_constraint(op.f(CHECK), "subject_kind IN ('encounter', 'watchlist', 'region')")


def downgrade() -> None:
    op.execute("DELETE FROM biometric_templates WHERE subject_kind = 'region'")
    with op.batch_alter_table("biometric_templates", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHECK), type_="check")
        batch_op.create_check_constraint(op.f(CHECK), "subject_kind IN ('encounter', 'watchlist')")
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.drop_column("region_mark")
    with op.batch_alter_table("sync_region_persons", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_region_persons_seen")
    op.drop_table("sync_region_persons")
