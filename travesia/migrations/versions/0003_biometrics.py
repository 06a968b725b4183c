"""biometrics: templates, index state, candidates, sample progress

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

import travesia.core.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "biometric_index_state",
        sa.Column("modality", sa.String(length=8), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("modality", name=op.f("pk_biometric_index_state")),
    )
    op.create_table(
        "biometric_candidates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("encounter_id", sa.Uuid(), nullable=False),
        sa.Column("modality", sa.String(length=8), nullable=False),
        sa.Column("candidate_kind", sa.String(length=16), nullable=False),
        sa.Column("candidate_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("created_at", travesia.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("modality IN ('face', 'finger', 'fused')", name=op.f("ck_biometric_candidates_modality")),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounters.id"],
            name=op.f("fk_biometric_candidates_encounter_id_encounters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_biometric_candidates")),
    )
    with op.batch_alter_table("biometric_candidates", schema=None) as batch_op:
        batch_op.create_index("ix_biometric_candidates_probe", ["encounter_id"], unique=False)

    op.create_table(
        "biometric_templates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("sample_id", sa.Uuid(), nullable=True),
        sa.Column("modality", sa.String(length=8), nullable=False),
        sa.Column("finger_position", sa.Integer(), nullable=True),
        sa.Column("algorithm", sa.String(length=40), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=False),
        sa.Column("quality_reasons", sa.JSON(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", travesia.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", travesia.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("modality IN ('face', 'finger')", name=op.f("ck_biometric_templates_modality")),
        sa.CheckConstraint(
            "subject_kind IN ('encounter', 'watchlist')", name=op.f("ck_biometric_templates_subject_kind")
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"],
            ["biometric_samples.id"],
            name=op.f("fk_biometric_templates_sample_id_biometric_samples"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_biometric_templates")),
    )
    with op.batch_alter_table("biometric_templates", schema=None) as batch_op:
        batch_op.create_index("ix_biometric_templates_key", ["key_id"], unique=False)
        batch_op.create_index("ix_biometric_templates_live", ["modality", "retired_at"], unique=False)
        batch_op.create_index("ix_biometric_templates_subject", ["subject_kind", "subject_id"], unique=False)

    with op.batch_alter_table("biometric_samples", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=12), server_default="pending", nullable=False))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("next_attempt_at", travesia.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("quality", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("problems", sa.JSON(), server_default="[]", nullable=False))
        batch_op.create_index("ix_biometric_samples_status", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("biometric_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_biometric_samples_status")
        batch_op.drop_column("problems")
        batch_op.drop_column("quality")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("status")

    with op.batch_alter_table("biometric_templates", schema=None) as batch_op:
        batch_op.drop_index("ix_biometric_templates_subject")
        batch_op.drop_index("ix_biometric_templates_live")
        batch_op.drop_index("ix_biometric_templates_key")

    op.drop_table("biometric_templates")
    with op.batch_alter_table("biometric_candidates", schema=None) as batch_op:
        batch_op.drop_index("ix_biometric_candidates_probe")

    op.drop_table("biometric_candidates")
    op.drop_table("biometric_index_state")
