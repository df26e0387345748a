"""Each site's consent log: sequencing records into it, signing checkpoints, proofs, verification, retention
purges and erasure.

Recording a decision only inserts rows, so any number of processes write concurrently without waiting on each
other. The sequencer, run every few seconds by each process and by ``flask cmp checkpoint``, gives queued
records their positions in the site's log and signs a checkpoint of the new size, as a Certificate Transparency
log merges its entries. One sequencer per site works at a time: it holds the site's row in ``log_heads``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import String, and_, create_engine, delete, func, insert, literal, select, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from . import partitions
from .core import merkle
from .core import verify as core_verify
from .core.records import format_time
from .core.signing import SigningKey, checkpoint_body, parse_checkpoint, sign_checkpoint
from .extensions import db
from .models import (
    Erasure,
    LogCheckpoint,
    LogEntry,
    LogHead,
    PendingRecord,
    PersonalRecordData,
    Purge,
    PurgeAuthorization,
    Record,
    Site,
    utcnow,
)

log = logging.getLogger(__name__)
BATCH = 20_000
PARTITION_CHECK_SECONDS = 3600


def origin(log_name: str, site_key: str) -> str:
    """The name of a site's log, first line of its checkpoints."""
    return f"{log_name}/{site_key}"


# --- sequencing and checkpoints --------------------------------------------------------------------------------


def sequence(site: Site, key: SigningKey, log_name: str, *, force: bool = False) -> LogCheckpoint | None:
    """Give the site's queued records their log positions and sign a checkpoint; None if nothing was queued
    (``force`` signs one anyway, e.g. after a key rotation). Commits."""
    signed = None
    while True:
        checkpoint, more = _sequence_batch(site, key, log_name, force=force and signed is None)
        db.session.commit()
        signed = checkpoint or signed
        if not more:
            return signed


def _sequence_batch(site: Site, key: SigningKey, log_name: str, *, force: bool) -> tuple[LogCheckpoint | None, bool]:
    head = _lock_head(site.id)
    pending = db.session.execute(
        select(PendingRecord.record_pk, PendingRecord.leaf_hash, Record.record_id, Record.time)
        .join(Record, Record.id == PendingRecord.record_pk)
        .where(PendingRecord.site_id == site.id)
        .order_by(PendingRecord.record_pk)
        .limit(BATCH)
    ).all()
    if not pending and not force:
        return None, False
    frontier: merkle.Frontier = [(size, bytes.fromhex(node)) for size, node in head.frontier]
    size = head.size
    if pending:
        db.session.execute(
            insert(LogEntry),
            [
                {
                    "site_id": site.id,
                    "seq": size + i,
                    "record_id": p.record_id,
                    "record_pk": p.record_pk,
                    "leaf_hash": p.leaf_hash,
                    "record_time": p.time,
                }
                for i, p in enumerate(pending)
            ],
        )
        db.session.execute(delete(PendingRecord).where(PendingRecord.record_pk.in_([p.record_pk for p in pending])))
        for p in pending:
            merkle.extend(frontier, bytes.fromhex(p.leaf_hash))
        size += len(pending)
        head.size = size
        head.frontier = [[s, node.hex()] for s, node in frontier]
    root = merkle.frontier_root(frontier)
    note = sign_checkpoint(checkpoint_body(origin(log_name, site.key), size, root, utcnow()), key)
    checkpoint = LogCheckpoint(site_id=site.id, tree_size=size, root_hash=root.hex(), key_id=key.public.kid, note=note)
    db.session.add(checkpoint)
    db.session.flush()
    return checkpoint, len(pending) == BATCH


def _lock_head(site_id: int) -> LogHead:
    """The site's log head, locked until commit: a write first, so that SQLite takes its write lock before
    reading (a reading transaction cannot become a writer once another has written)."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(LogHead).values(site_id=site_id, size=0, frontier=[]).on_conflict_do_nothing())
    db.session.execute(update(LogHead).where(LogHead.site_id == site_id).values(size=LogHead.size))
    head = db.session.get(LogHead, site_id, populate_existing=True)
    assert head is not None
    return head


def sequence_all(key: SigningKey, log_name: str) -> int:
    """Sequence every site with queued records; the number of checkpoints signed."""
    site_ids = db.session.scalars(select(PendingRecord.site_id).distinct()).all()
    signed = 0
    for site_id in site_ids:
        if sequence(db.session.get(Site, site_id), key, log_name) is not None:
            signed += 1
    return signed


class Sequencer:
    """Runs :func:`sequence_all` every ``interval`` seconds in a daemon thread of this process."""

    def __init__(self, app, interval: float):
        self.app, self.interval = app, interval
        self._started_in: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def ensure_running(self) -> None:
        if self._started_in == os.getpid():
            return
        with self._lock:
            if self._started_in == os.getpid():
                return
            self._started_in = os.getpid()  # a forked worker starts its own
            threading.Thread(target=self._run, name="consent-sequencer", daemon=True).start()

    def stop(self) -> None:
        """Stop after the round under way (a test's app; a process ends its daemon thread by exiting)."""
        self._stop.set()

    def _run(self) -> None:
        partitioned_at = float("-inf")
        while not self._stop.wait(self.interval):
            with self.app.app_context():
                try:
                    keyring = self.app.extensions["cmp.keys"]
                    sequence_all(keyring.current, keyring.name)
                    if time.monotonic() - partitioned_at > PARTITION_CHECK_SECONDS:
                        with db.engine.begin() as connection:
                            partitions.ensure(connection)
                        partitioned_at = time.monotonic()
                except Exception:  # keep running: the next round retries
                    db.session.rollback()
                    log.exception("sequencing failed; retrying in %s s", self.interval)
                finally:
                    db.session.remove()


def latest_checkpoint(site_id: int) -> LogCheckpoint | None:
    return db.session.scalar(
        select(LogCheckpoint).where(LogCheckpoint.site_id == site_id).order_by(LogCheckpoint.id.desc()).limit(1)
    )


# --- proofs ----------------------------------------------------------------------------------------------------


def _tree(site_id: int, size: int) -> merkle.Tree:
    """The site's tree at ``size`` (a few kept in the app's memory: proofs for the latest checkpoint are the common
    ask; a log at a given size never changes, in the app's own database)."""
    _trees: OrderedDict[tuple[int, int], merkle.Tree] = current_app.extensions.setdefault("cmp.trees", OrderedDict())
    tree = _trees.get((site_id, size))
    if tree is None:
        leaves = db.session.scalars(
            select(LogEntry.leaf_hash).where(LogEntry.site_id == site_id, LogEntry.seq < size).order_by(LogEntry.seq)
        ).all()
        tree = merkle.Tree([bytes.fromhex(leaf) for leaf in leaves])
        _trees[(site_id, size)] = tree
        while len(_trees) > 4:
            _trees.popitem(last=False)
    return tree


@dataclass(frozen=True)
class InclusionProof:
    record_id: str
    position: int
    leaf_hash: str
    checkpoint: LogCheckpoint
    proof: list[str]


def inclusion_proof(record_id: str) -> InclusionProof | LogEntry | None:
    """The proof that a record is in its site's latest checkpoint; the bare log entry if no checkpoint covers
    it yet; None if the record is not in any log."""
    entry = db.session.scalar(select(LogEntry).where(LogEntry.record_id == record_id))
    if entry is None:
        return None
    checkpoint = latest_checkpoint(entry.site_id)
    if checkpoint is None or checkpoint.tree_size <= entry.seq:
        return entry
    path = _tree(entry.site_id, checkpoint.tree_size).inclusion_proof(entry.seq, checkpoint.tree_size)
    return InclusionProof(record_id, entry.seq, entry.leaf_hash, checkpoint, [node.hex() for node in path])


def consistency_proof(site_id: int, old_size: int, new_size: int) -> list[str]:
    """Raises IndexError for sizes the log cannot relate."""
    return [node.hex() for node in _tree(site_id, new_size).consistency_proof(old_size, new_size)]


# --- verification ----------------------------------------------------------------------------------------------

CHUNK = 1 << 17  # positions checked by one worker at a time; a power of two, so that ranges' trees join
PARALLEL_FROM = 2 * CHUNK  # smaller logs are checked in this process: starting workers would cost more


@dataclass
class Verification:
    site: str
    report: core_verify.Report
    pending: int = 0  # recorded, awaiting their position in the log
    purges: list[Purge] = field(default_factory=list)
    erasures: int = 0

    @property
    def ok(self) -> bool:
        return self.report.ok


def verify_site(
    site: Site,
    keys,
    log_name: str,
    since: datetime | None = None,
    until: datetime | None = None,
    jobs: int | None = None,
) -> Verification:
    """Check the site's whole log: every record against its leaf, every checkpoint against the leaves and its
    signature. ``since``/``until`` limit which records' contents are re-hashed; the tree is always checked whole.
    Large logs are checked by ``jobs`` worker processes (default: one per CPU), each reading a range of positions."""
    purges = db.session.scalars(select(Purge).where(Purge.site_id == site.id).order_by(Purge.id)).all()
    cutoff = max((p.before for p in purges), default=None)
    scope = core_verify.Scope(
        purged_before=format_time(cutoff) if cutoff else None,
        since=format_time(since) if since else None,
        until=format_time(until) if until else None,
    )
    checkpoints, extra = _checkpoints(site, log_name)
    size = db.session.scalar(select(func.coalesce(func.max(LogEntry.seq) + 1, 0)).where(LogEntry.site_id == site.id))

    tree = core_verify.TreeCheck(checkpoints, keys)
    contents = core_verify.ContentCheck(0, site.key, scope)
    for chunk, chunk_tree in _check_contents(site, size, scope, tree.sizes, jobs):
        if chunk_tree is not None and tree.can_add(chunk_tree):
            tree.add_range(chunk_tree)
        else:  # in this process, or after a gap in the log: leaf by leaf
            tree.add(chunk.leaves)
        chunk.leaves = b""  # the tree has them: memory stays flat however long the log
        contents.merge(chunk)
    tree.finish()

    pending = db.session.scalar(select(func.count()).select_from(PendingRecord).where(PendingRecord.site_id == site.id))
    stored = db.session.scalar(select(func.count()).select_from(Record).where(Record.site_id == site.id))
    if stored != contents.present + pending:
        extra += _records_outside_the_log(site)
    erasures = db.session.scalar(select(func.count()).select_from(Erasure).where(Erasure.site_id == site.id))
    report = core_verify.report(contents, tree, extra)
    return Verification(site.key, report, pending=pending, purges=list(purges), erasures=erasures)


def _checkpoints(site: Site, log_name: str) -> tuple[list, list[core_verify.Break]]:
    checkpoints, breaks = [], []
    for row in db.session.scalars(select(LogCheckpoint).where(LogCheckpoint.site_id == site.id)):
        try:
            checkpoint = parse_checkpoint(row.note)
        except ValueError as error:
            breaks.append(core_verify.Break(None, "checkpoint_unreadable", f"checkpoint {row.id}: {error}"))
            continue
        if checkpoint.origin != origin(log_name, site.key):
            breaks.append(
                core_verify.Break(None, "checkpoint_origin", f"checkpoint {row.id} is for log {checkpoint.origin!r}")
            )
            continue
        checkpoints.append(checkpoint)
    return checkpoints, breaks


def _records_outside_the_log(site: Site) -> list[core_verify.Break]:
    """Records in no position of the site's log and not queued for one."""
    outside = db.session.execute(
        select(Record.record_id, Record.time)
        .outerjoin(LogEntry, (LogEntry.record_id == Record.record_id) & (LogEntry.site_id == Record.site_id))
        .outerjoin(PendingRecord, PendingRecord.record_pk == Record.id)
        .where(Record.site_id == site.id, LogEntry.record_id.is_(None), PendingRecord.record_pk.is_(None))
    ).all()
    return [
        core_verify.Break(
            None,
            "record_inserted",
            f"record {record_id} ({format_time(time)}) is in no log position and was never queued for one "
            "(inserted behind the service's back, or its log position was removed)",
        )
        for record_id, time in outside
    ]


def _check_contents(site: Site, size: int, scope: core_verify.Scope, checkpoint_sizes: list[int], jobs: int | None):
    """The content checks of consecutive ranges of the log, in order, each with the Merkle tree of its range when
    a worker process hashed it."""
    ranges = [(start, min(start + CHUNK, size)) for start in range(0, size, CHUNK)]
    jobs = jobs or os.cpu_count() or 1
    if size < PARALLEL_FROM or jobs == 1 or "fork" not in multiprocessing.get_all_start_methods():
        connection = db.session.connection()
        for start, stop in ranges:
            yield _check_range(connection, site.id, site.key, start, stop, scope), None
        return
    url = db.engine.url.render_as_string(hide_password=False)
    db.session.close()
    db.engine.dispose()  # forked workers must not inherit open connections; each opens its own
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        in_flight: deque = deque()
        for start, stop in ranges:
            work = (url, site.id, site.key, start, stop, scope, checkpoint_sizes)
            in_flight.append(pool.submit(_check_range_in_worker, *work))
            if len(in_flight) > 2 * jobs:  # a bounded window: results wait for the tree in order, not in memory
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()


_worker_engine: Engine | None = None


def _check_range_in_worker(url: str, site_id, site_key, start, stop, scope, checkpoint_sizes):
    global _worker_engine
    if _worker_engine is None:
        _worker_engine = create_engine(url)
    with _worker_engine.connect() as connection:
        contents = _check_range(connection, site_id, site_key, start, stop, scope)
    tree = core_verify.RangeTree.build(start, contents.leaves, checkpoint_sizes)
    return contents, tree


def _check_range(
    connection, site_id: int, site_key: str, start: int, stop: int, scope: core_verify.Scope
) -> core_verify.ContentCheck:
    rows = _driver_rows(connection, _positions_query(connection.dialect.name, site_id, start, stop))
    return core_verify.ContentCheck(start, site_key, scope).run(rows)


def _driver_rows(connection, query, batch: int = 2000) -> Iterator[tuple]:
    """The query's rows as the database driver gives them, plain tuples, streamed from a server-side cursor:
    verification reads a million rows, and SQLAlchemy's result rows would double what reading them costs."""
    compiled = query.compile(dialect=connection.dialect)
    positional = compiled.positiontup is not None
    params = [compiled.params[name] for name in compiled.positiontup] if positional else compiled.params
    driver = connection.connection.dbapi_connection
    server_side = connection.dialect.name == "postgresql"
    cursor = driver.cursor(name="cmp_verify") if server_side else driver.cursor()
    try:
        cursor.execute(str(compiled), params)
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


def _positions_query(dialect: str, site_id: int, start: int, stop: int):
    """Positions [start, stop) of a site's log with their records, in order, as :class:`StoredPosition` columns."""
    return (
        select(
            LogEntry.seq,
            LogEntry.leaf_hash,
            _rfc3339(dialect, LogEntry.record_time),
            Record.document,
            PersonalRecordData.salt,
            PersonalRecordData.data,
            Record.consent_id,
            and_(
                Record.record_id == LogEntry.record_id,
                Record.site_id == LogEntry.site_id,
                Record.time == LogEntry.record_time,
            ),
        )
        .select_from(LogEntry)
        .outerjoin(Record, Record.id == LogEntry.record_pk)
        .outerjoin(PersonalRecordData, PersonalRecordData.record_pk == LogEntry.record_pk)
        .where(LogEntry.site_id == site_id, LogEntry.seq >= start, LogEntry.seq < stop)
        .order_by(LogEntry.seq)
        .execution_options(yield_per=5000)
    )


def _rfc3339(dialect: str, column):
    """A timestamp column as the text records write (``2026-11-22T09:15:02.123456Z``), computed by the database."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    # SQLAlchemy keeps SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC here: see models.UTCDateTime)
    return func.replace(type_coerce(column, String), " ", "T") + literal("Z")


# --- retention and erasure -------------------------------------------------------------------------------------


def purge(site: Site, before: datetime) -> Purge:
    """Delete the site's records older than ``before``; their log positions and leaf hashes stay, so the rest
    still verifies. The purge is recorded. Commits."""
    db.session.add(PurgeAuthorization(site_id=site.id, before=before))
    db.session.flush()
    removed = db.session.execute(delete(Record).where(Record.site_id == site.id, Record.time < before)).rowcount
    db.session.execute(delete(PurgeAuthorization).where(PurgeAuthorization.site_id == site.id))
    done = Purge(site_id=site.id, before=before, records=removed)
    db.session.add(done)
    db.session.commit()
    return done


def erase(site: Site, consent_id: str) -> Erasure:
    """Erase one visitor's personal data (IP, browser, OS, device, page) from every record of theirs; the
    records keep their digest of it and still verify. The erasure is recorded. Commits."""
    record_ids = select(Record.id).where(Record.site_id == site.id, Record.consent_id == consent_id)
    removed = db.session.execute(
        delete(PersonalRecordData).where(PersonalRecordData.record_pk.in_(record_ids))
    ).rowcount
    done = Erasure(site_id=site.id, consent_id=consent_id, records=removed)
    db.session.add(done)
    db.session.commit()
    return done
