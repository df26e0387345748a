"""Reading a site's consent log out for auditors: exports as CSV or NDJSON, streamed from the database.

Rows come from a server-side cursor (``yield_per``: PostgreSQL streams them, SQLite reads them as it goes) and
leave as text a batch at a time, so memory stays flat however many records an export holds. Time and consent ID
select rows through indexes; region, method and category filters read each record's document.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import func, literal, select

from . import publishing
from .core import exports
from .extensions import db
from .models import LogEntry, PendingRecord, PersonalRecordData, PublishedVersion, Record, Site

try:  # about four times faster than the standard library at parsing records (bench/export.py)
    from orjson import loads
except ImportError:  # pragma: no cover - orjson is a dependency; the standard library gives the same values
    from json import loads

ROWS_PER_FETCH = 1000  # rows fetched at a time, and records per chunk of the response (under 1 MB)


def categories_of(site: Site, until: datetime | None) -> list[str]:
    """The CSV's category columns: every category of every version the site had published by ``until`` (a record
    of the period may name any of them), newest version first (:func:`consent.core.exports.category_columns`)."""
    query = select(PublishedVersion.document).where(PublishedVersion.site_id == site.id)
    if until is not None:
        query = query.where(PublishedVersion.created_at < until)
    documents = db.session.scalars(query.order_by(PublishedVersion.number.desc())).all()
    return exports.category_columns(
        [category.key for category in publishing.config_of(document).categories] for document in documents
    )


def _rows(site: Site, flt: exports.ExportFilter, with_personal: bool) -> Iterator[list]:
    """Batches of (position, record hash, canonical record, salt, canonical personal data) of the site's records
    that the filter's time and consent ID select, in log order; then those recorded but not yet given a position
    (none, and the hash their receipt named). Purged records are gone, and not exported."""
    personal = [PersonalRecordData.salt, PersonalRecordData.data] if with_personal else []

    def selected(query):
        if with_personal:
            query = query.outerjoin(PersonalRecordData, PersonalRecordData.record_pk == Record.id)
        query = query.where(Record.site_id == site.id)
        if flt.since is not None:
            query = query.where(Record.time >= flt.since)
        if flt.until is not None:
            query = query.where(Record.time < flt.until)
        if flt.consent_id is not None:
            query = query.where(Record.consent_id == flt.consent_id)
        return query.execution_options(yield_per=ROWS_PER_FETCH)

    logged = select(LogEntry.seq, LogEntry.leaf_hash, Record.document, *personal).select_from(LogEntry)
    if flt.consent_id is not None:  # a visitor's few records, found by the consent ID's index
        logged = logged.join(Record, Record.record_id == LogEntry.record_id)
    else:  # a run of the log, read in order of position (its primary key), each record by its own
        logged = logged.join(Record, Record.id == LogEntry.record_pk).where(LogEntry.site_id == site.id)
        if flt.since is not None or flt.until is not None:
            first, last = db.session.execute(
                selected(
                    select(func.min(LogEntry.seq), func.max(LogEntry.seq))
                    .select_from(Record)
                    .join(LogEntry, LogEntry.record_id == Record.record_id)
                )
            ).one()
            if first is None:
                first, last = 0, -1
            logged = logged.where(LogEntry.seq >= first, LogEntry.seq <= last)
    connection = db.session.connection()
    yield from connection.execute(selected(logged).order_by(LogEntry.seq)).partitions()
    queued = (
        select(literal(None), PendingRecord.leaf_hash, Record.document, *personal)
        .select_from(PendingRecord)
        .join(Record, Record.id == PendingRecord.record_pk)
    )
    yield from connection.execute(selected(queued).order_by(Record.time, Record.id)).partitions()


def ndjson(site: Site, flt: exports.ExportFilter, with_personal: bool = True) -> Iterator[str]:
    """The export as NDJSON lines, a batch of records per chunk."""
    line, reads, matches = exports.ndjson_line, flt.reads_records, flt.matches
    for rows in _rows(site, flt, with_personal):
        if reads:
            rows = [row for row in rows if matches(loads(row[2]))]
        if with_personal:
            yield "".join([line(row[0], row[1], row[2], row[3], row[4]) for row in rows])
        else:
            yield "".join([line(row[0], row[1], row[2], with_personal=False) for row in rows])


def csv(site: Site, flt: exports.ExportFilter, with_personal: bool = True) -> Iterator[str]:
    """The export as CSV (a BOM, the header, then a batch of records per chunk)."""
    layout = exports.CsvLayout(categories_of(site, flt.until), with_personal)
    return _csv_rows(site, flt, layout)


def _csv_rows(site: Site, flt: exports.ExportFilter, layout: exports.CsvLayout) -> Iterator[str]:
    yield exports.BOM + layout.header()
    row_of, reads, matches, personal = layout.row, flt.reads_records, flt.matches, layout.personal
    for rows in _rows(site, flt, personal):
        chunk = []
        for row in rows:
            record = loads(row[2])
            if reads and not matches(record):
                continue
            chunk.append(row_of(row[0], row[1], record, loads(row[4]) if personal and row[4] is not None else None))
        yield "".join(chunk)


def file_name(site: Site, flt: exports.ExportFilter, extension: str) -> str:
    """``quadient-consent-log-2026-11-01-to-2026-12-01.csv``"""
    since = flt.since.strftime("%Y-%m-%d") if flt.since else "start"
    until = flt.until.strftime("%Y-%m-%d") if flt.until else "now"
    return f"{site.key}-consent-log-{since}-to-{until}.{extension}"
