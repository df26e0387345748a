"""Notices of a material change on a publication: the owner's message per language, and for how many days
returning visitors see it.

Added as plain columns (no batch copy of the table): a copy would drop the append-only triggers on SQLite.

Revision ID: 0005_change_notices
Revises: 0004_audit_reports
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_change_notices"
down_revision = "0004_audit_reports"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("publications", sa.Column("notice", sa.JSON(), nullable=True))
    op.add_column("publications", sa.Column("notice_days", sa.Integer(), nullable=True))


def downgrade():
    # SQLite drops a column only by copying the table, which would drop its triggers: recreate them after.
    with op.batch_alter_table("publications") as batch_op:
        batch_op.drop_column("notice_days")
        batch_op.drop_column("notice")
    if op.get_bind().dialect.name == "sqlite":
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER IF NOT EXISTS publications_no_{operation.lower()} BEFORE {operation} ON publications "
                f"BEGIN SELECT RAISE(ABORT, 'publications is append-only: {operation} refused'); END"
            )
