"""Counting banner impressions and reading a site's consent-rate report (:mod:`consent.core.reports`).

An impression is one banner shown; the snippet says so, and the service adds one to a counter per site, UTC day,
published version and region. Nothing identifies the visitor: no IP address, no consent ID, no row per visitor.
Each process adds up its impressions in memory and writes them every ``CMP_IMPRESSION_FLUSH_SECONDS`` (and on
exit), one upsert per counter, so the hot path never waits on the database; a crash loses at most that interval's
counts, which a statistic can afford.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from . import exporting
from .core import reports
from .core.records import format_time
from .extensions import db
from .models import ImpressionCount, PublishedVersion, Record, Site

log = logging.getLogger(__name__)
DEFAULT_DAYS = 30


class ImpressionCounter:
    """Impressions counted in this process, written to the database in the background (or at once, interval 0)."""

    def __init__(self, app, interval: float):
        self.app, self.interval = app, interval
        self._counts: Counter[tuple[int, date, str, str]] = Counter()
        self._lock = threading.Lock()
        self._started_in: int | None = None

    def add(self, site_id: int, version: str, region: str, day: date | None = None) -> None:
        day = day or datetime.now(UTC).date()
        with self._lock:
            self._counts[(site_id, day, version, region)] += 1
        if self.interval <= 0:
            self.flush()
        else:
            self._ensure_flushing()

    def flush(self) -> int:
        """Write the counts gathered so far (call within an application context); the counters written."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        if not counts:
            return 0
        table = ImpressionCount.__table__
        dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
        try:
            for (site_id, day, version, region), count in sorted(counts.items()):  # one lock order for all writers
                statement = dialect.insert(table).values(
                    site_id=site_id, day=day, version=version, region=region, count=count
                )
                db.session.execute(
                    statement.on_conflict_do_update(
                        index_elements=[table.c.site_id, table.c.day, table.c.version, table.c.region],
                        set_={"count": table.c.count + statement.excluded.count},
                    )
                )
            db.session.commit()
        except Exception:
            db.session.rollback()
            with self._lock:
                self._counts.update(counts)  # kept for the next round
            raise
        return len(counts)

    def _ensure_flushing(self) -> None:
        if self._started_in == os.getpid():
            return
        with self._lock:
            if self._started_in == os.getpid():
                return
            self._started_in = os.getpid()  # a forked worker starts its own
        threading.Thread(target=self._run, name="impression-counter", daemon=True).start()
        atexit.register(self._flush_in_context)

    def _run(self) -> None:
        stop = threading.Event()
        while not stop.wait(self.interval):
            self._flush_in_context()

    def _flush_in_context(self) -> None:
        with self.app.app_context():
            try:
                self.flush()
            except Exception:  # the counts are kept: the next round retries
                log.exception("writing impression counts failed; retrying in %s s", self.interval)
            finally:
                db.session.remove()


def period(since: datetime | None, until: datetime | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """A report's period in whole UTC days (impressions are counted per day): ``since`` down to its day's start,
    ``until`` up to the next day's; by default the last 30 days, today included."""
    now = now or datetime.now(UTC)
    end = until or now
    end_day = end.date() if end.time() == time() else end.date() + timedelta(days=1)
    start_day = since.date() if since else end_day - timedelta(days=DEFAULT_DAYS)
    return datetime.combine(start_day, time(), UTC), datetime.combine(end_day, time(), UTC)


def report(site: Site, since: datetime, until: datetime) -> dict:
    """The consent-rate report of the site for [since, until), as :meth:`consent.core.reports.Report.as_dict`."""
    documents = db.session.connection().execute(
        select(Record.document)
        .where(Record.site_id == site.id, Record.time >= since, Record.time < until)
        .execution_options(yield_per=exporting.ROWS_PER_FETCH)
    )
    counts = reports.Tally()
    add_record = counts.add_record
    for rows in documents.partitions():
        for (document,) in rows:
            add_record(exporting.loads(document))
    impressions = db.session.execute(
        select(ImpressionCount.day, ImpressionCount.region, ImpressionCount.version, func.sum(ImpressionCount.count))
        .where(
            ImpressionCount.site_id == site.id, ImpressionCount.day >= since.date(), ImpressionCount.day < until.date()
        )
        .group_by(ImpressionCount.day, ImpressionCount.region, ImpressionCount.version)
    )
    for day, region, version, count in impressions:
        counts.add_impressions(day.isoformat(), region, version, int(count))
    numbers = dict(
        db.session.execute(
            select(PublishedVersion.hash, PublishedVersion.number).where(PublishedVersion.site_id == site.id)
        ).all()
    )
    return reports.Report(
        site=site.key,
        since=format_time(since),
        until=format_time(until),
        tally=counts,
        version_numbers=numbers,
        category_order=exporting.categories_of(site, until),
        days=tuple((since.date() + timedelta(days=n)).isoformat() for n in range((until - since).days)),
    ).as_dict()
