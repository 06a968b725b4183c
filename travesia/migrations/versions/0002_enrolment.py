"""enrolment: persons, groups, encounters, documents, biometric samples

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

import travesia.core.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "persons",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", travesia.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("merged_into_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["merged_into_id"], ["persons.id"], name=op.f("fk_persons_merged_into_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
    )
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.create_index("ix_persons_merged_into", ["merged_into_id"], unique=False)

    op.create_table(
        "travel_groups",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("station_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", travesia.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"], name=op.f("fk_travel_groups_station_id_stations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_travel_groups")),
    )
    op.create_table(
        "encounters",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.Uuid(), nullable=False),
        sa.Column("officer_id", sa.Uuid(), nullable=True),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("relation", sa.String(length=24), nullable=True),
        sa.Column("corrects_id", sa.Uuid(), nullable=True),
        sa.Column("occurred_at", travesia.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", travesia.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("given_names", sa.String(length=200), nullable=False),
        sa.Column("surnames", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=400), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=False),
        sa.Column("birth_month", sa.Integer(), nullable=True),
        sa.Column("birth_day", sa.Integer(), nullable=True),
        sa.Column("birth_precision", sa.String(length=8), nullable=False),
        sa.Column("birth_estimated", sa.Boolean(), nullable=False),
        sa.Column("nationality", sa.String(length=3), nullable=True),
        sa.Column("country_of_birth", sa.String(length=3), nullable=True),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("route_countries", sa.JSON(), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.CheckConstraint("birth_precision IN ('day', 'month', 'year')", name=op.f("ck_encounters_birth_precision")),
        sa.CheckConstraint("sex IN ('F', 'M', 'X')", name=op.f("ck_encounters_sex_code")),
        sa.ForeignKeyConstraint(["corrects_id"], ["encounters.id"], name=op.f("fk_encounters_corrects_id_encounters")),
        sa.ForeignKeyConstraint(["group_id"], ["travel_groups.id"], name=op.f("fk_encounters_group_id_travel_groups")),
        sa.ForeignKeyConstraint(["officer_id"], ["users.id"], name=op.f("fk_encounters_officer_id_users")),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_encounters_person_id_persons")),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"], name=op.f("fk_encounters_station_id_stations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_encounters")),
    )
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.create_index("ix_encounters_corrects", ["corrects_id"], unique=False)
        batch_op.create_index("ix_encounters_group", ["group_id"], unique=False)
        batch_op.create_index("ix_encounters_person", ["person_id"], unique=False)
        batch_op.create_index("ix_encounters_station_time", ["station_id", "occurred_at"], unique=False)

    op.create_table(
        "biometric_samples",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("encounter_id", sa.Uuid(), nullable=False),
        sa.Column("modality", sa.String(length=8), nullable=False),
        sa.Column("finger_position", sa.Integer(), nullable=True),
        sa.Column("image_format", sa.String(length=8), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=False),
        sa.Column("capture_device", sa.String(length=100), nullable=True),
        sa.Column("captured_at", travesia.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("modality IN ('face', 'finger')", name=op.f("ck_biometric_samples_modality")),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounters.id"],
            name=op.f("fk_biometric_samples_encounter_id_encounters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_biometric_samples")),
    )
    with op.batch_alter_table("biometric_samples", schema=None) as batch_op:
        batch_op.create_index("ix_biometric_samples_encounter", ["encounter_id"], unique=False)

    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("encounter_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("issuing_state", sa.String(length=3), nullable=True),
        sa.Column("expiry_date", sa.Date(), nullable=True),
        sa.Column("mrz_text", sa.String(length=200), nullable=True),
        sa.Column("mrz_format", sa.String(length=8), nullable=True),
        sa.Column("mrz_mismatches", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_documents_encounter_id_encounters"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index("ix_documents_encounter", ["encounter_id"], unique=False)
        batch_op.create_index("ix_documents_number", ["number", "issuing_state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("ix_documents_number")
        batch_op.drop_index("ix_documents_encounter")

    op.drop_table("documents")
    with op.batch_alter_table("biometric_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_biometric_samples_encounter")

    op.drop_table("biometric_samples")
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.drop_index("ix_encounters_station_time")
        batch_op.drop_index("ix_encounters_person")
        batch_op.drop_index("ix_encounters_group")
        batch_op.drop_index("ix_encounters_corrects")

    op.drop_table("encounters")
    op.drop_table("travel_groups")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index("ix_persons_merged_into")

    op.drop_table("persons")
