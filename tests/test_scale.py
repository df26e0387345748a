"""What lets one PostgreSQL carry many sites: consent records partitioned by month, and the queries that matter
served by indexes, each touching only the partitions it needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from consent import partitions
from consent.extensions import db

from .test_decisions import decide


def test_a_record_key_carries_its_time_and_sorts_by_it():
    earlier, later = datetime(2026, 11, 30, 12, tzinfo=UTC), datetime(2026, 11, 30, 12, 0, 0, 1000, tzinfo=UTC)
    keys = [partitions.record_key(earlier) for _ in range(1000)]
    assert len(set(keys)) == 1000  # a million keys per millisecond
    assert max(keys) < partitions.record_key(later)
    assert all(partitions.key_bound(earlier) <= key < partitions.key_bound(later) for key in keys)
    assert partitions.months(datetime(2026, 12, 5, tzinfo=UTC), 2)[1] == (
        datetime(2027, 1, 1, tzinfo=UTC),
        datetime(2027, 2, 1, tzinfo=UTC),
    )


def plan(connection, query: str, **params) -> str:
    rows = connection.execute(sa.text(f"EXPLAIN {query}"), params).all()
    return "\n".join(row[0] for row in rows)


@pytest.mark.postgres_only
def test_records_land_in_this_months_partition(app, client, quadient):
    decide(client)
    with app.app_context():
        table = db.session.scalar(sa.text("SELECT tableoid::regclass::text FROM consent_records"))
    assert table == f"consent_records_{datetime.now(UTC):%Y_%m}"


@pytest.mark.postgres_only
def test_partitions_are_made_ahead_and_the_command_is_idempotent(app):
    runner = app.test_cli_runner()
    assert "13 monthly partitions present" in runner.invoke(args=["cmp", "partitions"]).output
    assert runner.invoke(args=["cmp", "partitions", "--ahead", "24"]).exit_code == 0
    with app.app_context():
        names = db.session.scalars(
            sa.text("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'consent_records'::regclass")
        ).all()
    far = datetime.now(UTC) + timedelta(days=24 * 31 - 40)
    assert "consent_records_default" in names and f"consent_records_{far:%Y_%m}" in names


@pytest.mark.postgres_only
def test_the_queries_that_matter_use_indexes_and_prune_partitions(app, client, quadient):
    for _ in range(3):
        decide(client)
    app.test_cli_runner().invoke(args=["cmp", "checkpoint"])
    now = datetime.now(UTC)
    with app.app_context(), db.engine.connect() as connection:
        connection.execute(sa.text("SET enable_seqscan = off"))  # a tiny table: ask what the plan would be at scale
        key = connection.execute(sa.text("SELECT id FROM consent_records LIMIT 1")).scalar()
        history = plan(connection, "SELECT * FROM consent_records WHERE consent_id = :c", c="x" * 22)
        export = plan(
            connection,
            "SELECT * FROM consent_records WHERE site_id = 1 AND time >= :a AND time < :b ORDER BY time",
            a=now - timedelta(days=1),
            b=now,
        )
        by_key = plan(connection, f"SELECT document FROM consent_records WHERE id = {key}")
        log = plan(connection, "SELECT * FROM log_entries WHERE site_id = 1 AND seq >= 0 AND seq < 1000 ORDER BY seq")
    assert "ix_consent_records_consent_id" in history or "consent_id_idx" in history
    assert "site_id_time" in export or "site_id_time_idx" in export
    month = f"consent_records_{now:%Y_%m}"
    assert month in by_key and "consent_records_default" not in by_key  # the key names its partition
    assert "Index" in by_key
    assert "pk_log_entries" in log
