"""watchlist: what each version did to each entry (relisting keeps the entry and its history)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# What the entries' own columns still tell of the past: when each was added and, if so, removed. Changes in
# between were overwritten before this table existed and cannot be recovered.
BACKFILL = """
INSERT INTO watchlist_changes (version_id, entry_id, change, content_hash)
SELECT v.id, e.id, '{change}', e.content_hash
FROM watchlist_entries e JOIN watchlist_versions v
  ON v.watchlist_id = e.watchlist_id AND v.number = e.{column}
"""


def upgrade() -> None:
    op.create_table(
        "watchlist_changes",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("change", sa.String(length=8), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "change IN ('added', 'changed', 'removed', 'relisted')", name=op.f("ck_watchlist_changes_change")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["watchlist_entries.id"], name=op.f("fk_watchlist_changes_entry_id_watchlist_entries")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["watchlist_versions.id"], name=op.f("fk_watchlist_changes_version_id_watchlist_versions")
        ),
        sa.PrimaryKeyConstraint("version_id", "entry_id", name=op.f("pk_watchlist_changes")),
    )
    with op.batch_alter_table("watchlist_changes", schema=None) as batch_op:
        batch_op.create_index("ix_watchlist_changes_entry", ["entry_id"], unique=False)
    op.execute(BACKFILL.format(change="added", column="added_version"))
    op.execute(BACKFILL.format(change="removed", column="removed_version"))


def downgrade() -> None:
    with op.batch_alter_table("watchlist_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_watchlist_changes_entry")
    op.drop_table("watchlist_changes")
