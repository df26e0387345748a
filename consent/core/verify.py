"""Verifying a site's consent log against its signed checkpoints.

The log is a sequence of positions. Each holds the leaf hash the log committed to, the record's time, and, unless
the retention purge removed it, the record itself: its canonical bytes exactly as they were hashed. Verification
makes two checks, and reports each break with its position:

- **contents** (:class:`ContentCheck`), position by position: every stored record hashes to its leaf (else it was
  edited), every absent record was removed by a recorded purge (else it was deleted), every record's personal data
  still match the digest it holds, and the columns queries select records by agree with the record. Positions are
  independent of each other, so ranges of the log can be checked in parallel and the results merged in order.
- **the tree** (:class:`TreeCheck`): the leaves, in order, hash to the Merkle root every checkpoint signed (else
  positions were edited, removed, inserted or reordered), and every checkpoint carries a valid signature by a
  published key (else it was edited, or signed with another key).

The input is plain data, so the same code serves the command line and an auditor's offline copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from . import merkle
from .records import record_id_in
from .signing import Checkpoint, PublicKey, verify_checkpoint


class StoredPosition(NamedTuple):  # a tuple, so that database rows in this column order can stand for it
    """One position of a site's log, as stored."""

    seq: int
    leaf: str  # hex leaf hash the log holds for the position
    time: str  # the record's time as the log holds it (RFC 3339): tells a purged record from a deleted one
    record: str | None  # the record's canonical JSON as stored; None once its row is gone
    salt: str | None = None  # hex salt of the record's personal data; None when erased
    personal: str | None = None  # the canonical personal data
    consent_id: str | None = None  # the consent ID the record is filed under
    indexed: bool = True  # the record's other columns (site, record ID, time) agree with the log's position


@dataclass(frozen=True)
class Break:
    position: int | None  # the log position, or None for a break that concerns no single position
    kind: str
    message: str


@dataclass(frozen=True)
class Scope:
    """Which records' contents to check, and which absences a recorded purge explains."""

    purged_before: str | None = None  # the latest retention purge's cutoff, RFC 3339
    since: str | None = None  # RFC 3339; records outside [since, until) count in the tree, unread
    until: str | None = None

    def covers(self, time: str) -> bool:
        # RFC 3339 times with the same precision and zone compare as strings.
        return (self.since is None or time >= self.since) and (self.until is None or time < self.until)


@dataclass
class ContentCheck:
    """The content check of a run of consecutive positions, starting at ``start``."""

    start: int
    site: str
    scope: Scope = field(default_factory=Scope)
    next_seq: int = -1  # the position expected next
    positions: int = 0
    present: int = 0  # positions whose record is stored, checked or not
    records_checked: int = 0
    purged: int = 0
    breaks: list[Break] = field(default_factory=list)
    leaves: bytes = b""  # 32 bytes per position, in order
    first: tuple[str, str] | None = None  # (time, record ID) of the first record checked
    last: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if self.next_seq < 0:
            self.next_seq = self.start

    def run(self, positions: Iterable[StoredPosition]) -> ContentCheck:
        # The loop runs once per record of the log, a million times and more: locals, no calls it can spare.
        sha256, fromhex, breaks = hashlib.sha256, bytes.fromhex, self.breaks
        purged_before, since, until = self.scope.purged_before, self.scope.since, self.scope.until
        site_marker = f'"site":"{self.site}"'
        expected, positions_seen, present, checked, purged = self.next_seq, 0, 0, 0, 0
        first = last = None  # (time, canonical record) of the first and last record checked
        leaves: list[str] = []
        for seq, leaf, time, record, salt, personal, consent_id, indexed in positions:
            if seq != expected:
                if seq < expected:
                    breaks.append(Break(seq, "duplicate_position", f"position {seq} appears twice"))
                    continue
                breaks.extend(
                    Break(missing, "missing_position", f"position {missing} is missing from the log")
                    for missing in range(expected, seq)
                )
                expected = seq
            expected += 1
            positions_seen += 1
            leaves.append(leaf)
            if record is None:
                if purged_before is not None and time < purged_before:
                    purged += 1
                else:
                    breaks.append(
                        Break(
                            seq,
                            "record_missing",
                            f"position {seq}: the record is gone, and no retention purge removed it (deleted)",
                        )
                    )
                continue
            present += 1
            # RFC 3339 times with the same precision and zone compare as strings.
            if (since is not None and time < since) or (until is not None and time >= until):
                continue
            checked += 1
            if first is None:
                first = (time, record)
            last_time, last_record = time, record
            if sha256(b"\x00" + record.encode()).hexdigest() != leaf:
                breaks.append(
                    Break(
                        seq,
                        "record_altered",
                        f"position {seq}: the record does not match the hash the log "
                        "holds for it (edited, or moved from another position)",
                    )
                )
            if personal is not None:
                at = record.find('"personal":"') + 12
                if sha256(fromhex(salt) + personal.encode()).hexdigest() != record[at : at + 64]:
                    breaks.append(
                        Break(
                            seq,
                            "personal_altered",
                            f"position {seq}: the personal data no longer match the digest the record holds (edited)",
                        )
                    )
            if not (
                indexed
                and site_marker in record
                and f'"consent":"{consent_id}"' in record
                and f'"time":"{time}"' in record
            ):
                breaks.append(
                    Break(
                        seq,
                        "index_altered",
                        f"position {seq}: the columns the record is found by (site, "
                        "consent ID, time) no longer agree with the record (edited)",
                    )
                )
        if first is not None:
            last = (last_time, last_record)
        self.next_seq = expected
        self.positions += positions_seen
        self.present += present
        self.records_checked += checked
        self.purged += purged
        self.leaves += fromhex("".join(leaves))
        if first is not None and last is not None:
            self.first = self.first or (first[0], record_id_in(first[1]))
            self.last = (last[0], record_id_in(last[1]))
        return self

    def merge(self, following: ContentCheck) -> None:
        """Append the check of the positions that follow this run."""
        if following.start != self.next_seq:
            for missing in range(self.next_seq, following.start):
                self.breaks.append(Break(missing, "missing_position", f"position {missing} is missing from the log"))
        self.next_seq = following.next_seq
        self.positions += following.positions
        self.present += following.present
        self.records_checked += following.records_checked
        self.purged += following.purged
        self.breaks += following.breaks
        self.leaves += following.leaves
        self.first = self.first or following.first
        self.last = following.last or self.last


@dataclass(frozen=True)
class RangeTree:
    """The Merkle tree of a range of the log's leaves, summed up as far as the whole tree's check needs: its right
    edge, and its right edge at each checkpoint size that falls inside the range. Ranges can be hashed in parallel
    and joined in order (:meth:`TreeCheck.add_range`)."""

    start: int
    size: int  # leaves in the range
    frontier: merkle.Frontier
    at: dict[int, merkle.Frontier]  # log size -> the range's right edge at that size

    @classmethod
    def build(cls, start: int, leaves: bytes, checkpoint_sizes: Iterable[int]) -> RangeTree:
        stop = start + len(leaves) // 32
        wanted = sorted({size for size in checkpoint_sizes if start < size <= stop})
        frontier: merkle.Frontier = []
        at: dict[int, merkle.Frontier] = {}
        extend, view = merkle.extend, memoryview(leaves)
        done = 0
        for size in [*wanted, stop]:
            for offset in range(done, (size - start) * 32, 32):
                extend(frontier, bytes(view[offset : offset + 32]))
            done = (size - start) * 32
            at[size] = list(frontier)
        return cls(start, stop - start, frontier, at)


@dataclass
class TreeCheck:
    """Grows the log's Merkle tree from its leaves, in order, checking each checkpoint's root at its size."""

    checkpoints: list[Checkpoint]
    keys: list[PublicKey]
    size: int = 0
    covered: int = 0  # positions under the latest checkpoint whose root matched
    breaks: list[Break] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._frontier: merkle.Frontier = []
        self._pending = sorted(self.checkpoints, key=lambda c: c.size)
        self._next = 0
        for checkpoint in self._pending:
            if verify_checkpoint(checkpoint, self.keys) is None:
                self.breaks.append(
                    Break(
                        None,
                        "checkpoint_signature",
                        f"checkpoint of size {checkpoint.size}: no valid signature "
                        "by a published key (edited, or signed with another key)",
                    )
                )
        self._check(self.size, self._frontier)

    @property
    def sizes(self) -> list[int]:
        return [checkpoint.size for checkpoint in self._pending]

    def add(self, leaves: bytes) -> None:
        """Leaves (concatenated 32-byte hashes) following those added so far, one by one."""
        extend, view, frontier = merkle.extend, memoryview(leaves), self._frontier
        for offset in range(0, len(view), 32):
            extend(frontier, bytes(view[offset : offset + 32]))
            self.size += 1
            if self._next < len(self._pending) and self._pending[self._next].size == self.size:
                self._check(self.size, frontier)

    def can_add(self, tree: RangeTree) -> bool:
        """Whether a range hashed apart joins this tree: it starts where the log has got to, at a multiple of its
        largest subtree (ranges of a fixed power-of-two length do)."""
        return tree.start == self.size and not (tree.frontier and tree.start % tree.frontier[0][0])

    def add_range(self, tree: RangeTree) -> None:
        """A range hashed apart (see :meth:`can_add`; otherwise add its leaves)."""
        if not self.can_add(tree):
            raise ValueError(f"a range starting at {tree.start} cannot follow a tree of {self.size} leaves")
        for size, frontier in tree.at.items():
            self._check(size, merkle.join(self._frontier, frontier))
        self._frontier = merkle.join(self._frontier, tree.frontier)
        self.size += tree.size

    def _check(self, size: int, frontier: merkle.Frontier) -> None:
        while self._next < len(self._pending) and self._pending[self._next].size == size:
            checkpoint = self._pending[self._next]
            if merkle.frontier_root(frontier) == checkpoint.root:
                self.covered = size
            else:
                self.breaks.append(
                    Break(
                        self.covered,
                        "checkpoint_root",
                        f"checkpoint of size {size}: the log's positions "
                        f"{self.covered} to {size - 1} do not hash to the root it signed (a position edited, "
                        "removed, inserted or reordered)",
                    )
                )
            self._next += 1

    def finish(self) -> TreeCheck:
        for checkpoint in self._pending[self._next :]:
            self.breaks.append(
                Break(
                    self.size,
                    "log_truncated",
                    f"checkpoint of size {checkpoint.size}: the log has only "
                    f"{self.size} positions (records removed from its end)",
                )
            )
        self._next = len(self._pending)
        return self


@dataclass
class Report:
    contents: ContentCheck
    tree: TreeCheck
    breaks: list[Break]

    @property
    def ok(self) -> bool:
        return not self.breaks


def verify(
    site: str,
    positions: Iterable[StoredPosition],
    checkpoints: list[Checkpoint],
    keys: list[PublicKey],
    scope: Scope | None = None,
    extra: Iterable[Break] = (),
) -> Report:
    """Both checks over a whole log, in one pass (:mod:`consent.logbook` runs the content check in parallel)."""
    contents = ContentCheck(0, site, scope or Scope()).run(positions)
    tree = TreeCheck(checkpoints, keys)
    tree.add(contents.leaves)
    return report(contents, tree.finish(), extra)


def report(contents: ContentCheck, tree: TreeCheck, extra: Iterable[Break] = ()) -> Report:
    breaks = [*extra, *tree.breaks, *contents.breaks]
    breaks.sort(key=lambda b: (b.position is not None, b.position or 0))
    return Report(contents, tree, breaks)
