"""Merkle trees as Certificate Transparency defines them (RFC 6962 section 2, RFC 9162 section 2.1).

A site's consent log is a sequence of records; the log at size ``n`` is summed up by the Merkle Tree Hash of
its first ``n`` leaves. A checkpoint signs that hash. An inclusion proof shows one record is in a checkpointed
log; a consistency proof shows a later checkpoint extends an earlier one (nothing was removed or rewritten); a
range proof shows a contiguous run of records is in it, complete and in order (what an audit bundle carries).

Leaves are hashed ``SHA-256(0x00 || data)`` and interior nodes ``SHA-256(0x01 || left || right)``, so a leaf can
never pass for a node. Everything here works on 32-byte digests and is independent of what a leaf contains.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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

    def range_proof(self, start: int, end: int, size: int | None = None) -> RangeProof:
        """Proof that leaves [start, end) are, in order, the leaves at those positions of the tree of ``size``."""
        size = self.size if size is None else size
        if not 0 <= start < end <= size <= self.size:
            raise IndexError(f"no range proof for positions {start} to {end - 1} in a tree of {size}")
        left: list[bytes] = []
        right: list[bytes] = []

        def outside(first: int, count: int) -> None:
            if first + count <= start:
                left.append(self._subtree(first, count))
            elif first >= end:
                right.append(self._subtree(first, count))
            elif not (start <= first and first + count <= end):
                split = _largest_power_of_two_below(count)
                outside(first, split)
                outside(first + split, count - split)

        outside(0, size)
        return RangeProof(start, end, size, left, right)


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


# --- range proofs ----------------------------------------------------------------------------------------------
#
# A range proof ties the leaves [start, end) to the root of the tree of ``size`` with the hashes of the subtrees
# on either side of the range: on the left, the complete subtrees that make up [0, start), which are exactly the
# frontier of the tree of ``start`` leaves; on the right, the RFC 6962 subtrees that make up [end, size), left to
# right. Both are what the RFC 6962 recursion meets when it splits the tree until every node is inside or
# outside the range, so a verifier rebuilds the root from them and the range's own leaves, and nothing else.


@dataclass(frozen=True)
class RangeProof:
    start: int  # the first position of the range
    end: int  # the position after its last
    size: int  # the size of the tree it ties the range to
    left: list[bytes]  # the frontier of the first ``start`` leaves, largest subtree first
    right: list[bytes]  # the subtrees after the range, left to right


def frontier_sizes(size: int) -> list[int]:
    """The sizes of the complete subtrees making up a tree of ``size`` leaves, largest first."""
    return [1 << bit for bit in range(size.bit_length() - 1, -1, -1) if size >> bit & 1]


def range_proof_from_leaves(
    start: int, end: int, size: int, before: Iterable[bytes], after: Iterable[bytes]
) -> RangeProof:
    """The range proof computed from the leaves before the range (positions [0, start)) and after it ([end, size)),
    each read once, in order, in logarithmic memory: what a log too large to hold in memory needs."""
    if not 0 <= start < end <= size:
        raise IndexError(f"no range proof for positions {start} to {end - 1} in a tree of {size}")
    frontier: Frontier = []
    counted = 0
    for leaf in before:
        extend(frontier, leaf)
        counted += 1
    if counted != start:
        raise ValueError(f"{counted} leaves before the range, expected {start}")
    leaves = iter(after)
    right: list[bytes] = []

    def subtree(count: int) -> bytes:  # the next ``count`` leaves form a subtree: hash it with a frontier of its own
        own: Frontier = []
        for _ in range(count):
            leaf = next(leaves, None)
            if leaf is None:
                raise ValueError(f"fewer than {size - end} leaves after the range")
            extend(own, leaf)
        return frontier_root(own)

    def walk(first: int, count: int) -> None:
        if first >= end:
            right.append(subtree(count))
        elif first + count > end:
            split = _largest_power_of_two_below(count)
            walk(first, split)
            walk(first + split, count - split)

    walk(0, size)
    if next(leaves, None) is not None:
        raise ValueError(f"more than {size - end} leaves after the range")
    return RangeProof(start, end, size, [node for _, node in frontier], right)


class RangeCheck:
    """Rebuilds a tree from a range proof and the range's leaves, fed in order: the root of every size inside the
    range is known as the leaves arrive (to check checkpoints signed at those sizes), and the proof's root at the
    end."""

    def __init__(self, proof: RangeProof):
        self.proof = proof
        sizes = frontier_sizes(proof.start)
        if len(sizes) != len(proof.left):
            raise ValueError(f"the left side of a range starting at {proof.start} has {len(sizes)} subtrees")
        self.frontier: Frontier = list(zip(sizes, proof.left))
        self.size = proof.start

    def add(self, leaf: bytes) -> None:
        extend(self.frontier, leaf)
        self.size += 1

    def root_now(self) -> bytes:
        """The root of the tree of the leaves so far (those before the range, then the range's added so far)."""
        return frontier_root(self.frontier)

    def root(self) -> bytes | None:
        """The root of the proof's tree, once every leaf of the range was added; None if the proof is malformed."""
        proof = self.proof
        if self.size != proof.end:
            return None
        blocks, first = {}, 0
        for count, node in self.frontier:
            blocks[(first, count)] = node
            first += count
        right = iter(proof.right)

        def rebuild(first: int, count: int) -> bytes | None:
            if (first, count) in blocks:
                return blocks[(first, count)]
            if first >= proof.end:
                return next(right, None)
            if count == 1:
                return None
            split = _largest_power_of_two_below(count)
            left_node, right_node = rebuild(first, split), rebuild(first + split, count - split)
            return None if left_node is None or right_node is None else node_hash(left_node, right_node)

        built = rebuild(0, proof.size)
        if next(right, None) is not None:
            return None
        return built


def verify_range(proof: RangeProof, leaves: Iterable[bytes], expected_root: bytes) -> bool:
    """Are ``leaves`` the leaves [proof.start, proof.end) of the tree of proof.size whose root is ``expected_root``?"""
    if not 0 <= proof.start < proof.end <= proof.size:
        return False
    try:
        check = RangeCheck(proof)
    except ValueError:
        return False
    for leaf in leaves:
        if check.size == proof.end:
            return False
        check.add(leaf)
    return check.root() == expected_root
