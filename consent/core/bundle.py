"""Audit bundles: a run of a site's consent log in one ZIP file, with everything needed to check it offline.

An auditor who trusts nothing but the service's published key can check, with ``tools/verify_bundle.py`` (which
shares nothing with this package but these formats), that the records are exactly those the log holds at their
positions, none altered, removed, inserted or reordered, and what each visitor was shown. The files:

``records.txt``
    One line per log position of the run, in order: ``<position> <record hash> <record>``, where the record is
    its canonical JSON exactly as it was hashed (the record hash is ``SHA-256(0x00 || record)``), or ``purged``
    when a retention purge removed it, or ``missing`` when it is gone and no purge explains it.
``personal.txt``
    One line per record: ``<position> <salt> <personal data>`` (hex salt, canonical JSON; their salted digest is
    the record's ``personal`` field), or ``<position> erased``. Absent when the bundle leaves personal data out.
``versions/<hash>.json``
    Every published version the records name, as published: its SHA-256 is its name.
``checkpoints/<size>.txt``
    Signed checkpoints (C2SP signed notes): the one the range proof leads to, and those signed at sizes inside the
    run, which tell where in the run a break lies.
``range-proof.json``
    The hashes of the subtrees on either side of the run (:class:`consent.core.merkle.RangeProof`).
``keys.json``
    The service's published keys (its ``/.well-known/consent-keys.json``).
``README.txt``, ``manifest.json``
    How to check the bundle; the counts, the period, the run, and the SHA-256 of every other file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from .merkle import RangeProof

FORMAT = "consent-audit-bundle/1"
MANIFEST = "manifest.json"
RECORDS = "records.txt"
PERSONAL = "personal.txt"
RANGE_PROOF = "range-proof.json"
KEYS = "keys.json"
README = "README.txt"
PURGED, MISSING, ERASED = "purged", "missing", "erased"
MAX_CHECKPOINTS = 1000  # checkpoints inside the run kept in a bundle: where a break lies, to a thousandth of it


def checkpoint_file(size: int) -> str:
    return f"checkpoints/{size}.txt"


def version_file(digest: str) -> str:
    return f"versions/{digest}.json"


def record_line(position: int, leaf: str, record: str | None, *, purged: bool = False) -> str:
    return f"{position} {leaf} {record if record is not None else PURGED if purged else MISSING}\n"


def personal_line(position: int, salt: str | None, data: str | None) -> str:
    return f"{position} {ERASED}\n" if salt is None or data is None else f"{position} {salt} {data}\n"


def checkpoints_inside(sizes: Iterable[int], start: int, end: int, limit: int = MAX_CHECKPOINTS) -> list[int]:
    """The checkpoint sizes in (start, end] a bundle of positions [start, end) keeps: all of them, or ``limit``
    spread evenly over the run when there are more (the sequencer signs one every few seconds)."""
    inside = sorted({size for size in sizes if start < size <= end})
    if len(inside) <= limit:
        return inside
    step = len(inside) / limit
    kept = [inside[int(i * step)] for i in range(limit)]
    if kept[-1] != inside[-1]:
        kept[-1] = inside[-1]
    return kept


def range_proof_json(proof: RangeProof) -> str:
    return (
        json.dumps(
            {
                "first": proof.start,
                "last": proof.end - 1,
                "tree_size": proof.size,
                "left": [node.hex() for node in proof.left],
                "right": [node.hex() for node in proof.right],
            },
            indent=1,
        )
        + "\n"
    )


README_TEXT = """\
Audit bundle of the consent log {log}
=====================================

Positions {first} to {last} of the log ({positions} positions), for the period {period}.
Made by the consent management platform on {created}.

Check it with the project's standalone verifier, which needs Python 3.11+ and the `cryptography` package only:

    python3 verify_bundle.py THIS-FILE.zip --keys consent-keys.json

where consent-keys.json is the file the service publishes at /.well-known/consent-keys.json (without --keys, the
verifier uses the keys in this bundle and tells you to compare them with the published ones). The verifier
re-hashes every record, checks the personal data against their digests and the published versions against their
names, rebuilds the Merkle tree over the run with the range proof, and checks the signed checkpoints; it names every
altered, missing, inserted or reordered record by its position and every file that does not match manifest.json.

The formats: records.txt holds "<position> <record hash> <canonical record JSON>" per line; see docs/auditors.md
of the project for every file.
"""
