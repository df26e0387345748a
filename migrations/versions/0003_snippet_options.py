"""The snippet options of a site: the banner's theme, Google Consent Mode, reloading after an opt-out and the
floating reopen button.

Existing sites get the defaults: an empty theme and Consent Mode object mean "every field at the core's default"
(consent.core.siteconfig.Theme and ConsentMode).

Revision ID: 0003_snippet_options
Revises: 0002_consent_log
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_snippet_options"
down_revision = "0002_consent_log"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy of the table): SQLite supports it, and it keeps the sites table's triggers
    # and foreign keys untouched.
    op.add_column("sites", sa.Column("theme", sa.JSON(), nullable=False, server_default="{}"))
    op.add_column("sites", sa.Column("consent_mode", sa.JSON(), nullable=False, server_default="{}"))
    op.add_column("sites", sa.Column("reload_on_opt_out", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("sites", sa.Column("reopen_button", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade():
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("reopen_button")
        batch_op.drop_column("reload_on_opt_out")
        batch_op.drop_column("consent_mode")
        batch_op.drop_column("theme")
