"""Merkle trees as Certificate Transparency defines them (RFC 6962 section 2, RFC 9162 section 2.1).

A site's consent log is a sequence of records; the log at size ``n`` is summed up by the Merkle Tree Hash of
its first ``n`` leaves. A checkpoint signs that hash. An inclusion proof shows one record is in a checkpointed
log; a consistency proof shows a later checkpoint extends an earlier one (nothing was removed or rewritten).

Leaves are hashed ``SHA-256(0x00 || data)`` and interior nodes ``SHA-256(0x01 || left || right)``, so a leaf can
never pass for a node. Everything here works on 32-byte digests and is independent of what a leaf contains.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of ``leaves`` (leaf hashes), in linear time and logarithmic memory."""
    frontier: Frontier = []
    for leaf in leaves:
        extend(frontier, leaf)
    return frontier_root(frontier)


Frontier = list[tuple[int, bytes]]  # roots of the complete subtrees along the right edge, largest first


def extend(frontier: Frontier, leaf: bytes) -> None:
    """Append a leaf to a tree known only by its right edge (what a log needs to grow without its past)."""
    size, node = 1, leaf
    while frontier and frontier[-1][0] == size:
        size, node = size * 2, node_hash(frontier.pop()[1], node)
    frontier.append((size, node))


def join(left: Frontier, right: Frontier) -> Frontier:
    """The right edge of a tree made of ``left``'s leaves followed by ``right``'s, where ``right``'s first leaf
    sits at a multiple of its largest subtree (so that each of its subtrees stays a subtree of the whole)."""
    joined = list(left)
    for size, node in right:
        while joined and joined[-1][0] == size:
            size, node = size * 2, node_hash(joined.pop()[1], node)
        joined.append((size, node))
    return joined


def frontier_root(frontier: Frontier) -> bytes:
    """The Merkle Tree Hash of the tree whose right edge this is."""
    if not frontier:
        return EMPTY_ROOT
    node = frontier[-1][1]
    for _, left in reversed(frontier[:-1]):
        node = node_hash(left, node)
    return node


class Tree:
    """All levels of a tree, for answering many proofs about the same log (2n digests of memory)."""

    def __init__(self, leaves: Sequence[bytes]):
        self.levels: list[list[bytes]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            above = [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            if len(below) % 2:
                above.append(below[-1])  # an unpaired node moves up unchanged: the RFC 6962 shape
            self.levels.append(above)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def root(self, size: int | None = None) -> bytes:
        """The root of the first ``size`` leaves (default: all)."""
        size = self.size if size is None else size
        if size == 0:
            return EMPTY_ROOT
        return self._subtree(0, size)

    def _subtree(self, start: int, size: int) -> bytes:
        """The hash of leaves [start, start + size), using stored levels for aligned complete subtrees."""
        if size & (size - 1) == 0 and start % size == 0:
            level = size.bit_length() - 1
            return self.levels[level][start >> level]
        split = _largest_power_of_two_below(size)
        return node_hash(self._subtree(start, split), self._subtree(start + split, size - split))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of the first ``size`` leaves (RFC 6962 PATH)."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise IndexError(f"leaf {index} is not in a tree of {size}")
        return self._path(index, 0, size)

    def _path(self, index: int, start: int, size: int) -> list[bytes]:
        if size == 1:
            return []
        split = _largest_power_of_two_below(size)
        if index < split:
            return [*self._path(index, start, split), self._subtree(start + split, size - split)]
        return [*self._path(index - split, start + split, size - split), self._subtree(start, split)]

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Proof that the tree of ``new_size`` leaves extends the tree of ``old_size`` (RFC 6962 PROOF)."""
        new_size = self.size if new_size is None else new_size
        if not 0 < old_size <= new_size <= self.size:
            raise IndexError(f"no consistency proof from {old_size} to {new_size}")
        if old_size == new_size:
            return []
        return self._subproof(old_size, 0, new_size, True)

    def _subproof(self, m: int, start: int, size: int, complete: bool) -> list[bytes]:
        if m == size:
            return [] if complete else [self._subtree(start, size)]
        split = _largest_power_of_two_below(size)
        if m <= split:
            return [*self._subproof(m, start, split, complete), self._subtree(start + split, size - split)]
        return [*self._subproof(m - split, start + split, size - split, False), self._subtree(start, split)]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2: does ``proof`` put ``leaf`` at ``index`` of the tree of ``size`` with that root?"""
    if not 0 <= index < size:
        return False
    fn, sn, node = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            node = node_hash(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and node == expected_root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2: does the tree of ``new_size`` with ``new_root`` extend the one of ``old_size``?"""
    if old_size == new_size:
        return not proof and old_root == new_root
    if not 0 < old_size < new_size or not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node of the path
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(node, fr), node_hash(node, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, node)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


def _largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n > 1): where RFC 6962 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)
