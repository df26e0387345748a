"""The consent log: records, their erasable personal data, the log's positions and signed checkpoints, the
public keys that signed them, purges and erasures.

Records, log positions, checkpoints, keys, purges and erasures are append-only: triggers make the database refuse
UPDATE and DELETE (and TRUNCATE on PostgreSQL). The one exception is a retention purge, which may delete records
older than the cutoff it authorized in its own transaction (purge_authorizations), and is itself recorded. Personal
data can be erased (GDPR Art. 17), never edited.

Revision ID: 0002_consent_log
Revises: 0001_initial
Create Date: 2026-11-22
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002_consent_log"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

APPEND_ONLY = ("log_entries", "checkpoints", "signing_keys", "purges", "erasures")


def upgrade():
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(length=43), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_signing_keys")),
    )
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=43), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_checkpoints_site_id_sites"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoints")),
    )
    with op.batch_alter_table("checkpoints", schema=None) as batch_op:
        batch_op.create_index("ix_checkpoints_site_size", ["site_id", "tree_size"], unique=False)

    op.create_table(
        "consent_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("consent_id", sa.String(length=22), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("receipt", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_consent_records_site_id_sites"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
        postgresql_partition_by="RANGE (id)",  # by time: the key is the record's time (consent/partitions.py)
    )
    create_partitions()
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_records_consent_id"), ["consent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consent_records_record_id"), ["record_id"], unique=False)
        batch_op.create_index("ix_consent_records_site_time", ["site_id", "time"], unique=False)

    op.create_table(
        "consent_subjects",
        sa.Column("consent_id", sa.String(length=22), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_consent_subjects_site_id_sites"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("consent_id", name=op.f("pk_consent_subjects")),
    )
    with op.batch_alter_table("consent_subjects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_subjects_site_id"), ["site_id"], unique=False)

    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("consent_id", sa.String(length=22), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_erasures_site_id_sites"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
    )
    with op.batch_alter_table("erasures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_erasures_site_id"), ["site_id"], unique=False)

    op.create_table(
        "decision_keys",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("record_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_decision_keys_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_decision_keys")),
    )
    with op.batch_alter_table("decision_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decision_keys_site_id"), ["site_id"], unique=False)

    op.create_table(
        "log_entries",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("record_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("leaf_hash", sa.String(length=64), nullable=False),
        sa.Column("record_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_log_entries_site_id_sites"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("site_id", "seq", name=op.f("pk_log_entries")),
        sa.UniqueConstraint("record_id", name=op.f("uq_log_entries_record_id")),
    )
    op.create_table(
        "log_heads",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_log_heads_site_id_sites"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_log_heads")),
    )
    op.create_table(
        "purge_authorizations",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("before", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_purge_authorizations_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_purge_authorizations")),
    )
    op.create_table(
        "purges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_purges_site_id_sites"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purges")),
    )
    with op.batch_alter_table("purges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purges_site_id"), ["site_id"], unique=False)

    op.create_table(
        "pending_records",
        sa.Column("record_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("leaf_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_pk"],
            ["consent_records.id"],
            name=op.f("fk_pending_records_record_pk_consent_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_pending_records_site_id_sites"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("record_pk", name=op.f("pk_pending_records")),
    )
    with op.batch_alter_table("pending_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pending_records_site_id"), ["site_id"], unique=False)

    op.create_table(
        "record_personal_data",
        sa.Column("record_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_pk"],
            ["consent_records.id"],
            name=op.f("fk_record_personal_data_record_pk_consent_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_pk", name=op.f("pk_record_personal_data")),
    )

    create_triggers()


def downgrade():
    drop_triggers()
    op.drop_table("record_personal_data")
    with op.batch_alter_table("pending_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_records_site_id"))

    op.drop_table("pending_records")
    with op.batch_alter_table("purges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purges_site_id"))

    op.drop_table("purges")
    op.drop_table("purge_authorizations")
    op.drop_table("log_heads")
    op.drop_table("log_entries")
    with op.batch_alter_table("decision_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decision_keys_site_id"))

    op.drop_table("decision_keys")
    with op.batch_alter_table("erasures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erasures_site_id"))

    op.drop_table("erasures")
    with op.batch_alter_table("consent_subjects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_subjects_site_id"))

    op.drop_table("consent_subjects")
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_records_site_time")
        batch_op.drop_index(batch_op.f("ix_consent_records_record_id"))
        batch_op.drop_index(batch_op.f("ix_consent_records_consent_id"))

    op.drop_table("consent_records")
    with op.batch_alter_table("checkpoints", schema=None) as batch_op:
        batch_op.drop_index("ix_checkpoints_site_size")

    op.drop_table("checkpoints")
    op.drop_table("signing_keys")


def create_partitions():
    """On PostgreSQL: a default partition, and one per month from now on (the sequencers keep making them)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE TABLE consent_records_default PARTITION OF consent_records DEFAULT")
    year, month = datetime.now(UTC).year, datetime.now(UTC).month
    for _ in range(13):
        following = (year + 1, 1) if month == 12 else (year, month + 1)
        low, high = (int(datetime(y, m, 1, tzinfo=UTC).timestamp() * 1000) << 20 for y, m in ((year, month), following))
        op.execute(
            f"CREATE TABLE consent_records_{year:04d}_{month:02d} PARTITION OF consent_records "
            f"FOR VALUES FROM ({low}) TO ({high})"
        )
        year, month = following


def create_triggers():
    if op.get_bind().dialect.name == "postgresql":
        # cmp_refuse_change() comes from 0001_initial
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION cmp_refuse_change()"
            )
        for table in (*APPEND_ONLY, "consent_records"):
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION cmp_refuse_change()"
            )
        op.execute(
            """
            CREATE FUNCTION cmp_records_guard() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' AND EXISTS (
                    SELECT 1 FROM purge_authorizations a WHERE a.site_id = OLD.site_id AND OLD.time < a.before
                ) THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'consent_records is append-only: % refused', TG_OP USING ERRCODE = 'raise_exception';
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER consent_records_append_only BEFORE UPDATE OR DELETE ON consent_records "
            "FOR EACH ROW EXECUTE FUNCTION cmp_records_guard()"
        )
        op.execute(
            "CREATE TRIGGER record_personal_data_no_update BEFORE UPDATE ON record_personal_data "
            "FOR EACH ROW EXECUTE FUNCTION cmp_refuse_change()"
        )
    else:
        for table in (*APPEND_ONLY, "consent_records"):
            op.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END"
            )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END"
            )
        op.execute(
            "CREATE TRIGGER consent_records_no_delete BEFORE DELETE ON consent_records "
            "WHEN NOT EXISTS (SELECT 1 FROM purge_authorizations a "
            "WHERE a.site_id = OLD.site_id AND OLD.time < a.before) "
            "BEGIN SELECT RAISE(ABORT, 'consent_records is append-only: DELETE refused'); END"
        )
        op.execute(
            "CREATE TRIGGER record_personal_data_no_update BEFORE UPDATE ON record_personal_data "
            "BEGIN SELECT RAISE(ABORT, 'record_personal_data is append-only (erased, never edited): UPDATE refused'); "
            "END"
        )


def drop_triggers():
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        for table in (*APPEND_ONLY, "consent_records"):
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute("DROP TRIGGER consent_records_append_only ON consent_records")
        op.execute("DROP TRIGGER record_personal_data_no_update ON record_personal_data")
        op.execute("DROP FUNCTION cmp_records_guard()")
    else:
        for table in (*APPEND_ONLY, "consent_records"):
            op.execute(f"DROP TRIGGER {table}_no_update")
        for table in (*APPEND_ONLY, "consent_records"):
            op.execute(f"DROP TRIGGER {table}_no_delete")
        op.execute("DROP TRIGGER record_personal_data_no_update")
