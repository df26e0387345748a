"""Canonical JSON and content hashes.

Published versions (and, later, consent records) are identified by the SHA-256 of their canonical form: the
JSON Canonicalization Scheme of RFC 8785 (keys sorted by UTF-16 code units, no insignificant whitespace, UTF-8,
ECMAScript number formatting). Anyone can recompute a hash offline with any RFC 8785 implementation.
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785


def canonical_bytes(document: Any) -> bytes:
    return rfc8785.dumps(document)


def content_hash(document: Any) -> str:
    """Lower-case hex SHA-256 of the canonical form of ``document``."""
    return hashlib.sha256(canonical_bytes(document)).hexdigest()
