"""enrolment: images attached to a form sent back for a correction, kept sealed for its next submission

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 15:00:00
"""

import sqlalchemy as sa
from alembic import op

import travesia.core.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staged_images",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", travesia.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("image_format", sa.String(length=8), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_staged_images_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staged_images")),
    )
    op.create_index("ix_staged_images_created", "staged_images", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_staged_images_created", table_name="staged_images")
    op.drop_table("staged_images")
