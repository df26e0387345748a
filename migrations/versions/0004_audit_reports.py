"""The consent-rate report: banner impressions, counted per site, UTC day, published version and region, with no
identifier of any visitor. Counters, not a log: the service adds to them, so they are not append-only.

Revision ID: 0004_audit_reports
Revises: 0003_snippet_options
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_audit_reports"
down_revision = "0003_snippet_options"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "impression_counts",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=10), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_impression_counts_site_id_sites"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("site_id", "day", "version", "region", name=op.f("pk_impression_counts")),
    )


def downgrade():
    op.drop_table("impression_counts")
