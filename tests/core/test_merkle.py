"""The Merkle tree against RFC 6962's recursive definitions, for every size and index up to 70."""

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consent.core import merkle

LEAVES = [merkle.leaf_hash(f"record {i}".encode()) for i in range(70)]


def mth(leaves):  # RFC 6962 section 2.1, as written
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m, leaves):  # RFC 6962 section 2.1.1
    if len(leaves) == 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def proof(m, leaves, complete=True):  # RFC 6962 section 2.1.2, SUBPROOF
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*proof(m, leaves[:k], complete), mth(leaves[k:])]
    return [*proof(m - k, leaves[k:], False), mth(leaves[:k])]


def test_roots_match_the_rfc_for_every_size():
    tree = merkle.Tree(LEAVES)
    for n in range(len(LEAVES) + 1):
        assert merkle.root(LEAVES[:n]) == mth(LEAVES[:n]) == tree.root(n)


def test_inclusion_proofs_match_the_rfc_and_verify():
    tree = merkle.Tree(LEAVES)
    for n in range(1, 40):
        root = mth(LEAVES[:n])
        for m in range(n):
            audit = tree.inclusion_proof(m, n)
            assert audit == path(m, LEAVES[:n])
            assert merkle.verify_inclusion(LEAVES[m], m, n, audit, root)


def test_consistency_proofs_match_the_rfc_and_verify():
    tree = merkle.Tree(LEAVES)
    for n in range(1, 40):
        for m in range(1, n + 1):
            consistency = tree.consistency_proof(m, n)
            assert consistency == (proof(m, LEAVES[:n]) if m < n else [])
            assert merkle.verify_consistency(m, n, mth(LEAVES[:m]), mth(LEAVES[:n]), consistency)


def test_a_changed_leaf_or_position_fails_inclusion():
    tree = merkle.Tree(LEAVES[:13])
    root = tree.root()
    audit = tree.inclusion_proof(5)
    assert not merkle.verify_inclusion(LEAVES[6], 5, 13, audit, root)
    assert not merkle.verify_inclusion(LEAVES[5], 4, 13, audit, root)
    assert not merkle.verify_inclusion(LEAVES[5], 5, 14, audit, merkle.root(LEAVES[:14]))  # size and root go together
    assert not merkle.verify_inclusion(LEAVES[5], 5, 13, audit[:-1], root)
    assert not merkle.verify_inclusion(LEAVES[5], 13, 13, audit, root)


def test_a_rewritten_history_fails_consistency():
    rewritten = list(LEAVES[:20])
    rewritten[3] = merkle.leaf_hash(b"edited")
    tree = merkle.Tree(rewritten)
    consistency = tree.consistency_proof(8, 20)
    assert not merkle.verify_consistency(8, 20, mth(LEAVES[:8]), tree.root(), consistency)


def test_leaves_and_nodes_cannot_be_confused():
    assert merkle.leaf_hash(b"a") != hashlib.sha256(b"a").digest()
    assert merkle.node_hash(LEAVES[0], LEAVES[1]) != merkle.leaf_hash(LEAVES[0] + LEAVES[1])


@pytest.mark.parametrize("old, new", [(0, 5), (6, 5), (3, 99)])
def test_impossible_consistency_proofs_are_refused(old, new):
    with pytest.raises(IndexError):
        merkle.Tree(LEAVES[:10]).consistency_proof(old, new)


# --- range proofs ----------------------------------------------------------------------------------------------


def range_sizes(limit):
    return [(start, end, n) for n in range(1, limit) for start in range(n) for end in range(start + 1, n + 1)]


def test_range_proofs_verify_for_every_range_of_every_size_up_to_24():
    tree = merkle.Tree(LEAVES)
    for start, end, n in range_sizes(25):
        proof = tree.range_proof(start, end, n)
        assert merkle.verify_range(proof, LEAVES[start:end], mth(LEAVES[:n])), (start, end, n)


def test_the_left_side_of_a_range_proof_is_the_frontier_before_the_range():
    tree = merkle.Tree(LEAVES)
    for start, end, n in range_sizes(20):
        frontier = []
        for leaf in LEAVES[:start]:
            merkle.extend(frontier, leaf)
        proof = tree.range_proof(start, end, n)
        assert proof.left == [node for _, node in frontier]
        assert [size for size, _ in frontier] == merkle.frontier_sizes(start)


def test_a_range_proof_computed_from_streamed_leaves_is_the_trees():
    tree = merkle.Tree(LEAVES)
    for start, end, n in range_sizes(22):
        streamed = merkle.range_proof_from_leaves(start, end, n, iter(LEAVES[:start]), iter(LEAVES[end:n]))
        assert streamed == tree.range_proof(start, end, n)


def test_the_root_of_every_size_inside_the_range_is_known_as_its_leaves_arrive():
    tree = merkle.Tree(LEAVES)
    check = merkle.RangeCheck(tree.range_proof(5, 30, 41))
    for position in range(5, 30):
        check.add(LEAVES[position])
        assert check.root_now() == mth(LEAVES[: position + 1])
    assert check.root() == mth(LEAVES[:41])


@pytest.mark.parametrize("start, end, n", [(0, 1, 1), (3, 9, 13), (8, 16, 16), (0, 13, 13), (12, 13, 13), (5, 6, 64)])
def test_a_range_proof_fails_for_altered_missing_inserted_or_reordered_leaves(start, end, n):
    tree = merkle.Tree(LEAVES)
    proof = tree.range_proof(start, end, n)
    root = mth(LEAVES[:n])
    leaves = LEAVES[start:end]
    forged = merkle.leaf_hash(b"forged")
    changes = [
        [forged, *leaves[1:]],  # altered
        [*leaves, forged],  # inserted at the end
        [forged, *leaves],  # inserted at the start
    ]
    if len(leaves) > 1:
        changes += [leaves[1:], leaves[:-1], [leaves[1], leaves[0], *leaves[2:]]]  # missing, missing, reordered
    for changed in changes:
        assert not merkle.verify_range(proof, changed, root)
    assert not merkle.verify_range(proof, leaves, mth(LEAVES[: n + 1]))  # another tree
    if proof.left or proof.right:
        hashes = proof.left or proof.right
        hashes[0] = forged
        assert not merkle.verify_range(proof, leaves, root)


def test_a_range_proof_with_a_subtree_too_many_or_too_few_fails():
    tree = merkle.Tree(LEAVES)
    proof = tree.range_proof(5, 9, 20)
    root = mth(LEAVES[:20])
    import dataclasses

    assert not merkle.verify_range(dataclasses.replace(proof, right=[*proof.right, LEAVES[0]]), LEAVES[5:9], root)
    assert not merkle.verify_range(dataclasses.replace(proof, right=proof.right[:-1]), LEAVES[5:9], root)
    assert not merkle.verify_range(dataclasses.replace(proof, left=proof.left[:-1]), LEAVES[5:9], root)
    assert not merkle.verify_range(dataclasses.replace(proof, start=4), LEAVES[5:9], root)


def test_range_proofs_refuse_empty_or_out_of_bounds_ranges():
    tree = merkle.Tree(LEAVES[:10])
    for start, end, n in [(3, 3, 10), (4, 3, 10), (0, 11, 10), (-1, 2, 10), (0, 5, 11)]:
        with pytest.raises(IndexError):
            tree.range_proof(start, end, n)
    with pytest.raises(ValueError):
        merkle.range_proof_from_leaves(2, 4, 10, iter(LEAVES[:1]), iter(LEAVES[4:10]))
    with pytest.raises(ValueError):
        merkle.range_proof_from_leaves(2, 4, 10, iter(LEAVES[:2]), iter(LEAVES[4:9]))


@st.composite
def ranges(draw):
    n = draw(st.integers(min_value=1, max_value=600))
    start = draw(st.integers(min_value=0, max_value=n - 1))
    end = draw(st.integers(min_value=start + 1, max_value=n))
    return start, end, n


MANY = [merkle.leaf_hash(i.to_bytes(2, "big")) for i in range(600)]
BIG_TREE = merkle.Tree(MANY)


@given(ranges(), st.data())
@settings(max_examples=200, deadline=None)
def test_range_proofs_of_large_trees_verify_and_catch_any_one_change(where, data):
    start, end, n = where
    proof = BIG_TREE.range_proof(start, end, n)
    assert proof == merkle.range_proof_from_leaves(start, end, n, iter(MANY[:start]), iter(MANY[end:n]))
    leaves = MANY[start:end]
    root = BIG_TREE.root(n)
    assert merkle.verify_range(proof, leaves, root)
    changed = list(leaves)
    at = data.draw(st.integers(min_value=0, max_value=len(leaves) - 1))
    changed[at] = merkle.leaf_hash(b"changed")
    assert not merkle.verify_range(proof, changed, root)
    if len(leaves) > 1:
        assert not merkle.verify_range(proof, changed[:at] + changed[at + 1 :], root)
        swapped = list(leaves)
        other = at - 1 if at else at + 1
        swapped[at], swapped[other] = swapped[other], swapped[at]
        assert not merkle.verify_range(proof, swapped, root)
