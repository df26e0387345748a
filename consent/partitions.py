"""Consent records are partitioned by time on PostgreSQL, natively: by range of their primary key, which is the
record's time in milliseconds shifted left 20 bits, plus 20 random bits (a million keys per millisecond). One
partition holds a month. A key that carries its time lets PostgreSQL prune partitions for lookups by key (the
log's positions point at records by key) as well as for time ranges, and keeps every unique constraint and
foreign key valid across partitions, which a separate time column could not.

Partitions are made ahead of time, by the migration and then by every sequencer once an hour (and by
``flask cmp partitions``); a default partition catches any record beyond them. On SQLite nothing is partitioned.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import text

KEY_SHIFT = 20
MONTHS_AHEAD = 12


def record_key(moment: datetime) -> int:
    """A new record's primary key: its time, and randomness that keeps keys of one millisecond apart."""
    return (int(moment.timestamp() * 1000) << KEY_SHIFT) | secrets.randbits(KEY_SHIFT)


def key_bound(moment: datetime) -> int:
    """The smallest key a record of ``moment`` can have."""
    return int(moment.timestamp() * 1000) << KEY_SHIFT


def months(start: datetime, count: int) -> list[tuple[datetime, datetime]]:
    """``count`` consecutive calendar months (UTC) from the one holding ``start``: (first instant, next month's)."""
    year, month = start.year, start.month
    found = []
    for _ in range(count):
        first = datetime(year, month, 1, tzinfo=UTC)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        found.append((first, datetime(year, month, 1, tzinfo=UTC)))
    return found


def partition_statements(start: datetime, count: int) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS consent_records_{first:%Y_%m} PARTITION OF consent_records "
        f"FOR VALUES FROM ({key_bound(first)}) TO ({key_bound(following)})"
        for first, following in months(start, count)
    ]


def ensure(connection, now: datetime | None = None, ahead: int = MONTHS_AHEAD) -> int:
    """Make the partitions of this month and the ``ahead`` next ones (PostgreSQL; nothing elsewhere)."""
    if connection.dialect.name != "postgresql":
        return 0
    statements = partition_statements(now or datetime.now(UTC), ahead + 1)
    for statement in statements:
        connection.execute(text(statement))
    return len(statements)


def not_a_partition(object_, name, type_, reflected, compare_to) -> bool:
    """For Alembic's comparisons (``include_object``): the partitions, and the copies of foreign keys PostgreSQL makes
    for each partition, are the database's business, not the models'."""
    if type_ == "table" and reflected and name and name.startswith("consent_records_"):
        return False
    if type_ == "foreign_key_constraint" and reflected:
        referred = getattr(object_, "referred_table", None)
        return not (referred is not None and referred.name.startswith("consent_records_"))
    return True
