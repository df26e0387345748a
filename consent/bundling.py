"""Building a site's audit bundle (:mod:`consent.core.bundle`): a ZIP written to a file as the log is read.

The run of positions is read once, in order, through a server-side cursor, and written into the archive as it
comes; personal data wait in a temporary file until the records are in. The range proof streams the leaf hashes
before and after the run through a frontier. Memory therefore stays flat however long the run; the archive itself
is on disk (``tempfile``) until it is sent.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

from sqlalchemy import case, func, select

from . import logbook
from .core import bundle, merkle
from .core.records import format_time
from .core.signing import PublicKey
from .extensions import db
from .models import LogCheckpoint, LogEntry, PersonalRecordData, PublishedVersion, Purge, Record, Site, utcnow

ROWS_PER_FETCH = 2000
COMPRESSION = {"compression": zipfile.ZIP_DEFLATED, "compresslevel": 1}  # records compress well even so


class NothingToBundle(LookupError):
    """No logged record in the period, or no checkpoint yet: there is nothing a bundle could prove."""


@dataclass
class Built:
    """What was written: the manifest, as in the archive."""

    manifest: dict
    counts: dict = field(default_factory=dict)


class _Archive:
    """A ZIP being written, remembering each member's SHA-256 for the manifest."""

    def __init__(self, out: IO[bytes]):
        self.zip = zipfile.ZipFile(out, "w", **COMPRESSION)
        self.digests: dict[str, str] = {}
        self.stamp = time.gmtime()[:6]  # ZIP entries carry a date; without one they say 1980

    def write(self, name: str, chunks: Iterator[bytes] | bytes) -> None:
        digest = hashlib.sha256()
        entry = zipfile.ZipInfo(name, date_time=self.stamp)
        entry.compress_type = COMPRESSION["compression"]
        level = "compress_level" if hasattr(entry, "compress_level") else "_compresslevel"  # named so since 3.13
        setattr(entry, level, COMPRESSION["compresslevel"])
        with self.zip.open(entry, "w", force_zip64=True) as member:
            for chunk in [chunks] if isinstance(chunks, bytes) else chunks:
                digest.update(chunk)
                member.write(chunk)
        self.digests[name] = digest.hexdigest()

    def close(self) -> None:
        self.zip.close()


def _run(site: Site, since: datetime | None, until: datetime | None, size: int) -> tuple[int, int]:
    """The first and last positions of the site's records in the period, under a tree of ``size``."""
    if since is None and until is None:
        return 0, size - 1
    query = (
        select(func.min(LogEntry.seq), func.max(LogEntry.seq))
        .select_from(Record)
        .join(LogEntry, LogEntry.record_id == Record.record_id)
        .where(Record.site_id == site.id, LogEntry.site_id == site.id, LogEntry.seq < size)
    )
    if since is not None:
        query = query.where(Record.time >= since)
    if until is not None:
        query = query.where(Record.time < until)
    first, last = db.session.execute(query).one()
    if first is None:
        raise NothingToBundle(f"Site {site.key!r} has no logged records in that period.")
    return first, last


def _leaves(connection, site_id: int, start: int, stop: int) -> Iterator[bytes]:
    """The leaf hashes of positions [start, stop), in order."""
    if start >= stop:
        return
    query = (
        select(LogEntry.leaf_hash)
        .where(LogEntry.site_id == site_id, LogEntry.seq >= start, LogEntry.seq < stop)
        .order_by(LogEntry.seq)
        .execution_options(yield_per=10 * ROWS_PER_FETCH)
    )
    for rows in connection.execute(query).partitions():
        for (leaf,) in rows:
            yield bytes.fromhex(leaf)


def build(
    site: Site,
    out: IO[bytes],
    *,
    keys: list[PublicKey],
    log_name: str,
    since: datetime | None = None,
    until: datetime | None = None,
    with_personal: bool = True,
) -> Built:
    """Write the audit bundle of the site's records in [since, until) (default: the whole log) to ``out``.
    Raises :class:`NothingToBundle`."""
    checkpoint = logbook.latest_checkpoint(site.id)
    if checkpoint is None or checkpoint.tree_size == 0:
        raise NothingToBundle(f"Site {site.key!r} has no signed checkpoint yet: retry in a few seconds.")
    size = checkpoint.tree_size
    first, last = _run(site, since, until, size)
    connection = db.session.connection()
    cutoff = db.session.scalar(select(func.max(Purge.before)).where(Purge.site_id == site.id))
    period = (format_time(since) if since else None, format_time(until) if until else None)

    archive = _Archive(out)
    counts = {"positions": last - first + 1, "records": 0, "in_period": 0, "purged": 0, "missing": 0}
    counts |= {"personal_data": 0, "erased": 0} if with_personal else {}
    versions: set[str] = set()
    with tempfile.TemporaryFile() as personal:
        archive.write(
            bundle.RECORDS,
            _record_lines(
                connection, site, first, last, cutoff, period, counts, versions, personal if with_personal else None
            ),
        )
        if with_personal:
            personal.seek(0)
            archive.write(bundle.PERSONAL, iter(lambda: personal.read(1 << 20), b""))

    proof = merkle.range_proof_from_leaves(
        first, last + 1, size, _leaves(connection, site.id, 0, first), _leaves(connection, site.id, last + 1, size)
    )
    archive.write(bundle.RANGE_PROOF, bundle.range_proof_json(proof).encode())

    sizes = db.session.scalars(
        select(LogCheckpoint.tree_size)
        .where(LogCheckpoint.site_id == site.id, LogCheckpoint.tree_size > first, LogCheckpoint.tree_size <= last + 1)
        .distinct()
    ).all()
    kept = sorted({*bundle.checkpoints_inside(sizes, first, last + 1), size})
    notes = {}
    for row in db.session.execute(
        select(LogCheckpoint.tree_size, LogCheckpoint.note)
        .where(LogCheckpoint.site_id == site.id, LogCheckpoint.tree_size.in_(kept))
        .order_by(LogCheckpoint.id)
    ):
        notes[row.tree_size] = row.note  # the latest signed at each size
    notes[size] = checkpoint.note
    for tree_size in kept:
        archive.write(bundle.checkpoint_file(tree_size), notes[tree_size].encode())

    for digest, document in db.session.execute(
        select(PublishedVersion.hash, PublishedVersion.document).where(
            PublishedVersion.site_id == site.id, PublishedVersion.hash.in_(sorted(versions))
        )
    ):
        archive.write(bundle.version_file(digest), document.encode())

    jwks = {"keys": [{**key.jwk(), "note_key": key.note_verifier} for key in keys]}
    archive.write(bundle.KEYS, (json.dumps(jwks, indent=1) + "\n").encode())
    created = format_time(utcnow())
    log = logbook.origin(log_name, site.key)
    readme = bundle.README_TEXT.format(
        log=log,
        first=first,
        last=last,
        positions=last - first + 1,
        period=f"{period[0] or 'the beginning of the log'} to {period[1] or created}",
        created=created,
    )
    archive.write(bundle.README, readme.encode())

    purges = db.session.scalars(select(Purge).where(Purge.site_id == site.id).order_by(Purge.id)).all()
    manifest = {
        "format": bundle.FORMAT,
        "site": site.key,
        "log": log,
        "created": created,
        "period": {"since": period[0], "until": period[1]},
        "positions": {"first": first, "last": last},
        "counts": {**counts, "versions": len(versions), "checkpoints": len(kept)},
        "personal_data": "included" if with_personal else "withheld",
        "checkpoint": {"file": bundle.checkpoint_file(size), "tree_size": size, "root": checkpoint.root_hash},
        "range_proof": bundle.RANGE_PROOF,
        "versions": {digest: bundle.version_file(digest) for digest in sorted(versions)},
        "purges": [
            {"before": format_time(p.before), "records": p.records, "on": format_time(p.created_at)} for p in purges
        ],
        "files": dict(sorted(archive.digests.items())),
    }
    archive.write(bundle.MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())
    archive.close()
    return Built(manifest, counts)


def _record_lines(connection, site, first, last, cutoff, period, counts, versions, personal) -> Iterator[bytes]:
    """records.txt, a batch of positions per chunk; personal.txt into ``personal`` (None: leave them out)."""
    since, until = period
    query = (
        select(
            LogEntry.seq,
            LogEntry.leaf_hash,
            Record.document,
            case((Record.id.is_(None), LogEntry.record_time), else_=None),
            *([PersonalRecordData.salt, PersonalRecordData.data] if personal is not None else []),
        )
        .select_from(LogEntry)
        .outerjoin(Record, Record.id == LogEntry.record_pk)
        .where(LogEntry.site_id == site.id, LogEntry.seq >= first, LogEntry.seq <= last)
        .order_by(LogEntry.seq)
        .execution_options(yield_per=ROWS_PER_FETCH)
    )
    if personal is not None:
        query = query.outerjoin(PersonalRecordData, PersonalRecordData.record_pk == LogEntry.record_pk)
    record_line, personal_line = bundle.record_line, bundle.personal_line
    for rows in connection.execute(query).partitions():
        lines, personal_lines = [], []
        for row in rows:
            document = row[2]
            if document is None:
                purged = cutoff is not None and row[3] is not None and row[3] < cutoff
                counts["purged" if purged else "missing"] += 1
                lines.append(record_line(row[0], row[1], None, purged=purged))
                continue
            counts["records"] += 1
            at = document.find('"version":"') + 11
            versions.add(document[at : at + 64])
            at = document.find('"time":"') + 8
            moment = document[at : at + 27]
            if (since is None or moment >= since) and (until is None or moment < until):
                counts["in_period"] += 1
            lines.append(record_line(row[0], row[1], document))
            if personal is not None:
                erased = row[4] is None
                counts["erased" if erased else "personal_data"] += 1
                personal_lines.append(personal_line(row[0], row[4], row[5]))
        if personal is not None:
            personal.write("".join(personal_lines).encode())
        yield "".join(lines).encode()


def stream(file: IO[bytes], chunk: int = 1 << 20) -> Iterator[bytes]:
    """A finished archive's bytes, then the file closed (a temporary file is then gone)."""
    try:
        file.seek(0)
        yield from iter(lambda: file.read(chunk), b"")
    finally:
        file.close()


def file_name(site: Site, since: datetime | None, until: datetime | None) -> str:
    """``quadient-audit-bundle-2026-11-01-to-2026-12-01.zip``"""
    start = f"{since:%Y-%m-%d}" if since else "start"
    end = f"{until:%Y-%m-%d}" if until else "now"
    return f"{site.key}-audit-bundle-{start}-to-{end}.zip"
